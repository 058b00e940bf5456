// Lists a workspace whose files are objects (S3) as runs and checkpoints, for the price of its
// LIST pages (one per 1,000 keys) and one small GET per run, not one request per checkpoint.
// A checkpoint exists once its manifest is listed (storage-writer.ts commits by creating it).
// What a listing cannot tell (a manifest's metrics, parent, sizes) comes from the run's index
// object, `<run>/.studio-index.json`: the run's writer rewrites it after each commit (it holds the
// run's lease, so it is its only writer), each entry keyed by its manifest's ETag. An entry is
// taken only while the listing shows that same ETag for that manifest; manifests that differ or
// are missing from it are read (a few GETs) and the index is rewritten as a cache. Two rewrites
// racing leave one whole object (a PUT is atomic): at worst a later listing reads a few manifests
// again. Keys that are not ours (another program's objects) are reported, never touched.
import { z } from 'zod';
import { CheckpointFormatError, errorMessage } from '../base/errors.js';
import type { RewriteCounter } from '../storage/noncurrent-versions.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { LOCK_FILE, MANIFEST_FILE, POLICY_FILE, RUN_FILE, STATE_DIR, TRASH_DIR, parseCheckpointDirName, runNameProblem } from './layout.js';
import { type ManifestSummary, ManifestSummarySchema, parseManifestSummary } from './manifest.js';
import { wholenessProblem } from './wholeness.js';

export const RUN_INDEX_FILE = '.studio-index.json';
const INDEX_VERSION = 1;
/** Manifests of one run read at once when the index misses them. */
const READS_IN_FLIGHT = 16;

const RunIndexSchema = z.object({
  version: z.literal(INDEX_VERSION),
  checkpoints: z.record(z.string(), z.object({ tag: z.string(), manifest: ManifestSummarySchema })),
});
type RunIndex = z.infer<typeof RunIndexSchema>;

export interface StoredCheckpointEntry {
  readonly run: string;
  readonly step: number;
  /** The checkpoint's folder key, ending in '/'. */
  readonly folder: string;
  readonly manifest: ManifestSummary | null;
  /** The manifest object's tag (ETag): what a verification or a cached summary is good for. */
  readonly manifestTag: string | null;
  /** Bytes of every object under the folder. */
  readonly bytes: number;
  readonly status: 'complete' | 'damaged';
  readonly problem: string | null;
}

/** The run's own objects besides its checkpoints, as listed: whoever caches what they hold keys it by their tags. */
export interface RunOwnObjects {
  readonly runFile: StoredObject | null;
  readonly retention: StoredObject | null;
  /** The lease lock's newest generation (`<run>/.lock/<n>`), null when the run was never locked. */
  readonly lock: StoredObject | null;
  /** The metrics log's parts (`<run>/metrics/*.jsonl`), in key order. */
  readonly metricParts: readonly StoredObject[];
}

/** Where a run's metrics log lives on a store without appends: whole parts, read in key order. */
export const METRIC_PARTS_DIR = 'metrics';

export interface StoredRun {
  readonly name: string;
  readonly hasRunFile: boolean;
  readonly own: RunOwnObjects;
  /** Every key and tag of the run, in a string: equal between two listings when nothing of the run changed. */
  readonly signature: string;
  readonly checkpoints: readonly StoredCheckpointEntry[];
  /** Checkpoint folders with objects but no manifest: a save in progress, or one a crash left. */
  readonly uncommitted: readonly string[];
}

export interface StoredListing {
  readonly runs: readonly StoredRun[];
  /** Keys under the workspace that no run of ours explains (other programs' objects). */
  readonly foreign: readonly string[];
  /** The same objects as listed (sizes, times, tags): what the layouts of other programs' folders read (issue 18). */
  readonly foreignObjects: readonly StoredObject[];
  /** Manifests read because the run's index did not vouch for them. */
  readonly manifestsRead: number;
  /** Every object under the store's own `.studio/`, as listed (the pins of runs read in place are there: read only when changed). */
  readonly stateObjects: readonly StoredObject[];
}

interface RunObjects {
  runFile: boolean;
  index: StoredObject | null;
  own: { runFile: StoredObject | null; retention: StoredObject | null; lock: StoredObject | null; metricParts: StoredObject[] };
  signature: string[];
  folders: Map<number, { folder: string; manifest: StoredObject | null; bytes: number; files: Map<string, number> }>;
  other: StoredObject[];
}

