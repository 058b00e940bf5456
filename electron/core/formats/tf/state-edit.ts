// The `checkpoint` state file changed as TensorFlow would have left it, line by line: every line we
// do not change stays byte for byte (spacing, comments, quotes, escapes, absolute paths), and the
// lines we write are written as text_format.MessageToString writes them. Pure functions over text:
// the caller reads the file, replaces it atomically, keeps the old one for undo, and checks first
// that no other program is writing the folder.
//
// What TensorFlow does, from python/checkpoint/checkpoint_management.py:
//  - all_model_checkpoint_paths is oldest first and ends with the latest; the timestamps are a
//    parallel list: CheckpointManager.__init__ pairs them with zip(all_paths, all_timestamps), in
//    order, so a path leaves together with the timestamp at its index.
//  - get_checkpoint_state raises ValueError for a file without model_checkpoint_path (so do
//    tf.train.latest_checkpoint and a new CheckpointManager), and returns None when there is no
//    file: with no checkpoint left to name, the file goes rather than being left empty.
//  - Saver._RecordLastCheckpoint and CheckpointManager's save both remove a path from the list and
//    append it at the end when it becomes the latest again: "Make latest" does the same, keeping
//    its timestamp.
import { CheckpointFormatError } from '../../base/errors.js';
import { shown } from '../../base/describe-value.js';
import { type StateLine, numberFieldLine, parseStateLines, stringFieldLine } from './checkpoint-state.js';
import { stateEntry } from './state-paths.js';

export interface StateEditOptions {
  /** The folder holding the state file: relative paths in it are resolved against it. */
  readonly dir: string;
  /** The state file, named in errors. */
  readonly file: string;
}

export interface StateEdit {
  /**
   * The file's new text; null when no checkpoint is left for it to name. Then the file should go
   * (to the trash, with the checkpoints): TensorFlow cannot read a state file without a latest, and
   * without one latest_checkpoint returns None and a new CheckpointManager starts afresh.
   */
  readonly text: string | null;
  /** The latest as the new file names it (folder-relative), or null. */
  readonly latest: string | null;
  /** Whether model_checkpoint_path was rewritten. */
  readonly latestChanged: boolean;
  /** Things the user should know: paths matched by name only, a latest whose files are missing. */
  readonly notes: readonly string[];
}

interface Entry {
  readonly line: number;
  readonly name: string;
  readonly value: string;
}

interface ParsedState {
  readonly lines: StateLine[];
  readonly paths: Entry[];
  /** Line numbers of the timestamps, in order. */
  readonly timestamps: number[];
  /** The line whose model_checkpoint_path TensorFlow uses (the last one), or -1. */
  readonly model: number;
  readonly notes: string[];
}

function parse(text: string, { dir, file }: StateEditOptions): ParsedState {
  const lines = parseStateLines(text, file);
  const paths: Entry[] = [];
  const timestamps: number[] = [];
  const notes: string[] = [];
  let model = -1;
  lines.forEach((line, index) => {
    if (line.field === 'all_model_checkpoint_paths') {
      const entry = stateEntry(dir, line.value as string);
      if (entry.how === 'basename')
        notes.push(`The checkpoint file lists ${shown(line.value as string)}, a path outside this folder; it is taken to mean ${shown(entry.name)} here.`);
      paths.push({ line: index, name: entry.name, value: line.value as string });
    } else if (line.field === 'all_model_checkpoint_timestamps') timestamps.push(index);
    else if (line.field === 'model_checkpoint_path') model = index;
  });
  return { lines, paths, timestamps, model, notes };
}

function modelName(state: ParsedState, dir: string): string | null {
  const line = state.lines[state.model];
  return line === undefined ? null : stateEntry(dir, line.value as string).name;
}

/** The file's line ending for lines we add: CRLF if its lines end so, else LF. */
function endingOf(lines: readonly StateLine[]): string {
  return lines.some((l) => l.ending === '\r\n') && !lines.some((l) => l.ending === '\n') ? '\r\n' : '\n';
}

/** The lines as text; a line that was last without a line end (or with a bare CR) and no longer is gets one. */
function render(lines: readonly StateLine[], ending: string): string {
  return lines
    .map((line, i) => line.text + (i === lines.length - 1 || line.ending.endsWith('\n') ? line.ending : line.ending === '\r' ? '\r\n' : ending))
    .join('');
}

function newLine(text: string, field: StateLine['field'], value: string | number, ending: string): StateLine {
  return { text, ending, field, value, rawNonAscii: false };
}

/** Whether the file writes non-ASCII characters as they are (newer protobuf) rather than in octal. */
function writesUtf8(lines: readonly StateLine[]): boolean {
  return lines.some((l) => l.rawNonAscii);
}

/**
 * The state file after the checkpoints `names` (folder-relative prefixes) were deleted: their
 * all_model_checkpoint_paths lines go with the timestamps at the same places in the timestamp list;
 * if model_checkpoint_path named one of them, it names the newest remaining entry (the last in the
 * list; with `present`, the last whose checkpoint is in the folder).
 */
