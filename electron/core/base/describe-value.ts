// The one rule for what of a file's content may appear in a message (an error, a problem, a note).
// A message names the file and says what is wrong; it never hands back the file's bytes, so that
// pointing the program at a file it cannot read (`inspect /etc/shadow`) tells nothing of what the
// file holds. Readers keep to two parts of the rule:
//  - Before a file is recognised as its format (its magic, a well-formed header), nothing read
//    from it appears: no decoded number, no quoted text. What is wrong is said with the format's
//    own constants and what stat gives (the file's size).
//  - After, a string the format defines (a tensor name, a dtype, a file an index names, a key)
//    appears only through `shown` or `quoted` below: as it is when it is a plain name, else
//    described by its length. Numbers the format defines (a shape, an offset) may appear.

/**
 * A plain name: 1 to 128 characters of letters, digits, `_ . / : - + , ( )` and single spaces, not
 * starting or ending with a space. That covers the names checkpoint formats use (TensorFlow's
 * `scope/kernel:0` and its long object-graph keys, Hugging Face's `model.layers.0.weight`, dtype
 * names, shard file names) and the free text they record (`keras v2.4.0`, `TensorFlow.js
 * Converter v1.7.0`), and nothing that can carry a control character, a quote, a backslash or a
 * password hash (`root:*:…`, `$6$…`).
 */
const PLAIN_NAME = /^(?=[^ ])(?:[A-Za-z0-9_./:+,()-]| (?=[^ ])){1,128}$/;

export function isShowableName(value: string): boolean {
  return PLAIN_NAME.test(value);
}

function notShown(value: string): string {
  return `(${value.length} character${value.length === 1 ? '' : 's'}, not shown)`;
}

/** `value` as it is when it is a plain name, else `(N characters, not shown)`. */
export function shown(value: string): string {
  return isShowableName(value) ? value : notShown(value);
}

/** `"value"` when it is a plain name (or empty), else `(N characters, not shown)`. */
export function quoted(value: string): string {
  return value === '' || isShowableName(value) ? `"${value}"` : notShown(value);
}

/** A JSON value by its kind: `a number`, `a string "F128"`, `a string (40 characters, not shown)`, `an object`… */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string ${quoted(value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

/** A JSON value that should have been one of a few words (a dtype, a group): the string, quoted, else its kind. */
export function quotedValue(value: unknown): string {
  return typeof value === 'string' ? quoted(value) : `(${describeJson(value)})`;
}

/** A field's place in a JSON document, `tensors.3.name`; keys read from the file go through `shown`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'string' ? shown(part) : typeof part === 'number' ? String(part) : 'a symbol')).join('.');
}
