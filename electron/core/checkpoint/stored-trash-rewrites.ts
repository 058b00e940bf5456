// The files beside another program's checkpoints that a deletion rewrites on an object store
// (TensorFlow's `checkpoint` state file), by their whole text as the journal records it. Each is
// changed only while it holds what the change was computed from: another program's write since
// is never overwritten, on the way in (the deletion) or on the way back (a restore).
import { RefusedError } from '../base/errors.js';
import type { Storage } from '../storage/storage.js';
import type { JournalEntry, StoredRewrite } from './stored-trash-journal.js';

/** Its whole text, or null when there is no such object; BOM and all, so what is put back is the same bytes. */
async function textOf(storage: Storage, key: string): Promise<string | null> {
  if ((await storage.stat(key)) === null) return null;
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await storage.read(key));
}

async function setText(storage: Storage, key: string, text: string | null): Promise<void> {
  if (text === null) await storage.remove([key]);
  else await storage.write(key, text);
}

/** Each key once: entries of one folder deleted together carry the same rewrite. */
function rewritesOf(entries: readonly JournalEntry[]): StoredRewrite[] {
  const byKey = new Map<string, StoredRewrite>();
  for (const entry of entries) for (const rewrite of entry.inPlace?.rewrites ?? []) if (!byKey.has(rewrite.key)) byKey.set(rewrite.key, rewrite);
  return [...byKey.values()];
}

/** Refuses, before anything is changed, when a file to rewrite no longer holds what the rewrite was computed from. */
export async function assertRewritable(storage: Storage, rewrites: readonly StoredRewrite[]): Promise<void> {
  for (const rewrite of rewrites)
    if ((await textOf(storage, rewrite.key)) !== rewrite.before)
      throw new RefusedError(storage.locate(rewrite.key), 'changed while the deletion was being prepared (another program wrote it); nothing was changed');
}

/** After the objects went: each file rewritten, if it still holds what it held (run again after a crash, it does nothing more). */
export async function applyRewrites(storage: Storage, entries: readonly JournalEntry[]): Promise<void> {
  for (const rewrite of rewritesOf(entries)) if ((await textOf(storage, rewrite.key)) === rewrite.before) await setText(storage, rewrite.key, rewrite.after);
}

/** After a restore: each file put back as it was, only if it still holds what the deletion wrote. */
export async function putBackRewrites(storage: Storage, entries: readonly JournalEntry[]): Promise<void> {
  for (const rewrite of rewritesOf(entries).reverse())
    if ((await textOf(storage, rewrite.key)) === rewrite.after) await setText(storage, rewrite.key, rewrite.before);
}

/** Why a change that only rewrote files (Make latest) cannot be undone: a file no longer holds what it wrote. */
export async function rewriteUndoProblem(storage: Storage, entry: JournalEntry): Promise<string | null> {
  for (const rewrite of entry.inPlace?.rewrites ?? [])
    if ((await textOf(storage, rewrite.key)) !== rewrite.after)
      return `${storage.locate(rewrite.key)} was changed since (another program wrote it); it is left as it is`;
  return null;
}
