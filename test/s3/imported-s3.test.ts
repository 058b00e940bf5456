// Another program's checkpoints imported into an S3 workspace (issue 18): the manifest with its
// foreign part and the program's own files beside it in the bucket, read where they lie. Compare
// gives the figures the same import into a folder workspace gives, each tensor checked against
// the CRC-32C recorded at import; a changed byte in the bucket names the object and the tensor.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CompareResult, TensorDistributions } from '../../electron/contract.js';
import { type Tensor, encodeSafetensors, readSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { kerasEntries, kerasWeightsH5, zipOf } from '../formats/keras-files.js';
import { f32, flipTensorByte } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const WORKSPACE = 's3://imported-s3/team/ws';
const RUN = 'hf';

/** A small tensor, and one larger than a comparison's stream chunk (4 MB), so both the batched and the streamed path are taken. */
function tensors(seed: number): Tensor[] {
  const count = 1_200_000;
  return [
    { name: 'dense.weight', dtype: 'F32', shape: [2, 3], data: f32([1, 2, 3, 4, 5, 6].map((v) => v * seed)) },
    { name: 'dense.bias', dtype: 'F32', shape: [3], data: f32([seed, -seed, 0.5]) },
    { name: 'embedding', dtype: 'F32', shape: [count], data: f32(Array.from({ length: count }, (_, i) => Math.sin(seed + i * 0.001))) },
  ];
}

function writeSafetensors(file: string, content: readonly Tensor[]): void {
  const encoded = encodeSafetensors(file, content);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([encoded.header, ...encoded.payloads]));
}

/** What a comparison says of the tensors, without where the sides were read from. */
function figures(result: CompareResult): Omit<CompareResult, 'a' | 'b'> {
  const { a: _a, b: _b, ...rest } = result;
  return rest;
}

/** Each source into a run of its own (`hf-1`, `hf-2`…), as a user imports one file at a time. */
/** The figures, without whether they came from a cache. */
const distributionFigures = (d: TensorDistributions): unknown => ({
  ...d,
  points: d.points.map(({ cached: _c, ...p }) => p),
  bytesRead: 0,
  cache: null,
  notes: [],
});

async function importInto(studio: Studio, workspace: string, sources: readonly string[], run = RUN): Promise<string[]> {
  await studio.api.openWorkspace({ path: workspace });
  const ids: string[] = [];
  for (const [index, source] of sources.entries()) {
    const report = await studio.api.importFolders({ sources: [source], into: sources.length === 1 && run !== RUN ? run : `${run}-${index + 1}` });
    for (const r of report.results) {
      if (!r.ok) throw new Error(`import of ${r.source} failed: ${r.error.message}`);
      ids.push(...r.checkpoints);
    }
  }
  return ids;
}

