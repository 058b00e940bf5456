// Opening a workspace. Reading never changes anything: a read-only open neither creates the
// folder nor removes a file. Opening to write removes what dead writers of ours left behind (by
// their temporary names, see temporaries.ts), and nothing else; only 'create' (a first training)
// makes the folder, so a mistyped --workspace never leaves a new empty one behind.
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { STATE_DIR, isHiddenName } from './layout.js';
import { isMissing } from '../base/regular-file.js';
import { removeDeadTemporaries } from '../base/temporaries.js';

export type WorkspaceAccess = 'read' | 'write' | 'create';

export interface PreparedWorkspace {
  /** The workspace's real path: every later containment check compares against it. */
  readonly root: string;
  /** Temporary folders and files removed because the writer that made them is dead. */
  readonly removed: readonly string[];
}

export async function prepareWorkspace(dir: string, access: WorkspaceAccess = 'create'): Promise<PreparedWorkspace> {
  if (access === 'create') await mkdir(dir, { recursive: true });
  let root: string;
  try {
    root = await realpath(dir);
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError(path.resolve(dir), 'no such workspace folder');
    throw error;
  }
  if (!(await stat(root)).isDirectory()) throw new RefusedError(path.resolve(dir), 'not a folder, so it cannot be a workspace');
  if (access === 'read') return { root, removed: [] };
  const removed = [...(await removeDeadTemporaries(path.join(root, STATE_DIR)))];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || isHiddenName(entry.name)) continue;
    removed.push(...(await removeDeadTemporaries(path.join(root, entry.name))));
  }
  return { root, removed };
}
