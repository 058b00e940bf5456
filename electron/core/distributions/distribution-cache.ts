// One tensor's figures at one checkpoint, kept in `.studio/distributions/<key>.json` under the key
// its bytes give it (see checkpoint-tensor.ts): a changed file has another key and is read again;
// an entry no longer used is simply never read. Entries are written whole (temporary name, rename),
// so several processes can share the folder without a lock: the same key means the same figures.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../base/durable-fs.js';
import { errorMessage } from '../base/errors.js';

export const DISTRIBUTIONS_DIR = 'distributions';

const count = z.int().nonnegative();

export const TensorSummarySchema = z.object({
  count,
  finite: count,
  nan: count,
  inf: count,
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  quantiles: z.array(z.number()).nullable(),
  quantileMethod: z.enum(['exact', 'histogram']),
  quantileError: z.number().nonnegative(),
});
export type TensorSummary = z.infer<typeof TensorSummarySchema>;

export const BinnedSchema = z.object({ lo: z.number(), hi: z.number(), bins: z.int().positive(), counts: z.array(count) });
export type Binned = z.infer<typeof BinnedSchema>;

const EntrySchema = z.object({ version: z.literal(1), summary: TensorSummarySchema, histogram: BinnedSchema.nullable() });
export type CacheEntry = Omit<z.infer<typeof EntrySchema>, 'version'>;

/** Where the cache is, and whether this process may add to it. */
export interface CacheLocation {
  /** `<workspace>/.studio/distributions`; it may not exist yet. */
  readonly dir: string;
  readonly writable: boolean;
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
      return parsed.success ? { summary: parsed.data.summary, histogram: parsed.data.histogram } : null;
    } catch {
      return null;
    }
  }

  async write(key: string, entry: CacheEntry): Promise<void> {
    const file = this.file(key);
    if (!file || !this.location?.writable || this.unwritable !== null) return;
    try {
      // Only the folder of our own inside `.studio/`, which the caller found or made at the workspace's root.
      await mkdir(this.location.dir, { recursive: false }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await writeFileAtomic(file, JSON.stringify({ version: 1, ...entry }));
    } catch (error) {
      // A cache that cannot be written costs a re-read next time, never the answer.
      this.unwritable = `${this.location.dir}: ${errorMessage(error)}`;
    }
  }
}
