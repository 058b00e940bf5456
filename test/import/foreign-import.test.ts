// Other programs' checkpoints through the StudioApi, on real files written by TensorFlow and
// other tools: imported by copy (the files unchanged beside our manifest) or by link (read in
// place, never written), listed, verified, deleted, inspected and verified in place, exported,
// and continued by the trainer. A refused source leaves the workspace as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readerFor } from '../../electron/core/formats/registry.js';
import { sharedFixture, testData } from '../fixtures.js';
import { onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { studioWith, treeHash } from './import-helpers.js';

useTempWorkspaces();

const EXPORTER = testData('tf-serving', 'half-plus-two-exporter');
const SAVED_MODEL_V1 = testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables');

/** A copy of a fixture folder in a temp folder of its own, to change or link to. */
function copyOf(dir: string): string {
  const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-')), path.basename(dir));
  fs.cpSync(dir, target, { recursive: true });
  onCleanup(() => fs.rmSync(path.dirname(target), { recursive: true, force: true }));
  return target;
}

describe("importing other programs' checkpoints", () => {
  it('copies a TensorFlow bundle unchanged beside a manifest: listed, verified, described by its source', async () => {
    const source = copyOf(EXPORTER);
    const before = treeHash(source);
    const { api, root } = await studioWith();
    const [found] = await api.describeSources({ sources: [path.join(source, 'export.index')] });
    expect(found).toMatchObject({ ok: true, format: 'tf-bundle', checkpoints: [{ name: 'export', step: null, tensors: 2 }] });
    const report = await api.importFolders({ sources: [path.join(source, 'export.index')] });
    expect(report.results[0]).toMatchObject({ ok: true, format: 'tf-bundle', run: 'export', newRun: true, checkpoints: ['export/ckpt-000000000'] });
    const folder = path.join(root, 'export', 'ckpt-000000000');
    expect(fs.readdirSync(folder).sort()).toEqual(['export.data-00000-of-00001', 'export.index', 'export.meta', 'manifest.json']);
    for (const name of ['export.data-00000-of-00001', 'export.index', 'export.meta'])
      expect(fs.readFileSync(path.join(folder, name))).toEqual(fs.readFileSync(path.join(source, name)));
    const [listed] = await api.listCheckpoints({ run: 'export' });
    expect(listed).toMatchObject({ status: 'verified', origin: 'imported', linked: false, source: { format: 'tf-bundle', name: 'export', linkedFrom: null } });
    expect((await api.verify({ targets: ['export/ckpt-000000000'] })).results[0]?.ok).toBe(true);
    const rows = await api.inspect({ target: 'export/ckpt-000000000' });
    expect(rows.map((r) => [r.name, r.dtype, r.shape, r.role])).toEqual([
      ['Variable', 'F32', [], 'model'],
      ['Variable_1', 'F32', [], 'model'],
    ]);
    expect(treeHash(source)).toBe(before);
  });

  it('refuses a second source into a run the first made, saying why and naming the run; the first stays as imported', async () => {
    const source = copyOf(EXPORTER);
    const { api, root } = await studioWith();
    const report = await api.importFolders({ sources: [path.join(source, 'export.index'), path.join(source, 'export.index')], into: 'both' });
    expect(report.results.map((r) => r.ok)).toEqual([true, false]);
    expect(report.results[1]?.ok === false && report.results[1].error.message).toBe(
      `${path.join(root, 'both')}: refused: a run of this name exists; another program's checkpoints become a new run of their own (choose another name)`,
    );
    expect((await api.listCheckpoints({ run: 'both' })).map((c) => c.id)).toEqual(['both/ckpt-000000000']);
  });

  it('links a source without copying: only our manifest is written, a change there is noticed, deleting never touches it', async () => {
    const source = copyOf(SAVED_MODEL_V1);
    const { api, root } = await studioWith();
    const report = await api.importFolders({ sources: [source], mode: 'link', into: 'half' });
    expect(report.results[0]).toMatchObject({ ok: true, run: 'half', checkpoints: ['half/ckpt-000000000'] });
    expect(fs.readdirSync(path.join(root, 'half', 'ckpt-000000000'))).toEqual(['manifest.json']);
    const [listed] = await api.listCheckpoints({ run: 'half' });
    expect(listed).toMatchObject({ status: 'verified', linked: true, source: { linkedFrom: source } });
    // Another program rewrites a byte where it lives: the linked checkpoint is no longer what was imported.
    const data = path.join(source, 'variables.data-00000-of-00001');
    const bytes = fs.readFileSync(data);
    bytes[0] = (bytes[0] as number) ^ 1;
    fs.writeFileSync(data, bytes);
    const verify = await api.verify({ targets: ['half/ckpt-000000000'] });
    expect(verify.results[0]?.ok).toBe(false);
    expect(JSON.stringify(verify.results[0]?.problems)).toMatch(/variables\.data-00000-of-00001/);
    fs.writeFileSync(data, fs.readFileSync(path.join(SAVED_MODEL_V1, 'variables.data-00000-of-00001')));
    const deleted = await api.deleteCheckpoints({ targets: ['half/ckpt-000000000'] });
    expect(deleted).toHaveLength(1);
    expect(await api.listCheckpoints({ run: 'half' })).toEqual([]);
    // The source's bytes are as they were (the restored file has a new time, so compare contents).
    for (const name of fs.readdirSync(SAVED_MODEL_V1))
      expect(fs.readFileSync(path.join(source, name))).toEqual(fs.readFileSync(path.join(SAVED_MODEL_V1, name)));
  });

  it('finds a changed byte of a copied bundle by its TensorFlow CRC, naming the file and tensor', async () => {
    const { api, root } = await studioWith();
    await api.importFolders({ sources: [path.join(EXPORTER, 'export')] });
    const data = path.join(root, 'export', 'ckpt-000000000', 'export.data-00000-of-00001');
    const bytes = fs.readFileSync(data);
    bytes[5] = (bytes[5] as number) ^ 0x10;
    fs.writeFileSync(data, bytes);
    const result = (await api.verify({ targets: ['export/ckpt-000000000'] })).results[0];
    expect(result?.ok).toBe(false);
    expect(result?.problems[0]).toMatchObject({ file: data, tensor: 'Variable_1' });
  });

  it('refuses what no reader recognises, naming it, and leaves the workspace as it was', async () => {
    const { api, root } = await studioWith({ alpha: [1] });
    const junk = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'junk-')), 'weights.bin');
    fs.writeFileSync(junk, Buffer.from('not a checkpoint at all'));
    const before = treeHash(root);
    const report = await api.importFolders({ sources: [junk] });
    expect(report.results[0]).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(report.results[0]?.ok === false && report.results[0].error.message).toMatch(/weights\.bin: refused: not something this program can import/);
    const linkOurs = await api.importFolders({ sources: [path.join(root, 'alpha')], mode: 'link' });
    expect(linkOurs.results[0]?.ok === false && linkOurs.results[0].error.message).toMatch(/--link is for other programs' checkpoints/);
    expect(treeHash(root)).toBe(before);
  });

  it('inspects and verifies in place by prefix, .index file or folder, importing nothing', async () => {
    const { api, root } = await studioWith();
    const before = treeHash(root);
    for (const target of [path.join(EXPORTER, 'export'), path.join(EXPORTER, 'export.index'), EXPORTER]) {
      expect((await api.inspect({ target })).map((r) => r.name)).toEqual(['Variable', 'Variable_1']);
      const verified = await api.verify({ targets: [target] });
      expect(verified.results.map((r) => [r.id, r.ok])).toEqual([[path.join(EXPORTER, 'export'), true]]);
    }
    expect(treeHash(root)).toBe(before);
  });

  const mnist = sharedFixture('tf1-saver', 'mnist-softmax-10steps');
  it.skipIf(mnist === null)(
    'imports every step a TF1 checkpoint file lists, its latest marked, and continues training from one',
    { timeout: 120_000 },
    async () => {
      const source = mnist as string;
      const { api } = await studioWith();
      const report = await api.importFolders({ sources: [source], into: 'mnist' });
      expect(report.results[0]?.ok && report.results[0].checkpoints.length).toBe(10);
      const listed = await api.listCheckpoints({ run: 'mnist' });
      expect(listed.map((c) => c.step)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
      expect((await api.latest({ run: 'mnist' }))?.step).toBe(10000);
      // A learning rate too small to move a weight: what the new run saves is what it loaded.
      const warnings: string[] = [];
      api.on('warning', (w) => warnings.push(w.message));
      const done = new Promise<void>((resolve) => api.on('training:state', (s) => s.state === 'exited' && resolve()));
      const started = await api.continueTraining({
        from: 'mnist/ckpt-000005000',
        run: 'more',
        overrides: { maxSteps: 2, learningRate: 1e-30, fixed: { dataDir: miniMnistDir(), validationCount: 50, trainLimit: 200, optimizer: 'sgd' } },
      });
      expect(started.resumedFrom).toEqual({ run: 'mnist', step: 5000 });
      expect(started.notes.join('\n')).toMatch(/"logits\/kernel":"Variable_1","logits\/bias":"Variable_2"/);
      await done;
      const [saved] = await api.listCheckpoints({ run: 'more' });
      expect(saved).toMatchObject({ step: 5002, parent: { run: 'mnist', step: 5000 } });
      const weights = new Map<string, Uint8Array>();
      const loaded = (await import('../../electron/core/checkpoint/reader.js')).loadCheckpoint;
      for (const t of (await loaded(saved?.path as string)).model) weights.set(t.name, t.data);
      const reader = readerFor('tf-bundle');
      const opened = await reader.open(path.join(source, 'model-5000'));
      for await (const item of reader.read(opened.checkpoints[0] as never)) {
        if (item.tensor.name === 'Variable_1') expect(Buffer.from(weights.get('logits/kernel') as Uint8Array)).toEqual(Buffer.from(item.data));
        if (item.tensor.name === 'Variable_2') expect(Buffer.from(weights.get('logits/bias') as Uint8Array)).toEqual(Buffer.from(item.data));
      }
      expect(warnings.join('\n')).toMatch(/position in the data/);
    },
  );

  it('exports an imported bundle as TensorFlow again, read back with the same names, dtypes, shapes and bytes', async () => {
    const { api } = await studioWith();
    await api.importFolders({ sources: [SAVED_MODEL_V1], into: 'half' });
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'export-')), 'half-tf');
    const result = await api.exportCheckpoint({ target: 'half/ckpt-000000000', format: 'tf', out });
    expect(result.files.sort()).toEqual(['checkpoint', 'model.ckpt-0.data-00000-of-00001', 'model.ckpt-0.index']);
    const read = async (target: string): Promise<Map<string, string>> => {
      const reader = readerFor('tf-bundle');
      const opened = await reader.open(target);
      const out2 = new Map<string, string>();
      for await (const item of reader.read(opened.checkpoints[0] as never))
        out2.set(item.tensor.name, `${item.tensor.dtype} [${item.tensor.shape.join(',')}] ${Buffer.from(item.data).toString('hex')}`);
      return out2;
    };
    const original = await read(SAVED_MODEL_V1);
    const exported = await read(out);
    exported.delete('global_step');
    expect(exported).toEqual(original);
    await expect(api.exportCheckpoint({ target: 'half/ckpt-000000000', format: 'tf', out })).rejects.toThrow(/already exists; exports never overwrite/);
    await expect(api.exportCheckpoint({ target: 'half/ckpt-000000000', format: 'tfjs', out: `${out}-js` })).rejects.toThrow(/match none of our model presets/);
    expect(fs.existsSync(`${out}-js`)).toBe(false);
  });
});
