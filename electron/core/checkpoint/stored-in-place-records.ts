// What the store keeps about runs read in place from a workspace in S3 (issue 18): their pins and
// retention policies, in the object `.studio/in-place.json` of the prefix (as in-place-records.ts
// keeps them in a folder's `.studio/`), never beside the other program's files. It is read on
// each listing (once per ETag) and written only on a change, by a workspace opened for writing:
// reading writes nothing. S3 has no compare-and-swap here: the record is read fresh just before it
// is rewritten, so two people pinning at once can lose one pin, never a checkpoint.
import { z } from 'zod';
import { CheckpointFormatError, RefusedError, errorMessage } from '../base/errors.js';
import { parseJsonText } from '../base/parse-json.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { STATE_DIR } from './layout.js';
import { type RunRetention, RunRetentionSchema } from './run-files.js';

export const STORED_RECORDS_KEY = `${STATE_DIR}/in-place.json`;
const RecordsSchema = z.object({ version: z.literal(1), runs: z.record(z.string(), RunRetentionSchema) });

export class StoredInPlaceRecords {
  private runs = new Map<string, RunRetention>();
  /** The ETag last read ('' for no object), so an unchanged record costs one HEAD. */
  private tag: string | null = null;
  /** Why the record cannot be read, if it cannot: listing goes on, but nothing is deleted or pruned by pins we cannot see. */
  private problem: string | null = null;

  constructor(private readonly storage: Storage) {}

  private async readFresh(listed?: StoredObject | null): Promise<{ runs: Map<string, RunRetention>; tag: string }> {
    const object = listed !== undefined ? listed : await this.storage.stat(STORED_RECORDS_KEY);
    if (object === null) return { runs: new Map(), tag: '' };
    const tag = object.tag ?? `${object.size}:${object.modifiedMs}`;
    if (tag === this.tag && this.problem === null) return { runs: this.runs, tag };
    const address = this.storage.locate(STORED_RECORDS_KEY);
    const parsed = RecordsSchema.safeParse(parseJsonText(address, new TextDecoder().decode(await this.storage.read(STORED_RECORDS_KEY))));
    // Pins protect data: a record we cannot read is an error to show, not an empty set of pins.
    if (!parsed.success) throw new CheckpointFormatError(address, 'not a record of runs read in place (their pins and policies); fix or remove it');
    return { runs: new Map(Object.entries(parsed.data.runs)), tag };
  }

  /**
   * Reads the record again if it changed (another process may have written it). `listed`: the
   * record as a listing just found it (null: not there), which saves asking for it.
   */
  async reload(listed?: StoredObject | null): Promise<void> {
    try {
      const { runs, tag } = await this.readFresh(listed);
      this.runs = runs;
      this.tag = tag;
      this.problem = null;
    } catch (error) {
      this.runs = new Map();
      this.tag = null;
      this.problem = errorMessage(error);
    }
  }

  /** Throws when the record cannot be read: a pin we cannot see must still protect its checkpoint. */
  requireReadable(): void {
    if (this.problem !== null)
      throw new RefusedError(
        this.storage.locate(STORED_RECORDS_KEY),
        `the pins and policies of runs read in place cannot be read, so nothing of theirs is deleted: ${this.problem}`,
      );
  }

  retention(run: string): RunRetention {
    return this.runs.get(run) ?? RunRetentionSchema.parse({});
  }

  pinned(run: string): readonly string[] {
    return this.retention(run).pinned;
  }

  /** Changes one run's record, read fresh first; refused (nothing written) when the record there cannot be read. */
  async update(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    const { runs } = await this.readFresh();
    const next = new Map(runs);
    next.set(run, RunRetentionSchema.parse(change(next.get(run) ?? RunRetentionSchema.parse({}))));
    await this.storage.write(STORED_RECORDS_KEY, `${JSON.stringify({ version: 1, runs: Object.fromEntries(next) }, null, 2)}\n`);
    this.tag = null;
    await this.reload();
  }
}
