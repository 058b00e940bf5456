// What the store keeps about runs read in place (another program's folders): their pins and
// retention policies. They live in the workspace's own `.studio/in-place.json`, never in the
// other program's folder, and the file is written only on a change: reading a folder writes
// nothing into it.
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../base/durable-fs.js';
import { CheckpointFormatError, RefusedError, errorMessage } from '../base/errors.js';
import { isAbsence } from '../base/path-state.js';
import { parseJsonText } from '../base/parse-json.js';
import { readRegularText } from '../base/regular-file.js';
import { STATE_DIR } from './layout.js';
import { type RunRetention, RunRetentionSchema } from './run-files.js';
import { withStateLock } from './state-folder.js';

const RECORDS_FILE = 'in-place.json';
const RECORDS_LOCK = 'in-place.lock';
const RecordsSchema = z.object({ version: z.literal(1), runs: z.record(z.string(), RunRetentionSchema) });

export class InPlaceRecords {
  /** Why the file cannot be read, if it cannot: listing goes on, but nothing is deleted or pruned by records we cannot see. */
  private problem: string | null = null;

  private constructor(
    private readonly workspace: string,
    private runs: Map<string, RunRetention>,
  ) {}

  static async load(workspace: string): Promise<InPlaceRecords> {
    const records = new InPlaceRecords(workspace, new Map());
    await records.reload();
    return records;
  }

  /** Re-reads the file (another process may have changed it). */
  async reload(): Promise<void> {
    try {
      this.runs = await readRecords(this.workspace);
      this.problem = null;
    } catch (error) {
      this.runs = new Map();
      this.problem = errorMessage(error);
    }
  }

  /** Throws when the records cannot be read: a pin we cannot see must still protect its checkpoint. */
  requireReadable(): void {
    if (this.problem !== null)
      throw new RefusedError(
        recordsFile(this.workspace),
        `the pins and policies of runs read in place cannot be read, so nothing of theirs is deleted: ${this.problem}`,
      );
  }

  retention(run: string): RunRetention {
    return this.runs.get(run) ?? RunRetentionSchema.parse({});
  }

  pinned(run: string): readonly string[] {
    return this.retention(run).pinned;
  }

  /** Changes one run's record, merged with what other processes wrote meanwhile. */
  async update(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    await withStateLock(this.workspace, RECORDS_LOCK, async () => {
      const runs = await readRecords(this.workspace);
      runs.set(run, RunRetentionSchema.parse(change(runs.get(run) ?? RunRetentionSchema.parse({}))));
      await writeFileAtomic(recordsFile(this.workspace), `${JSON.stringify({ version: 1, runs: Object.fromEntries(runs) }, null, 2)}\n`);
      this.runs = runs;
    });
  }
}

function recordsFile(workspace: string): string {
  return path.join(workspace, STATE_DIR, RECORDS_FILE);
}

async function readRecords(workspace: string): Promise<Map<string, RunRetention>> {
  const file = recordsFile(workspace);
  let text: string;
  try {
    text = await readRegularText(file);
  } catch (error) {
    if (isAbsence(error)) return new Map();
    throw error;
  }
  const parsed = RecordsSchema.safeParse(parseJsonText(file, text));
  // Pins protect data: a record we cannot read is an error to show, not an empty set of pins.
  if (!parsed.success) throw new CheckpointFormatError(file, 'not a record of runs read in place (their pins and policies); fix or remove it');
  return new Map(Object.entries(parsed.data.runs));
}
