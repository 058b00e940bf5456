// The value of a scalar summary written by TF2 (`tf.summary.scalar`): a TensorProto of rank 0 and
// a numeric dtype, its one element either in `tensor_content` (raw little-endian bytes, as TF
// writes it) or in the typed `*_val` field of its dtype. TensorBoard's data server takes rank-0
// tensors only (data_compat.rs `tensor_proto_to_scalar`: "Rank-3 tensor that happens to be of size
// 1: still invalid"); so do we, and widen its DT_FLOAT-only rule to every numeric dtype.
import { DT, TENSOR, TENSOR_SHAPE, WIRE } from './event-protos.js';
import { type ProtoCursor, WireError } from './proto-cursor.js';

/** Why a tensor under the scalars plugin is not one number (rare: an object is fine here). */
export class NotScalar {
  constructor(readonly why: string) {}
}

const ELEMENT_BYTES: ReadonlyMap<number, number> = new Map([
  [DT.FLOAT, 4],
  [DT.DOUBLE, 8],
  [DT.INT32, 4],
  [DT.UINT8, 1],
  [DT.INT16, 2],
  [DT.INT8, 1],
  [DT.INT64, 8],
  [DT.BFLOAT16, 2],
  [DT.UINT16, 2],
  [DT.HALF, 2],
  [DT.UINT32, 4],
  [DT.UINT64, 8],
]);

/** The typed field each dtype's values go in (tensor.proto's comments on each `*_val`). */
const VALUE_FIELD: ReadonlyMap<number, number> = new Map([
  [DT.FLOAT, TENSOR.floatVal],
  [DT.DOUBLE, TENSOR.doubleVal],
  [DT.INT32, TENSOR.intVal],
  [DT.UINT8, TENSOR.intVal],
  [DT.INT16, TENSOR.intVal],
  [DT.INT8, TENSOR.intVal],
  [DT.UINT16, TENSOR.intVal],
  [DT.INT64, TENSOR.int64Val],
  [DT.HALF, TENSOR.halfVal],
  [DT.BFLOAT16, TENSOR.halfVal],
  [DT.UINT32, TENSOR.uint32Val],
  [DT.UINT64, TENSOR.uint64Val],
]);

/** IEEE 754 binary16 bits as a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloatScratch = new DataView(new ArrayBuffer(4));
function bfloat16ToNumber(bits: number): number {
  bfloatScratch.setUint32(0, (bits & 0xffff) << 16);
  return bfloatScratch.getFloat32(0);
}

function fromContent(buf: Buffer, at: number, dtype: number): number {
  switch (dtype) {
    case DT.FLOAT:
      return buf.readFloatLE(at);
    case DT.DOUBLE:
      return buf.readDoubleLE(at);
    case DT.INT32:
      return buf.readInt32LE(at);
    case DT.UINT8:
      return buf[at] as number;
    case DT.INT16:
      return buf.readInt16LE(at);
    case DT.INT8:
      return buf.readInt8(at);
    case DT.INT64:
      return Number(buf.readBigInt64LE(at));
    case DT.UINT16:
      return buf.readUInt16LE(at);
    case DT.HALF:
      return halfToNumber(buf.readUInt16LE(at));
    case DT.BFLOAT16:
      return bfloat16ToNumber(buf.readUInt16LE(at));
    case DT.UINT32:
      return buf.readUInt32LE(at);
    default:
      return Number(buf.readBigUInt64LE(at));
  }
}

/** A typed value field's element count and first element, packed or not. */
interface ValueField {
  count: number;
  first: number;
}

/** The wire type an unpacked element of each value field has. */
function unpackedWire(field: number): number {
  return field === TENSOR.floatVal ? WIRE.fixed32 : field === TENSOR.doubleVal ? WIRE.fixed64 : WIRE.varint;
}

function readValueField(c: ProtoCursor, into: ValueField): void {
  const field = c.field;
  if (c.wire !== WIRE.bytes) {
    // One unpacked element: writers may emit repeated scalars either way, and parsers take both.
    if (c.wire !== unpackedWire(field)) return c.skip();
    const value = c.wire === WIRE.fixed32 ? c.float() : c.wire === WIRE.fixed64 ? c.double() : c.varint();
    if (into.count === 0) into.first = value;
    into.count += 1;
    return;
  }
  const inner = c.enter();
  const fixed = field === TENSOR.floatVal ? 4 : field === TENSOR.doubleVal ? 8 : 0;
  if (fixed > 0) {
    const length = inner.limit - inner.pos;
    if (length % fixed !== 0) throw new WireError(`packed field ${field} holds ${length} bytes, not a whole number of ${fixed}-byte values`, inner.pos);
    if (length > 0 && into.count === 0) into.first = fixed === 4 ? inner.float() : inner.double();
    into.count += length / fixed;
    return;
  }
  while (inner.pos < inner.limit) {
    const value = inner.varint();
    if (into.count === 0) into.first = value;
    into.count += 1;
  }
}

