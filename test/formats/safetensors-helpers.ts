// Shared by the safetensors and Hugging Face reader tests: temp folders, the sample files, and a
// way to collect what the reader reads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import type { ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { testData } from '../fixtures.js';

const created: string[] = [];

/** Registers the afterEach that removes every folder the returned function made. */
export function useTempDirs(): () => string {
  afterEach(() => {
    for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-safetensors-test-'));
    created.push(dir);
    return dir;
  };
}

/** huggingface/safetensors samples/: one tensor per dtype, named by numpy's type letter. */
export const SAMPLE_DTYPES = { B: 'U8', H: 'U16', I: 'U32', b: 'I8', h: 'I16', i: 'I32', e: 'F16', f: 'F32', d: 'F64' } as const;
export type SampleName = keyof typeof SAMPLE_DTYPES;

export function sample(name: SampleName | 'overall'): string {
  return testData('hf-safetensors-samples', `${name}.safetensors`);
}

/** Copies a sample into `dir` as `as` (a name, or `sub/name`). */
export function copySample(name: SampleName | 'overall', dir: string, as: string): string {
  const target = path.join(dir, ...as.split('/'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(sample(name), target);
  return target;
}

/** What the sample generator stored, np.array(range(-3, 3), dtype=k), decoded from `data`. */
export function sampleValues(dtype: string, data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read: Record<string, [number, (offset: number) => number]> = {
    U8: [1, (o) => view.getUint8(o)],
    I8: [1, (o) => view.getInt8(o)],
    U16: [2, (o) => view.getUint16(o, true)],
    I16: [2, (o) => view.getInt16(o, true)],
    U32: [4, (o) => view.getUint32(o, true)],
    I32: [4, (o) => view.getInt32(o, true)],
    F16: [2, (o) => view.getUint16(o, true)], // raw bits, compared with known half-precision patterns
    F32: [4, (o) => view.getFloat32(o, true)],
    F64: [8, (o) => view.getFloat64(o, true)],
  };
  const entry = read[dtype];
  if (entry === undefined) throw new Error(`no decoder for ${dtype}`);
  const [size, get] = entry;
  return Array.from({ length: data.byteLength / size }, (_, i) => get(i * size));
}

/** -3..2 in each dtype as the samples hold them: unsigned types wrap, F16 as IEEE half bit patterns. */
export const EXPECTED_SAMPLE_VALUES: Record<string, number[]> = {
  U8: [253, 254, 255, 0, 1, 2],
  U16: [65533, 65534, 65535, 0, 1, 2],
  U32: [4294967293, 4294967294, 4294967295, 0, 1, 2],
  I8: [-3, -2, -1, 0, 1, 2],
  I16: [-3, -2, -1, 0, 1, 2],
  I32: [-3, -2, -1, 0, 1, 2],
  F16: [0xc200, 0xc000, 0xbc00, 0x0000, 0x3c00, 0x4000],
  F32: [-3, -2, -1, 0, 1, 2],
  F64: [-3, -2, -1, 0, 1, 2],
};

export async function readAll(checkpoint: ForeignCheckpoint, options?: Parameters<typeof safetensorsReader.read>[1]): Promise<ForeignTensorData[]> {
  const out: ForeignTensorData[] = [];
  for await (const item of safetensorsReader.read(checkpoint, options)) out.push(item);
  return out;
}

/** The one checkpoint `target` holds. */
export async function openOne(target: string): Promise<ForeignCheckpoint> {
  const source = await safetensorsReader.open(target);
  expect(source.checkpoints).toHaveLength(1);
  const [checkpoint] = source.checkpoints;
  if (checkpoint === undefined) throw new Error('no checkpoint');
  return checkpoint;
}

/** The CheckpointFormatError `promise` rejects with, checked to name `file`. */
export async function formatErrorOf(promise: Promise<unknown>, file: string): Promise<CheckpointFormatError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'expected a CheckpointFormatError').toBeInstanceOf(CheckpointFormatError);
  const formatError = error as CheckpointFormatError;
  expect(formatError.file).toBe(file);
  expect(formatError.message).toContain(file);
  return formatError;
}
