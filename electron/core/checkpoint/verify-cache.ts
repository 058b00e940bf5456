// Remembers full verifications across restarts, so the app can show "verified" without reading
// gigabytes at start-up. An entry holds only while the files' sizes and mtimes are unchanged.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './durable-fs.js';
import { STATE_DIR } from './layout.js';

const CACHE_FILE = 'verified.json';

const EntrySchema = z.object({ signature: z.string(), ok: z.boolean(), reason: z.string().nullable(), at: z.string() });
const CacheSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), EntrySchema) });
export type VerifyCacheEntry = z.infer<typeof EntrySchema>;

export class VerifyCache {
  private entries = new Map<string, VerifyCacheEntry>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly workspace: string) {}

  async load(): Promise<void> {
    try {
      const parsed = CacheSchema.safeParse(JSON.parse(await readFile(this.file(), 'utf8')));
      // A damaged cache only costs re-verification; it is never an error.
      if (parsed.success) this.entries = new Map(Object.entries(parsed.data.entries));
    } catch {
      this.entries = new Map();
    }
  }

  lookup(id: string, signature: string): VerifyCacheEntry | null {
    const entry = this.entries.get(id);
    return entry && entry.signature === signature ? entry : null;
  }

  async record(id: string, signature: string, ok: boolean, reason: string | null): Promise<void> {
    this.entries.set(id, { signature, ok, reason, at: new Date().toISOString() });
    await this.persist();
  }

  async forget(ids: readonly string[]): Promise<void> {
    let changed = false;
    for (const id of ids) changed = this.entries.delete(id) || changed;
    if (changed) await this.persist();
  }

  private file(): string {
    return path.join(this.workspace, STATE_DIR, CACHE_FILE);
  }

  private persist(): Promise<void> {
    // Serialised so two verifications finishing together cannot interleave their renames.
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.file()), { recursive: true });
      const json = { version: 1 as const, entries: Object.fromEntries(this.entries) };
      await writeFileAtomic(this.file(), JSON.stringify(json));
    });
    return this.writing;
  }
}