/** The tensor's rank, or -1 when it says its rank is unknown. */
function rankOf(c: ProtoCursor): number {
  const shape = c.enter();
  let rank = 0;
  while (shape.next()) {
    if (shape.field === TENSOR_SHAPE.unknownRank && shape.wire === WIRE.varint) {
      if (shape.varint() !== 0) return -1;
      continue;
    }
    if (shape.field === TENSOR_SHAPE.dim) rank += 1;
    shape.skip();
  }
  return rank;
}

/**
 * The bytes `tf.summary.scalar` writes before the value: dtype DT_FLOAT, an empty shape, 4 bytes
 * of tensor_content. Almost every scalar of every file is exactly this, and is read without parsing.
 */
const TF2_FLOAT_SCALAR = Buffer.from([
  (TENSOR.dtype << 3) | WIRE.varint,
  DT.FLOAT,
  (TENSOR.tensorShape << 3) | WIRE.bytes,
  0,
  (TENSOR.tensorContent << 3) | WIRE.bytes,
  4,
]);

/** The one number a rank-0 numeric TensorProto holds, or why it holds none. The cursor is over the TensorProto. */
export function scalarOfTensor(c: ProtoCursor): number | NotScalar {
  const buf = c.buf;
  if (c.limit - c.pos === TF2_FLOAT_SCALAR.length + 4) {
    let i = 0;
    while (i < TF2_FLOAT_SCALAR.length && buf[c.pos + i] === TF2_FLOAT_SCALAR[i]) i += 1;
    if (i === TF2_FLOAT_SCALAR.length) return buf.readFloatLE(c.pos + i);
  }
  return parseScalar(c);
}

function parseScalar(c: ProtoCursor): number | NotScalar {
  let dtype = 0;
  let rank = 0;
  let contentStart = -1;
  let contentEnd = -1;
  // Made only for the rare tensor that uses the typed fields rather than tensor_content.
  let values: Map<number, ValueField> | null = null;
  while (c.next()) {
    const field = c.field;
    if (field === TENSOR.dtype && c.wire === WIRE.varint) dtype = c.varint32();
    else if (field === TENSOR.tensorShape && c.wire === WIRE.bytes) rank = rankOf(c);
    else if (field === TENSOR.tensorContent && c.wire === WIRE.bytes) {
      contentStart = c.start;
      contentEnd = c.end;
      c.skip();
    } else if (field >= TENSOR.floatVal && field <= TENSOR.uint64Val && field !== TENSOR.stringVal) {
      values ??= new Map();
      let into = values.get(field);
      if (!into) values.set(field, (into = { count: 0, first: NaN }));
      readValueField(c, into);
    } else c.skip();
  }
  return pickScalar(c.buf, dtype, rank, contentStart, contentEnd, values);
}

function pickScalar(
  buf: Buffer,
  dtype: number,
  rank: number,
  contentStart: number,
  contentEnd: number,
  values: ReadonlyMap<number, ValueField> | null,
): number | NotScalar {
  const size = ELEMENT_BYTES.get(dtype);
  if (size === undefined) return new NotScalar(`holds a tensor of DataType ${dtype}, not a number`);
  if (rank !== 0) return new NotScalar(rank < 0 ? 'holds a tensor of unknown rank, not a scalar' : `holds a tensor of rank ${rank}, not a scalar`);
  if (contentEnd > contentStart) {
    if (contentEnd - contentStart !== size) return new NotScalar(`holds ${contentEnd - contentStart} bytes of tensor content for one ${size}-byte element`);
    return fromContent(buf, contentStart, dtype);
  }
  const typed = values?.get(VALUE_FIELD.get(dtype) as number);
  if (!typed || typed.count === 0) return new NotScalar('holds a scalar tensor with no value in it');
  if (typed.count !== 1) return new NotScalar(`holds ${typed.count} values in a rank-0 tensor`);
  if (dtype === DT.HALF) return halfToNumber(typed.first & 0xffff);
  if (dtype === DT.BFLOAT16) return bfloat16ToNumber(typed.first);
  if (dtype === DT.UINT64 && typed.first < 0) return typed.first + 2 ** 64;
  return typed.first;
}
