// The format fuzz test's case for TensorFlow's `checkpoint` state file (run by
// format-fuzz-worker.ts). A mutated state file (bytes flipped, cut, inserted by the shared
// mutations; then, half the time, lines dropped, doubled, swapped or added) is put through what the
// app does with one: parse it, take checkpoints out of it (removeFromState), make one the latest
// (setLatestInState), compare it with the folder (stateProblems). The same rules as for the
// checkpoint formats: each step ends with our error naming the file, or with the right values,
// judged here by TensorFlow's rules written out independently of state-edit.ts:
//  - after a removal, the file parses to the old state without the removed paths and the
//    timestamps at their places, the latest unchanged or, if it was removed, the last remaining path
//    (no file at all when none remains), and every line not taken out is there byte for byte;
//  - after Make latest, the chosen path is last, once, with its own timestamp, the latest names it,
//    the other paths and timestamps keep their order; a file whose timestamps cannot be paired
//    with its paths is refused.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { type CheckpointState, type StateLine, decodeStateFile, parseStateLines, stateOfLines } from '../../electron/core/formats/tf/checkpoint-state.js';
import { removeFromState, setLatestInState } from '../../electron/core/formats/tf/state-edit.js';
import { stateEntry } from '../../electron/core/formats/tf/state-paths.js';
import { stateProblems } from '../../electron/core/formats/tf/state-problems.js';
import type { Rng } from '../fuzz/prng.js';
import { mutate } from './format-fuzz-protocol.js';

/** The kind of fixture this module reads, beside the checkpoint formats' names. */
export const STATE_FILE_FORMAT = 'tf-state-file';

export type StateCaseOutcome = { readonly outcome: 'read' | 'refused'; readonly message?: string } | { readonly problem: string };

/**
 * A state file with what people and other machines leave in one: comments, odd spacing, single
 * quotes, escapes, CRLF line ends, absolute paths from here and from elsewhere, a timestamp in
 * exponent form. Written into `dir` (created) as `checkpoint`.
 */
export function writeSyntheticStateFixture(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const folder = path.resolve(dir);
  const text = [
    '# kept by hand\r\n',
    "model_checkpoint_path:'ckpt-4'\r\n",
    '  all_model_checkpoint_paths :  "ckpt-1"   # first\r\n',
    `all_model_checkpoint_paths: "${folder}/ckpt-2"\r\n`,
    'all_model_checkpoint_paths: "/Users/alice/run/ckpt-3"\r\n',
    "all_model_checkpoint_paths: 'ck\\160t-4'\r\n",
    'all_model_checkpoint_timestamps: 1.7e9\r\n',
    'all_model_checkpoint_timestamps: 1700000100.25\r\n',
    'all_model_checkpoint_timestamps:1700000200;\r\n',
    'all_model_checkpoint_timestamps: 1700000300.125\r\n',
    'last_preserved_timestamp: 1699999999.5\r\n',
  ].join('');
  writeFileSync(path.join(folder, 'checkpoint'), text);
  return folder;
}

/**
 * The shared byte-level mutations half of the time; else the file as it is, so that the edits are
 * tried on well-formed files too (with the line changes of mutateLines).
 */
export function mutateStateFile(bytes: Buffer, rng: Rng): { bytes: Buffer; description: string } {
  return rng.chance(0.5) ? mutate(bytes, rng) : { bytes, description: 'bytes as they are' };
}

