// safetensors dtype names (huggingface/safetensors, safetensors/src/tensor.rs `enum Dtype`) with
// their element sizes in bits. Sub-byte float formats are listed so that foreign files parse;
// their byte counts must still come out whole (see `tensorByteLength`).
export const DTYPE_BITS = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const;

export type Dtype = keyof typeof DTYPE_BITS;

export function isDtype(value: string): value is Dtype {
  return Object.hasOwn(DTYPE_BITS, value);
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Byte length of a tensor, or null when the bit count is not a whole number of bytes. */
export function tensorByteLength(dtype: Dtype, shape: readonly number[]): number | null {
  const bits = elementCount(shape) * DTYPE_BITS[dtype];
  return bits % 8 === 0 ? bits / 8 : null;
}

/** Alignment in bytes used to order tensors so that each starts on a multiple of its size. */
export function dtypeAlignment(dtype: Dtype): number {
  return Math.max(1, Math.floor(DTYPE_BITS[dtype] / 8));
}
