// The catalog's persistent index: one file per run of ours, `.studio/catalog/<run>.json`, holding
// what listing that run found and the identity of every file and folder it was read from. It is a
// cache, never the truth: a run is taken from it only while its folder, its run.json and
// retention.json, and each checkpoint's manifest.json are still the ones it names
// (catalog-index-check.ts); otherwise the run, or the one checkpoint whose manifest changed, is read
// again from its manifests.
//
// Several processes share a workspace (the app, the CLI, a trainer). Each record is replaced by
// one rename, so it is never read torn; two writers only race for which whole record stays, and
// each record holds only identities taken before what they vouch for was read, so a record left
// by a slower process is at worst stale: a cache miss, never a wrong listing. A record that is
// torn (a crash before the rename's data reached the disk), of another version, or not a record
// at all is ignored without a word, and rewritten after the run is read again.
import { type Stats, readFileSync, readdirSync, statSync } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type CheckpointInfo, type CheckpointRef, CheckpointInfoSchema, CheckpointRefSchema } from '../../contract.js';
import { isTemporaryName, temporaryName } from '../base/temporaries.js';
import { STATE_DIR, parseCheckpointDirName } from './layout.js';
import { stateFolder } from './state-folder.js';

const INDEX_DIR = 'catalog';
const RECORD_SUFFIX = '.json';
/** Bumped whenever what a record holds, or how it is checked, changes: an older record is ignored. */
export const INDEX_VERSION = 3;

/**
 * How old a file's times must be before they can vouch for its content. File systems stamp times
 * from a coarse clock (a kernel tick on Linux, 2 s on FAT), so a file read in the same tick as it
 * was changed can change again without its times moving: such a file is read again next time
 * instead (git's "racily clean" entries are the same problem). Clocks of a network file system's
 * server that run more than this behind ours defeat it.
 */
const SETTLED_MS = 3000;

let settleMargin: number | undefined;

/**
 * SETTLED_MS, or what CHECKPOINT_STUDIO_INDEX_SETTLE_MS says: tests make files and list them at
 * once, so they set it to 0 (in their own process and those they start), and change a file's size
 * whenever they change it.
 */
function settleMarginMs(): number {
  if (settleMargin === undefined) {
    const text = process.env.CHECKPOINT_STUDIO_INDEX_SETTLE_MS;
    const value = text === undefined || text === '' ? NaN : Number(text);
    settleMargin = Number.isFinite(value) && value >= 0 ? value : SETTLED_MS;
  }
  return settleMargin;
}

/** What a file or folder is now: a rename gives a new inode, any write a new ctime (which no user call can set back). */
export type Identity = readonly [ino: number, size: number, mtimeMs: number, ctimeMs: number];

const IdentitySchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).readonly();

export function identityOf(stats: Stats): Identity {
  return [stats.ino, stats.size, stats.mtimeMs, stats.ctimeMs];
}

/** The identity of what is at `target` (links followed), null when nothing is, undefined when it cannot be looked at. */
export function identityAt(target: string): Identity | null | undefined {
  try {
    const stats = statSync(target, { throwIfNoEntry: false });
    return stats ? identityOf(stats) : null;
  } catch {
    return undefined;
  }
}

export function sameIdentity(a: Identity | null | undefined, b: Identity | null | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === null || b === null) return a === b;
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Whether what is at `target` now is still what `recorded` names (null: nothing there); never when it cannot be looked at. */
export function isStillAt(target: string, recorded: Identity | null): boolean {
  return sameIdentity(identityAt(target), recorded);
}

/** Whether a thing of this identity, looked at `now`, was last changed long enough ago to vouch for what was read. */
export function isSettled(identity: Identity | null, now = Date.now()): boolean {
  return identity === null || now - Math.max(identity[2], identity[3]) > settleMarginMs();
}

