// npm run bench:import — our foreign-format readers against a plain `fs` read of the same bytes,
// side by side in one run. The inputs are made at run time by our own exporters (nothing large
// is committed): a 100 MB TensorFlow bundle and a 100 MB safetensors file of the same tensors, and
// a bundle of 10,000 small variables whose index is parsed.
//
//   BENCH_MB=<n>        size of the large inputs (default 100)
//   BENCH_REPEATS=<n>   pairs per measure (default 9; the median is quoted)
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { encodeSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import type { ExportTensor, ForeignReader } from '../../electron/core/formats/foreign.js';
import { readerFor } from '../../electron/core/formats/registry.js';
import { writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';

const MEGABYTES = Number(process.env.BENCH_MB ?? 100);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 9);
const TENSOR_FLOATS = 1 << 20;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function tensors(totalBytes: number): ExportTensor[] {
  const out: ExportTensor[] = [];
  for (let i = 0, left = totalBytes; left > 0; i += 1) {
    const floats = Math.min(TENSOR_FLOATS, Math.ceil(left / 4));
    const values = new Float32Array(floats);
    for (let j = 0; j < floats; j += 1) values[j] = Math.sin(i * 7 + j * 0.001);
    out.push({ name: `layer_${String(i).padStart(3, '0')}/kernel`, dtype: 'F32', shape: [floats], data: new Uint8Array(values.buffer) });
    left -= floats * 4;
  }
  return out;
}

/** Reads every tensor of `target` through its reader (each checked against its checksum); returns bytes read. */
async function readEverything(reader: ForeignReader, target: string): Promise<number> {
  const source = await reader.open(target);
  let bytes = 0;
  for (const checkpoint of source.checkpoints) for await (const item of reader.read(checkpoint)) bytes += item.data.byteLength;
  return bytes;
}

interface Pair {
  readonly ours: number;
  readonly baseline: number;
}

/** Alternates ours and the baseline so drift in the machine's speed touches both alike. */
async function pairs(ours: () => Promise<unknown>, baseline: () => Promise<unknown>): Promise<Pair[]> {
  await ours();
  await baseline();
  const out: Pair[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    let t = performance.now();
    await ours();
    const a = performance.now() - t;
    t = performance.now();
    await baseline();
    out.push({ ours: a, baseline: performance.now() - t });
  }
  return out;
}

function report(label: string, bytes: number, measured: readonly Pair[], target: string | null = 'target ≥ 0.8×'): void {
  const ours = median(measured.map((p) => p.ours));
  const base = median(measured.map((p) => p.baseline));
  const ratio = median(measured.map((p) => p.baseline / p.ours));
  const mbps = (ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  console.log(
    `${label.padEnd(44)} ours ${ours.toFixed(1).padStart(7)} ms (${mbps(ours)})   fs.readFile ${base.toFixed(1).padStart(7)} ms (${mbps(base)})   ratio ${ratio.toFixed(2)}×${target ? ` (${target})` : ''}`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'import-bench-'));
  try {
    const total = MEGABYTES * 1_000_000;
    const big = tensors(total);
    const bytes = big.reduce((s, t) => s + t.data.byteLength, 0);
    await mkdir(path.join(dir, 'tf'));
    const bundle = await writeTfBundle(path.join(dir, 'tf'), 'model.ckpt-1', big, { step: 1 });
    const encoded = encodeSafetensors('bench', big);
    const safetensorsFile = path.join(dir, 'model.safetensors');
    await writeFile(safetensorsFile, Buffer.concat([encoded.header, ...encoded.payloads]));
    console.log(
      `import benchmark: ${(bytes / 1e6).toFixed(0)} MB in ${big.length} float32 tensors; ${REPEATS} pairs per measure, medians; warm page cache for both sides`,
    );
    const tf = readerFor('tf-bundle');
    const st = readerFor('safetensors');
    const prefix = path.join(dir, 'tf', 'model.ckpt-1');
    report(
      'TensorFlow bundle, every tensor + CRC32C',
      bytes,
      await pairs(
        () => readEverything(tf, prefix),
        () => readFile(bundle.dataFile),
      ),
    );
    report(
      'safetensors, every tensor + CRC32C',
      bytes,
      await pairs(
        () => readEverything(st, safetensorsFile),
        () => readFile(safetensorsFile),
      ),
    );
    // The same plain read with a CRC32C over it: what checking costs at all, for comparison.
    report(
      '(fs.readFile + CRC32C of the bundle, for scale)',
      bytes,
      await pairs(
        async () => crc32c(await readFile(bundle.dataFile)),
        () => readFile(bundle.dataFile),
      ),
      null,
    );

    const small: ExportTensor[] = Array.from({ length: 10_000 }, (_, i) => ({
      name: `model/layer_${i}/kernel`,
      dtype: 'F32',
      shape: [4, 4],
      data: new Uint8Array(64),
    }));
    await mkdir(path.join(dir, 'many'));
    await writeTfBundle(path.join(dir, 'many'), 'model.ckpt-7', small, { step: 7 });
    const manyPrefix = path.join(dir, 'many', 'model.ckpt-7');
    const times: number[] = [];
    let tensorsSeen = 0;
    await tf.open(manyPrefix);
    for (let i = 0; i < REPEATS; i += 1) {
      const t = performance.now();
      const source = await tf.open(manyPrefix);
      times.push(performance.now() - t);
      tensorsSeen = source.checkpoints[0]?.tensors.length ?? 0;
    }
    console.log(
      `${'index of a bundle of 10,000 variables'.padEnd(44)} open ${median(times).toFixed(1)} ms median (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), ${tensorsSeen} tensors (target ≤ 100 ms)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
