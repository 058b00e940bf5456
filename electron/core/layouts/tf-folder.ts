// A folder of TensorFlow checkpoints, as TF1's Saver, TF2's CheckpointManager, Estimator and Keras'
// TensorBoard callback leave it: groups of `<prefix>.index` + `<prefix>.data-NNNNN-of-MMMMM`
// (+ `<prefix>.meta` from TF1), and the `checkpoint` state file that names the latest and every kept
// one (checkpoint_management.py). A group is whole when its index and every shard its names count
// are there: TensorFlow writes the shards first and the index last.
import path from 'node:path';
import { shown } from '../base/describe-value.js';
import { errorMessage } from '../base/errors.js';
import type { FolderEntry, FolderListing, InPlaceCheckpoint, InPlaceFile, InPlaceRun } from '../checkpoint/in-place.js';
import { DATA_FILE_PATTERN, dataFileName } from '../formats/tf/bundle-files.js';
import { CHECKPOINT_STATE_FILE, type CheckpointState, parseCheckpointState } from '../formats/tf/checkpoint-state.js';
import { numberInName } from '../formats/tf/checkpoint-step.js';
import { TABLE_MAGIC } from '../formats/tf/sstable-format.js';
import { readText } from '../storage/file-access.js';
import { fileEndsWith } from './sniff.js';

const INDEX_SUFFIX = '.index';
const META_SUFFIX = '.meta';
/** A state file is a few lines per checkpoint; anything far bigger is not one. */
const MAX_STATE_BYTES = 4 * 1024 * 1024;
export const TF_FORMAT_LABEL = 'TensorFlow checkpoint';

interface Group {
  index?: FolderEntry;
  meta?: FolderEntry;
  readonly shards: Map<number, FolderEntry>;
  readonly counts: Set<number>;
}