const info = CheckpointInfoSchema.shape;
const ORIGINS = ['trained', 'imported', 'foreign'] as const;
export type Origin = (typeof ORIGINS)[number];
type Source = NonNullable<z.infer<typeof info.source>>;

// Where each of a checkpoint's numbers is in its row of a record's `rows`: what its listing holds
// that is a number (null as NaN: no manifest holds a NaN, JSON has none), then the length of its
// signature in `signatures`, then its folder's identity and its manifest.json's (IDENTITY_AT on).
const BYTES = 0;
const EPOCH = 1;
const BATCH_IN_EPOCH = 2;
const TRAINING_TIME_MS = 3;
const SAVE_BLOCKED_MS = 4;
/** An index into metricNames. */
const METRICS = 5;
/** An index into backends, or -1 for none. */
const BACKEND = 6;
/** An index into ORIGINS. */
const ORIGIN = 7;
const SIGNATURE_LENGTH = 8;
/** Where a checkpoint's eight identity numbers start in its row: its folder's four, then its manifest's. */
export const IDENTITY_AT = 9;
/** Where each number is in a row, by name: for whoever must look into a record from outside (its tests). */
export const ROW_CELLS = Object.freeze({
  bytes: BYTES,
  epoch: EPOCH,
  batchInEpoch: BATCH_IN_EPOCH,
  trainingTimeMs: TRAINING_TIME_MS,
  saveBlockedMs: SAVE_BLOCKED_MS,
  metrics: METRICS,
  backend: BACKEND,
  origin: ORIGIN,
  signatureLength: SIGNATURE_LENGTH,
  identities: IDENTITY_AT,
});
/** Numbers a checkpoint in `rows`. */
export const ROW_WIDTH = IDENTITY_AT + 8;

/**
 * A run's whole checkpoints as columns (entry i of each is checkpoint i's): what each listing
 * holds that its folder's name, its run and retention.json do not already say, and the identities
 * of its folder and manifest. 100,000 are read on every open: every number of a checkpoint is in
 * one Float64Column (its row), and the signatures are one string, so that a record parses into a
 * few strings and buffers instead of a JS value per number and a string per signature, which the
 * garbage collector then copied about for the whole open. The values many share (metric names,
 * backends, origins) are stored once and named by index.
 */
export interface StoredCheckpoints {
  readonly names: readonly string[];
  /** Float64Column, ROW_WIDTH numbers a checkpoint (the constants above say which). Identities are as they were before what they vouch for was read. */
  readonly rows: string;
  /** The scans' signatures (manifest checksum, files' sizes and times: what a verification is remembered against), one after another. */
  readonly signatures: string;
  readonly createdAt: readonly (string | null)[];
  /** Each distinct list of metric names once, in the order the manifest has them. */
  readonly metricNames: readonly (readonly string[])[];
  /** Float64Column, NaN for null: each checkpoint's values, in the order of its list of names. */
  readonly metricValues: string;
  readonly backends: readonly string[];
  /** The few checkpoints that are linked, or have a parent, or are read from another program's files: by index. */
  readonly linked: readonly number[];
  readonly parents: readonly (readonly [number, CheckpointRef])[];
  readonly sources: readonly (readonly [number, Source])[];
}

/** One list of metric names as an object of those keys (each null), and the keys as that object has them. */
interface MetricShape {
  readonly template: Readonly<Record<string, null>>;
  readonly keys: readonly string[];
}

function metricShape(names: readonly string[]): MetricShape {
  const template: Record<string, null> = {};
  // Defined, not assigned: assigning "__proto__" would set the object's prototype, not a metric.
  for (const name of names) Object.defineProperty(template, name, { value: null, enumerable: true, writable: true, configurable: true });
  return { template, keys: Object.keys(template) };
}

