// The TensorFlow tensor-bundle reader: a `.index` file, a prefix (`…/model.ckpt-1000`), a
// `.data-*` shard, or a folder (a training run's checkpoint folder, a SavedModel's `variables/`).
// A folder's `checkpoint` state file decides which prefixes it holds and which is the latest.
import path from 'node:path';
import { shown } from '../../base/describe-value.js';
import { CheckpointFormatError, errorMessage } from '../../base/errors.js';
import { listFiles, openFile, resolveFilePath, statFile } from '../../storage/file-access.js';
import type { ForeignCheckpoint, ForeignReader, ForeignSource } from '../foreign.js';
import { DATA_FILE_PATTERN, indexFileName } from './bundle-files.js';
import { CHECKPOINT_STATE_FILE, type CheckpointState, parseCheckpointState } from './checkpoint-state.js';
import { readWholeFile } from './file-reads.js';
import { type BundleContext, openBundle } from './open-bundle.js';
import { readBundle } from './read-bundle.js';
import { stateEntry } from './state-paths.js';
import { FOOTER_BYTES, hasTableMagic } from './sstable-format.js';

const MAX_STATE_BYTES = 1024 * 1024;

async function kindOf(target: string): Promise<'file' | 'dir' | 'other' | 'missing'> {
  const info = await statFile(target);
  return info === null ? 'missing' : info.kind === 'file' ? 'file' : info.kind === 'folder' ? 'dir' : 'other';
}