/** The groups a listing holds, by prefix: every file a group's names claim. */
function groupFiles(entries: readonly FolderEntry[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  const group = (prefix: string): Group => {
    let found = groups.get(prefix);
    if (!found) groups.set(prefix, (found = { shards: new Map(), counts: new Set() }));
    return found;
  };
  for (const entry of entries) {
    if (entry.kind !== 'file') continue;
    const data = DATA_FILE_PATTERN.exec(entry.name);
    if (data) {
      const g = group(data[1] as string);
      g.shards.set(Number(data[2]), entry);
      g.counts.add(Number(data[3]));
    } else if (entry.name.endsWith(INDEX_SUFFIX) && entry.name.length > INDEX_SUFFIX.length) group(entry.name.slice(0, -INDEX_SUFFIX.length)).index = entry;
  }
  // A .meta belongs to a group that exists; alone it is what is left of one, not a checkpoint.
  for (const entry of entries) {
    if (entry.kind === 'file' && entry.name.endsWith(META_SUFFIX)) {
      const existing = groups.get(entry.name.slice(0, -META_SUFFIX.length));
      if (existing) existing.meta = entry;
    }
  }
  return groups;
}

/** Whole, or what is missing: the index, a shard, or shards that disagree on their count. */
function wholeness(prefix: string, group: Group): string | null {
  if (!group.index) return `${prefix}.index is not there (TensorFlow writes it last: still being written, or left by a save that failed)`;
  if (group.counts.size === 0) return `no data shard (${dataFileName(prefix, 0, 1)}) is there`;
  if (group.counts.size > 1) return `its data shards disagree on how many there are (${[...group.counts].sort().join(' and ')})`;
  const count = [...group.counts][0] as number;
  for (let shard = 0; shard < count; shard += 1) if (!group.shards.has(shard)) return `${dataFileName(prefix, shard, count)} is not there`;
  return null;
}

function filesOf(group: Group): InPlaceFile[] {
  const entries = [group.index, ...[...group.shards.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e), group.meta];
  return entries.filter((e): e is FolderEntry => e !== undefined).map((e) => ({ name: e.name, bytes: e.bytes, mtimeMs: e.mtimeMs }));
}

/** The prefix a state file's path names in this folder: its last component (a path written on another machine keeps only that). */
function prefixOfPath(statePath: string): string {
  return path.basename(statePath.replace(/\\/g, '/'));
}

async function readState(listing: FolderListing): Promise<{ state: CheckpointState | null; problem: string | null }> {
  const entry = listing.entries.find((e) => e.name === CHECKPOINT_STATE_FILE && e.kind === 'file');
  if (!entry) return { state: null, problem: null };
  const file = path.join(listing.dir, CHECKPOINT_STATE_FILE);
  try {
    return { state: parseCheckpointState(await readText(file, MAX_STATE_BYTES), file), problem: null };
  } catch (error) {
    return { state: null, problem: `the ${CHECKPOINT_STATE_FILE} state file cannot be read, so none is called latest by it: ${errorMessage(error)}` };
  }
}

function stepSourceOf(prefix: string, step: number | null): string | null {
  if (step === null) return `${prefix} carries no step in its name`;
  if (/^ckpt-\d+$/.test(prefix)) return `step ${step} from the name ${prefix}: TensorFlow 2's CheckpointManager counts saves there, not training steps`;
  return `step ${step} from the name ${prefix}`;
}

function checkpointOf(prefix: string, group: Group, savedAt: ReadonlyMap<string, number>): InPlaceCheckpoint {
  const files = filesOf(group);
  const missing = wholeness(prefix, group);
  const step = numberInName(prefix);
  return {
    name: prefix,
    folder: null,
    step,
    epoch: null,
    stepSource: stepSourceOf(prefix, step),
    files,
    complete: missing === null,
    incompleteReason: missing,
    format: 'tf-bundle',
    formatLabel: TF_FORMAT_LABEL,
    savedAt: savedAt.get(prefix) ?? Math.max(...files.map((f) => f.mtimeMs)),
    metrics: {},
    notes: [],
  };
}

/** What the state file says that the folder does not hold, and the reverse. */
function stateNotes(state: CheckpointState, prefixes: ReadonlySet<string>): string[] {
  const listed = state.allModelCheckpointPaths.map(prefixOfPath);
  // A set: a folder of 10,000 groups compared with a list of 10,000 took 400 ms here.
  const listedSet = new Set(listed);
  const notes: string[] = [];
  const missing = listed.filter((p) => !prefixes.has(p));
  // What the state file names is its content: shown only as plain names (base/describe-value.ts).
  if (missing.length > 0)
    notes.push(`the ${CHECKPOINT_STATE_FILE} file lists ${missing.map(shown).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not here`);
  const unlisted = [...prefixes].filter((p) => !listedSet.has(p));
  if (unlisted.length > 0 && listed.length > 0)
    notes.push(`${unlisted.join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} here but not in the ${CHECKPOINT_STATE_FILE} file`);
  return notes;
}

/** The TensorFlow checkpoints of one folder, or null when it holds none. */
export async function scanTfFolder(listing: FolderListing): Promise<InPlaceRun | null> {
  const groups = groupFiles(listing.entries);
  if (groups.size === 0) return null;
  // By content: the newest index must end in the SSTable magic (one read, not one per group).
  const indexes = [...groups.values()].map((g) => g.index).filter((e): e is FolderEntry => e !== undefined);
  const newest = indexes.sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  if (newest && !(await fileEndsWith(path.join(listing.dir, newest.name), newest.bytes, TABLE_MAGIC))) return null;
  const { state, problem } = await readState(listing);
  const savedAt = new Map<string, number>();
  state?.allModelCheckpointPaths.forEach((p, i) => {
    const seconds = state.allModelCheckpointTimestamps[i];
    if (seconds !== undefined) savedAt.set(prefixOfPath(p), seconds * 1000);
  });
  const checkpoints = [...groups]
    .map(([prefix, group]) => checkpointOf(prefix, group, savedAt))
    .sort((a, b) => (a.step ?? -1) - (b.step ?? -1) || a.name.localeCompare(b.name));
  const named = state?.modelCheckpointPath ? prefixOfPath(state.modelCheckpointPath) : null;
  const latest = checkpoints.find((c) => c.name === named && c.complete)?.name ?? null;
  const notes = [...(problem ? [problem] : []), ...(state ? stateNotes(state, new Set(groups.keys())) : [])];
  if (named !== null && latest === null) notes.push(`the ${CHECKPOINT_STATE_FILE} file calls ${shown(named)} latest, but it is not here whole`);
  return { file: null, layout: 'tf-folder', label: 'TensorFlow checkpoint folder', checkpoints, latest, claimed: [], config: null, series: [], notes };
}