/** StoredCheckpoints as read: the numbers decoded, where each signature starts, the rare columns made maps, each checkpoint's first metric value found. */
export interface ReadCheckpoints extends Omit<StoredCheckpoints, 'rows' | 'metricValues'> {
  readonly count: number;
  /** Each checkpoint's step, as its folder's name says. */
  readonly steps: readonly number[];
  readonly rows: Float64Array;
  /** Where checkpoint i's signature starts in `signatures` (and i + 1's, where it ends). */
  readonly signatureAt: Int32Array;
  readonly metricValues: Float64Array;
  readonly metricShapes: readonly MetricShape[];
  readonly metricsAt: Int32Array;
  readonly linkedSet: ReadonlySet<number>;
  readonly parentOf: ReadonlyMap<number, CheckpointRef>;
  readonly sourceOf: ReadonlyMap<number, Source>;
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown): boolean => typeof v === 'string';
const isNullableString = (v: unknown): boolean => v === null || typeof v === 'string';
const isIndexBelow =
  (limit: number, least = 0) =>
  (v: unknown): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= least && v < limit;

/**
 * A column of numbers as the base64 of their float64 bytes (this machine's order: a record read
 * on a machine of the other order only misses), exact and parsed at the speed of a string.
 */
function encodeFloat64Column(values: readonly number[]): string {
  return Buffer.from(new Float64Array(values).buffer).toString('base64');
}

/** The numbers of a Float64Column, or null when it does not hold `length` of them. */
function decodeFloat64Column(value: unknown, length: number): Float64Array | null {
  if (typeof value !== 'string') return null;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== length * Float64Array.BYTES_PER_ELEMENT) return null;
  // Copied: a small Buffer is a slice of a shared pool, at an offset a Float64Array cannot start at.
  const column = new Float64Array(length);
  new Uint8Array(column.buffer).set(bytes);
  return column;
}

/** Whether `v` is an array of `length` (any length when undefined) whose every entry passes `check`. */
function isColumn(v: unknown, length: number | undefined, check: (entry: unknown) => boolean): v is unknown[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) return false;
  for (const entry of v) if (!check(entry)) return false;
  return true;
}

/** Whether every entry of `v` is a string (or, when `nullable`, null), in a loop of its own: isColumn's check cannot be inlined. */
function isStringColumn(v: unknown, length: number | undefined, nullable: boolean): v is (string | null)[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) return false;
  for (const entry of v) if (typeof entry !== 'string' && !(nullable && entry === null)) return false;
  return true;
}

