// The store's own folder in a workspace, `.studio/`: created on the first change, never on a read,
// and only as a real folder of the workspace (a symbolic link would carry our writes elsewhere).
// Several processes share its files; a change is made under a lock file, so none is lost.
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError, RunLockedError } from '../base/errors.js';
import { isMissing } from '../base/regular-file.js';
import { STATE_DIR } from './layout.js';
import { acquireLockFile } from './run-lock.js';

/** How long a change waits for another process's change to the same file. */
const LOCK_WAIT_MS = 5000;

/** `.studio` of the workspace, created when `create` (a change) and missing. */
export async function stateFolder(workspace: string, create: boolean): Promise<string | null> {
  const dir = path.join(workspace, STATE_DIR);
  try {
    const info = await lstat(dir);
    if (info.isSymbolicLink() || !info.isDirectory())
      throw new RefusedError(
        dir,
        `is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; the store keeps its state only in a folder of the workspace itself`,
      );
    return dir;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  if (!create) return null;
  await mkdir(dir);
  return dir;
}

/** Runs `change` holding `.studio/<lockName>`, waiting a little for another process that holds it. */
export async function withStateLock<T>(workspace: string, lockName: string, change: () => Promise<T>): Promise<T> {
  const dir = (await stateFolder(workspace, true)) as string;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let lock: Awaited<ReturnType<typeof acquireLockFile>>;
  for (;;) {
    try {
      lock = await acquireLockFile(path.join(dir, lockName));
      break;
    } catch (error) {
      if (!(error instanceof RunLockedError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
    }
  }
  try {
    return await change();
  } finally {
    await lock.release();
  }
}
