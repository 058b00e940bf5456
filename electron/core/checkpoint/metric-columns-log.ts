// Our trainer's metrics.columns: every record appended to metrics.jsonl is gathered here too, and
// every BLOCK_ROWS rows become one block appended to the file, so a run's history is columns as
// soon as it is written. metrics.jsonl stays the truth: a failure here stops this log, never the
// training, and a reader rebuilds what this log did not write.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/durable-fs.js';
import { statIfPresent } from '../base/path-state.js';
import { METRICS_FILE } from './layout.js';
import { BLOCK_ROWS, COLUMNS_FILE, encodeBlock, encodeFileHeader } from './metric-columns.js';
import { buildColumnsFile } from './metric-columns-file.js';
import { RowGatherer } from './metric-rows.js';
import type { MetricsRecord } from './run-files.js';
import type { MetricsLog } from './run-writer.js';

export class MetricColumnsLog implements MetricsLog {
  private written: number;
  private failed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly gatherer: RowGatherer,
  ) {
    this.written = gatherer.end;
  }

  /** Opens the run's columns file for appending, first building it from a log the run has already. */
  static async open(runDir: string): Promise<MetricColumnsLog> {
    const file = path.join(runDir, COLUMNS_FILE);
    const logSize = (await statIfPresent(path.join(runDir, METRICS_FILE), { follow: true }))?.size ?? 0;
    let end = 0;
    let crc = 0;
    if (logSize > 0) {
      const last = (await buildColumnsFile(file, path.join(runDir, METRICS_FILE))).at(-1);
      end = last?.jsonlEnd ?? 0;
      crc = last?.lastLineCrc ?? 0;
    } else {
      await writeFileAtomic(file, encodeFileHeader());
    }
    const gatherer = new RowGatherer(end);
    gatherer.lastLineCrc = crc;
    return new MetricColumnsLog(await open(file, 'a'), gatherer);
  }

  async append(record: MetricsRecord): Promise<void> {
    if (this.failed) return;
    // The same bytes run-files.ts appends to metrics.jsonl: the block's offsets are that file's.
    this.gatherer.skip(JSON.stringify(record));
    this.gatherer.add(record);
    if (this.gatherer.rows >= BLOCK_ROWS) await this.flush();
  }

  async close(): Promise<void> {
    if (this.gatherer.end > this.written) await this.flush();
    await this.handle.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.failed) return;
    const { train, validation, end, lastLineCrc } = this.gatherer;
    try {
      await this.handle.write(encodeBlock([train, validation], end, lastLineCrc));
      await this.handle.sync();
      this.written = end;
    } catch {
      // A torn block is ignored by readers, and the log past the last whole block is read from metrics.jsonl.
      this.failed = true;
    }
    this.gatherer.clear();
  }
}