/** The few rows of a rare column (parents, sources): most records have none, which needs no parse. */
function parseRare<T>(schema: z.ZodType<T[]>, value: unknown): T[] | null {
  if (Array.isArray(value) && value.length === 0) return [];
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const ParentsSchema = z.array(z.tuple([z.number().int().nonnegative(), CheckpointRefSchema]));
const SourcesSchema = z.array(z.tuple([z.number().int().nonnegative(), info.source.unwrap()]));

const isNullableCountCell = (v: number): boolean => Number.isNaN(v) || (Number.isSafeInteger(v) && v >= 0);
/** NaN (null), or what JSON could hold: a finite number. */
const isNullableNumberCell = (v: number): boolean => Number.isNaN(v) || Number.isFinite(v);
const isIndexCell = (v: number, least: number, limit: number): boolean => Number.isInteger(v) && v >= least && v < limit;

/**
 * Whether each row's numbers are what the constants above say they may be (indexes in range, counts whole),
 * given how many metric lists and backends the record holds, and where each signature starts
 * (null when their lengths do not add up to `signatures`).
 */
function checkRows(rows: Float64Array, n: number, lists: number, backends: number, signatures: string): Int32Array | null {
  const signatureAt = new Int32Array(n + 1);
  for (let i = 0, r = 0; i < n; i += 1, r += ROW_WIDTH) {
    const length = rows[r + SIGNATURE_LENGTH] as number;
    const fine =
      isCount(rows[r + BYTES]) &&
      isNullableCountCell(rows[r + EPOCH] as number) &&
      isNullableCountCell(rows[r + BATCH_IN_EPOCH] as number) &&
      isNullableNumberCell(rows[r + TRAINING_TIME_MS] as number) &&
      isNullableNumberCell(rows[r + SAVE_BLOCKED_MS] as number) &&
      isIndexCell(rows[r + METRICS] as number, 0, lists) &&
      isIndexCell(rows[r + BACKEND] as number, -1, backends) &&
      isIndexCell(rows[r + ORIGIN] as number, 0, ORIGINS.length) &&
      isCount(length);
    if (!fine) return null;
    signatureAt[i + 1] = (signatureAt[i] as number) + length;
    if ((signatureAt[i + 1] as number) > signatures.length) return null;
  }
  return signatureAt[n] === signatures.length ? signatureAt : null;
}

/** Where each checkpoint's metric values start in metricValues (and the next's, where they end), given each one's list of names. */
function metricStarts(rows: Float64Array, n: number, metricNames: readonly (readonly string[])[]): Int32Array {
  const metricsAt = new Int32Array(n + 1);
  for (let i = 0; i < n; i += 1)
    metricsAt[i + 1] = (metricsAt[i] as number) + (metricNames[rows[i * ROW_WIDTH + METRICS] as number] as readonly string[]).length;
  return metricsAt;
}

/**
 * A record's checkpoints, or null when any column is not what StoredCheckpoints says (of another
 * length than the names, a value of the wrong kind, an index out of range). Checked by hand:
 * zod costs about as much per value as the rest of an open; the rare columns go through it.
 */
export function parseStoredCheckpoints(value: unknown): ReadCheckpoints | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<keyof StoredCheckpoints, unknown>;
  if (!isStringColumn(c.names, undefined, false)) return null;
  const n = c.names.length;
  // Only a checkpoint folder's name may name a path to check and list.
  const steps = c.names.map((name) => parseCheckpointDirName(name as string));
  if (!isColumn(steps, n, isCount)) return null;
  const plain =
    typeof c.signatures === 'string' &&
    isStringColumn(c.createdAt, n, true) &&
    isColumn(c.metricNames, undefined, (names) => isColumn(names, undefined, isString)) &&
    isColumn(c.backends, undefined, isString) &&
    isColumn(c.linked, undefined, isIndexBelow(n));
  if (!plain) return null;
  const metricNames = c.metricNames as string[][];
  const metricShapes = metricNames.map(metricShape);
  // Values are in the order the names are listed, which is the order their object keeps (as Object.keys gave them), once each.
  const inOrder = (shape: MetricShape, names: readonly string[]): boolean =>
    shape.keys.length === names.length && shape.keys.every((key, p) => key === names[p]);
  if (!metricShapes.every((shape, k) => inOrder(shape, metricNames[k] as string[]))) return null;
  const rows = decodeFloat64Column(c.rows, n * ROW_WIDTH);
  const signatureAt = rows && checkRows(rows, n, metricNames.length, (c.backends as string[]).length, c.signatures as string);
  if (!rows || !signatureAt) return null;
  const metricsAt = metricStarts(rows, n, metricNames);
  const metricValues = decodeFloat64Column(c.metricValues, metricsAt[n] as number);
  const parents = parseRare(ParentsSchema, c.parents);
  const sources = parseRare(SourcesSchema, c.sources);
  if (!metricValues || !parents || !sources || [...parents, ...sources].some(([i]) => i >= n)) return null;
  return {
    ...(c as unknown as StoredCheckpoints),
    count: n,
    steps: steps as number[],
    rows,
    signatureAt,
    metricValues,
    metricShapes,
    metricsAt,
    linkedSet: new Set(c.linked as number[]),
    parentOf: new Map(parents),
    sourceOf: new Map(sources),
  };
}

/** Checkpoint i's signature: a slice of the record's one string (a view of it, not a copy). */
export function storedSignature(stored: ReadCheckpoints, i: number): string {
  return stored.signatures.slice(stored.signatureAt[i], stored.signatureAt[i + 1]);
}