function group(objects: readonly StoredObject[]): { runs: Map<string, RunObjects>; foreign: StoredObject[] } {
  const runs = new Map<string, RunObjects>();
  const foreign: StoredObject[] = [];
  for (const object of objects) {
    const parts = object.key.split('/');
    const [top, second, third] = parts;
    if (top === undefined || top === STATE_DIR || top === TRASH_DIR) continue;
    if (parts.length < 2 || runNameProblem(top) !== null) {
      foreign.push(object);
      continue;
    }
    const run: RunObjects = runs.get(top) ?? {
      runFile: false,
      index: null,
      own: { runFile: null, retention: null, lock: null, metricParts: [] },
      signature: [],
      folders: new Map(),
      other: [],
    };
    runs.set(top, run);
    // The time too: a lease renewal rewrites the same bytes (the same ETag).
    run.signature.push(`${object.key}\u0000${object.tag ?? object.size}\u0000${object.modifiedMs}`);
    const step = second === undefined ? null : parseCheckpointDirName(second);
    if (parts.length === 2 && second === RUN_FILE) {
      run.runFile = true;
      run.own.runFile = object;
    } else if (parts.length === 2 && second === POLICY_FILE) run.own.retention = object;
    else if (parts.length === 3 && second === LOCK_FILE && /^\d+$/.test(third ?? '')) {
      // Generations are zero-padded: the greatest key is the newest.
      if (run.own.lock === null || object.key > run.own.lock.key) run.own.lock = object;
    } else if (parts.length === 3 && second === METRIC_PARTS_DIR && third?.endsWith('.jsonl')) run.own.metricParts.push(object);
    else if (parts.length === 2 && second === RUN_INDEX_FILE) run.index = object;
    else if (step !== null && parts.length >= 3 && third !== undefined) {
      const folder = run.folders.get(step) ?? { folder: `${top}/${second}/`, manifest: null, bytes: 0, files: new Map<string, number>() };
      run.folders.set(step, folder);
      folder.bytes += object.size;
      // An imported checkpoint keeps another program's files, in subfolders too.
      folder.files.set(parts.slice(2).join('/'), object.size);
      if (parts.length === 3 && third === MANIFEST_FILE) folder.manifest = object;
    } else run.other.push(object);
  }
  // A top-level folder with neither run.json nor a checkpoint is not a run of ours.
  for (const [name, run] of runs) {
    if (!run.runFile && run.folders.size === 0) {
      foreign.push(...run.other);
      runs.delete(name);
    }
  }
  return { runs, foreign };
}

async function readIndex(storage: Storage, run: string, object: StoredObject | null): Promise<RunIndex['checkpoints']> {
  if (object === null) return {};
  try {
    return RunIndexSchema.parse(JSON.parse(new TextDecoder().decode(await storage.read(`${run}/${RUN_INDEX_FILE}`)))).checkpoints;
  } catch {
    // A torn, foreign or old index is only a cache miss: every manifest is read instead.
    return {};
  }
}

/** What a run's writer keeps between its commits: the index it last wrote, and its rewrites of it (their past versions are dropped in a versioned bucket). */
export interface KeptRunIndex {
  index?: RunIndex['checkpoints'];
  readonly rewrites?: RewriteCounter;
}

const SUMMARY_KEYS = Object.keys(ManifestSummarySchema.shape);

/**
 * After a commit, by the run's writer (it holds the run's lease): the run's index gains the new
 * checkpoint, keyed by its manifest's ETag, so no listing has to read that manifest. The writer
 * keeps the index it wrote (`kept`, one per lease: nobody else writes it meanwhile), so a commit
 * costs a PUT of the index (and a HEAD of its manifest where its PUT told no tag), the first one a
 * GET more. A failure here is only a cache miss for the next listing: the commit stands.
 */
export async function recordInRunIndex(
  storage: Storage,
  runKey: string,
  folder: string,
  manifest: ManifestSummary,
  kept: KeptRunIndex,
  /** The manifest's tag as its PUT told it; else a HEAD asks. */
  tag: string | null = null,
): Promise<void> {
  try {
    const committed = tag === null ? await storage.stat(`${folder}${MANIFEST_FILE}`) : { tag };
    if (committed?.tag == null) return;
    const run = runKey.replace(/\/$/, '');
    const checkpoints = kept.index ?? (await readIndex(storage, run, { key: `${run}/${RUN_INDEX_FILE}`, size: 0, modifiedMs: 0, tag: null }));
    const summary = Object.fromEntries(SUMMARY_KEYS.filter((k) => k in manifest).map((k) => [k, (manifest as Record<string, unknown>)[k]]));
    kept.index = { ...checkpoints, [folder]: { tag: committed.tag, manifest: ManifestSummarySchema.parse(summary) } };
    await storage.write(`${run}/${RUN_INDEX_FILE}`, JSON.stringify({ version: INDEX_VERSION, checkpoints: kept.index } satisfies RunIndex));
    await kept.rewrites?.rewrote(`${run}/${RUN_INDEX_FILE}`);
  } catch {
    // The next listing reads this checkpoint's manifest instead.
  }
}

/**
 * A file the manifest names that the listing does not show, or shows at another size: a commit
 * writes every file before its manifest, so this is damage (or a deletion another program did),
 * found for the price of the listing, without reading anything.
 */
