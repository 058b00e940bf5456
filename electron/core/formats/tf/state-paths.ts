// Which checkpoint of a folder a path in its `checkpoint` state file means. get_checkpoint_state
// (checkpoint_management.py) joins a relative path to the folder and takes an absolute one as it
// is; an absolute path written on another machine (`/Users/…/model-1000`) names nothing here, so it
// is matched by its last part, and said so.
import path from 'node:path';

export interface StateEntry {
  /** The checkpoint's prefix relative to the folder (`model-1000`, or `sub/model-1000`), as the tf-bundle reader names it. */
  readonly name: string;
  /** How it was found: resolved as TensorFlow resolves it, or by its last part because its folder is not this one. */
  readonly how: 'resolved' | 'basename';
}

/** Absolute in the sense of any machine that may have written the file: `/…`, `C:\…`, `C:/…`, `\\server\…`. */
export function isAbsoluteAnywhere(listed: string): boolean {
  return listed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(listed) || listed.startsWith('\\\\');
}

/** The folder-relative prefix that `listed` (a path from the state file of `dir`) means. */
export function stateEntry(dir: string, listed: string): StateEntry {
  const folder = path.resolve(dir);
  if (!isAbsoluteAnywhere(listed) || path.isAbsolute(listed)) {
    const resolved = path.resolve(folder, listed);
    const relative = path.relative(folder, resolved);
    const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    if (inside || !isAbsoluteAnywhere(listed)) return { name: relative, how: 'resolved' };
  }
  return { name: listed.split(/[\\/]/).pop() ?? listed, how: 'basename' };
}