/** Builds a record's columns one checkpoint at a time. */
export class StoredCheckpointsBuilder {
  private readonly columns = {
    names: [] as string[],
    rows: [] as number[],
    signatures: [] as string[],
    createdAt: [] as (string | null)[],
    metricNames: [] as string[][],
    metricValues: [] as number[],
    backends: [] as string[],
    linked: [] as number[],
    parents: [] as [number, CheckpointRef][],
    sources: [] as [number, Source][],
  };
  private readonly metricLists = new Map<string, number>();
  private readonly backendIndex = new Map<string, number>();

  /** `identities` holds the folder's and the manifest's identities, eight numbers from `at` on (ScannedCheckpoint's). */
  add(name: string, identities: ArrayLike<number>, at: number, signature: string, checkpoint: CheckpointInfo): void {
    const c = this.columns;
    const i = c.names.length;
    c.names.push(name);
    const names = Object.keys(checkpoint.metrics);
    const metrics = this.indexOf(this.metricLists, JSON.stringify(names), () => c.metricNames.push(names) - 1);
    for (const metric of names) c.metricValues.push(checkpoint.metrics[metric] ?? NaN);
    const backend = checkpoint.backend;
    const backendIndex = backend === null ? -1 : this.indexOf(this.backendIndex, backend, () => c.backends.push(backend) - 1);
    const nullable = (v: number | null): number => v ?? NaN;
    c.rows.push(
      checkpoint.bytes,
      nullable(checkpoint.epoch),
      nullable(checkpoint.batchInEpoch),
      nullable(checkpoint.trainingTimeMs),
      nullable(checkpoint.saveBlockedMs),
      metrics,
      backendIndex,
      ORIGINS.indexOf(checkpoint.origin),
      signature.length,
    );
    for (let k = at; k < at + 8; k += 1) c.rows.push(identities[k] as number);
    c.signatures.push(signature);
    c.createdAt.push(checkpoint.createdAt);
    if (checkpoint.linked) c.linked.push(i);
    if (checkpoint.parent) c.parents.push([i, checkpoint.parent]);
    if (checkpoint.source) c.sources.push([i, checkpoint.source]);
  }

  private indexOf(known: Map<string, number>, key: string, make: () => number): number {
    let index = known.get(key);
    if (index === undefined) known.set(key, (index = make()));
    return index;
  }

  build(): StoredCheckpoints {
    const { rows, signatures, metricValues, ...rest } = this.columns;
    return { ...rest, rows: encodeFloat64Column(rows), signatures: signatures.join(''), metricValues: encodeFloat64Column(metricValues) };
  }
}

/** What a checkpoint's listing takes from elsewhere than its record: its folder, its run, the verify cache and retention.json. */
export type ListingHead = Pick<CheckpointInfo, 'id' | 'run' | 'step' | 'path' | 'status' | 'statusReason' | 'pinned'>;

/**
 * The empty list every listing from the index starts with for its twins, protections and notes:
 * one, frozen, not three new ones a checkpoint (the catalog replaces a listing's lists, never
 * changes them in place; were it to, this would throw, not spread).
 */
const NONE = Object.freeze([]) as unknown as never[];

