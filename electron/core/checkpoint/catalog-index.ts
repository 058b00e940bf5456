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
import { CheckpointInfoSchema, CheckpointRefSchema } from '../../contract.js';
import { isTemporaryName, temporaryName } from '../base/temporaries.js';
import { STATE_DIR } from './layout.js';
import { stateFolder } from './state-folder.js';

const INDEX_DIR = 'catalog';
const RECORD_SUFFIX = '.json';
/** Bumped whenever what a record holds, or how it is checked, changes: an older record is ignored. */
export const INDEX_VERSION = 1;

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
/**
 * One whole checkpoint: what its listing holds that its folder's name, its run and retention.json
 * do not already say, and the identities of its folder and manifest. A tuple, not an object:
 * 100,000 of them are parsed on every open, and their keys would be most of the bytes.
 */
const StoredCheckpointSchema = z.tuple([
  /** The checkpoint's folder name. */
  z.string(),
  /** The folder (a file added, removed or replaced in it changes it) and its manifest.json (rewritten in place), as they were before they were read. */
  IdentitySchema,
  IdentitySchema,
  /** The scan's signature (manifest checksum, files' sizes and times): what a verification is remembered against. */
  z.string(),
  info.bytes,
  info.epoch,
  info.batchInEpoch,
  info.createdAt,
  info.trainingTimeMs,
  info.saveBlockedMs,
  info.metrics,
  info.backend,
  info.parent,
  info.origin,
  info.linked,
  info.source,
]);
export type StoredCheckpoint = z.infer<typeof StoredCheckpointSchema>;

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNullableCount = (v: unknown): boolean => v === null || isCount(v);
const isNullableNumber = (v: unknown): boolean => v === null || typeof v === 'number';
const isNullableString = (v: unknown): boolean => v === null || typeof v === 'string';
const isIdentity = (v: unknown): boolean => Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === 'number');
function isMetrics(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const value of Object.values(v)) if (!isNullableNumber(value)) return false;
  return true;
}

/**
 * StoredCheckpointSchema, checked by hand where the common case allows: zod's tuples cost about
 * as much as the rest of an open (10 µs each here, a second for 100,000). The rare parts (a
 * parent, another program's source) and anything unexpected go through the schema itself.
 */
export function parseStoredCheckpoint(value: unknown): StoredCheckpoint | null {
  if (!Array.isArray(value) || value.length !== 16) return null;
  const [
    name,
    folder,
    manifest,
    signature,
    bytes,
    epoch,
    batchInEpoch,
    createdAt,
    trainingTimeMs,
    saveBlockedMs,
    metrics,
    backend,
    parent,
    origin,
    linked,
    source,
  ] = value;
  const common =
    typeof name === 'string' &&
    isIdentity(folder) &&
    isIdentity(manifest) &&
    typeof signature === 'string' &&
    isCount(bytes) &&
    isNullableCount(epoch) &&
    isNullableCount(batchInEpoch) &&
    isNullableString(createdAt) &&
    isNullableNumber(trainingTimeMs) &&
    isNullableNumber(saveBlockedMs) &&
    isMetrics(metrics) &&
    isNullableString(backend) &&
    parent === null &&
    (origin === 'trained' || origin === 'imported' || origin === 'foreign') &&
    typeof linked === 'boolean' &&
    source === null;
  if (common) return value as StoredCheckpoint;
  const parsed = StoredCheckpointSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
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
  /** Each checked by parseStoredCheckpoint. */
  checkpoints: z.array(z.unknown()),
  /** retention.json's pins (checkpoint folder names) when the record was made. */
  pinned: z.array(z.string()),
  /** Checkpoint folders the record cannot vouch for (too recently changed, not whole): read from their manifests every time. */
  unsettled: z.array(z.string()),
});
export type RunRecord = Omit<z.infer<typeof RunRecordSchema>, 'checkpoints'> & { checkpoints: StoredCheckpoint[] };

function indexDir(workspace: string): string {
  return path.join(workspace, STATE_DIR, INDEX_DIR);
}

function recordFile(workspace: string, run: string): string {
  return path.join(indexDir(workspace), `${run}${RECORD_SUFFIX}`);
}

/** The record of each run the index holds; whatever cannot be read as a current record of the run it is named after is left out. */
export function readRunRecords(workspace: string): Map<string, RunRecord> {
  const records = new Map<string, RunRecord>();
  let names: string[];
  try {
    names = readdirSync(indexDir(workspace));
  } catch {
    return records;
  }
  for (const name of names) {
    if (!name.endsWith(RECORD_SUFFIX) || isTemporaryName(name)) continue;
    const run = name.slice(0, -RECORD_SUFFIX.length);
    try {
      const parsed = RunRecordSchema.safeParse(JSON.parse(readFileSync(path.join(indexDir(workspace), name), 'utf8')));
      if (!parsed.success || parsed.data.run !== run) continue;
      const checkpoints = parsed.data.checkpoints.map(parseStoredCheckpoint);
      if (checkpoints.every((c): c is StoredCheckpoint => c !== null)) records.set(run, { ...parsed.data, checkpoints });
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
