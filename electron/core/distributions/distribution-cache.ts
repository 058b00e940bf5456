// One tensor's figures at one checkpoint, kept in `.studio/distributions/<key>.json` under the key
// its bytes give it (see checkpoint-tensor.ts): a changed file has another key and is read again.
// Entries are written whole (temporary name, rename), so several processes can share the folder
// without a lock: the same key means the same figures. Each entry names the file it was read from;
// pruneCache drops the entries whose file is gone (its checkpoint deleted or moved to the trash,
// its run renamed), then the least recently used past a size cap (a hit touches its entry).
import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DistributionPointSchema } from '../../contract.js';
import { writeFileAtomic } from '../base/durable-fs.js';
import { errorMessage } from '../base/errors.js';

export const DISTRIBUTIONS_DIR = 'distributions';

/** A checkpoint's figures as the contract's DistributionPoint states them, less where they belong (id, step) and the run's shared histogram. */
export const TensorSummarySchema = DistributionPointSchema.pick({
  count: true,
  finite: true,
  nan: true,
  inf: true,
  min: true,
  max: true,
  mean: true,
  std: true,
  quantiles: true,
  quantileMethod: true,
  quantileError: true,
});
export type TensorSummary = z.infer<typeof TensorSummarySchema>;

export const BinnedSchema = z.object({ lo: z.number(), hi: z.number(), bins: z.int().positive(), counts: DistributionPointSchema.shape.histogram });
export type Binned = z.infer<typeof BinnedSchema>;

const EntrySchema = z.object({
  version: z.literal(1),
  summary: TensorSummarySchema,
  histogram: BinnedSchema.nullable(),
  /** The file its bytes were read from: while it exists, its checkpoint does (absent in entries written before pruning was). */
  checkpoint: z.string().optional(),
});
export type CacheEntry = Omit<z.infer<typeof EntrySchema>, 'version' | 'checkpoint'>;

/**
 * The cache's size past which the least recently used entries go, down to PRUNE_TO of it. An
 * entry is about 1 KB (a summary and 30 bins), so this holds some 30,000 tensor-checkpoints, far
 * more than a person looks at, yet stays small beside the checkpoints; a dropped entry costs one
 * read of a tensor.
 */
export const CACHE_MAX_BYTES = 32 * 1024 * 1024;
const PRUNE_TO = 0.75;

/** Where the cache is, and whether this process may add to it. */
export interface CacheLocation {
  /** `<workspace>/.studio/distributions`, or the user's cache folder's for a workspace in S3; it may not exist yet. */
  readonly dir: string;
  readonly writable: boolean;
  /** Where that is, as the answer says (`workspace` unless told). */
  readonly place?: 'workspace' | 'machine';
}

export class DistributionCache {
  /** Why an entry could not be written (said once), or null. */
  unwritable: string | null = null;

  constructor(private readonly location: CacheLocation | null) {}

  get used(): boolean {
    return this.location !== null;
  }

  private file(key: string): string | null {
    return this.location ? path.join(this.location.dir, `${key}.json`) : null;
  }

  /** The entry, or null: missing, unreadable or not ours all mean "compute it". */
  async read(key: string): Promise<CacheEntry | null> {
    const file = this.file(key);
    if (!file) return null;
    try {
      const parsed = EntrySchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (!parsed.success) return null;
      // Used now: the last the size cap drops. A workspace opened read-only is not written.
      if (this.location?.writable) {
        const now = new Date();
        await utimes(file, now, now).catch(() => undefined);
      }
      return { summary: parsed.data.summary, histogram: parsed.data.histogram };
    } catch {
      return null;
    }
  }

  /** Entries written by this cache: a computation that wrote none need not prune. */
  written = 0;

  async write(key: string, entry: CacheEntry & { readonly checkpoint: string }): Promise<void> {
    const file = this.file(key);
    if (!file || !this.location?.writable || this.unwritable !== null) return;
    try {
      // Only the folder of our own inside `.studio/`, which the caller found or made at the workspace's root.
      await mkdir(this.location.dir, { recursive: false }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await writeFileAtomic(file, JSON.stringify({ version: 1, ...entry }));
      this.written += 1;
    } catch (error) {
      // A cache that cannot be written costs a re-read next time, never the answer.
      this.unwritable = `${this.location.dir}: ${errorMessage(error)}`;
    }
  }
}

export interface Pruned {
  readonly orphaned: number;
  readonly evicted: number;
  readonly bytes: number;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT' && error.code !== 'ENOTDIR',
  );
}

/**
 * Drops the entries whose checkpoint no longer exists, then, while the rest exceed maxBytes, the
 * least recently used down to PRUNE_TO of it. Another process may prune or write meanwhile: an
 * entry already gone is no error, and one dropped while another process wanted it is read again.
 */
export async function pruneCache(dir: string, maxBytes = CACHE_MAX_BYTES): Promise<Pruned> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const kept: { file: string; bytes: number; used: number }[] = [];
  let orphaned = 0;
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(dir, name);
    try {
      const [info, text] = await Promise.all([stat(file), readFile(file, 'utf8')]);
      const parsed = EntrySchema.safeParse(JSON.parse(text));
      const checkpoint = parsed.success ? parsed.data.checkpoint : undefined;
      // Not ours, unreadable, or its checkpoint gone: never read again.
      // An object in a bucket is not looked for (a request per entry): it goes by age alone.
      const gone = checkpoint !== undefined && !checkpoint.startsWith('s3://') && !(await exists(checkpoint));
      if (!parsed.success || gone) {
        await rm(file, { force: true });
        orphaned += 1;
      } else kept.push({ file, bytes: info.size, used: info.mtimeMs });
    } catch {
      // Gone meanwhile (another process pruned it), or half visible: left to the next prune.
    }
  }
  let bytes = kept.reduce((sum, entry) => sum + entry.bytes, 0);
  let evicted = 0;
  if (bytes > maxBytes) {
    kept.sort((a, b) => a.used - b.used);
    for (const entry of kept) {
      if (bytes <= maxBytes * PRUNE_TO) break;
      await rm(entry.file, { force: true });
      bytes -= entry.bytes;
      evicted += 1;
    }
  }
  return { orphaned, evicted, bytes };
}