/** A row's cell that is null when NaN. */
function nullable(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/** The listing of checkpoint `i` of `stored`, as its record holds it: one object made, no copies. */
export function storedInfo(stored: ReadCheckpoints, i: number, head: ListingHead): CheckpointInfo {
  const rows = stored.rows;
  const r = i * ROW_WIDTH;
  const shape = stored.metricShapes[rows[r + METRICS] as number] as MetricShape;
  // A copy of the shape (one allocation, its keys already laid out), then its values.
  const metrics: Record<string, number | null> = { ...shape.template };
  let at = stored.metricsAt[i] as number;
  for (const name of shape.keys) metrics[name] = nullable(stored.metricValues[at++] as number);
  const backend = rows[r + BACKEND] as number;
  return {
    id: head.id,
    run: head.run,
    step: head.step,
    stepKnown: true,
    path: head.path,
    status: head.status,
    statusReason: head.statusReason,
    bytes: rows[r + BYTES] as number,
    epoch: nullable(rows[r + EPOCH] as number),
    batchInEpoch: nullable(rows[r + BATCH_IN_EPOCH] as number),
    createdAt: stored.createdAt[i] as string | null,
    trainingTimeMs: nullable(rows[r + TRAINING_TIME_MS] as number),
    saveBlockedMs: nullable(rows[r + SAVE_BLOCKED_MS] as number),
    metrics,
    backend: backend < 0 ? null : (stored.backends[backend] as string),
    parent: stored.parentOf.get(i) ?? null,
    origin: ORIGINS[rows[r + ORIGIN] as number] as Origin,
    linked: stored.linkedSet.has(i),
    source: stored.sourceOf.get(i) ?? null,
    pinned: head.pinned,
    sameStepAs: NONE,
    protectedBy: NONE,
    files: null,
    notes: NONE,
  };
}

const RunRecordSchema = z.object({
  version: z.literal(INDEX_VERSION),
  run: z.string(),
  /** The run's folder: any checkpoint folder added, removed or renamed in it, or a file of its own replaced, changes it. */
  dir: IdentitySchema,
  runFile: IdentitySchema.nullable(),
  retention: IdentitySchema.nullable(),
  /** A lock file was there (its coming or going changes `dir`): who holds it, and whether they live, is asked afresh every time. */
  lock: z.boolean(),
  createdAt: z.string().nullable(),
  parent: CheckpointRefSchema.nullable(),
  /** Checked by parseStoredCheckpoints. */
  checkpoints: z.unknown(),
  /** retention.json's pins (checkpoint folder names) when the record was made. */
  pinned: z.array(z.string()),
  /** Checkpoint folders the record cannot vouch for (too recently changed, not whole): read from their manifests every time. */
  unsettled: z.array(z.string()),
});
/** A record as written. */
export type RunRecord = Omit<z.infer<typeof RunRecordSchema>, 'checkpoints'> & { checkpoints: StoredCheckpoints };
/** A record as read. */
export type ReadRunRecord = Omit<RunRecord, 'checkpoints'> & { checkpoints: ReadCheckpoints };

const isIdentity = (v: unknown): boolean => isColumn(v, 4, (x) => typeof x === 'number');
const isNullableIdentity = (v: unknown): boolean => v === null || isIdentity(v);

/**
 * A record's own fields as RunRecordSchema says (its checkpoints left for parseStoredCheckpoints),
 * or null. Checked by hand but for the rare parent: in a fresh process zod's first thousand
 * records cost tens of milliseconds, warming up; the same checks by hand cost one.
 */
function parseRunFields(value: unknown): (Omit<ReadRunRecord, 'checkpoints'> & { checkpoints: unknown }) | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<keyof RunRecord, unknown>;
  const plain =
    r.version === INDEX_VERSION &&
    isString(r.run) &&
    isIdentity(r.dir) &&
    isNullableIdentity(r.runFile) &&
    isNullableIdentity(r.retention) &&
    typeof r.lock === 'boolean' &&
    isNullableString(r.createdAt) &&
    isColumn(r.pinned, undefined, isString) &&
    isColumn(r.unsettled, undefined, isString);
  if (!plain) return null;
  const parent = r.parent === null ? null : RunRecordSchema.shape.parent.safeParse(r.parent);
  if (parent !== null && !parent.success) return null;
  const fields = r as Omit<RunRecord, 'checkpoints'>;
  return {
    version: INDEX_VERSION,
    run: fields.run,
    dir: fields.dir,
    runFile: fields.runFile,
    retention: fields.retention,
    lock: fields.lock,
    createdAt: fields.createdAt,
    parent: parent?.data ?? null,
    checkpoints: r.checkpoints,
    pinned: fields.pinned,
    unsettled: fields.unsettled,
  };
}

