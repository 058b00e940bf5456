// What the store keeps about runs read in place from a workspace in S3 (issue 18): their pins and
// retention policies, in the object `.studio/in-place.json` of the prefix (as in-place-records.ts
// keeps them in a folder's `.studio/`), never beside the other program's files. It is read on
// each listing (once per ETag) and written only on a change, by a workspace opened for writing:
// reading writes nothing. It is rewritten only over the version it was read from
// (storage/record-update.ts): two people pinning at once both keep their pin.
import { errorMessage } from '../base/errors.js';
import { updateRecord } from '../storage/record-update.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { InPlaceRetention, inPlaceRecordsText, parseInPlaceRecords, withRunChanged } from './in-place-retention.js';
import { STATE_DIR } from './layout.js';
import type { RunRetention } from './run-files.js';

export const STORED_RECORDS_KEY = `${STATE_DIR}/in-place.json`;

export class StoredInPlaceRecords extends InPlaceRetention {
  /** The ETag last read ('' for no object), so an unchanged record costs one HEAD. */
  private tag: string | null = null;

  constructor(private readonly storage: Storage) {
    super();
  }

  protected where(): string {
    return this.storage.locate(STORED_RECORDS_KEY);
  }

  private async readFresh(listed?: StoredObject | null): Promise<{ runs: Map<string, RunRetention>; tag: string }> {
    const object = listed !== undefined ? listed : await this.storage.stat(STORED_RECORDS_KEY);
    if (object === null) return { runs: new Map(), tag: '' };
    const tag = object.tag ?? `${object.size}:${object.modifiedMs}`;
    if (tag === this.tag && this.problem === null) return { runs: this.runs, tag };
    const text = new TextDecoder().decode(await this.storage.read(STORED_RECORDS_KEY));
    return { runs: parseInPlaceRecords(this.where(), text), tag };
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

  /** Changes one run's record over the version it was read from; refused (nothing written) when the record there cannot be read. */
  async update(run: string, change: (retention: RunRetention) => RunRetention): Promise<void> {
    const parse = (bytes: Uint8Array | null): Map<string, RunRetention> =>
      bytes === null ? new Map() : parseInPlaceRecords(this.where(), new TextDecoder().decode(bytes));
    await updateRecord(this.storage, STORED_RECORDS_KEY, parse, (runs) => inPlaceRecordsText(withRunChanged(runs, run, change)));
    this.tag = null;
    await this.reload();
  }
}
