// Every name read from disk or typed by a user becomes part of a path only after it passes
// here: one plain path segment, never "." or "..", never a separator, never a control character.
// A name that fails is data to report, never a path to act on.

/** C0 controls, DEL and C1 controls: they break tables, terminals and shell scripts. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/u;
/** Bytes a name may take on common file systems (ext4, APFS, NTFS count at most 255). */
const MAX_NAME_BYTES = 255;

/** Why `name` is not a plain name, or null when it is one. */
export function plainNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (name.includes('/') || name.includes('\\')) return 'the name contains a path separator';
  if (CONTROL_CHARACTER.test(name)) return 'the name contains a control character (a newline, a tab, …)';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}

/**
 * A name or what a user typed, as it can be shown on one line of a table or a message:
 * JSON-quoted (so a newline shows as \n) when it holds a control character or nothing at all.
 */
export function showName(name: string): string {
  return name.length > 0 && !CONTROL_CHARACTER.test(name) ? name : JSON.stringify(name);
}

/**
 * The first of `base`, `base-2`, `base-3` … that `isTaken` says is free: how a run gets a name the
 * user did not choose (a new run, a continuation, an import), defined once.
 */
export async function firstFreeName(base: string, isTaken: (name: string) => Promise<boolean>): Promise<string> {
  for (let i = 1; ; i += 1) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!(await isTaken(name))) return name;
  }
}
