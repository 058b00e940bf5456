// Remembers full verifications across restarts, so the app can show "verified" without reading
// gigabytes at start-up. An entry holds only while the files' sizes and mtimes are unchanged.
// Several processes share the file (the app, a CLI verify, a trainer): each save merges its own
// changes into what is on disk under a lock, so nobody's entries are lost, and the file is
// replaced atomically, so nobody reads it torn.
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../base/durable-fs.js';
import { parseJsonText } from '../base/parse-json.js';
import { STATE_DIR } from './layout.js';
import { readRegularText } from '../base/regular-file.js';
import { withStateLock } from './state-folder.js';

const CACHE_FILE = 'verified.json';
const CACHE_LOCK = 'verified.lock';

const EntrySchema = z.object({
  signature: z.string(),
  ok: z.boolean(),
  reason: z.string().nullable(),
  at: z.string(),
  /** Each tensor's CRC-32C, for a checkpoint read in place whose format stores no checksum: compared at the next verification. */
  crcs: z.record(z.string(), z.int().nonnegative()).optional(),
});
const CacheSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), EntrySchema) });
export type VerifyCacheEntry = z.infer<typeof EntrySchema>;

export class VerifyCache {
  private entries = new Map<string, VerifyCacheEntry>();
  /** What this process learned since its last save: an entry, or null for one to forget. */
  private readonly changes = new Map<string, VerifyCacheEntry | null>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly workspace: string) {}

  async load(): Promise<void> {
    this.entries = await this.readFromDisk();
  }

  lookup(id: string, signature: string): VerifyCacheEntry | null {
    const entry = this.entries.get(id);
    return entry && entry.signature === signature ? entry : null;
  }

  /** The tensors' CRC-32Cs the last verification of `id` recorded, whatever its files are now (a caller that keys by them adds their sizes and times). */
  recordedCrcs(id: string): Readonly<Record<string, number>> {
    return this.entries.get(id)?.crcs ?? {};
  }

  remember(id: string, signature: string, ok: boolean, reason: string | null, crcs?: Readonly<Record<string, number>>): void {
    const entry = { signature, ok, reason, at: new Date().toISOString(), ...(crcs ? { crcs: { ...crcs } } : {}) };
    this.entries.set(id, entry);
    this.changes.set(id, entry);
  }

  forget(ids: readonly string[]): void {
    for (const id of ids) {
      this.entries.delete(id);
      this.changes.set(id, null);
    }
  }

  file(): string {
    return path.join(this.workspace, STATE_DIR, CACHE_FILE);
  }

  /** Writes what this process learned, merged with what others wrote meanwhile. */
  save(): Promise<void> {
    // One save at a time within a process; the lock orders them across processes.
    this.saving = this.saving.catch(() => undefined).then(() => this.saveNow());
    return this.saving;
  }

  private async saveNow(): Promise<void> {
    if (this.changes.size === 0) return;
    await withStateLock(this.workspace, CACHE_LOCK, async () => {
      const merged = await this.readFromDisk();
      for (const [id, entry] of this.changes) {
        if (entry) merged.set(id, entry);
        else merged.delete(id);
      }
      await writeFileAtomic(this.file(), JSON.stringify({ version: 1 as const, entries: Object.fromEntries(merged) }));
      this.changes.clear();
      this.entries = merged;
    });
  }

  private async readFromDisk(): Promise<Map<string, VerifyCacheEntry>> {
    try {
      const parsed = CacheSchema.safeParse(parseJsonText(this.file(), await readRegularText(this.file())));
      // A damaged cache only costs re-verification; it is never an error.
      return parsed.success ? new Map(Object.entries(parsed.data.entries)) : new Map();
    } catch {
      return new Map();
    }
  }
}
