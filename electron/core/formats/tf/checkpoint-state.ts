// The `checkpoint` file beside TensorFlow checkpoints: a text-format CheckpointState
// (python/training/checkpoint_state.proto), written by checkpoint_management.py
// (update_checkpoint_state_internal). It names the latest prefix and every kept one, oldest first.
import { CheckpointFormatError } from '../../base/errors.js';

export interface CheckpointState {
  readonly modelCheckpointPath: string | null;
  readonly allModelCheckpointPaths: readonly string[];
  /** Unix seconds, parallel to allModelCheckpointPaths (TF2 CheckpointManager writes them; TF1 Saver does not). */
  readonly allModelCheckpointTimestamps: readonly number[];
  readonly lastPreservedTimestamp: number | null;
}

export const CHECKPOINT_STATE_FILE = 'checkpoint';

const STRING_FIELDS = new Set(['model_checkpoint_path', 'all_model_checkpoint_paths']);
const NUMBER_FIELDS = new Set(['all_model_checkpoint_timestamps', 'last_preserved_timestamp']);

/**
 * Until the whole file has parsed, it is not known to be a CheckpointState (another program's file
 * may be named `checkpoint`): its errors name the line and what is wrong with it, never its text.
 */
export function parseCheckpointState(text: string, file: string): CheckpointState {
  let modelCheckpointPath: string | null = null;
  const paths: string[] = [];
  const timestamps: number[] = [];
  let lastPreserved: number | null = null;
  let offset = 0;
  for (const [index, line] of text.split('\n').entries()) {
    const lineOffset = offset;
    const fail = (problem: string): never => {
      throw new CheckpointFormatError(file, `line ${index + 1}: ${problem}`, lineOffset);
    };
    offset += Buffer.byteLength(line, 'utf8') + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$/.exec(trimmed);
    if (match === null) return fail('not "field: value"');
    const [, field = '', rawValue = ''] = match;
    const value = rawValue.trim();
    if (STRING_FIELDS.has(field)) {
      const parsed = parseQuoted(value, field, fail);
      if (field === 'model_checkpoint_path') modelCheckpointPath = parsed;
      else paths.push(parsed);
    } else if (NUMBER_FIELDS.has(field)) {
      const number = Number(value);
      if (value === '' || !Number.isFinite(number)) fail(`${field} is not a number`);
      if (field === 'last_preserved_timestamp') lastPreserved = number;
      else timestamps.push(number);
    } else {
      fail(`a field that a CheckpointState does not have (it has ${[...STRING_FIELDS, ...NUMBER_FIELDS].join(', ')})`);
    }
  }
  return { modelCheckpointPath, allModelCheckpointPaths: paths, allModelCheckpointTimestamps: timestamps, lastPreservedTimestamp: lastPreserved };
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

/** A text-format string literal: double or single quotes, C escapes (\n, \", \\, \NNN octal, \xHH), UTF-8 bytes. */
function parseQuoted(value: string, field: string, fail: (problem: string) => never): string {
  const quote = value[0];
  if ((quote !== '"' && quote !== "'") || value.length < 2 || value[value.length - 1] !== quote) {
    return fail(`${field} is not a quoted string`);
  }
  const body = Buffer.from(value.slice(1, -1), 'utf8');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (byte !== 92) {
      out.push(byte);
      continue;
    }
    const next = String.fromCharCode(body[++i] ?? 0);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) out.push(simple);
    else if (next >= '0' && next <= '7') {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(String.fromCharCode(body[i + 1] ?? 0))) digits += String.fromCharCode(body[++i] as number);
      out.push(parseInt(digits, 8) & 0xff);
    } else if (next === 'x') {
      let digits = '';
      while (digits.length < 2 && /[0-9a-fA-F]/.test(String.fromCharCode(body[i + 1] ?? 0))) digits += String.fromCharCode(body[++i] as number);
      if (digits === '') fail(`${field} has \\x without hex digits`);
      out.push(parseInt(digits, 16));
    } else fail(`${field} has an unknown escape`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(out));
  } catch {
    return fail(`${field} is not valid UTF-8`);
  }
}

/** As protobuf's text_format writes strings: printable ASCII as is, quotes and backslashes escaped, other bytes in octal. */
function quote(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x27) out += "\\'";
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

export function formatCheckpointState(state: CheckpointState): string {
  const lines: string[] = [];
  if (state.modelCheckpointPath !== null) lines.push(`model_checkpoint_path: ${quote(state.modelCheckpointPath)}`);
  for (const path of state.allModelCheckpointPaths) lines.push(`all_model_checkpoint_paths: ${quote(path)}`);
  for (const time of state.allModelCheckpointTimestamps) lines.push(`all_model_checkpoint_timestamps: ${time}`);
  if (state.lastPreservedTimestamp !== null) lines.push(`last_preserved_timestamp: ${state.lastPreservedTimestamp}`);
  return `${lines.join('\n')}\n`;
}
