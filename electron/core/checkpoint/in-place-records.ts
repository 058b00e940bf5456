// What the store keeps about runs read in place (another program's folders): their pins and
// retention policies. They live in the workspace's own `.studio/in-place.json`, never in the
// other program's folder, and the file is written only on a change: reading a folder writes
// nothing into it.
import path from 'node:path';
import { writeFileAtomic } from '../base/durable-fs.js';
import { errorMessage } from '../base/errors.js';
import { isAbsence } from '../base/path-state.js';
import { readRegularText } from '../base/regular-file.js';
import { InPlaceRetention, inPlaceRecordsText, parseInPlaceRecords, withRunChanged } from './in-place-retention.js';
import { STATE_DIR } from './layout.js';
import type { RunRetention } from './run-files.js';
import { withStateLock } from './state-folder.js';

const RECORDS_FILE = 'in-place.json';
const RECORDS_LOCK = 'in-place.lock';

export class InPlaceRecords extends InPlaceRetention {
  private constructor(private readonly workspace: string) {
    super();
  }

  protected where(): string {
    return recordsFile(this.workspace);
  }

  static async load(workspace: string): Promise<InPlaceRecords> {
    const records = new InPlaceRecords(workspace);
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

  /** Changes one run's record, merged with what other processes wrote meanwhile. */
  async update(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    await withStateLock(this.workspace, RECORDS_LOCK, async () => {
      const runs = withRunChanged(await readRecords(this.workspace), run, change);
      await writeFileAtomic(recordsFile(this.workspace), inPlaceRecordsText(runs));
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
  return parseInPlaceRecords(file, text);
}