/** Half the time, a change a person or a crash could make to the lines: one dropped, doubled, moved, or a field added. */
function mutateLines(text: string, rng: Rng): { text: string; description: string | null } {
  if (!rng.chance(0.5)) return { text, description: null };
  const lines = text.split(/(?<=\n)/);
  const at = rng.int(0, Math.max(1, lines.length));
  const kind = rng.int(0, 4);
  if (kind === 0 && lines.length > 0) return { text: lines.filter((_, i) => i !== at).join(''), description: `line ${at + 1} dropped` };
  if (kind === 1 && lines.length > 0)
    return { text: [...lines.slice(0, at + 1), lines[at] ?? '', ...lines.slice(at + 1)].join(''), description: `line ${at + 1} doubled` };
  if (kind === 2 && lines.length > 1) {
    const other = rng.int(0, lines.length);
    const swapped = [...lines];
    [swapped[at], swapped[other]] = [swapped[other] as string, swapped[at] as string];
    return { text: swapped.join(''), description: `lines ${at + 1} and ${other + 1} swapped` };
  }
  const added = rng.pick([
    'model_checkpoint_path: "ckpt-9"\n',
    'all_model_checkpoint_paths: "ckpt-9"\n',
    'all_model_checkpoint_timestamps: 1700000900.5\n',
    'last_preserved_timestamp: 0\n',
    'all_model_checkpoint_paths: "../outside/ckpt-9"\n',
  ]);
  return { text: [...lines.slice(0, at), added, ...lines.slice(at)].join(''), description: `a line added at ${at + 1}` };
}

