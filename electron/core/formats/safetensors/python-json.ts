// Python's json module writes float('nan') and float('inf') as the bare words NaN, Infinity and
// -Infinity (json.dumps allow_nan=True, its default), which JSON.parse refuses. Trainer's
// trainer_state.json holds such values whenever a loss diverged, so they are read as null: a
// metric that is not a finite number has no value to show or compare.

const WORDS = ['-Infinity', 'Infinity', 'NaN'] as const;

export interface ConvertedJson {
  /** The text with every NaN, Infinity and -Infinity outside a string replaced by null. */
  readonly json: string;
  /** Where a character of `json` was in the original text (errors point into the file as it is). */
  readonly originalOffset: (offset: number) => number;
}

export function pythonJsonToJson(text: string): ConvertedJson {
  if (!/NaN|Infinity/.test(text)) return { json: text, originalOffset: (offset) => offset };
  let out = '';
  let copiedTo = 0;
  let inString = false;
  // Each replacement: where it ends in the output, and how far the original is ahead from there.
  const shifts: { readonly from: number; readonly by: number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character, which may be a quote
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && c !== 0x49 && c !== 0x4e) continue; // '-', 'I', 'N'
    const word = WORDS.find((w) => text.startsWith(w, i));
    if (word === undefined) continue;
    out += `${text.slice(copiedTo, i)}null`;
    i += word.length - 1;
    copiedTo = i + 1;
    shifts.push({ from: out.length, by: copiedTo - out.length });
  }
  const originalOffset = (offset: number): number => {
    let by = 0;
    for (const shift of shifts) if (shift.from <= offset) by = shift.by;
    return offset + by;
  };
  return { json: out + text.slice(copiedTo), originalOffset };
}