export function removeFromState(text: string, names: Iterable<string>, options: StateEditOptions & { readonly present?: Iterable<string> }): StateEdit {
  const state = parse(text, options);
  const removed = new Set(names);
  const drop = new Set<number>();
  state.paths.forEach((entry, index) => {
    if (!removed.has(entry.name)) return;
    drop.add(entry.line);
    const timestamp = state.timestamps[index];
    if (timestamp !== undefined) drop.add(timestamp);
  });
  const latest = modelName(state, options.dir);
  const notes = [...state.notes];
  if (latest === null || !removed.has(latest)) {
    const lines = state.lines.filter((_, i) => !drop.has(i));
    return { text: render(lines, endingOf(state.lines)), latest, latestChanged: false, notes };
  }
  const remaining = state.paths.filter((entry) => !drop.has(entry.line));
  const present = options.present === undefined ? null : new Set(options.present);
  const newest = [...remaining].reverse().find((entry) => present === null || present.has(entry.name)) ?? remaining.at(-1);
  if (newest === undefined) return { text: null, latest: null, latestChanged: true, notes };
  if (present !== null && !present.has(newest.name))
    notes.push(
      `The checkpoint file now names ${shown(newest.name)} as the latest, but its files are not in the folder: tf.train.latest_checkpoint returns None.`,
    );
  const model = state.lines[state.model] as StateLine;
  const replaced = newLine(
    stringFieldLine('model_checkpoint_path', newest.value, writesUtf8(state.lines)),
    'model_checkpoint_path',
    newest.value,
    model.ending,
  );
  const lines = state.lines.flatMap((line, i) => (i === state.model ? [replaced] : drop.has(i) ? [] : [line]));
  return { text: render(lines, endingOf(state.lines)), latest: newest.name, latestChanged: true, notes };
}

export interface SetLatestOptions extends StateEditOptions {
  /**
   * Unix seconds to record for a checkpoint the file does not list yet, when the file records
   * timestamps (CheckpointManager's files): when its files were written.
   */
  readonly timestamp?: number;
}

/**
 * The state file after "Make latest" of `name` (a folder-relative prefix): model_checkpoint_path
 * names it, and its all_model_checkpoint_paths line moves (with its timestamp) to the end of the
 * list, every other copy of it leaving; a checkpoint the file does not list is added at the end.
 */
export function setLatestInState(text: string, name: string, options: SetLatestOptions): StateEdit {
  const state = parse(text, options);
  const { lines, paths, timestamps } = state;
  if (timestamps.length > 0 && timestamps.length !== paths.length) {
    throw new CheckpointFormatError(
      options.file,
      `lists ${paths.length} checkpoint paths but ${timestamps.length} timestamps; TensorFlow pairs them in order, so which time belongs to ${shown(name)} is unknown. The file is left as it is.`,
    );
  }
  const ending = endingOf(lines);
  const matching = paths.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.name === name);
  const chosen = matching.at(-1);
  const leaving = new Set(matching.flatMap(({ entry, index }) => [entry.line, ...(timestamps.length > 0 ? [timestamps[index] as number] : [])]));
  let pathLine: StateLine;
  let timestampLine: StateLine | null = null;
  if (chosen !== undefined) {
    pathLine = { ...(lines[chosen.entry.line] as StateLine), ending };
    if (timestamps.length > 0) timestampLine = { ...(lines[timestamps[chosen.index] as number] as StateLine), ending };
  } else {
    const value = newEntryValue(paths, name, options.dir);
    pathLine = newLine(stringFieldLine('all_model_checkpoint_paths', value, writesUtf8(lines)), 'all_model_checkpoint_paths', value, ending);
    if (timestamps.length > 0) {
      if (options.timestamp === undefined || !Number.isFinite(options.timestamp))
        throw new CheckpointFormatError(options.file, `records a time for each checkpoint, and none was given for ${shown(name)}`);
      timestampLine = newLine(
        numberFieldLine('all_model_checkpoint_timestamps', options.timestamp),
        'all_model_checkpoint_timestamps',
        options.timestamp,
        ending,
      );
    }
  }
  const value = pathLine.value as string;
  const modelLine = newLine(stringFieldLine('model_checkpoint_path', value, writesUtf8(lines)), 'model_checkpoint_path', value, ending);
  const latestChanged = modelName(state, options.dir) !== name || (lines[state.model]?.value as string | undefined) !== value;
  const kept = lines.map((line, i) => (leaving.has(i) ? null : i === state.model && latestChanged ? { ...modelLine, ending: line.ending } : line));
  const inserts = [{ at: insertionPoint(kept, 'all_model_checkpoint_paths', chosen?.entry.line), line: pathLine }];
  if (timestampLine !== null)
    inserts.push({ at: insertionPoint(kept, 'all_model_checkpoint_timestamps', chosen ? timestamps[chosen.index] : undefined), line: timestampLine });
  // The later place first, so that the earlier one's index still holds.
  for (const { at, line } of inserts.sort((a, b) => b.at - a.at)) kept.splice(at, 0, line);
  const out = kept.filter((line): line is StateLine => line !== null);
  if (state.model < 0) out.unshift(modelLine);
  return { text: render(out, ending), latest: name, latestChanged: latestChanged || state.model < 0, notes: state.notes };
}

/**
 * Where a line of `field` goes to end its list: after the last line of `field` still in `lines`
 * (null marks a line that leaves); with none left, where `fallback` was; else after the model line,
 * or last of all.
 */
function insertionPoint(lines: readonly (StateLine | null)[], field: StateLine['field'], fallback: number | undefined): number {
  const last = lines.findLastIndex((l) => l?.field === field);
  if (last >= 0) return last + 1;
  if (fallback !== undefined) return fallback;
  const model = lines.findLastIndex((l) => l?.field === 'model_checkpoint_path');
  return model >= 0 ? model + 1 : lines.length;
}

/** How a checkpoint the file does not list is written: as the others are (absolute in this folder, or relative). */
function newEntryValue(paths: readonly Entry[], name: string, dir: string): string {
  const absoluteHere = paths.length > 0 && paths.every((p) => p.value.startsWith('/') && stateEntry(dir, p.value).how === 'resolved');
  return absoluteHere ? `${dir.replace(/\/+$/, '')}/${name}` : name;
}
