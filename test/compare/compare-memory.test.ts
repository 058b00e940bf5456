// A comparison of two large checkpoints holds a few tensors' bytes, never a whole file: in a
// child process with the collector exposed (the built dist/), the bytes held in ArrayBuffers,
// measured after a collection at every tensor compared, stay below what one file holds; and a
// tensor larger than a stream chunk is not held whole at all.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../fixtures.js';

const TENSORS = 32;
const TENSOR_BYTES = 4 * 1024 * 1024;
const FILE_BYTES = TENSORS * TENSOR_BYTES;
let folder = '';

/** A .safetensors file of `tensors` F32 tensors of `tensorBytes` each, each filled with one value that depends on the side. */
function writeLarge(file: string, scale: number, tensors = TENSORS, tensorBytes = TENSOR_BYTES): void {
  const elements = tensorBytes / 4;
  const header: Record<string, unknown> = {};
  for (let i = 0; i < tensors; i++) header[`layer${i}/kernel`] = { dtype: 'F32', shape: [elements], data_offsets: [i * tensorBytes, (i + 1) * tensorBytes] };
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, length);
    writeSync(fd, Buffer.from(json));
    for (let i = 0; i < tensors; i++) writeSync(fd, new Uint8Array(new Float32Array(elements).fill((i + 1) * scale).buffer));
  } finally {
    closeSync(fd);
  }
}

/** Compares the two files tensor by tensor, collecting garbage and sampling ArrayBuffer bytes at each; prints the peak and the result's size. */
const PROBE = `
const [sideUrl, sidesUrl, a, b] = process.argv.slice(1);
const { openSide } = await import(sideUrl);
const { compareSides } = await import(sidesUrl);
let peak = 0;
const sample = () => { globalThis.gc(); peak = Math.max(peak, process.memoryUsage().arrayBuffers); };
const label = (p) => ({ target: p, label: p });
const result = await compareSides(await openSide({ kind: 'foreign', format: 'safetensors', path: a }), await openSide({ kind: 'foreign', format: 'safetensors', path: b }),
  { a: label(a), b: label(b) }, { stoppedBelow: 1e-6, onProgress: sample });
console.log(JSON.stringify({ peak, tensors: result.tensors.length, rel: result.tensors[0].relChange }));
`;

beforeAll(() => {
  if (!existsSync(path.join(REPOSITORY_ROOT, 'dist/electron/core/compare/compare-sides.js'))) throw new Error('build first: npm run build (npm test does)');
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

/** Compares a.safetensors and b.safetensors of the folder in a child process: the peak ArrayBuffer bytes, the tensors compared, the first one's relChange. */
function probe(a: string, b: string): { peak: number; tensors: number; rel: number } {
  const dist = (file: string): string => new URL(`file://${path.join(REPOSITORY_ROOT, 'dist/electron/core/compare', file)}`).href;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, dist('compare-side.js'), dist('compare-sides.js'), a, b], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as { peak: number; tensors: number; rel: number };
}

describe('comparing two large checkpoints', () => {
  it('holds a few tensors at a time, not a whole file', { timeout: 60_000 }, () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'compare-memory-'));
    const a = path.join(folder, 'a.safetensors');
    const b = path.join(folder, 'b.safetensors');
    writeLarge(a, 1);
    writeLarge(b, 2);
    const { peak, tensors, rel } = probe(a, b);
    expect(tensors).toBe(TENSORS);
    expect(rel).toBe(1);
    // A batch of A's tensors and A's read-ahead, one read run of B and its read-ahead: 16 MiB each
    // at most, plus a little; holding a whole side would be 128 MiB.
    expect(peak).toBeLessThan(72 * 1024 * 1024);
    expect(FILE_BYTES).toBeGreaterThan(72 * 1024 * 1024);
  });

  it('streams a tensor larger than a chunk, holding neither side of it whole', { timeout: 60_000 }, () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'compare-memory-'));
    const a = path.join(folder, 'a.safetensors');
    const b = path.join(folder, 'b.safetensors');
    const tensorBytes = 48 * 1024 * 1024;
    writeLarge(a, 1, 1, tensorBytes);
    writeLarge(b, 2, 1, tensorBytes);
    const { peak, tensors, rel } = probe(a, b);
    expect(tensors).toBe(1);
    expect(rel).toBe(1);
    // Sampled as the pair is reported compared: read whole, both sides (96 MiB) would still be held.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });
});
