import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, DamagedTensorError } from '../../electron/core/base/errors.js';
import { describeProblem } from '../../electron/core/checkpoint/problem.js';
import { inspectStructure, loadCheckpoint, verifyCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { storedForeignParts } from '../../electron/core/formats/stored-foreign.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { TrainingState } from '../../electron/core/checkpoint/writer.js';
import { flipTensorByte, readJson, rejectionOf, rewriteManifest, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

interface Saved {
  readonly store: CheckpointStore;
  readonly dir: string;
  readonly state: TrainingState;
}

async function savedCheckpoint(step = 100): Promise<Saved> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('r1', { parent: null, config: {} });
  const state = trainingState(step);
  const written = await writer.save(state);
  await writer.close();
  return { store, dir: written.dir, state };
}

type ManifestTensor = { file: string; name: string; dtype: string; shape: number[]; bytes: number; crc32c: string };

describe('loading', () => {
  it('returns every tensor with its bytes and the manifest', async () => {
    const { dir, state } = await savedCheckpoint();
    const loaded = await loadCheckpoint(dir);
    expect(loaded.manifest.step).toBe(100);
    expect(loaded.manifest.rng).toEqual(state.rng);
    for (const [got, want] of [
      [loaded.model, state.model],
      [loaded.optimizer, state.optimizer],
    ] as const) {
      expect(got.map((t) => t.name).sort()).toEqual(want.map((t) => t.name).sort());
      for (const t of want) {
        const back = got.find((g) => g.name === t.name);
        expect(back?.dtype).toBe(t.dtype);
        expect(back?.shape).toEqual(t.shape);
        expect(Buffer.from(back?.data ?? [])).toEqual(Buffer.from(t.data));
      }
    }
    const verified = await verifyCheckpoint(dir, storedForeignParts);
    expect(verified).toMatchObject({ ok: true, structure: 'complete', problems: [] });
  });
});

describe('damage is found and named', () => {
  it('a flipped byte in a tensor: verify reports file and tensor with "CRC32C mismatch", load throws DamagedTensorError', async () => {
    const { dir } = await savedCheckpoint();
    const file = path.join(dir, 'optimizer.safetensors');
    const entry = (readJson(path.join(dir, 'manifest.json')).tensors as ManifestTensor[]).find((t) => t.name === 'adam/v/dense/kernel');
    flipTensorByte(file, 'adam/v/dense/kernel', 5);
    // Same size: a quick look cannot see it.
    expect((await inspectStructure(dir)).kind).toBe('complete');
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.ok).toBe(false);
    expect(result.structure).toBe('damaged');
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.file).toBe(file);
    expect(result.problems[0]?.tensor).toBe('adam/v/dense/kernel');
    expect(result.problems[0]?.problem).toMatch(
      new RegExp(`^CRC32C mismatch: computed [0-9a-f]{8}, the manifest says ${entry?.crc32c} \\(the bytes were changed\\)$`),
    );
    expect(describeProblem(result.problems[0] as never)).toContain(`${file}: tensor "adam/v/dense/kernel": CRC32C mismatch`);

    const error = await rejectionOf(loadCheckpoint(dir), DamagedTensorError);
    expect(error.file).toBe(file);
    expect(error.tensor).toBe('adam/v/dense/kernel');
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "adam/v/dense/kernel": CRC32C mismatch`));
  });

  it('verify reports every damaged tensor, across both files, not only the first', async () => {
    const { dir } = await savedCheckpoint();
    flipTensorByte(path.join(dir, 'model.safetensors'), 'dense/bias');
    flipTensorByte(path.join(dir, 'optimizer.safetensors'), 'adam/iterations', 3);
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.problems.map((p) => [path.basename(p.file), p.tensor])).toEqual([
      ['model.safetensors', 'dense/bias'],
      ['optimizer.safetensors', 'adam/iterations'],
    ]);
    expect(result.problems.every((p) => p.problem.startsWith('CRC32C mismatch'))).toBe(true);
  });

  it('a truncated file is damaged "truncated", naming the file, before and during verification', async () => {
    const { dir } = await savedCheckpoint();
    const file = path.join(dir, 'model.safetensors');
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 4);
    const structure = await inspectStructure(dir);
    expect(structure.kind).toBe('damaged');
    expect(structure.kind === 'damaged' && structure.reason).toBe(`${file}: truncated: ${size - 4} bytes, the manifest says ${size}`);
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.ok).toBe(false);
    // The size check (structure) and the header check both name the file.
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]?.problem).toBe(`${file}: truncated: ${size - 4} bytes, the manifest says ${size}`);
    expect(result.problems[1]?.file).toBe(file);
    expect(result.problems[1]?.problem).toMatch(/\(truncated\)$/);
    const error = await rejectionOf(loadCheckpoint(dir), CheckpointFormatError);
    expect(error.message).toContain(`${file}: truncated`);
  });

  it('a file longer than the manifest says is damaged', async () => {
    const { dir } = await savedCheckpoint();
    const file = path.join(dir, 'optimizer.safetensors');
    fs.appendFileSync(file, Buffer.from([0, 0]));
    const structure = await inspectStructure(dir);
    expect(structure.kind === 'damaged' && structure.reason).toMatch(
      new RegExp(`optimizer.safetensors: longer than written: \\d+ bytes, the manifest says \\d+$`),
    );
    const problems = (await verifyCheckpoint(dir, storedForeignParts)).problems;
    expect(problems[0]?.problem).toMatch(/optimizer\.safetensors: longer than written/);
    expect(problems[1]?.problem).toMatch(/\(trailing bytes\)$/);
  });

  it('a missing tensor file is damaged "missing"', async () => {
    const { dir } = await savedCheckpoint();
    fs.rmSync(path.join(dir, 'optimizer.safetensors'));
    const structure = await inspectStructure(dir);
    expect(structure.kind === 'damaged' && structure.reason).toBe(`${path.join(dir, 'optimizer.safetensors')}: missing`);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/optimizer\.safetensors: missing$/);
  });

  it('a manifest listing a tensor the file lacks: "listed in the manifest but missing from the file"', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      (m.tensors as ManifestTensor[]).push({ file: 'model.safetensors', name: 'ghost/kernel', dtype: 'F32', shape: [2], bytes: 8, crc32c: '00000000' });
    });
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.problems).toEqual([
      { file: path.join(dir, 'model.safetensors'), tensor: 'ghost/kernel', problem: 'listed in the manifest but missing from the file' },
    ]);
    const error = await rejectionOf(loadCheckpoint(dir), DamagedTensorError);
    expect(error.tensor).toBe('ghost/kernel');
    expect(error.message).toBe(`${path.join(dir, 'model.safetensors')}: tensor "ghost/kernel": listed in the manifest but missing from the file`);
  });

  it('a tensor in the file without a manifest entry: "has no manifest entry"', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      m.tensors = (m.tensors as ManifestTensor[]).filter((t) => t.name !== 'adam/m/dense/kernel');
    });
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.problems).toEqual([
      { file: path.join(dir, 'optimizer.safetensors'), tensor: 'adam/m/dense/kernel', problem: 'present in the file but has no manifest entry' },
    ]);
    const error = await rejectionOf(loadCheckpoint(dir), DamagedTensorError);
    expect(error.message).toContain('tensor "adam/m/dense/kernel": present in the file but has no manifest entry');
  });

  it('a manifest whose shape disagrees with the file names both shapes', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      const entry = (m.tensors as ManifestTensor[]).find((t) => t.name === 'dense/kernel');
      if (entry) entry.shape = [3, 4];
    });
    const error = await rejectionOf(loadCheckpoint(dir), DamagedTensorError);
    expect(error.problem).toBe('shape is [4, 3], the manifest says [3, 4]');
  });
});

describe('manifest problems', () => {
  it('invalid JSON: damaged, naming manifest.json and "not valid JSON"', async () => {
    const { dir } = await savedCheckpoint();
    const manifestPath = path.join(dir, 'manifest.json');
    fs.writeFileSync(manifestPath, '{"format": "checkpoint-studio", ');
    const structure = await inspectStructure(dir);
    expect(structure.kind).toBe('damaged');
    expect(structure.kind === 'damaged' && structure.reason).toMatch(new RegExp(`^${manifestPath}: not valid JSON: `));
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result).toMatchObject({ ok: false, structure: 'damaged' });
    expect(result.problems[0]?.file).toBe(manifestPath);
    const error = await rejectionOf(loadCheckpoint(dir), CheckpointFormatError);
    expect(error.message).toContain(`${manifestPath}: not valid JSON`);
  });

  it('a newer formatVersion: asks to update the program', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      m.formatVersion = 2;
    });
    const error = await rejectionOf(loadCheckpoint(dir), CheckpointFormatError);
    expect(error.message).toContain(`${path.join(dir, 'manifest.json')}: format version 2 is newer than this program reads (1); update Checkpoint Studio`);
  });

  it('a field of the wrong type is named by its path', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      m.step = -1;
    });
    const error = await rejectionOf(loadCheckpoint(dir), CheckpointFormatError);
    expect(error.message).toMatch(/manifest\.json: step: /);
  });

  it('a tensor listed for a file that "files" does not list is refused', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      m.files = { 'model.safetensors': (m.files as Record<string, unknown>)['model.safetensors'] };
    });
    const error = await rejectionOf(loadCheckpoint(dir), CheckpointFormatError);
    expect(error.message).toContain('manifest.json: tensor "adam/iterations" names optimizer.safetensors, which "files" does not list');
  });

  it('a checkpoint folder without a manifest is incomplete, and catalogued as such', async () => {
    const { dir, store } = await savedCheckpoint();
    fs.rmSync(path.join(dir, 'manifest.json'));
    const structure = await inspectStructure(dir);
    expect(structure).toEqual({ kind: 'incomplete', reason: `${path.join(dir, 'manifest.json')}: missing (the checkpoint was never finished)` });
    expect(await verifyCheckpoint(dir, storedForeignParts)).toMatchObject({ ok: false, structure: 'incomplete' });
    await expect(loadCheckpoint(dir)).rejects.toThrow('missing (the checkpoint was never finished)');
    await store.catalog.refresh();
    expect(store.catalog.get('r1/ckpt-000000100')).toMatchObject({ status: 'incomplete', bytes: 0, epoch: null, metrics: {} });
  });
});

describe('a manifest whose recorded sizes are wrong', () => {
  it('fails verification even though every tensor file still parses', async () => {
    const { dir } = await savedCheckpoint();
    rewriteManifest(dir, (m) => {
      const files = m.files as Record<string, { bytes: number }>;
      (files['model.safetensors'] as { bytes: number }).bytes += 8;
    });
    const result = await verifyCheckpoint(dir, storedForeignParts);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.problem).toMatch(/model\.safetensors: truncated: \d+ bytes, the manifest says \d+$/);
  });
});
