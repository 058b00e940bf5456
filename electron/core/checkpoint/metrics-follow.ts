// Follows our runs' metrics.jsonl as any process appends to it (the app's trainer, the command
// line, another program): per run a byte offset, and on each change only the bytes after it are
// read. Only whole lines count: a last line without its newline is a record still being written,
// read again once it is whole.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { MetricRecord } from '../../contract.js';
import { isMissing, openRegular } from '../base/regular-file.js';
import { METRICS_FILE } from './layout.js';

export type MetricsListener = (run: string, records: readonly MetricRecord[]) => void;

export interface MetricsFollowOptions {
  readonly onRecords: MetricsListener;
  readonly onError?: (error: unknown) => void;
}

/** A single append larger than this is read in pieces of this size. */
const CHUNK = 1 << 20;

interface Followed {
  /** Where the next unread line begins. */
  offset: number;
  /** One read at a time per run; a change seen during a read is read after it. */
  queue: Promise<void>;
  again: boolean;
  busy: boolean;
}

export class MetricsFollower {
  private readonly runs = new Map<string, Followed>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly options: MetricsFollowOptions,
  ) {}

  private logOf(run: string): string {
    return path.join(this.root, run, METRICS_FILE);
  }

  /**
   * Starts following a run. `fromEnd`: what the log holds now was there before anyone looked
   * (it is the run's history, read by metricHistory), so only later appends are sent; otherwise
   * (a run that appeared while watched) every record is new.
   */
  follow(run: string, fromEnd: boolean): void {
    if (this.runs.has(run)) return;
    const followed: Followed = { offset: 0, queue: Promise.resolve(), again: false, busy: false };
    this.runs.set(run, followed);
    if (fromEnd) followed.queue = this.sizeOf(run).then((size) => void (followed.offset = size));
  }

  unfollow(run: string): void {
    this.runs.delete(run);
  }

  close(): void {
    this.closed = true;
    this.runs.clear();
  }

  /** The run's log changed: its new whole lines are read and sent (a run not followed yet is followed from its start). */
  changed(run: string): void {
    if (this.closed) return;
    if (!this.runs.has(run)) this.follow(run, false);
    const followed = this.runs.get(run) as Followed;
    if (followed.busy) {
      followed.again = true;
      return;
    }
    followed.busy = true;
    followed.queue = followed.queue
      .then(async () => {
        do {
          followed.again = false;
          await this.readNew(run, followed);
        } while (followed.again && !this.closed);
      })
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        followed.busy = false;
      });
  }

  /** Resolves once every change seen so far has been read and sent (for tests and shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.runs.values()].map((f) => f.queue));
  }

  private async sizeOf(run: string): Promise<number> {
    // A stat, not an open: a workspace of a thousand runs pays this for each when watching begins.
    const info = await stat(this.logOf(run)).catch(() => null);
    return info?.isFile() ? info.size : 0;
  }

  private async readNew(run: string, followed: Followed): Promise<void> {
    let opened;
    try {
      opened = await openRegular(this.logOf(run));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const { handle, stats } = opened;
    try {
      // Shorter than what was read: the log was replaced (the run deleted and made again); all of it is new.
      if (stats.size < followed.offset) followed.offset = 0;
      const records: MetricRecord[] = [];
      let carry = Buffer.alloc(0);
      let position = followed.offset;
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, stats.size - position)));
      while (position + carry.length < stats.size) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position + carry.length);
        if (bytesRead === 0) break;
        const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
        const end = data.lastIndexOf(0x0a);
        if (end < 0) {
          carry = Buffer.from(data);
          continue;
        }
        parseLines(data.subarray(0, end), records);
        position += end + 1;
        carry = Buffer.from(data.subarray(end + 1));
      }
      followed.offset = position;
      if (records.length > 0 && this.runs.get(run) === followed) this.options.onRecords(run, records);
    } finally {
      await handle.close();
    }
  }
}

/** Whole lines of JSON objects; a line that is not one (torn by a crash long ago) is skipped, as metricHistory does. */
function parseLines(bytes: Buffer, into: MetricRecord[]): void {
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) into.push(value as MetricRecord);
    } catch {
      // See above.
    }
  }
}
