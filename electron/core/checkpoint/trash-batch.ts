// One deletion batch in the workspace's trash: a number taken once, then one entry folder per
// checkpoint moved. Our runs' checkpoints and other programs' (read in place) share a batch when
// they are deleted together, so one undo brings them all back.
import { lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from '../base/durable-fs.js';
import { RefusedError } from '../base/errors.js';
import { isMissing } from '../base/regular-file.js';
import { TRASH_DIR } from './layout.js';
import { batchId, batchNumberOfFolder, entryId } from './trash-layout.js';

/**
 * The workspace's trash folder, which must be a real folder of the workspace: a `.trash` that is
 * a symbolic link would carry deletions (and later purges) somewhere else.
 */
export async function trashFolder(root: string, create: boolean): Promise<string | null> {
  const trash = path.join(root, TRASH_DIR);
  try {
    const info = await lstat(trash);
    if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new RefusedError(trash, `is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; the trash must be a folder of the workspace itself`);
    }
    return trash;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  if (!create) return null;
  await mkdir(trash);
  await fsyncPath(root);
  return trash;
}

/**
 * A batch is claimed when its first entry is made, not before: a deletion refused by its checks
 * leaves no empty batch behind.
 */
export class TrashBatch {
  private next = 0;
  private claimed: { trash: string; id: string } | null = null;

  constructor(private readonly root: string) {}

  /** The batch's id; only once an entry has been made. */
  get id(): string {
    if (!this.claimed) throw new Error('no entry of this batch has been made yet');
    return this.claimed.id;
  }

  /**
   * Takes the next batch number by creating its first entry's folder: mkdir fails if another
   * process took the same number first, and then we count again.
   */
  private static async claim(root: string): Promise<{ trash: string; id: string }> {
    const trash = (await trashFolder(root, true)) as string;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const numbers = (await readdir(trash)).map(batchNumberOfFolder).filter((n): n is number => n !== null);
      const id = batchId(Math.max(0, ...numbers) + 1);
      try {
        await mkdir(path.join(trash, entryId(id, 0)));
        return { trash, id };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new RefusedError(trash, 'could not take a batch number (too many concurrent deletions)');
  }

  /** The next entry's id and its (new, empty) folder; the first one claims the batch. */
  async nextEntry(): Promise<{ id: string; dir: string }> {
    const first = this.claimed === null;
    this.claimed ??= await TrashBatch.claim(this.root);
    const id = entryId(this.claimed.id, this.next);
    const dir = path.join(this.claimed.trash, id);
    if (!first) await mkdir(dir);
    this.next += 1;
    return { id, dir };
  }
}
