// The shape nearly every scalar event has, read without the general parser. TensorFlow writes
// its fields in field-number order, so `tf.summary.scalar` (TF2, Keras, our writer) gives
//   09 <wall_time f64> [10 <step varint>] 2a <len> { 0a <len> { 0a <len> <tag>
//     42 0a { 08 01 12 00 22 04 <f32> } 4a 0b { 0a 09 { 0a 07 "scalars" } } } … }
// and TF1's `simple_value` gives `0a <len> <tag> 15 <f32>` for each value. This checks those bytes
// exactly and reads the numbers; anything else (another field, another order, a long tag, another
// plugin for a tag) returns false having kept nothing, and the general parser (event-decoder.ts)
// reads the record. The reader's speed target (a quarter of fs.readFile's) is met only this way:
// the general parser costs a cursor per nested message and a test per field.
import { DT, EVENT, PLUGIN, PLUGIN_DATA, SUMMARY, SUMMARY_METADATA, SUMMARY_VALUE, TENSOR, WIRE } from './event-protos.js';

export interface CanonicalPoint {
  readonly tag: string;
  readonly step: number;
  readonly wallTime: number;
  readonly value: number;
}

/** What the reader needs of the decoder's state. */
export interface CanonicalTarget {
  tagText(buf: Buffer, start: number, end: number): string;
  /** The plugin the tag's first metadata named, if one did. */
  pluginOf(tag: string): string | undefined;
  setPlugin(tag: string, plugin: string): void;
}

const key = (field: number, wire: number): number => (field << 3) | wire;

const WALL_TIME_KEY = key(EVENT.wallTime, WIRE.fixed64);
const STEP_KEY = key(EVENT.step, WIRE.varint);
const SUMMARY_KEY = key(EVENT.summary, WIRE.bytes);
const VALUE_KEY = key(SUMMARY.value, WIRE.bytes);
const TAG_KEY = key(SUMMARY_VALUE.tag, WIRE.bytes);
const SIMPLE_VALUE_KEY = key(SUMMARY_VALUE.simpleValue, WIRE.fixed32);

/** Summary.Value.tensor of a rank-0 DT_FLOAT with 4 bytes of content, up to the content. */
const FLOAT_TENSOR = Buffer.from([
  key(SUMMARY_VALUE.tensor, WIRE.bytes),
  10,
  key(TENSOR.dtype, WIRE.varint),
  DT.FLOAT,
  key(TENSOR.tensorShape, WIRE.bytes),
  0,
  key(TENSOR.tensorContent, WIRE.bytes),
  4,
]);
/** Summary.Value.metadata naming the scalars plugin, and nothing else. */
const SCALARS_METADATA = Buffer.from([
  key(SUMMARY_VALUE.metadata, WIRE.bytes),
  2 + 2 + PLUGIN.scalars.length,
  key(SUMMARY_METADATA.pluginData, WIRE.bytes),
  2 + PLUGIN.scalars.length,
  key(PLUGIN_DATA.pluginName, WIRE.bytes),
  PLUGIN.scalars.length,
  ...Buffer.from(PLUGIN.scalars),
]);
const TENSOR_VALUE_BYTES = FLOAT_TENSOR.length + 4 + SCALARS_METADATA.length;

function matches(buf: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i += 1) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/** A varint of at most 4 bytes at `at` (lengths, and steps below 2^28) into `out` as value and next position; false for anything longer. */
function shortVarint(buf: Buffer, at: number, end: number, out: Int32Array): boolean {
  let value = 0;
  for (let i = 0; i < 4 && at + i < end; i += 1) {
    const byte = buf[at + i] as number;
    value |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      out[0] = value;
      out[1] = at + i + 1;
      return true;
    }
  }
  return false;
}

const scratch = new Int32Array(2);

/** Reads one Summary.Value at `at` (ending at `end`) into `target`; the position after it, or -1. */
function readValue(buf: Buffer, at: number, end: number, step: number, wallTime: number, points: CanonicalPoint[], target: CanonicalTarget): number {
  if (buf[at] !== TAG_KEY || !shortVarint(buf, at + 1, end, scratch)) return -1;
  const tagStart = scratch[1] as number;
  const tagEnd = tagStart + (scratch[0] as number);
  if (tagEnd + 5 > end) return -1;
  if (buf[tagEnd] === SIMPLE_VALUE_KEY && tagEnd + 5 === end) {
    // TensorBoard takes a simple_value as a scalar whatever the tag's metadata says (data_compat.rs).
    points.push({ tag: target.tagText(buf, tagStart, tagEnd), step, wallTime, value: buf.readFloatLE(tagEnd + 1) });
    return end;
  }
  if (tagEnd + TENSOR_VALUE_BYTES !== end || !matches(buf, tagEnd, FLOAT_TENSOR) || !matches(buf, tagEnd + FLOAT_TENSOR.length + 4, SCALARS_METADATA))
    return -1;
  const tag = target.tagText(buf, tagStart, tagEnd);
  const known = target.pluginOf(tag);
  if (known === undefined) target.setPlugin(tag, PLUGIN.scalars);
  else if (known !== PLUGIN.scalars) return -1;
  points.push({ tag, step, wallTime, value: buf.readFloatLE(tagEnd + FLOAT_TENSOR.length) });
  return end;
}

/** Reads the Event at `buf[start, end)` into `points` if it has the canonical shape; false (nothing kept) if not. */
export function readCanonicalScalars(buf: Buffer, start: number, end: number, points: CanonicalPoint[], target: CanonicalTarget): boolean {
  if (buf[start] !== WALL_TIME_KEY || start + 9 >= end) return false;
  const wallTime = buf.readDoubleLE(start + 1);
  // A NaN wall time is the general parser's to report.
  if (Number.isNaN(wallTime)) return false;
  let at = start + 9;
  let step = 0;
  if (buf[at] === STEP_KEY) {
    if (!shortVarint(buf, at + 1, end, scratch)) return false;
    step = scratch[0] as number;
    at = scratch[1] as number;
  }
  if (buf[at] !== SUMMARY_KEY || !shortVarint(buf, at + 1, end, scratch) || (scratch[1] as number) + (scratch[0] as number) !== end) return false;
  at = scratch[1] as number;
  const kept = points.length;
  while (at < end) {
    const valueEnd = buf[at] === VALUE_KEY && shortVarint(buf, at + 1, end, scratch) ? (scratch[1] as number) + (scratch[0] as number) : -1;
    if (valueEnd < 0 || valueEnd > end || readValue(buf, scratch[1] as number, valueEnd, step, wallTime, points, target) < 0) {
      points.length = kept;
      return false;
    }
    at = valueEnd;
  }
  return true;
}
