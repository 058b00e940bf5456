// A tensor's bytes as numbers, chunk by chunk: little-endian, row-major, one dtype. Each chunk is
// decoded into a Float64Array (exact for every dtype listed: a float64 holds any float32, half,
// bfloat16 and 32-bit integer; 64-bit integers beyond 2^53 round, as they do in any chart).

/** What distributions can be computed of: the real numeric types. Complex and sub-byte floats are not. */
const ELEMENT_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type NumericDtype = keyof typeof ELEMENT_BYTES;

export function isNumericDtype(dtype: string): dtype is NumericDtype {
  return Object.hasOwn(ELEMENT_BYTES, dtype);
}

export function elementBytes(dtype: NumericDtype): number {
  return ELEMENT_BYTES[dtype];
}

/** IEEE half precision (binary16) to a number; exact. */
function halfToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

function bfloat16ToNumber(bits: number): number {
  bf16Scratch.setUint32(0, bits << 16);
  return bf16Scratch.getFloat32(0);
}

/** Decodes whole elements of `bytes` (its length a multiple of the element size) into `out`'s first entries; returns how many. */
export function decodeValues(dtype: NumericDtype, bytes: Uint8Array, out: Float64Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = Math.floor(bytes.byteLength / ELEMENT_BYTES[dtype]);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i += 1) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F32':
      for (let i = 0; i < count; i += 1) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i += 1) out[i] = halfToNumber(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i += 1) out[i] = bfloat16ToNumber(view.getUint16(i * 2, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i += 1) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'U64':
      for (let i = 0; i < count; i += 1) out[i] = Number(view.getBigUint64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i += 1) out[i] = view.getInt32(i * 4, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i += 1) out[i] = view.getUint32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i += 1) out[i] = view.getInt16(i * 2, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i += 1) out[i] = view.getUint16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i += 1) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i += 1) out[i] = view.getUint8(i);
      break;
  }
  return count;
}

/** Callers' chunks need not end on an element: this carries a partial element over to the next chunk. */
export class ValueStream {
  private carry = new Uint8Array(0);
  private values = new Float64Array(0);
  private readonly width: number;

  constructor(
    private readonly dtype: NumericDtype,
    private readonly visit: (values: Float64Array, count: number) => void,
  ) {
    this.width = ELEMENT_BYTES[dtype];
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    const whole = bytes.length - (bytes.length % this.width);
    this.carry = bytes.slice(whole);
    const count = whole / this.width;
    if (count === 0) return;
    if (this.values.length < count) this.values = new Float64Array(count);
    decodeValues(this.dtype, bytes.subarray(0, whole), this.values);
    this.visit(this.values, count);
  }

  /** Bytes left over that make no whole element: a tensor's size disagrees with its dtype. */
  get leftover(): number {
    return this.carry.length;
  }
}