/** Whether `file` ends with the table magic; reads its last 8 bytes. */
async function isTableFile(file: string): Promise<boolean> {
  try {
    const { file: handle, size } = await openFile(file);
    try {
      if (size < FOOTER_BYTES) return false;
      const tail = Buffer.alloc(8);
      await handle.read(tail, 0, 8, size - 8);
      return hasTableMagic(tail);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** A bundle target resolved to its folder and, for a single bundle, its prefix. */
async function resolveTarget(target: string): Promise<{ dir: string; prefix: string | null } | null> {
  const absolute = resolveFilePath(target);
  const kind = await kindOf(absolute);
  if (kind === 'dir') {
    // A SavedModel folder (saved_model.pb beside variables/): its checkpoint is variables/, which
    // is what a person drops; unless the folder holds a checkpoint state file of its own.
    const variables = path.join(absolute, 'variables');
    if ((await kindOf(path.join(absolute, CHECKPOINT_STATE_FILE))) !== 'file' && (await isTableFile(path.join(variables, indexFileName('variables')))))
      return { dir: variables, prefix: null };
    return { dir: absolute, prefix: null };
  }
  const dir = path.dirname(absolute);
  const base = path.basename(absolute);
  if (kind === 'file' && base.endsWith('.index') && (await isTableFile(absolute))) return { dir, prefix: base.slice(0, -'.index'.length) };
  const data = DATA_FILE_PATTERN.exec(base);
  if (kind === 'file' && data !== null && (await isTableFile(path.join(dir, indexFileName(data[1] ?? ''))))) return { dir, prefix: data[1] ?? '' };
  if (kind === 'missing' && (await isTableFile(path.join(dir, indexFileName(base))))) return { dir, prefix: base };
  return null;
}

async function readState(dir: string): Promise<{ state: CheckpointState; bytes: number } | null> {
  const file = path.join(dir, CHECKPOINT_STATE_FILE);
  if ((await kindOf(file)) !== 'file') return null;
  const bytes = await readWholeFile(file, MAX_STATE_BYTES);
  return { state: parseCheckpointState(Buffer.from(bytes).toString('utf8'), file), bytes: bytes.length };
}

async function sniff(target: string): Promise<boolean> {
  try {
    const resolved = await resolveTarget(target);
    if (resolved === null) return false;
    if (resolved.prefix !== null) return true;
    if ((await kindOf(path.join(resolved.dir, CHECKPOINT_STATE_FILE))) === 'file') {
      try {
        const state = await readState(resolved.dir);
        if (state !== null && state.state.modelCheckpointPath !== null) return true;
      } catch {
        // Not a CheckpointState: another program's file of the same name; look for index files instead.
      }
    }
    const names = (await listFiles(resolved.dir)).map((e) => e.name);
    for (const name of names.filter((n) => n.endsWith('.index')).slice(0, 64)) {
      if (await isTableFile(path.join(resolved.dir, name))) return true;
    }
    return false;
  } catch {
    return false;
  }
}

async function open(target: string): Promise<ForeignSource> {
  const resolved = await resolveTarget(target);
  if (resolved === null) {
    throw new CheckpointFormatError(
      target,
      'is not a TensorFlow checkpoint: expected a folder, a .index file with the table magic, a .data-NNNNN-of-NNNNN shard or a prefix whose .index exists',
    );
  }
  const { dir } = resolved;
  const notes: string[] = [];
  const stateRead = await readState(dir);
  const state = stateRead?.state ?? null;
  const stateFile = stateRead === null ? null : { name: CHECKPOINT_STATE_FILE, bytes: stateRead.bytes };
  const listed = (state?.allModelCheckpointPaths ?? []).map((p) => stateEntry(dir, p).name);
  const latestEntry = state?.modelCheckpointPath ? stateEntry(dir, state.modelCheckpointPath) : null;
  const latestListed = latestEntry?.name ?? null;
  if (latestEntry?.how === 'basename')
    notes.push(
      `The checkpoint file names ${shown(state?.modelCheckpointPath ?? '')} as the latest, a path outside this folder that tf.train.latest_checkpoint would not find; ${shown(latestEntry.name)} here is taken for it.`,
    );
  const savedAtOf = (prefix: string): number | null => {
    const i = listed.lastIndexOf(prefix);
    const seconds = i < 0 ? undefined : state?.allModelCheckpointTimestamps[i];
    return seconds === undefined || state?.allModelCheckpointTimestamps.length !== listed.length ? null : Math.round(seconds * 1000);
  };
  const context = (prefix: string): BundleContext => ({ savedAt: savedAtOf(prefix), stateFile });

  let prefixes: string[];
  if (resolved.prefix !== null) prefixes = [resolved.prefix];
  else {
    const present = new Set(
      (await listFiles(dir))
        .map((e) => e.name)
        .filter((n) => n.endsWith('.index'))
        .map((n) => n.slice(0, -'.index'.length)),
    );
    const wanted = [...new Set([...listed, ...(latestListed === null ? [] : [latestListed])])];
    prefixes = [];
    for (const prefix of wanted) {
      if (present.has(prefix)) prefixes.push(prefix);
      else notes.push(`The checkpoint file lists ${shown(prefix)}, but ${shown(indexFileName(prefix))} is not in the folder.`);
    }
    for (const prefix of [...present].sort()) {
      if (prefixes.includes(prefix)) continue;
      if (!(await isTableFile(path.join(dir, indexFileName(prefix))))) {
        notes.push(`${indexFileName(prefix)} is not a TensorFlow index (no table magic); skipped.`);
        continue;
      }
      prefixes.push(prefix);
      if (state !== null) notes.push(`${prefix} is in the folder but not in its checkpoint file; it is included.`);
    }
    if (prefixes.length === 0) throw new CheckpointFormatError(dir, 'holds no TensorFlow checkpoint (no .index file with the table magic)');
  }

  const checkpoints: ForeignCheckpoint[] = [];
  for (const prefix of prefixes) {
    try {
      checkpoints.push(await openBundle(dir, prefix, context(prefix)));
    } catch (error) {
      // A single bundle's damage is the answer; in a folder it is one checkpoint's problem.
      if (resolved.prefix !== null || !(error instanceof CheckpointFormatError) || !isMissingShard(error)) throw error;
      notes.push(`${prefix} is incomplete and was skipped: ${errorMessage(error)}`);
    }
  }
  checkpoints.sort((a, b) => (a.step !== null && b.step !== null && a.step !== b.step ? a.step - b.step : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let latest: string | null = null;
  if (latestListed !== null) {
    if (checkpoints.some((c) => c.name === latestListed)) latest = latestListed;
    else if (resolved.prefix === null) notes.push(`The checkpoint file names ${shown(latestListed)} as the latest, but it could not be read.`);
  }
  return { format: 'tf-bundle', path: dir, checkpoints, latest, notes };
}

function isMissingShard(error: CheckpointFormatError): boolean {
  return error.problem.startsWith('is missing');
}

export const tfBundleReader: ForeignReader = {
  format: 'tf-bundle',
  sniff,
  open,
  read: (checkpoint, options) => readBundle(checkpoint, options),
};
