// A training run written into storage without rename (S3), doing what RunWriter does on disk:
// run.json created once, one writer at a time (a lease the writer renews, storage/lease-lock.ts),
// and the run's metrics as a series of whole objects, `<run>/metrics/<8-digit sequence>.jsonl`,
// each a batch of the records metrics.jsonl holds on disk. An object store cannot append, and a
// reader polling the listing every 2 s must see a training's progress: so a batch goes up at every
// checkpoint and at most every 2 s between; readers concatenate them in key order
// (readStoredMetrics). A batch that cannot go up (the store is down) is kept and tried again with
// backoff; nothing is dropped while the process lives. The checkpoints are committed by the
// session's worker (storage-writer.ts) under this writer's lease.
import type { S3Connection } from '../../contract.js';
import { RefusedError, errorMessage } from '../base/errors.js';
import { type LeaseLock, LeaseSupersededError, acquireLease } from '../storage/lease-lock.js';
import type { Storage } from '../storage/storage.js';
import { MANIFEST_FILE, RUN_FILE, parseCheckpointDirName } from './layout.js';
import { type MetricsRecord, type NewRunMeta, checkRunName, parseMetricLines, runMetaText } from './run-files.js';
import type { MetricsLog } from './run-writer.js';
import type { SaveTarget, TrainingRunWriter } from './training-run-writer.js';

export const STORED_METRICS_DIR = 'metrics';
export const LEASE_DIR = '.lock';
/** A poller every 2 s sees a running training's metrics within one more poll. */
export const METRICS_BATCH_MS = 2000;
const SEQUENCE_DIGITS = 8;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

const metricsKey = (run: string, sequence: number): string => `${run}/${STORED_METRICS_DIR}/${String(sequence).padStart(SEQUENCE_DIGITS, '0')}.jsonl`;

function sequenceOf(run: string, key: string): number | null {
  const match = /^(\d+)\.jsonl$/.exec(key.slice(`${run}/${STORED_METRICS_DIR}/`.length));
  return match ? Number(match[1]) : null;
}

/** Backoff before the n-th retry (n from 1): 1, 2, 4 … 30 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, attempt - 1));
}

export interface StoredRunWriterOptions {
  readonly leaseMs?: number;
  readonly batchMs?: number;
  /** A batch of metrics could not go up (it is kept and retried): one sentence naming the address and the cause. */
  readonly onWarning?: (message: string) => void;
}

export interface StoredMetricsBatch {
  readonly key: string;
  readonly sequence: number;
  readonly records: readonly Record<string, unknown>[];
}

/** Batches read at once. */
const READS_IN_FLIGHT = 8;

/**
 * The run's metrics batches after `afterSequence` (0: all of them), in order: a reader polling a
 * live training reads only the batches that are new since its last poll.
 */
export async function readStoredMetricBatches(storage: Storage, run: string, afterSequence = 0): Promise<StoredMetricsBatch[]> {
  const keys: { key: string; sequence: number }[] = [];
  for await (const object of storage.list(`${run}/${STORED_METRICS_DIR}/`)) {
    const sequence = sequenceOf(run, object.key);
    if (sequence !== null && sequence > afterSequence) keys.push({ key: object.key, sequence });
  }
  keys.sort((a, b) => a.sequence - b.sequence);
  const batches: StoredMetricsBatch[] = new Array<StoredMetricsBatch>(keys.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let at = next++; at < keys.length; at = next++) {
      const { key, sequence } = keys[at] as { key: string; sequence: number };
      batches[at] = { key, sequence, records: parseMetricLines(new TextDecoder().decode(await storage.read(key))) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, keys.length) }, lane));
  return batches;
}

/** The run's metrics records: every batch in key order, as metrics.jsonl holds them on disk (a line that is not JSON is skipped). */
export async function readStoredMetrics(storage: Storage, run: string): Promise<Record<string, unknown>[]> {
  return (await readStoredMetricBatches(storage, run)).flatMap((batch) => batch.records);
}

/** Whether any checkpoint of `run` is committed (its manifest listed). */
async function holdsCheckpoint(storage: Storage, run: string): Promise<boolean> {
  for await (const object of storage.list(`${run}/`)) {
    const [, folder, file, more] = object.key.split('/');
    if (more === undefined && file === MANIFEST_FILE && folder !== undefined && parseCheckpointDirName(folder) !== null) return true;
  }
  return false;
}

/** The metrics an earlier attempt that never saved logged: copied aside (kept, never deleted), so this attempt's history starts clean. */
async function setAsideUnsavedMetrics(storage: Storage, run: string): Promise<void> {
  const keys: string[] = [];
  for await (const object of storage.list(`${run}/${STORED_METRICS_DIR}/`)) keys.push(object.key);
  if (keys.length === 0) return;
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const aside = `${run}/${STORED_METRICS_DIR}-unsaved-${stamp}/`;
  for (const key of keys) await storage.copy(key, `${aside}${key.slice(`${run}/${STORED_METRICS_DIR}/`.length)}`);
  await storage.remove(keys);
}