describe.skipIf(!s3Available())('checkpoints imported from another program into S3, read where they lie', () => {
  const storageOf = useS3Storage(WORKSPACE);
  let storage: S3Storage;
  let scratch: string;
  let local: string;
  /** The same checkpoints' ids, in the bucket and in the folder workspace. */
  let ids: string[];
  const studios: Studio[] = [];
  const keysUnder = async (prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    for await (const object of storage.list(prefix)) keys.push(object.key);
    return keys.sort();
  };
  const studio = (): Studio => {
    const opened = new Studio({ watch: false });
    studios.push(opened);
    return opened;
  };

  beforeAll(async () => {
    storage = storageOf();
    // The Studio's workers reach the gateway as a user's shell would tell them to.
    for (const [name, value] of Object.entries(gatewayEnv())) vi.stubEnv(name, value);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-imported-s3-'));
    vi.stubEnv('XDG_CACHE_HOME', path.join(scratch, 'cache'));
    const sources = [1, 2].map((seed) => {
      const file = path.join(scratch, 'sources', `model-${seed}.safetensors`);
      writeSafetensors(file, tensors(seed));
      return file;
    });
    local = path.join(scratch, 'ws');
    fs.mkdirSync(local);
    const [remoteIds, localIds] = [await importInto(studio(), WORKSPACE, sources), await importInto(studio(), local, sources)];
    expect(remoteIds).toEqual(localIds);
    ids = remoteIds;
  }, 120_000);
  afterAll(async () => {
    for (const opened of studios) await opened.close();
    vi.unstubAllEnvs();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('compares two of them in the open S3 workspace as the same imports in a folder workspace', { timeout: 60_000 }, async () => {
    const [a, b] = ids as [string, string];
    const remoteStudio = studio();
    await remoteStudio.api.openWorkspace({ path: WORKSPACE, readOnly: true });
    const remote = await remoteStudio.api.compareCheckpoints({ a, b });
    expect(remote.a).toMatchObject({ label: a, path: `${WORKSPACE}/${a}`, format: 'safetensors' });
    const localStudio = studio();
    await localStudio.api.openWorkspace({ path: local, readOnly: true });
    const onDisk = await localStudio.api.compareCheckpoints({ a, b });
    expect(remote.tensors.map((t) => t.name).sort()).toEqual(['dense.bias', 'dense.weight', 'embedding']);
    expect(figures(remote)).toEqual(figures(onDisk));
  });

  it('compares one in a bucket, named by its s3:// address, with one in a folder workspace', { timeout: 60_000 }, async () => {
    const [a, b] = ids as [string, string];
    const mixed = await studio().api.compareCheckpoints({ a: `${WORKSPACE}/${a}`, b: path.join(local, ...b.split('/')) });
    expect(mixed.a).toMatchObject({ path: `${WORKSPACE}/${a}`, format: 'safetensors' });
    const onDisk = await studio().api.compareCheckpoints({ a: path.join(local, ...a.split('/')), b: path.join(local, ...b.split('/')) });
    expect(figures(mixed)).toEqual(figures(onDisk));
  });

  it('names the object and the tensor whose bytes in the bucket no longer match what was recorded at import', { timeout: 60_000 }, async () => {
    const [a, b] = ids as [string, string];
    const name = (await storage.children(`${b}/`)).objects.map((o) => o.key).find((key) => key.endsWith('.safetensors'));
    if (name === undefined) throw new Error(`no safetensors file beside ${b}'s manifest`);
    const file = path.join(scratch, 'damaged.safetensors');
    fs.writeFileSync(file, await storage.read(name));
    for (const tensor of ['dense.bias', 'embedding']) {
      flipTensorByte(file, tensor, 4);
      await storage.write(name, fs.readFileSync(file));
      const compared = studio().api.compareCheckpoints({ a: `${WORKSPACE}/${a}`, b: `${WORKSPACE}/${b}` });
      await expect(compared).rejects.toThrow(`${WORKSPACE}/${name}`);
      await expect(compared).rejects.toThrow(new RegExp(`${tensor.replace('.', '\\.')}.*CRC32C mismatch`));
      // Put back for the next tensor, and the next test.
      flipTensorByte(file, tensor, 4);
      await storage.write(name, fs.readFileSync(file));
    }
  });

  it(
    'gives the distributions of such a run the same import gives in a folder workspace, then answers from this machine’s cache',
    { timeout: 60_000 },
    async () => {
      const remote = studio();
      await remote.api.openWorkspace({ path: WORKSPACE, readOnly: true });
      const onDisk = studio();
      await onDisk.api.openWorkspace({ path: local, readOnly: true });
      const run = `${RUN}-2`;
      expect(await remote.api.tensorNames({ run })).toEqual(await onDisk.api.tensorNames({ run }));
      for (const tensor of ['dense.weight', 'embedding']) {
        const first = await remote.api.tensorDistributions({ run, tensor });
        expect(first.problems).toEqual([]);
        expect(first.points).toHaveLength(1);
        expect(first.cache).toBe('machine');
        expect(distributionFigures(first)).toEqual(distributionFigures(await onDisk.api.tensorDistributions({ run, tensor })));
        const again = await remote.api.tensorDistributions({ run, tensor });
        expect(again.bytesRead).toBe(0);
        expect(distributionFigures(again)).toEqual(distributionFigures(first));
      }
    },
  );

  it(
    'verifies, inspects and exports a .keras file imported into the bucket as the same import on disk, and names a changed byte',
    { timeout: 60_000 },
    async () => {
      const dotKeras = path.join(scratch, 'sources', 'model.keras');
      fs.writeFileSync(dotKeras, await zipOf(kerasEntries(await kerasWeightsH5(path.join(scratch, 'scratch.h5')))));
      const [remoteId, localId] = [await importInto(studio(), WORKSPACE, [dotKeras], 'keras'), await importInto(studio(), local, [dotKeras], 'keras')];
      const id = remoteId[0] ?? '';
      expect(remoteId).toEqual(localId);
      const remote = studio();
      await remote.api.openWorkspace({ path: WORKSPACE, readOnly: true });
      const onDisk = studio();
      await onDisk.api.openWorkspace({ path: local, readOnly: true });
      expect(await remote.api.inspect({ target: id })).toEqual(await onDisk.api.inspect({ target: id }));
      expect((await remote.api.verify({ targets: [id] })).results.map((r) => [r.ok, r.problems])).toEqual([[true, []]]);
      const out = (name: string): string => path.join(scratch, name);
      await remote.api.exportCheckpoint({ target: id, format: 'safetensors', out: out('remote.safetensors') });
      await onDisk.api.exportCheckpoint({ target: id, format: 'safetensors', out: out('local.safetensors') });
      const tensorsOf = async (file: string) => (await readSafetensors(file)).tensors.map((t) => [t.name, t.dtype, t.shape, Buffer.from(t.data)]);
      expect(await tensorsOf(out('remote.safetensors'))).toEqual(await tensorsOf(out('local.safetensors')));

      const key = `${id}/model.keras`;
      const bytes = Buffer.from(await storage.read(key));
      const damaged = Buffer.from(bytes);
      const at = damaged.indexOf('HDF') + 4096;
      damaged[at] = (damaged[at] as number) ^ 0xff;
      await storage.write(key, damaged);
      try {
        const { results } = await remote.api.verify({ targets: [id] });
        expect(results[0]?.ok).toBe(false);
        expect(results[0]?.problems[0]?.file).toBe(`${WORKSPACE}/${key}`);
        // The status the list shows agrees with the report (it was remembered before the imported files were checked).
        expect((await remote.api.listCheckpoints()).find((c) => c.id === id)?.status).toBe('damaged');
      } finally {
        await storage.write(key, bytes);
      }
    },
  );

  it(
    "refuses a new run whose name the bucket already has, naming it there, and gives a file named like a bucket's run the next free name",
    { timeout: 60_000 },
    async () => {
      const importer = studio();
      await importer.api.openWorkspace({ path: WORKSPACE });
      const before = await keysUnder(`${RUN}-1/`);
      const source = path.join(scratch, 'sources', 'model-1.safetensors');
      const [refused] = (await importer.api.importFolders({ sources: [source], into: `${RUN}-1` })).results;
      expect(refused).toMatchObject({ ok: false, error: { message: expect.stringContaining(`${WORKSPACE}/${RUN}-1/`) } });
      expect(refused?.ok === false && refused.error.message).toMatch(/a run of this name exists; another program's checkpoints become a new run/);
      expect(await keysUnder(`${RUN}-1/`)).toEqual(before);

      const namedLikeRun = path.join(scratch, 'sources', `${RUN}-1.safetensors`);
      fs.copyFileSync(source, namedLikeRun);
      const [imported] = (await importer.api.importFolders({ sources: [namedLikeRun] })).results;
      expect(imported).toMatchObject({ ok: true, run: `${RUN}-1-2`, newRun: true });
      expect(imported?.ok === true && imported.notes.join('\n')).toContain(`the workspace already has a run "${RUN}-1"`);
      expect(await keysUnder(`${RUN}-1/`)).toEqual(before);
    },
  );
});
