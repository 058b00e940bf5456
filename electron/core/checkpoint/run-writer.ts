// The handle a trainer writes a run through: it holds the run's lock for as long as it lives.
import path from 'node:path';
import { RefusedError } from '../base/errors.js';
import { type MetricsRecord, appendMetrics, readRunMeta } from './run-files.js';
import { type RunLock, acquireRunLock } from './run-lock.js';
import { removeDeadTemporaries } from '../base/temporaries.js';
import type { SaveTarget, TrainingRunWriter } from './training-run-writer.js';
import { type TrainingState, type WriteOptions, type WrittenCheckpoint, writeCheckpoint } from './writer.js';

/** What the store's catalog hears from a writer, so it need not wait for a watcher. */
export interface RunWriterEvents {
  /** A checkpoint was placed. */
  readonly onSaved?: (written: WrittenCheckpoint) => Promise<void>;
  /** The lock was let go: the run's checkpoints are no longer protected by their writer. */
  readonly onClosed?: () => Promise<void>;
}

/**
 * Another record of the run's metrics written beside metrics.jsonl, record for record: the
 * trainer adds its TensorBoard event file (formats/tensorboard/) this way, so the store needs
 * nothing of that format.
 */
export interface MetricsLog {
  append(record: MetricsRecord): Promise<void>;
  /** Called once the last record is in; may be called again. */
  close(): Promise<void>;
}

export class RunWriter implements TrainingRunWriter {
  private readonly logs: MetricsLog[] = [];

  private constructor(
    readonly workspace: string,
    readonly run: string,
    readonly dir: string,
    readonly lock: RunLock,
    private readonly events: RunWriterEvents,
  ) {}

  /** `lock` is one the caller already took (taking over an abandoned start does). */
  static async open(workspace: string, run: string, events: RunWriterEvents = {}, lock?: RunLock): Promise<RunWriter> {
    const dir = path.join(workspace, run);
    if ((await readRunMeta(dir)) === null) {
      await lock?.release();
      throw new RefusedError(dir, 'not a run (no run.json); create it first');
    }
    const held = lock ?? (await acquireRunLock(dir));
    // Holding the lock, we are the run's only writer: what dead writers left in it can go.
    await removeDeadTemporaries(dir);
    return new RunWriter(workspace, run, dir, held, events);
  }

  get location(): string {
    return this.dir;
  }

  get saveTarget(): SaveTarget {
    return { kind: 'folder', runDir: this.dir };
  }

  get lockToken(): string {
    return this.lock.token;
  }

  async save(state: TrainingState, options?: WriteOptions): Promise<WrittenCheckpoint> {
    const written = await writeCheckpoint(this.dir, this.run, state, options);
    await this.events.onSaved?.(written);
    return written;
  }

  /** Writes every later metrics record to `log` too. */
  addMetricsLog(log: MetricsLog): void {
    this.logs.push(log);
  }

  /** Appends to metrics.jsonl and every added log at once (their fsyncs overlap). */
  async appendMetrics(record: MetricsRecord): Promise<void> {
    await Promise.all([appendMetrics(this.dir, record), ...this.logs.map((log) => log.append(record))]);
  }

  async close(): Promise<void> {
    try {
      // The logs are the run's files too: they are closed while the lock still keeps the run ours.
      await Promise.all(this.logs.map((log) => log.close()));
    } finally {
      await this.lock.release();
      await this.events.onClosed?.();
    }
  }
}