function indexDir(workspace: string): string {
  return path.join(workspace, STATE_DIR, INDEX_DIR);
}

function recordFile(workspace: string, run: string): string {
  return path.join(indexDir(workspace), `${run}${RECORD_SUFFIX}`);
}

/** The record of each run the index holds; whatever cannot be read as a current record of the run it is named after is left out. */
export function readRunRecords(
  workspace: string,
  /** Told of each record as it is read (the caller starts a worker as soon as they call for one). */
  onRecord: (record: ReadRunRecord) => void = () => undefined,
  /** Told how many files the index holds, before any is read. */
  onCount: (files: number) => void = () => undefined,
): Map<string, ReadRunRecord> {
  const records = new Map<string, ReadRunRecord>();
  let names: string[];
  try {
    names = readdirSync(indexDir(workspace));
  } catch {
    return records;
  }
  onCount(names.length);
  for (const name of names) {
    if (!name.endsWith(RECORD_SUFFIX) || isTemporaryName(name)) continue;
    const run = name.slice(0, -RECORD_SUFFIX.length);
    try {
      const fields = parseRunFields(JSON.parse(readFileSync(path.join(indexDir(workspace), name), 'utf8')));
      if (!fields || fields.run !== run) continue;
      const checkpoints = parseStoredCheckpoints(fields.checkpoints);
      if (!checkpoints) continue;
      const record = { ...fields, checkpoints };
      records.set(run, record);
      onRecord(record);
    } catch {
      // Torn, not JSON, unreadable: a cache miss.
    }
  }
  return records;
}

/**
 * Writes and removes records. `.studio/` is made for the index only in a workspace that holds runs
 * of ours (our trainer or an import already writes in it); a folder of other programs' runs read
 * in place holds nothing to index, and gets no `.studio/` from a mere listing.
 */
export class RecordWriter {
  /** Set once a write is refused for good (a read-only workspace): the catalog then works without the index. */
  private refused = false;

  constructor(private readonly workspace: string) {}

  async write(record: RunRecord): Promise<void> {
    if (this.refused) return;
    try {
      const state = await this.stateFolder();
      await mkdir(indexDir(this.workspace), { recursive: true });
      // As for `.studio/` itself: a symbolic link there would carry our writes out of the workspace.
      const folder = await lstat(indexDir(this.workspace));
      if (folder.isSymbolicLink() || !folder.isDirectory()) return;
      // Staged in `.studio/` itself, where a dead writer's leftovers are cleared on the next open to write.
      const stage = path.join(state, temporaryName(`catalog${RECORD_SUFFIX}`));
      try {
        // Not fsynced: a record lost or torn by a power cut is only a cache miss.
        await writeFile(stage, JSON.stringify(record));
        await rename(stage, recordFile(this.workspace, record.run));
      } catch (error) {
        await rm(stage, { force: true });
        throw error;
      }
    } catch (error) {
      this.noteFailure(error);
    }
  }

  /** `.studio/`, made if missing: records are written several at once, and other processes may make it too. */
  private async stateFolder(): Promise<string> {
    try {
      return (await stateFolder(this.workspace, true)) as string;
    } catch (error) {
      if ((error as NodeJS.ErrnoException | null)?.code !== 'EEXIST') throw error;
      // Made meanwhile by another write: still checked to be a folder of the workspace itself.
      return (await stateFolder(this.workspace, false)) as string;
    }
  }

  async remove(run: string): Promise<void> {
    if (this.refused) return;
    try {
      await rm(recordFile(this.workspace, run), { force: true });
    } catch (error) {
      this.noteFailure(error);
    }
  }

  private noteFailure(error: unknown): void {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') this.refused = true;
    // Anything else (a full disk, a name too long for a file) costs this record alone: the run is read from its manifests next time.
  }
}
