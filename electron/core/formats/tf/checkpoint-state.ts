// The `checkpoint` file beside TensorFlow checkpoints: a text-format CheckpointState
// (python/training/checkpoint_state.proto, proto3: model_checkpoint_path = 1,
// all_model_checkpoint_paths = 2, all_model_checkpoint_timestamps = 3, last_preserved_timestamp = 4),
// written by checkpoint_management.py (update_checkpoint_state_internal) and read back there with
// text_format.Merge (get_checkpoint_state). It names the latest prefix and every kept one, oldest first.
import { CheckpointFormatError } from '../../base/errors.js';
import { parseDouble, pythonFloatRepr, quoteString, splitFieldLine, unescapeString } from './text-format.js';

export interface CheckpointState {
  readonly modelCheckpointPath: string | null;
  readonly allModelCheckpointPaths: readonly string[];
  /** Unix seconds, parallel to allModelCheckpointPaths (TF2 CheckpointManager writes them; TF1 Saver does not). */
  readonly allModelCheckpointTimestamps: readonly number[];
  readonly lastPreservedTimestamp: number | null;
}

export const CHECKPOINT_STATE_FILE = 'checkpoint';

export const STATE_FIELDS = ['model_checkpoint_path', 'all_model_checkpoint_paths', 'all_model_checkpoint_timestamps', 'last_preserved_timestamp'] as const;
export type StateField = (typeof STATE_FIELDS)[number];

const STRING_FIELDS: ReadonlySet<string> = new Set<StateField>(['model_checkpoint_path', 'all_model_checkpoint_paths']);

/** One line of a state file, as it is in the file, with the field it sets (none for a blank or comment line). */
export interface StateLine {
  /** The line without its ending. */
  readonly text: string;
  /** `\n`, `\r\n`, or '' for a last line without one. */
  readonly ending: string;
  readonly field: StateField | null;
  /** The string or number the line sets; null for a blank or comment line. */
  readonly value: string | number | null;
  /** Whether a string's quotes held characters past ASCII unescaped (newer protobuf writers print them so). */
  readonly rawNonAscii: boolean;
}

function isStateField(name: string): name is StateField {
  return (STATE_FIELDS as readonly string[]).includes(name);
}

/**
 * The file's lines, each with the field it sets. Until the whole file has parsed, it is not known
 * to be a CheckpointState (another program's file may be named `checkpoint`): its errors name the
 * line and what is wrong with it, never its text.
 */
export function parseStateLines(text: string, file: string): StateLine[] {
  const lines: StateLine[] = [];
  let offset = 0;
  const pieces = text.split('\n');
  for (const [index, piece] of pieces.entries()) {
    const last = index === pieces.length - 1;
    if (last && piece === '') break;
    const carriageReturn = piece.endsWith('\r');
    const line = carriageReturn ? piece.slice(0, -1) : piece;
    const ending = last ? (carriageReturn ? '\r' : '') : carriageReturn ? '\r\n' : '\n';
    const fail = (problem: string): never => {
      throw new CheckpointFormatError(file, `line ${index + 1}: ${problem}`, offset);
    };
    const parsed = parseLine(line, fail);
    lines.push({ text: line, ending, ...parsed });
    offset += Buffer.byteLength(piece, 'utf8') + 1;
  }
  return lines;
}

function parseLine(line: string, fail: (problem: string) => never): Omit<StateLine, 'text' | 'ending'> {
  const split = splitFieldLine(line);
  if (split.kind === 'blank') return { field: null, value: null, rawNonAscii: false };
  if (split.kind === 'bad') {
    if (split.field !== null && !isStateField(split.field)) fail(unknownField());
    return fail(split.problem);
  }
  const { field } = split;
  if (!isStateField(field)) return fail(unknownField());
  if (STRING_FIELDS.has(field)) {
    if (!split.quoted) return fail(`${field} is not a quoted string`);
    const unescaped = unescapeString(split.text);
    if ('problem' in unescaped) return fail(`${field} ${unescaped.problem}`);
    return { field, value: unescaped.value, rawNonAscii: split.rawNonAscii };
  }
  const number = split.quoted ? null : parseDouble(split.text);
  if (number === null) return fail(`${field} is not a number`);
  return { field, value: number, rawNonAscii: false };
}

function unknownField(): string {
  return `a field that a CheckpointState does not have (it has ${STATE_FIELDS.join(', ')})`;
}

/**
 * The state the lines set, as text_format.Merge reads it: repeated fields in order, and for a field
 * set twice that is not repeated, the last value.
 */
export function stateOfLines(lines: readonly StateLine[]): CheckpointState {
  let modelCheckpointPath: string | null = null;
  const paths: string[] = [];
  const timestamps: number[] = [];
  let lastPreserved: number | null = null;
  for (const { field, value } of lines) {
    if (field === 'model_checkpoint_path') modelCheckpointPath = value as string;
    else if (field === 'all_model_checkpoint_paths') paths.push(value as string);
    else if (field === 'all_model_checkpoint_timestamps') timestamps.push(value as number);
    else if (field === 'last_preserved_timestamp') lastPreserved = value as number;
  }
  return { modelCheckpointPath, allModelCheckpointPaths: paths, allModelCheckpointTimestamps: timestamps, lastPreservedTimestamp: lastPreserved };
}

/**
 * The file's bytes as text, exactly: TensorFlow reads it as UTF-8 (and fails on anything else), and
 * an edit keeps every line it does not change byte for byte, which only an exact decoding allows.
 */
export function decodeStateFile(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CheckpointFormatError(file, 'is not UTF-8 text, which a CheckpointState file is');
  }
}

export function parseCheckpointState(text: string, file: string): CheckpointState {
  return stateOfLines(parseStateLines(text, file));
}

/** A string field's line as TensorFlow writes it. */
export function stringFieldLine(field: 'model_checkpoint_path' | 'all_model_checkpoint_paths', value: string, asUtf8 = false): string {
  return `${field}: ${quoteString(value, asUtf8)}`;
}

/** A number field's line as TensorFlow writes it (Python's float repr). */
export function numberFieldLine(field: 'all_model_checkpoint_timestamps' | 'last_preserved_timestamp', value: number): string {
  return `${field}: ${pythonFloatRepr(value)}`;
}

/**
 * The state as text_format.MessageToString prints it: fields in number order, each on its own
 * line; proto3 leaves out an empty string and a zero double.
 */
export function formatCheckpointState(state: CheckpointState): string {
  const lines: string[] = [];
  if (state.modelCheckpointPath) lines.push(stringFieldLine('model_checkpoint_path', state.modelCheckpointPath));
  for (const path of state.allModelCheckpointPaths) lines.push(stringFieldLine('all_model_checkpoint_paths', path));
  for (const time of state.allModelCheckpointTimestamps) lines.push(numberFieldLine('all_model_checkpoint_timestamps', time));
  if (state.lastPreservedTimestamp) lines.push(numberFieldLine('last_preserved_timestamp', state.lastPreservedTimestamp));
  return `${lines.join('\n')}\n`;
}