export class StoredRunWriter implements TrainingRunWriter {
  private readonly logs: MetricsLog[] = [];
  private pending: string[] = [];
  /** A batch the store did not take: sent again as it is, at the same sequence, so a PUT whose answer was lost is recognised, not doubled. */
  private unsent: string[] | null = null;
  private sequence = 1;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;
  private retryAt = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Set when another writer took the run's lease over: no batch is sent after that. */
  private supersededBy: LeaseSupersededError | null = null;

  private constructor(
    readonly storage: Storage,
    private readonly connection: S3Connection,
    readonly run: string,
    readonly lease: LeaseLock,
    private readonly options: StoredRunWriterOptions,
  ) {
    this.timer = setInterval(() => {
      if ((this.unsent !== null || this.pending.length > 0) && Date.now() >= this.retryAt) void this.flush();
    }, options.batchMs ?? METRICS_BATCH_MS);
    this.timer.unref();
  }

  /**
   * Creates `run` under the storage's workspace and takes its lease. A run of that name that holds
   * a checkpoint is refused; one that never saved (a start that died) is taken over, its metrics
   * kept aside.
   */
  static async create(
    storage: Storage,
    connection: S3Connection,
    run: string,
    meta: NewRunMeta,
    options: StoredRunWriterOptions = {},
  ): Promise<StoredRunWriter> {
    checkRunName(run);
    const lease = await acquireLease(storage, `${run}/${LEASE_DIR}/`, options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs });
    try {
      if (await holdsCheckpoint(storage, run))
        throw new RefusedError(storage.locate(run), 'a run with this name already exists; continue from it with --resume, or choose another --run');
      const text = runMetaText(run, meta);
      if (!(await storage.write(`${run}/${RUN_FILE}`, text, { exclusive: true }))) {
        // An attempt that died before its first save: ours now (we hold the lease).
        await setAsideUnsavedMetrics(storage, run);
        await storage.write(`${run}/${RUN_FILE}`, text);
      }
    } catch (error) {
      await lease.release().catch(() => undefined);
      throw error;
    }
    lease.keepAlive();
    return new StoredRunWriter(storage, connection, run, lease, options);
  }

  get location(): string {
    return this.storage.locate(this.run);
  }

  get saveTarget(): SaveTarget {
    const { lease } = this;
    return {
      kind: 'storage',
      address: this.storage.address,
      connection: this.connection,
      runKey: `${this.run}/`,
      lease: { prefix: `${this.run}/${LEASE_DIR}/`, generation: lease.generation, holder: lease.holder },
    };
  }

  get lockToken(): string {
    return this.lease.holder.token;
  }

  addMetricsLog(log: MetricsLog): void {
    this.logs.push(log);
  }

  /** Queued for the next batch; a checkpoint's record sends the batch at once (with the checkpoint, the metrics that led to it). */
  async appendMetrics(record: MetricsRecord): Promise<void> {
    this.pending.push(JSON.stringify(record));
    await Promise.all(this.logs.map((log) => log.append(record)));
    if (record['kind'] === 'checkpoint') await this.flush();
  }

  /** Sends what is queued as the next batch; never throws (a failed batch stays queued, retried after a backoff). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.sendBatch());
    return this.flushing;
  }

  /** Records not yet in the store (the store was unreachable). */
  get unsentRecords(): number {
    return (this.unsent?.length ?? 0) + this.pending.length;
  }

  /** Writes `lines` as the next batch; a key already holding exactly them was this writer's own PUT whose answer was lost. */
  private async put(lines: readonly string[]): Promise<void> {
    const text = `${lines.join('\n')}\n`;
    for (;;) {
      const key = metricsKey(this.run, this.sequence);
      this.sequence += 1;
      // Exclusive: a batch is never written over.
      if (await this.storage.write(key, text, { exclusive: true })) return;
      if (new TextDecoder().decode(await this.storage.read(key)) === text) return;
    }
  }

  private async sendBatch(): Promise<void> {
    if (this.supersededBy) return;
    try {
      while (this.unsent !== null || this.pending.length > 0) {
        this.unsent ??= this.pending.splice(0);
        const sequence = this.sequence;
        try {
          // A writer that lost the run to another must not mix its records into the new history.
          await this.lease.fence();
          await this.put(this.unsent);
        } catch (error) {
          this.sequence = sequence;
          throw error;
        }
        this.unsent = null;
      }
      this.failures = 0;
      this.retryAt = 0;
    } catch (error) {
      if (error instanceof LeaseSupersededError) {
        this.supersededBy = error;
        this.options.onWarning?.(`${error.message}; ${this.unsentRecords} metrics records were not sent to ${this.location}`);
        return;
      }
      this.failures += 1;
      const delay = retryDelayMs(this.failures);
      this.retryAt = Date.now() + delay;
      if (this.failures === 1 || this.closed)
        this.options.onWarning?.(`the run's metrics could not be written to ${this.location} (${errorMessage(error)}); they are kept and retried`);
    }
  }

  /** A last batch, then the lease is let go. Metrics the store would not take are reported, not silently lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
      await Promise.all(this.logs.map((log) => log.close()));
      await this.flush();
      if (this.unsentRecords > 0 && !this.supersededBy)
        this.options.onWarning?.(`${this.unsentRecords} metrics records of ${this.location} were not written: the store stayed unreachable until the end`);
    } finally {
      await this.lease.release().catch(() => undefined);
    }
  }
}
