// The pieces of protobuf's text format that a `checkpoint` state file uses, as Python's protobuf
// (google/protobuf/text_format.py and text_encoding.py) reads and writes them: one field per line,
// C-escaped strings, doubles printed as Python prints floats.

/** A line's field and value, or why the line is not one. */
export type FieldLine =
  | { readonly kind: 'blank' }
  | { readonly kind: 'field'; readonly field: string; readonly text: string; readonly quoted: boolean; readonly rawNonAscii: boolean }
  | { readonly kind: 'bad'; readonly field: string | null; readonly problem: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
/** What ends a number token in Python's tokenizer: whitespace, a separator, a comment. */
const NUMBER_TOKEN = /^[^\s;,#]+/;

/**
 * One line of a text-format message holding at most one scalar field, split into the field's name
 * and its value as written (the quoted strings' bodies joined, still escaped, for strings).
 * Comments (`#` to the end of the line) and a trailing `;` or `,` are allowed, as the Python
 * tokenizer allows them. Adjacent strings are concatenated, as there.
 */
export function splitFieldLine(line: string): FieldLine {
  let rest = line.trimStart();
  if (rest === '' || rest.startsWith('#')) return { kind: 'blank' };
  const name = IDENTIFIER.exec(rest)?.[0];
  if (name === undefined) return { kind: 'bad', field: null, problem: 'not "field: value"' };
  rest = rest.slice(name.length).trimStart();
  if (!rest.startsWith(':')) return { kind: 'bad', field: null, problem: 'not "field: value"' };
  rest = rest.slice(1).trimStart();
  if (rest.startsWith('[')) return { kind: 'bad', field: name, problem: `${name} is a list in brackets; TensorFlow writes one value per line` };

  let text = '';
  let quoted = false;
  let rawNonAscii = false;
  if (rest.startsWith('"') || rest.startsWith("'")) {
    quoted = true;
    while (rest.startsWith('"') || rest.startsWith("'")) {
      const end = closingQuote(rest);
      if (end < 0) return { kind: 'bad', field: name, problem: `${name} is a string without its closing quote` };
      const body = rest.slice(1, end);
      if ([...body].some((c) => c.charCodeAt(0) > 0x7f)) rawNonAscii = true;
      text += body;
      rest = rest.slice(end + 1).trimStart();
    }
  } else {
    const token = NUMBER_TOKEN.exec(rest)?.[0];
    if (token === undefined) return { kind: 'bad', field: name, problem: `${name} has no value` };
    text = token;
    rest = rest.slice(token.length).trimStart();
  }
  if (rest.startsWith(';') || rest.startsWith(',')) rest = rest.slice(1).trimStart();
  if (rest !== '' && !rest.startsWith('#')) {
    const another = /^[A-Za-z_][A-Za-z0-9_]*\s*:/.test(rest);
    return {
      kind: 'bad',
      field: name,
      problem: another ? 'holds more than one field; TensorFlow writes one field per line' : `${name} has something after its value`,
    };
  }
  return { kind: 'field', field: name, text, quoted, rawNonAscii };
}

/** The index of the quote closing the string that opens `text`, or -1. A raw newline never occurs inside a line. */
function closingQuote(text: string): number {
  const quote = text[0];
  for (let i = 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === quote) return i;
  }
  return -1;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

/**
 * A string body's C escapes (\n, \", \\, \NNN octal, \xHH) undone, as UTF-8 bytes decoded: the
 * string, or the problem (`has an unknown escape`, `is not valid UTF-8`).
 */
export function unescapeString(body: string): { value: string } | { problem: string } {
  const bytes = Buffer.from(body, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte !== 92) {
      out.push(byte);
      continue;
    }
    const next = String.fromCharCode(bytes[++i] ?? 0);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) out.push(simple);
    else if (next >= '0' && next <= '7') {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(String.fromCharCode(bytes[i + 1] ?? 0))) digits += String.fromCharCode(bytes[++i] as number);
      out.push(parseInt(digits, 8) & 0xff);
    } else if (next === 'x') {
      let digits = '';
      while (digits.length < 2 && /[0-9a-fA-F]/.test(String.fromCharCode(bytes[i + 1] ?? 0))) digits += String.fromCharCode(bytes[++i] as number);
      if (digits === '') return { problem: 'has \\x without hex digits' };
      out.push(parseInt(digits, 16));
    } else return { problem: 'has an unknown escape' };
  }
  try {
    return { value: new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(out)) };
  } catch {
    return { problem: 'is not valid UTF-8' };
  }
}

/**
 * A double as Python's float() reads one (`1673735799.685766`, `1e9`, `.5`, `2.f`), or null.
 * Infinity and NaN, which Python also reads, are refused: no state file's time is one.
 */
export function parseDouble(token: string): number | null {
  const plain = token.replace(/[fF]$/, '').replace(/(?<=\d)_(?=\d)/g, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(plain)) return null;
  const value = Number(plain);
  return Number.isFinite(value) ? value : null;
}

/**
 * A string as protobuf's CEscape writes it between double quotes: `"`, `'` and `\` escaped, tab,
 * newline and return by letter, other control bytes in octal; other characters as they are when
 * `asUtf8` (what newer protobuf releases print by default), else each UTF-8 byte past ASCII in octal
 * (what older ones print). Both read back to the same string.
 */
export function quoteString(value: string, asUtf8: boolean): string {
  let out = '"';
  const bytes = asUtf8 ? null : Buffer.from(value, 'utf8');
  const units = bytes ?? [...value];
  for (const unit of units) {
    const code = typeof unit === 'number' ? unit : (unit.codePointAt(0) as number);
    if (code === 0x22) out += '\\"';
    else if (code === 0x27) out += "\\'";
    else if (code === 0x5c) out += '\\\\';
    else if (code === 0x0a) out += '\\n';
    else if (code === 0x0d) out += '\\r';
    else if (code === 0x09) out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && typeof unit === 'number')) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += typeof unit === 'number' ? String.fromCharCode(unit) : unit;
  }
  return `${out}"`;
}

/**
 * A double as Python's repr() (and so protobuf's text printer, which writes `str(value)`) prints
 * it: the shortest digits that read back to the same double, in fixed notation with at least one
 * decimal (`1673735799.0`) when the decimal exponent is from -4 to 15, else as `1e+16`, `1.5e-05`.
 * JavaScript's toExponential() without an argument gives those same shortest digits.
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('.', '');
  const sign = value < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const shownMantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${shownMantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}