function refusedBy(error: unknown, file: string): StateCaseOutcome {
  if (!(error instanceof CheckpointFormatError)) return { problem: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` };
  if (!error.message.includes(file)) return { problem: `the error does not name the file it is about: ${error.message}` };
  return { outcome: 'refused', message: error.message };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What the file says after `removed` left it, by TensorFlow's rules; null: no file. */
function expectedAfterRemoval(state: CheckpointState, names: readonly string[], removed: ReadonlySet<string>, latest: string | null): CheckpointState | null {
  const paths = state.allModelCheckpointPaths;
  const times = state.allModelCheckpointTimestamps;
  const kept = names.flatMap((name, i) => (removed.has(name) ? [] : [i]));
  // CheckpointManager pairs paths and timestamps in order: each path leaves with the timestamp at its index.
  const timestamps = [...kept.filter((i) => i < times.length).map((i) => times[i] as number), ...times.slice(paths.length)];
  const after = { ...state, allModelCheckpointPaths: kept.map((i) => paths[i] as string), allModelCheckpointTimestamps: timestamps };
  if (latest === null || !removed.has(latest)) return after;
  if (kept.length === 0) return null;
  return { ...after, modelCheckpointPath: paths[kept.at(-1) as number] as string };
}

/** Whether every line of `before` that stays is in `after`, in order and byte for byte (the model line too, unless the latest changed). */
function keptLines(before: readonly StateLine[], after: readonly StateLine[], leaves: (line: StateLine) => boolean, latestChanged: boolean): string | null {
  const kept = before.filter((line) => !leaves(line));
  if (kept.length !== after.length) return `${after.length} lines after the removal, not the ${kept.length} kept`;
  for (const [i, line] of kept.entries()) {
    if (latestChanged && line.field === 'model_checkpoint_path') continue;
    if ((after[i] as StateLine).text !== line.text) return `line ${i + 1} changed from a kept line`;
  }
  return null;
}

function checkRemoval(text: string, lines: readonly StateLine[], file: string, dir: string, rng: Rng): string | null {
  const state = stateOfLines(lines);
  const names = state.allModelCheckpointPaths.map((p) => stateEntry(dir, p).name);
  const latest = state.modelCheckpointPath === null ? null : stateEntry(dir, state.modelCheckpointPath).name;
  const removed = new Set(names.filter(() => rng.chance(0.4)));
  if (latest !== null && rng.chance(0.3)) removed.add(latest);
  const edit = removeFromState(text, removed, { dir, file });
  const expected = expectedAfterRemoval(state, names, removed, latest);
  if (edit.text === null) return expected === null ? null : 'the state file would go, though a checkpoint remains to name';
  if (expected === null) return 'the state file stays, though no checkpoint remains to name';
  const after = parseStateLines(edit.text, file);
  if (!same(stateOfLines(after), expected))
    return `after removing ${[...removed].join(', ')} the file says ${JSON.stringify(stateOfLines(after))}, not ${JSON.stringify(expected)}`;
  const leaving = new Set(names.flatMap((name, i) => (removed.has(name) ? [i] : [])));
  let pathIndex = -1;
  let timeIndex = -1;
  const leaves = (line: StateLine): boolean =>
    line.field === 'all_model_checkpoint_paths'
      ? leaving.has((pathIndex += 1))
      : line.field === 'all_model_checkpoint_timestamps'
        ? leaving.has((timeIndex += 1))
        : false;
  return keptLines(lines, after, leaves, edit.latestChanged);
}

function checkSetLatest(text: string, lines: readonly StateLine[], file: string, dir: string, rng: Rng): string | null {
  const state = stateOfLines(lines);
  const names = state.allModelCheckpointPaths.map((p) => stateEntry(dir, p).name);
  const chosen = names.length > 0 && rng.chance(0.8) ? rng.pick(names) : `ckpt-new-${rng.int(0, 100)}`;
  const times = state.allModelCheckpointTimestamps;
  const pairable = times.length === 0 || times.length === names.length;
  let edit;
  try {
    edit = setLatestInState(text, chosen, { dir, file, timestamp: 1700009999.5 });
  } catch (error) {
    if (error instanceof CheckpointFormatError && !pairable && error.message.includes(file)) return null;
    throw error;
  }
  if (!pairable) return 'Make latest went ahead, though the timestamps cannot be paired with the paths';
  const after = stateOfLines(parseStateLines(edit.text as string, file));
  const afterNames = after.allModelCheckpointPaths.map((p) => stateEntry(dir, p).name);
  const others = names.flatMap((name, i) => (name === chosen ? [] : [i]));
  // Saver._RecordLastCheckpoint: every copy leaves, one goes to the end; the timestamp moves with the last copy.
  const last = names.lastIndexOf(chosen);
  const expectedTimes = times.length === 0 ? [] : [...others.map((i) => times[i] as number), last >= 0 ? (times[last] as number) : 1700009999.5];
  if (after.modelCheckpointPath === null || stateEntry(dir, after.modelCheckpointPath).name !== chosen)
    return `Make latest of ${chosen}: the latest is ${after.modelCheckpointPath}`;
  if (!same(afterNames, [...others.map((i) => names[i]), chosen])) return `Make latest of ${chosen}: the list is ${afterNames.join(', ')}`;
  if (!same(after.allModelCheckpointTimestamps, expectedTimes))
    return `Make latest of ${chosen}: the timestamps are ${after.allModelCheckpointTimestamps.join(', ')}`;
  if (after.lastPreservedTimestamp !== state.lastPreservedTimestamp) return 'Make latest changed last_preserved_timestamp';
  return null;
}

function checkProblems(lines: readonly StateLine[], dir: string, rng: Rng): string | null {
  const state = stateOfLines(lines);
  const present = state.allModelCheckpointPaths.map((p) => stateEntry(dir, p).name).filter(() => rng.chance(0.5));
  const problems = stateProblems(state, present, dir);
  if (problems.unlisted.length > 0) return 'stateProblems calls a listed checkpoint unlisted';
  if (problems.missing.some((name) => present.includes(name))) return 'stateProblems calls a present checkpoint missing';
  return null;
}

/** One case: the state file `file` in `dir`, whose (mutated) bytes are `bytes`; the lines may be changed further here. */
export function stateFileCase(dir: string, file: string, bytes: Buffer, rng: Rng): StateCaseOutcome {
  let text: string;
  let description: string | null;
  let lines: StateLine[];
  try {
    ({ text, description } = mutateLines(decodeStateFile(bytes, file), rng));
    writeFileSync(file, text);
    lines = parseStateLines(text, file);
  } catch (error) {
    return refusedBy(error, file);
  }
  const said = description ?? 'no line changed';
  try {
    const problem = checkRemoval(text, lines, file, dir, rng) ?? checkSetLatest(text, lines, file, dir, rng) ?? checkProblems(lines, dir, rng);
    if (problem !== null) return { problem: `${said}: ${problem}` };
  } catch (error) {
    const outcome = refusedBy(error, file);
    return { problem: `${said}: ${'problem' in outcome ? outcome.problem : `refused a file it had parsed: ${outcome.message ?? ''}`}` };
  }
  return { outcome: 'read', message: said };
}
