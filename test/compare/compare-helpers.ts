// Files for the comparison tests, written here byte by byte (not by the program's own encoder),
// and the figures a comparison should give, computed the plain way.
import fs from 'node:fs';
import path from 'node:path';

export interface RawTensor {
  readonly name: string;
  readonly dtype: 'F32' | 'F64' | 'F16' | 'I64' | 'BF16' | 'U8';
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

const SIZES = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, U8: 1 } as const;

/** IEEE half from a number that is exactly representable (the tests use small dyadic values). */
function half(value: number): number {
  const scratch = new DataView(new ArrayBuffer(4));
  scratch.setFloat32(0, value, true);
  const bits = scratch.getUint32(0, true);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const fraction = (bits >>> 13) & 0x3ff;
  if (value === 0) return sign;
  if (!Number.isFinite(value)) return sign | 0x7c00 | (Number.isNaN(value) ? 0x200 : 0);
  return sign | (exponent << 10) | fraction;
}

function encode(tensor: RawTensor): Buffer {
  const size = SIZES[tensor.dtype];
  const out = Buffer.alloc(tensor.values.length * size);
  tensor.values.forEach((v, i) => {
    if (tensor.dtype === 'F32') out.writeFloatLE(v, i * 4);
    else if (tensor.dtype === 'F64') out.writeDoubleLE(v, i * 8);
    else if (tensor.dtype === 'F16') out.writeUInt16LE(half(v), i * 2);
    else if (tensor.dtype === 'BF16') out.writeUInt16LE(Buffer.from(new Float32Array([v]).buffer).readUInt32LE(0) >>> 16, i * 2);
    else if (tensor.dtype === 'I64') out.writeBigInt64LE(BigInt(v), i * 8);
    else out.writeUInt8(v, i);
  });
  return out;
}

/** A .safetensors file: u64 header length, the JSON header, then the tensors' bytes in order. */
export function writeSafetensorsFile(file: string, tensors: readonly RawTensor[]): string {
  const header: Record<string, unknown> = {};
  const payloads: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = encode(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    payloads.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...payloads]));
  return file;
}

export interface Expected {
  l2A: number;
  l2B: number;
  l2Diff: number;
  maxAbsDiff: number;
  cosine: number | null;
  relChange: number | null;
  nanCount: number;
  infCount: number;
}

/** The figures over positions where both values are finite, as the contract defines them. */
export function expectedFigures(a: readonly number[], b: readonly number[]): Expected {
  let sa = 0;
  let sb = 0;
  let sd = 0;
  let dot = 0;
  let max = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    for (const v of [x, y]) {
      if (Number.isNaN(v)) nan++;
      else if (!Number.isFinite(v)) inf++;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    sa += x * x;
    sb += y * y;
    sd += (x - y) ** 2;
    dot += x * y;
    max = Math.max(max, Math.abs(x - y));
  }
  const l2A = Math.sqrt(sa);
  const l2B = Math.sqrt(sb);
  const l2Diff = Math.sqrt(sd);
  return {
    l2A,
    l2B,
    l2Diff,
    maxAbsDiff: max,
    cosine: l2A > 0 && l2B > 0 ? dot / (l2A * l2B) : null,
    relChange: l2A > 0 ? l2Diff / l2A : l2Diff === 0 ? 0 : null,
    nanCount: nan,
    infCount: inf,
  };
}
