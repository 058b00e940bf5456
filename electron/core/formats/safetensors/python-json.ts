// Python's json module writes float('nan') and float('inf') as the bare words NaN, Infinity and
// -Infinity (json.dumps allow_nan=True, its default), which JSON.parse refuses. Trainer's
// trainer_state.json holds such values whenever a loss diverged, so they are read as null: a
// metric that is not a finite number has no value to show or compare.

const WORDS = ['-Infinity', 'Infinity', 'NaN'] as const;

/** `text` with every NaN, Infinity and -Infinity outside a string replaced by null. */
export function pythonJsonToJson(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let copiedTo = 0;
  let inString = false;
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
  }
  return out + text.slice(copiedTo);
}
