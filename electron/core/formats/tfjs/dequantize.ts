// Turning a quantized TF.js weight's stored bytes back into the values tfjs itself would load
// (tfjs-core/src/io/io_utils.ts decodeWeight): uint8/uint16 as q·scale + min (rounded for int32
// weights), float16 widened to float32. Each value is computed in double and stored once into a
// float32, exactly as tfjs does, so the result is bit for bit what tf.loadLayersModel sees.

export interface Dequantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly scale?: number;
  readonly min?: number;
}

/** A half-precision value's float32 bit pattern (exact: every half is a float32). */
function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // A subnormal half is a normal float32: shift the mantissa up until its leading 1 is implicit.
  let e = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e -= 1;
  }
  return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

/** Little-endian float32 (or int32 for int32 weights) values of a quantized weight. */
export function dequantize(stored: Uint8Array, quantization: Dequantization, logical: 'float32' | 'int32'): Uint8Array {
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const width = quantization.dtype === 'uint8' ? 1 : 2;
  const count = Math.floor(stored.byteLength / width);
  const out = new Uint8Array(count * 4);
  const outView = new DataView(out.buffer);
  if (quantization.dtype === 'float16') {
    for (let i = 0; i < count; i += 1) outView.setUint32(i * 4, halfToFloatBits(view.getUint16(i * 2, true)), true);
    return out;
  }
  const scale = quantization.scale ?? 1;
  const min = quantization.min ?? 0;
  for (let i = 0; i < count; i += 1) {
    const q = width === 1 ? view.getUint8(i) : view.getUint16(i * 2, true);
    const value = q * scale + min;
    if (logical === 'int32') outView.setInt32(i * 4, Math.round(value), true);
    else outView.setFloat32(i * 4, value, true);
  }
  return out;
}
