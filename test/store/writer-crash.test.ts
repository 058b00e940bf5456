import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { RefusedError } from '../../electron/core/base/errors.js';
import { loadCheckpoint, verifyCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { storedForeignParts } from '../../electron/core/formats/stored-foreign.js';
import { isTemporaryName, parseTemporaryName, temporaryName } from '../../electron/core/base/temporaries.js';
import { RunWriter } from '../../electron/core/checkpoint/run-writer.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { WRITER_STEPS, type WriterStep } from '../../electron/core/checkpoint/writer.js';
import {
  crc32cReference,
  deadPid,
  names,
  parseRaw,
  rawTensorBytes,
  readJson,
  rejectionOf,
  snapshotTree,
  trainingState,
  useTempWorkspaces,
  writeLockFile,
} from './helpers.js';

const makeWorkspace = useTempWorkspaces();

async function storeWithRun(run = 'r1'): Promise<{ store: CheckpointStore; writer: RunWriter; runDir: string; root: string }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun(run, { parent: null, config: { model: 'mlp' } });
  return { store, writer, runDir: path.join(store.root, run), root: store.root };
}

describe('crc32c', () => {
  it('is CRC-32C (Castagnoli), agreeing with the standard check value and an independent table implementation', () => {
    const check = Buffer.from('123456789', 'ascii');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc32cReference(check)).toBe(0xe3069283);
    const bytes = new Uint8Array(1000).map((_, i) => (i * 31 + 7) & 0xff);
    expect(crc32c(bytes)).toBe(crc32cReference(bytes));
    // A view into the middle of a larger buffer covers only its own bytes.
    expect(crc32c(bytes.subarray(10, 20))).toBe(crc32cReference(bytes.subarray(10, 20)));
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('the manifest', () => {
  it('carries the training state, the writer and a CRC32C per tensor that matches the bytes', async () => {
    const { writer, runDir } = await storeWithRun();
    const state = trainingState(1200, {
      epoch: 3,
      batchInEpoch: 17,
      trainingTimeMs: 98765,
      metrics: { loss: 0.25, val_loss: 0.5, accuracy: 0.875 },
      rng: { seed: 7, state: [1, 2, 3, 4] },
      backend: 'wasm',
      parent: { run: 'r0', step: 600 },
      extra: { optimizer: { name: 'adam', lr: 0.001 } },
    });
    const before = Date.now();
    const written = await writer.save(state);
    const after = Date.now();
    await writer.close();
    expect(written.dir).toBe(path.join(runDir, 'ckpt-000001200'));
    const manifest = readJson(path.join(written.dir, 'manifest.json'));
    expect(manifest).toMatchObject({
      format: 'checkpoint-studio',
      formatVersion: 1,
      run: 'r1',
      step: 1200,
      epoch: 3,
      batchInEpoch: 17,
      trainingTimeMs: 98765,
      metrics: { loss: 0.25, val_loss: 0.5, accuracy: 0.875 },
      rng: { seed: 7, state: [1, 2, 3, 4] },
      backend: 'wasm',
      parent: { run: 'r0', step: 600 },
      origin: 'trained',
      writer: { program: 'checkpoint-studio', version: '0.1.0', host: os.hostname(), pid: process.pid },
      extra: { optimizer: { name: 'adam', lr: 0.001 } },
    });
    const createdAt = Date.parse(manifest.createdAt as string);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1);
    expect(createdAt).toBeLessThanOrEqual(after + 1);
    const modelSize = fs.statSync(path.join(written.dir, 'model.safetensors')).size;
    const optimizerSize = fs.statSync(path.join(written.dir, 'optimizer.safetensors')).size;
    expect(manifest.files).toEqual({ 'model.safetensors': { bytes: modelSize }, 'optimizer.safetensors': { bytes: optimizerSize } });
    expect(written.bytes).toBe(modelSize + optimizerSize + fs.statSync(path.join(written.dir, 'manifest.json')).size);

    const tensors = manifest.tensors as { file: string; name: string; dtype: string; shape: number[]; bytes: number; crc32c: string }[];
    const expected = [...state.model.map((t) => ['model.safetensors', t] as const), ...state.optimizer.map((t) => ['optimizer.safetensors', t] as const)];
    expect(tensors).toHaveLength(expected.length);
    for (const [file, t] of expected) {
      const entry = tensors.find((e) => e.file === file && e.name === t.name);
      const onDisk = rawTensorBytes(parseRaw(path.join(written.dir, file)), t.name);
      const crc = crc32cReference(onDisk).toString(16).padStart(8, '0');
      expect(entry).toEqual({ file, name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.data.byteLength, crc32c: crc });
      expect(crc).toBe(crc32cReference(t.data).toString(16).padStart(8, '0'));
    }
  });

  it('stores a diverged (NaN or infinite) metric as null instead of failing the save', async () => {
    const { store, writer } = await storeWithRun();
    const written = await writer.save(trainingState(10, { metrics: { loss: NaN, val_loss: Infinity, accuracy: 0.5 } }));
    await writer.close();
    const manifest = readJson(path.join(written.dir, 'manifest.json'));
    expect(manifest.metrics).toEqual({ loss: null, val_loss: null, accuracy: 0.5 });
    expect((await verifyCheckpoint(written.dir, storedForeignParts)).ok).toBe(true);
    await store.catalog.refresh();
    expect(store.catalog.get('r1/ckpt-000000010')?.metrics).toEqual({ loss: null, val_loss: null, accuracy: 0.5 });
  });
});

describe('saving a step twice', () => {
  it('is refused and leaves the first checkpoint byte-identical', async () => {
    const { writer, runDir } = await storeWithRun();
    await writer.save(trainingState(100));
    const dir = path.join(runDir, 'ckpt-000000100');
    const before = snapshotTree(dir);
    const error = await rejectionOf(writer.save(trainingState(100, { metrics: { loss: 0 } })), RefusedError);
    expect(error.message).toBe(`${dir}: refused: a checkpoint with this step already exists; checkpoints are never overwritten`);
    expect(snapshotTree(dir)).toEqual(before);
    expect(names(runDir).filter(isTemporaryName)).toEqual([]);
    await writer.close();
  });

  it('is refused when another program already made a folder with that name', async () => {
    const { writer, runDir } = await storeWithRun();
    fs.mkdirSync(path.join(runDir, 'ckpt-000000005'));
    await rejectionOf(writer.save(trainingState(5)), RefusedError);
    expect(names(path.join(runDir, 'ckpt-000000005'))).toEqual([]);
    await writer.close();
  });
});

describe.each(WRITER_STEPS.map((s) => [s]))('a crash right after "%s"', (crashStep: WriterStep) => {
  const completed = WRITER_STEPS.indexOf(crashStep) >= WRITER_STEPS.indexOf('renamed');

  it(completed ? 'leaves a complete checkpoint that verifies' : 'leaves no listed half-checkpoint, and open() clears the debris', async () => {
    const { store, writer, runDir, root } = await storeWithRun();
    await writer.save(trainingState(100));
    const earlier = snapshotTree(path.join(runDir, 'ckpt-000000100'));
    const dead = await deadPid();
    let leftover: string | null = null;
    const crash = writer.save(trainingState(200), {
      afterStep: (step) => {
        if (step !== crashStep) return;
        // A killed process runs no cleanup: keep a copy of its .tmp folder as the crash leaves it.
        const tmp = names(runDir).find((n) => parseTemporaryName(n)?.label === 'ckpt-000000200');
        if (tmp !== undefined) {
          leftover = path.join(runDir, temporaryName('ckpt-000000200', dead));
          fs.cpSync(path.join(runDir, tmp), leftover, { recursive: true });
        }
        throw new Error(`simulated crash after ${step}`);
      },
    });
    expect((await rejectionOf(crash, Error)).message).toBe(`simulated crash after ${crashStep}`);
    expect(leftover === null).toBe(completed);
    // The writer's own error path already removed its .tmp folder; only the "crash" copy is left.
    expect(names(runDir).filter(isTemporaryName)).toEqual(leftover ? [path.basename(leftover)] : []);

    // Until the workspace is reopened, the catalog does not list the .tmp folder either.
    await store.catalog.refresh();
    expect(store.catalog.list('r1').map((c) => c.step)).toEqual(completed ? [100, 200] : [100]);

    // The crashed process dies holding its lock.
    writeLockFile(runDir, dead);
    const reopened = await CheckpointStore.open(root);
    expect(names(runDir).filter(isTemporaryName)).toEqual([]);
    expect(reopened.opened.removed).toEqual(leftover ? [leftover] : []);
    expect(names(runDir).filter((n) => n.startsWith('ckpt-'))).toEqual(completed ? ['ckpt-000000100', 'ckpt-000000200'] : ['ckpt-000000100']);
    expect(reopened.catalog.list('r1').map((c) => [c.step, c.status])).toEqual(
      completed
        ? [
            [100, 'unverified'],
            [200, 'unverified'],
          ]
        : [[100, 'unverified']],
    );
    expect(snapshotTree(path.join(runDir, 'ckpt-000000100'))).toEqual(earlier);
    if (completed) {
      const [result] = (await reopened.verify(['r1/ckpt-000000200'])).results;
      expect(result?.ok).toBe(true);
      const loaded = await loadCheckpoint(path.join(runDir, 'ckpt-000000200'));
      expect(Buffer.from(loaded.model.find((t) => t.name === 'dense/kernel')?.data ?? [])).toEqual(Buffer.from(trainingState(200).model[0]?.data ?? []));
    }

    // The dead writer's lock is taken over, and the step that crashed can be written.
    const again = await reopened.openRunWriter('r1');
    if (!completed) await again.save(trainingState(200));
    else await rejectionOf(again.save(trainingState(200)), RefusedError);
    await again.close();
    expect((await verifyCheckpoint(path.join(runDir, 'ckpt-000000200'), storedForeignParts)).ok).toBe(true);
    await writer.close();
  });
});
