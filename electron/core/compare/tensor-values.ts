// Element values of a tensor's little-endian bytes, decoded a chunk at a time into float64, so a
// comparison needs a small scratch buffer whatever the tensor's size and dtype.
import { DTYPE_BITS } from '../base/dtypes.js';

/** The dtypes whose elements are numbers we can compare (sub-byte, 8-bit float and complex types are not). */
const COMPARABLE = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type ComparableDtype = (typeof COMPARABLE)[number];

export function isComparableDtype(dtype: string): dtype is ComparableDtype {
  return (COMPARABLE as readonly string[]).includes(dtype);
}

export function bytesPerElement(dtype: ComparableDtype): number {
  return DTYPE_BITS[dtype] / 8;
}

/** IEEE 754 half precision to a number (subnormals, infinities and NaN included). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

type Elements = { readonly length: number; readonly [index: number]: number | bigint };

/**
 * The bytes as a typed array of their dtype. Typed arrays read in the machine's byte order, which
 * is little-endian on every platform Node runs on, as the formats store them. A view needs its
 * start aligned to the element size; bytes that are not (a tensor inside a shared buffer) are copied.
 */
function typedView(dtype: ComparableDtype, data: Uint8Array): Elements {
  const size = bytesPerElement(dtype);
  // new Uint8Array(view) copies; a Buffer's slice() would not.
  const bytes = data.byteOffset % size === 0 ? data : new Uint8Array(data);
  const { buffer, byteOffset } = bytes;
  const length = bytes.byteLength / size;
  switch (dtype) {
    case 'BOOL':
    case 'U8':
      return bytes;
    case 'I8':
      return new Int8Array(buffer, byteOffset, length);
    case 'I16':
      return new Int16Array(buffer, byteOffset, length);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'I32':
      return new Int32Array(buffer, byteOffset, length);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'F32':
      return new Float32Array(buffer, byteOffset, length);
    case 'F64':
      return new Float64Array(buffer, byteOffset, length);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, length);
  }
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);

/** Reads elements [from, from + count) into out[0..count) as float64. */
export type ChunkDecoder = (from: number, count: number, out: Float64Array) => void;

export function chunkDecoder(dtype: ComparableDtype, data: Uint8Array): { readonly length: number; readonly decode: ChunkDecoder } {
  const view = typedView(dtype, data);
  if (dtype === 'F16') {
    const halves = view as Uint16Array;
    return { length: halves.length, decode: (from, count, out) => decodeEach(count, out, (i) => halfToNumber(halves[from + i] as number)) };
  }
  if (dtype === 'BF16') {
    const halves = view as Uint16Array;
    // bfloat16 is the upper half of a float32.
    const toNumber = (bits: number): number => {
      bf16Bits[0] = bits << 16;
      return bf16Scratch[0] as number;
    };
    return { length: halves.length, decode: (from, count, out) => decodeEach(count, out, (i) => toNumber(halves[from + i] as number)) };
  }
  if (dtype === 'I64' || dtype === 'U64') {
    const big = view as BigInt64Array | BigUint64Array;
    return { length: big.length, decode: (from, count, out) => decodeEach(count, out, (i) => Number(big[from + i] as bigint)) };
  }
  const numbers = view as Exclude<Elements, BigInt64Array | BigUint64Array> & { readonly [index: number]: number };
  return {
    length: numbers.length,
    decode: (from, count, out) => {
      for (let i = 0; i < count; i++) out[i] = numbers[from + i] as number;
    },
  };
}

function decodeEach(count: number, out: Float64Array, value: (i: number) => number): void {
  for (let i = 0; i < count; i++) out[i] = value(i);
}
