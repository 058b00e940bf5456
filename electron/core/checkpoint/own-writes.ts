// The files of other programs' folders that the store itself rewrote (a TensorFlow state file after
// a deletion, an undo or "make latest"), with the mtime each got: the quiet period before a folder is
// changed counts another program's activity, not ours. Kept in `.studio/own-writes.json`, so a
// second command a moment later knows them too.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../base/durable-fs.js';
import { parseJsonText } from '../base/parse-json.js';
import { readRegularText } from '../base/regular-file.js';
import { STATE_DIR } from './layout.js';
import { withStateLock } from './state-folder.js';

const FILE = 'own-writes.json';
const LOCK = 'own-writes.lock';
/** Older writes no longer matter to any quiet period. */
const KEEP_MS = 24 * 3600 * 1000;
const OwnWritesSchema = z.object({ version: z.literal(1), files: z.record(z.string(), z.number()) });

/** By absolute path: the mtime the store's own write left. */
export type OwnWrites = ReadonlyMap<string, number>;

function fileOf(root: string): string {
  return path.join(root, STATE_DIR, FILE);
}

export async function loadOwnWrites(root: string): Promise<OwnWrites> {
  try {
    const parsed = OwnWritesSchema.safeParse(parseJsonText(fileOf(root), await readRegularText(fileOf(root))));
    // Only an optimisation of the quiet period: unreadable means none known.
    if (!parsed.success) return new Map();
    return new Map(Object.entries(parsed.data.files).map(([relative, mtime]) => [path.join(root, relative), mtime]));
  } catch {
    return new Map();
  }
}

/** Records `files` (absolute, inside the workspace) as written by the store just now. */
export async function rememberOwnWrites(root: string, files: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  await withStateLock(root, LOCK, async () => {
    const known = new Map([...(await loadOwnWrites(root))].filter(([, mtime]) => Date.now() - mtime < KEEP_MS));
    for (const file of files) {
      const info = await lstat(file).catch(() => null);
      if (info) known.set(file, info.mtimeMs);
      else known.delete(file);
    }
    const entries = Object.fromEntries([...known].map(([file, mtime]) => [path.relative(root, file), mtime]));
    await writeFileAtomic(fileOf(root), `${JSON.stringify({ version: 1, files: entries })}\n`);
  });
}
