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
export const INDEX_VERSION = 2;

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

/**
 * A run's whole checkpoints as columns (entry i of each column is checkpoint i's): what each
 * listing holds that its folder's name, its run and retention.json do not already say, and the
 * identities of its folder and manifest. Columns, not an object per checkpoint: 100,000 are read
 * on every open, and repeated keys were most of the bytes (and of what parsing allocated); the
 * values many share (metric names, backends, origins) are stored once and named by index.
 */
export interface StoredCheckpoints {
  readonly names: readonly string[];
  /**
   * Eight numbers a checkpoint: its folder's identity (a file added, removed or replaced in it
   * changes it), then its manifest.json's (rewritten in place), as they were before they were
   * read. Float64Column: their times written as decimals were half of what parsing a record cost.
   */
  readonly identities: string;
  /** The scan's signature (manifest checksum, files' sizes and times): what a verification is remembered against. */
  readonly signatures: readonly string[];
  readonly bytes: readonly number[];
  readonly epochs: readonly (number | null)[];
  readonly batchesInEpoch: readonly (number | null)[];
  readonly createdAt: readonly (string | null)[];
  readonly trainingTimeMs: readonly (number | null)[];
  readonly saveBlockedMs: readonly (number | null)[];
  /** Each distinct list of metric names once, in the order the manifest has them. */
  readonly metricNames: readonly (readonly string[])[];
  /** Per checkpoint, its list of metric names (an index into metricNames): its values are the next that many of metricValues. */
  readonly metricsOf: readonly number[];
  /** Float64Column, NaN for null (no manifest holds a NaN: JSON has none). */
  readonly metricValues: string;
  readonly backends: readonly string[];
  /** Per checkpoint, an index into backends, or -1 for none. */
  readonly backendOf: readonly number[];
  /** Per checkpoint, an index into ORIGINS. */
  readonly originOf: readonly number[];
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

/** StoredCheckpoints as read: the numbers decoded, the rare columns made maps, each checkpoint's first metric value found. */
export interface ReadCheckpoints extends Omit<StoredCheckpoints, 'identities' | 'metricValues'> {
  /** Each checkpoint's step, as its folder's name says. */
  readonly steps: readonly number[];
  readonly identities: Float64Array;
  readonly metricValues: Float64Array;
  readonly metricShapes: readonly MetricShape[];
  readonly metricsAt: Int32Array;
  readonly linkedSet: ReadonlySet<number>;
  readonly parentOf: ReadonlyMap<number, CheckpointRef>;
  readonly sourceOf: ReadonlyMap<number, Source>;
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNullableCount = (v: unknown): boolean => v === null || isCount(v);
const isNullableNumber = (v: unknown): boolean => v === null || typeof v === 'number';
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

/** What every entry of one of the common columns must be. */
type EntryKind = 'count' | 'nullableCount' | 'nullableNumber' | 'string' | 'nullableString';

/**
 * isColumn for the columns of 100,000 entries, a loop per kind of entry: each loop calls one
 * check, which the compiler inlines (isColumn's one call site, called with every check, cannot be).
 */
function isColumnOf(v: unknown, length: number | undefined, kind: EntryKind): v is unknown[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) return false;
  switch (kind) {
    case 'count':
      for (const entry of v) if (!isCount(entry)) return false;
      return true;
    case 'nullableCount':
      for (const entry of v) if (!isNullableCount(entry)) return false;
      return true;
    case 'nullableNumber':
      for (const entry of v) if (!isNullableNumber(entry)) return false;
      return true;
    case 'string':
      for (const entry of v) if (!isString(entry)) return false;
      return true;
    case 'nullableString':
      for (const entry of v) if (!isNullableString(entry)) return false;
      return true;
  }
}

/** The few rows of a rare column (parents, sources): most records have none, which needs no parse. */
function parseRare<T>(schema: z.ZodType<T[]>, value: unknown): T[] | null {
  if (Array.isArray(value) && value.length === 0) return [];
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const ParentsSchema = z.array(z.tuple([z.number().int().nonnegative(), CheckpointRefSchema]));
const SourcesSchema = z.array(z.tuple([z.number().int().nonnegative(), info.source.unwrap()]));

/**
 * A record's checkpoints, or null when any column is not what StoredCheckpoints says (of another
 * length than the names, a value of the wrong kind, an index out of range). Checked by hand:
 * zod costs about as much per value as the rest of an open; the rare columns go through it.
 */
export function parseStoredCheckpoints(value: unknown): ReadCheckpoints | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<keyof StoredCheckpoints, unknown>;
  if (!isColumnOf(c.names, undefined, 'string')) return null;
  const n = c.names.length;
  // Only a checkpoint folder's name may name a path to check and list.
  const steps = c.names.map((name) => parseCheckpointDirName(name as string));
  if (!isColumnOf(steps, n, 'count')) return null;
  const common =
    isColumnOf(c.signatures, n, 'string') &&
    isColumnOf(c.bytes, n, 'count') &&
    isColumnOf(c.epochs, n, 'nullableCount') &&
    isColumnOf(c.batchesInEpoch, n, 'nullableCount') &&
    isColumnOf(c.createdAt, n, 'nullableString') &&
    isColumnOf(c.trainingTimeMs, n, 'nullableNumber') &&
    isColumnOf(c.saveBlockedMs, n, 'nullableNumber') &&
    isColumn(c.metricNames, undefined, (names) => isColumn(names, undefined, isString)) &&
    isColumn(c.backends, undefined, isString) &&
    isColumn(c.originOf, n, isIndexBelow(ORIGINS.length)) &&
    isColumn(c.linked, undefined, isIndexBelow(n));
  if (!common || !isColumn(c.backendOf, n, isIndexBelow((c.backends as unknown[]).length, -1))) return null;
  const metricNames = c.metricNames as string[][];
  const metricShapes = metricNames.map(metricShape);
  // Values are in the order the names are listed, which is the order their object keeps (as Object.keys gave them), once each.
  const inOrder = (shape: MetricShape, names: readonly string[]): boolean =>
    shape.keys.length === names.length && shape.keys.every((key, p) => key === names[p]);
  if (!metricShapes.every((shape, k) => inOrder(shape, metricNames[k] as string[]))) return null;
  if (!isColumn(c.metricsOf, n, isIndexBelow(metricNames.length))) return null;
  const metricsAt = new Int32Array(n + 1);
  for (let i = 0; i < n; i += 1) metricsAt[i + 1] = (metricsAt[i] as number) + (metricNames[c.metricsOf[i] as number] as string[]).length;
  const identities = decodeFloat64Column(c.identities, n * 8);
  const metricValues = decodeFloat64Column(c.metricValues, metricsAt[n] as number);
  if (!identities || !metricValues) return null;
  const parents = parseRare(ParentsSchema, c.parents);
  const sources = parseRare(SourcesSchema, c.sources);
  if (!parents || !sources || [...parents, ...sources].some(([i]) => i >= n)) return null;
  return {
    ...(c as unknown as StoredCheckpoints),
    steps: steps as number[],
    identities,
    metricValues,
    metricShapes,
    metricsAt,
    linkedSet: new Set(c.linked as number[]),
    parentOf: new Map(parents),
    sourceOf: new Map(sources),
  };
}

/** Builds a record's columns one checkpoint at a time. */
export class StoredCheckpointsBuilder {
  private readonly columns = {
    names: [] as string[],
    identities: [] as number[],
    signatures: [] as string[],
    bytes: [] as number[],
    epochs: [] as (number | null)[],
    batchesInEpoch: [] as (number | null)[],
    createdAt: [] as (string | null)[],
    trainingTimeMs: [] as (number | null)[],
    saveBlockedMs: [] as (number | null)[],
    metricNames: [] as string[][],
    metricsOf: [] as number[],
    metricValues: [] as number[],
    backends: [] as string[],
    backendOf: [] as number[],
    originOf: [] as number[],
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
    for (let k = at; k < at + 8; k += 1) c.identities.push(identities[k] as number);
    c.signatures.push(signature);
    c.bytes.push(checkpoint.bytes);
    c.epochs.push(checkpoint.epoch);
    c.batchesInEpoch.push(checkpoint.batchInEpoch);
    c.createdAt.push(checkpoint.createdAt);
    c.trainingTimeMs.push(checkpoint.trainingTimeMs);
    c.saveBlockedMs.push(checkpoint.saveBlockedMs);
    const names = Object.keys(checkpoint.metrics);
    c.metricsOf.push(this.indexOf(this.metricLists, JSON.stringify(names), () => c.metricNames.push(names) - 1));
    for (const metric of names) c.metricValues.push(checkpoint.metrics[metric] ?? NaN);
    const backend = checkpoint.backend;
    c.backendOf.push(backend === null ? -1 : this.indexOf(this.backendIndex, backend, () => c.backends.push(backend) - 1));
    c.originOf.push(ORIGINS.indexOf(checkpoint.origin));
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
    const { identities, metricValues, ...rest } = this.columns;
    return { ...rest, identities: encodeFloat64Column(identities), metricValues: encodeFloat64Column(metricValues) };
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

/** The listing of checkpoint `i` of `stored`, as its record holds it: one object made, no copies. */
export function storedInfo(stored: ReadCheckpoints, i: number, head: ListingHead): CheckpointInfo {
  const shape = stored.metricShapes[stored.metricsOf[i] as number] as MetricShape;
  // A copy of the shape (one allocation, its keys already laid out), then its values.
  const metrics: Record<string, number | null> = { ...shape.template };
  let at = stored.metricsAt[i] as number;
  for (const name of shape.keys) {
    const value = stored.metricValues[at++] as number;
    metrics[name] = Number.isNaN(value) ? null : value;
  }
  const backend = stored.backendOf[i] as number;
  return {
    id: head.id,
    run: head.run,
    step: head.step,
    stepKnown: true,
    path: head.path,
    status: head.status,
    statusReason: head.statusReason,
    bytes: stored.bytes[i] as number,
    epoch: stored.epochs[i] as number | null,
    batchInEpoch: stored.batchesInEpoch[i] as number | null,
    createdAt: stored.createdAt[i] as string | null,
    trainingTimeMs: stored.trainingTimeMs[i] as number | null,
    saveBlockedMs: stored.saveBlockedMs[i] as number | null,
    metrics,
    backend: backend < 0 ? null : (stored.backends[backend] as string),
    parent: stored.parentOf.get(i) ?? null,
    origin: ORIGINS[stored.originOf[i] as number] as Origin,
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
