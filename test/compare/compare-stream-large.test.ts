// A pair of tensors larger than a stream chunk is compared a chunk of each file at a time, never
// read whole: the figures are exactly those of the whole-tensor path (and of the plain formula),
// NaN and Inf counted alike, across dtypes of different widths, the results in A's file order;
// and a changed byte inside a streamed tensor of ours is still an error naming file and tensor.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { type Side, openSide } from '../../electron/core/compare/compare-side.js';
import { compareSides } from '../../electron/core/compare/compare-sides.js';
import { flipTensorByte, makeTempWorkspace, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { type RawTensor, expectedFigures, writeSafetensorsFile } from './compare-helpers.js';

useTempWorkspaces();
let folder = '';
afterEach(() => {
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

const labels = { a: { target: 'a', label: 'a' }, b: { target: 'b', label: 'b' } };
const ELEMENTS = 10_007;

/** Values of both signs and magnitudes, a NaN and an Inf here and there. */
function values(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i % 997 === 5 ? NaN : i % 1409 === 7 ? -Infinity : Math.sin(seed + i * 0.013) * (1 + (i % 7))));
}

/** The side, noting which tensors it was asked to read whole. */
function watched(side: Side, asked: string[]): Side {
  return { ...side, read: (names) => (asked.push(...names), side.read(names)) };
}

describe('a pair larger than a stream chunk', () => {
  it('is streamed, and gives exactly the figures of the whole-tensor path, in A’s file order', async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-stream-'));
    const side = (scale: number, seed: number, wideDtype: RawTensor['dtype']): RawTensor[] => [
      { name: 'big', dtype: 'F32', shape: [ELEMENTS], values: values(seed, ELEMENTS).map((v) => Math.fround(v * scale)) },
      { name: 'tiny', dtype: 'F32', shape: [4], values: [1, 2, 3, 4 * scale] },
      { name: 'wide', dtype: wideDtype, shape: [50, 60], values: values(seed + 1, 3000).map((v) => (Number.isFinite(v) ? Math.round(v * 64) / 64 : v)) },
    ];
    const a = writeSafetensorsFile(path.join(folder, 'a.safetensors'), side(1, 0, 'F64'));
    const b = writeSafetensorsFile(path.join(folder, 'b.safetensors'), side(1.5, 0.5, 'F16'));
    const open = (file: string): Promise<Side> => openSide({ kind: 'foreign', format: 'safetensors', path: file });

    const asked: string[] = [];
    // 256 bytes a chunk: 'big' (40 KB) goes in 157 chunks of 64 elements, 'wide' (F64, 24 KB) in 32-element ones.
    const streamed = await compareSides(watched(await open(a), asked), watched(await open(b), []), labels, { stoppedBelow: 1e-6, streamChunkBytes: 256 });
    expect(asked).toEqual(['tiny']);
    const whole = await compareSides(await open(a), await open(b), labels, { stoppedBelow: 1e-6, streamChunkBytes: Number.MAX_SAFE_INTEGER });
    expect(streamed.tensors.map((t) => t.name)).toEqual(['big', 'tiny', 'wide']);
    expect(streamed).toEqual(whole);

    const rawA = side(1, 0, 'F64')[0]?.values as number[];
    const rawB = side(1.5, 0.5, 'F16')[0]?.values as number[];
    const plain = expectedFigures(rawA, rawB);
    const big = streamed.tensors[0];
    expect(big?.nanCount).toBe(plain.nanCount);
    expect(big?.infCount).toBe(plain.infCount);
    expect(big?.nanCount).toBeGreaterThan(0);
    for (const figure of ['l2A', 'l2B', 'l2Diff', 'maxAbsDiff', 'cosine', 'relChange'] as const) expect(big?.[figure]).toBeCloseTo(plain[figure] as number, 9);
  });

  it('of ours with a changed byte is refused, naming the file and the tensor', async () => {
    const { root } = makeTempWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('run', { parent: null, config: {} });
    await writer.save(trainingState(10));
    await writer.save(trainingState(20));
    await writer.close();
    const [first, second] = store.catalog.snapshot().checkpoints.filter((c) => c.run === 'run');
    const file = path.join(second?.path as string, 'model.safetensors');
    flipTensorByte(file, 'dense/kernel', 5);
    const sideA = await openSide({ kind: 'ours', dir: first?.path as string });
    const sideB = await openSide({ kind: 'ours', dir: second?.path as string });
    const asked: string[] = [];
    const failure = await compareSides(watched(sideA, asked), sideB, labels, { stoppedBelow: 1e-6, streamChunkBytes: 8 }).catch((error: unknown) => error);
    expect(asked).not.toContain('dense/kernel');
    expect(failure).toMatchObject({ file, tensor: 'dense/kernel' });
    expect((failure as Error).message).toContain('CRC32C mismatch');
  });
});
