// What a folder directly holds, by kind, without following links: a link inside a checkpoint folder
// could lead anywhere, and its target would be copied by import as if it were part of it.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describeFileKind } from '../../base/regular-file.js';
import { isStoragePath, listFiles } from '../../storage/file-access.js';
import { aboutFile } from './fs-problem.js';

export interface FolderListing {
  readonly dir: string;
  /** Regular files with their sizes, by name. */
  readonly files: ReadonlyMap<string, number>;
  readonly folders: readonly string[];
  /** Links, pipes, sockets…: named in a note, never read. */
  readonly others: readonly { readonly name: string; readonly kind: string }[];
}

export function listFolder(dir: string): Promise<FolderListing> {
  return aboutFile(dir, async () => {
    // An object store has no links: its listing is what the folder holds.
    if (isStoragePath(dir)) return storedFolder(dir);
    const names = (await readdir(dir)).sort();
    const files = new Map<string, number>();
    const folders: string[] = [];
    const others: { name: string; kind: string }[] = [];
    for (const name of names) {
      const info = await lstat(path.join(dir, name));
      if (info.isFile()) files.set(name, info.size);
      else if (info.isDirectory()) folders.push(name);
      else others.push({ name, kind: describeFileKind(info) });
    }
    return { dir, files, folders, others };
  });
}

async function storedFolder(dir: string): Promise<FolderListing> {
  const entries = await listFiles(dir);
  const files = new Map(entries.filter((e) => e.kind === 'file').map((e) => [e.name, e.bytes]));
  return { dir, files, folders: entries.filter((e) => e.kind === 'folder').map((e) => e.name), others: [] };
}

/** Trainer's checkpoint folders are `checkpoint-<global_step>` (trainer_utils.py PREFIX_CHECKPOINT_DIR). */
export function checkpointFolderStep(name: string): number | null {
  const match = /^checkpoint-(\d+)$/.exec(name);
  if (match === null) return null;
  const step = Number(match[1]);
  return Number.isSafeInteger(step) ? step : null;
}