function missingObject(storage: Storage, folder: string, manifest: ManifestSummary, listed: ReadonlyMap<string, number>): string | null {
  const expected: [string, number][] = Object.entries(manifest.files).map(([name, entry]) => [name, entry.bytes]);
  if (manifest.foreign && manifest.foreign.linked === null) for (const file of manifest.foreign.files) expected.push([file.name, file.bytes]);
  for (const [name, bytes] of expected) {
    const size = listed.get(name);
    if (size === undefined) return `${storage.locate(`${folder}${name}`)}: missing`;
    if (size !== bytes) return `${storage.locate(`${folder}${name}`)}: is ${size} bytes, the manifest says ${bytes}`;
  }
  return null;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const at = next++;
      out[at] = await work(items[at] as T);
    }
  });
  await Promise.all(lanes);
  return out;
}

async function listRun(storage: Storage, name: string, objects: RunObjects): Promise<{ run: StoredRun; read: number; index: RunIndex | null }> {
  const indexed = await readIndex(storage, name, objects.index);
  const committed = [...objects.folders.entries()].filter(([, f]) => f.manifest !== null).sort(([a], [b]) => a - b);
  const missing = committed.filter(([, f]) => indexed[f.folder]?.tag !== (f.manifest?.tag ?? ''));
  const fresh = await mapLimited(missing, READS_IN_FLIGHT, async ([, f]) => {
    const file = storage.locate(`${f.folder}${MANIFEST_FILE}`);
    try {
      return {
        folder: f.folder,
        manifest: parseManifestSummary(file, new TextDecoder().decode(await storage.read(`${f.folder}${MANIFEST_FILE}`))),
        problem: null,
      };
    } catch (error) {
      if (!(error instanceof CheckpointFormatError)) throw error;
      return { folder: f.folder, manifest: null, problem: errorMessage(error) };
    }
  });
  const read = new Map(fresh.map((r) => [r.folder, r]));
  const checkpoints: StoredCheckpointEntry[] = committed.map(([step, f]) => {
    const got = read.get(f.folder);
    const manifest = got ? got.manifest : (indexed[f.folder]?.manifest ?? null);
    const dir = storage.locate(f.folder.slice(0, -1));
    const problem =
      got?.problem ??
      (manifest === null
        ? null
        : (wholenessProblem(dir, manifest, undefined, (file) => storage.locate(`${f.folder}${file}`))?.reason ??
          missingObject(storage, f.folder, manifest, f.files)));
    return {
      run: name,
      step,
      folder: f.folder,
      manifest,
      manifestTag: f.manifest?.tag ?? null,
      bytes: f.bytes,
      status: problem === null ? 'complete' : 'damaged',
      problem,
    };
  });
  const uncommitted = [...objects.folders.values()].filter((f) => f.manifest === null).map((f) => f.folder);
  const index: RunIndex | null =
    missing.length === 0
      ? null
      : {
          version: INDEX_VERSION,
          checkpoints: Object.fromEntries(
            committed.flatMap(([, f]) => {
              const entry = checkpoints.find((c) => c.folder === f.folder);
              return entry?.manifest && f.manifest?.tag ? [[f.folder, { tag: f.manifest.tag, manifest: entry.manifest }]] : [];
            }),
          ),
        };
  return {
    run: { name, hasRunFile: objects.runFile, own: objects.own, signature: objects.signature.join('\u0001'), checkpoints, uncommitted },
    read: missing.length,
    index,
  };
}

/**
 * The workspace's runs and checkpoints. With `writeIndex`, a run whose index missed manifests gets
 * it rewritten (skipped where the store refuses writes: a read-only listing still lists).
 */
export async function listStoredWorkspace(
  storage: Storage,
  options: {
    writeIndex?: boolean;
    /** The last listing's runs: a run whose keys and tags are all the same is taken from it, for no request. */
    previous?: ReadonlyMap<string, StoredRun>;
  } = {},
): Promise<StoredListing> {
  const objects: StoredObject[] = [];
  for await (const object of storage.list('')) objects.push(object);
  const { runs, foreign } = group(objects);
  const listed = await mapLimited([...runs.entries()], READS_IN_FLIGHT, async ([name, run]) => {
    const before = options.previous?.get(name);
    if (before !== undefined && before.signature === run.signature.join('\u0001')) return { run: before, read: 0, index: null };
    return listRun(storage, name, run);
  });
  if (options.writeIndex !== false) {
    await Promise.all(
      listed.map(async ({ run, index }) => {
        if (index === null) return;
        await storage.write(`${run.name}/${RUN_INDEX_FILE}`, JSON.stringify(index)).catch(() => undefined);
      }),
    );
  }
  return {
    runs: listed.map((l) => l.run).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    foreign: foreign.map((o) => o.key),
    foreignObjects: foreign,
    manifestsRead: listed.reduce((sum, l) => sum + l.read, 0),
    stateObjects: objects.filter((o) => o.key.startsWith(`${STATE_DIR}/`)),
  };
}
