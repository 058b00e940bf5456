// The Studio as every host sees it: the StudioApi object. Parameters are validated by the
// contract's schemas, failures carry stable codes, and each request does what the contract says.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StudioApi, StudioEventName, StudioEventPayload } from '../../electron/contract.js';
import { StudioError } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { onCleanup, rewriteManifest, trainingState, useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();

async function failure(promise: Promise<unknown>): Promise<StudioError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

async function studioWith(
  runs: Record<string, number[]> = { alpha: [100, 200, 300] },
): Promise<{ api: StudioApi; studio: Studio; root: string; base: string }> {
  const { base, root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  for (const [run, steps] of Object.entries(runs)) {
    const writer = await store.createRun(run, { parent: null, config: {} });
    for (const step of steps) await writer.save(trainingState(step, { loss: 1 / step }));
    await writer.close();
  }
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return { api: studio.api, studio, root: store.root, base };
}

function recorder<E extends StudioEventName>(api: StudioApi, event: E): StudioEventPayload<E>[] {
  const seen: StudioEventPayload<E>[] = [];
  api.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('the StudioApi contract', () => {
  it('validates every request with the contract and fails with a code, never a class name', async () => {
    const { api } = await studioWith();
    expect((await failure(api.best({} as never))).code).toBe('usage');
    expect((await failure(api.listCheckpoints({ run: 'nope' }))).code).toBe('not-found');
    expect((await failure(api.latest({ run: 'nope' }))).code).toBe('not-found');
    expect((await failure(api.deleteCheckpoints({ targets: ['latest'] }))).code).toBe('refused');
    expect((await failure(api.metricHistory({ run: 'alpha', after: 'abc' }))).code).toBe('usage');
    expect((await failure(api.pauseTraining())).code).toBe('refused');
  });

  it('needs an open workspace, and keeps a read-only one unchanged', async () => {
    const studio = new Studio();
    expect((await failure(studio.api.snapshot())).message).toBe('no workspace is open');
    const { root } = await studioWith();
    const missing = await failure(studio.api.openWorkspace({ path: path.join(root, 'typo') }));
    expect(missing.code).toBe('not-found');
    await studio.api.openWorkspace({ path: root, readOnly: true });
    expect((await failure(studio.api.deleteCheckpoints({ targets: ['alpha/ckpt-000000100'] }))).message).toContain('opened read-only');
    expect((await failure(studio.api.pin({ ids: ['alpha/ckpt-000000100'] }))).code).toBe('usage');
    await studio.close();
  });

  it('marks the latest and the best, per run when there are several', async () => {
    const { api } = await studioWith({ alpha: [1, 2], beta: [5] });
    expect(await api.marks({ metric: 'loss', mode: 'max' })).toEqual({
      'alpha/ckpt-000000001': ['best loss', 'best(alpha) loss'],
      'alpha/ckpt-000000002': ['latest(alpha)'],
      'beta/ckpt-000000005': ['latest', 'latest(beta)', 'best(beta) loss'],
    });
  });

  it("marks each run's best, the one `best --run` answers, beside the workspace's", async () => {
    const { api } = await studioWith({ alpha: [1, 2, 3], beta: [5, 6] });
    const marks = await api.marks({ metric: 'loss', mode: 'min' });
    for (const run of ['alpha', 'beta']) {
      const best = await api.best({ metric: 'loss', mode: 'min', run });
      expect(marks[best.id]).toContain(`best(${run}) loss`);
      expect(
        Object.values(marks)
          .flat()
          .filter((m) => m === `best(${run}) loss`),
      ).toHaveLength(1);
    }
    const workspaceBest = await api.best({ metric: 'loss', mode: 'min' });
    expect(marks[workspaceBest.id]).toContain('best loss');
  });

  it('plans, saves and applies retention; a saved policy names its run or all runs', async () => {
    const { api } = await studioWith({ alpha: [1, 2, 3, 4], beta: [1, 2] });
    expect((await failure(api.setRetentionPolicy({ policy: { keepLast: 1 } }))).code).toBe('usage');
    expect(await api.setRetentionPolicy({ run: 'alpha', policy: { keepLast: 2 } })).toEqual(['alpha']);
    const plans = await api.planRetention();
    expect(plans.map((p) => [p.run, p.delete.map((d) => d.step)])).toEqual([
      ['alpha', [1, 2]],
      ['beta', []],
    ]);
    const removed = recorder(api, 'catalog:removed');
    const trashed = await api.applyRetention({ plans });
    expect(trashed.map((e) => e.checkpointId)).toEqual(['alpha/ckpt-000000001', 'alpha/ckpt-000000002']);
    expect(removed.map((r) => r.id).sort()).toEqual(['alpha/ckpt-000000001', 'alpha/ckpt-000000002']);
    const added = recorder(api, 'catalog:added');
    expect((await api.undoDelete()).length).toBe(2);
    expect(added.map((c) => c.id).sort()).toEqual(['alpha/ckpt-000000001', 'alpha/ckpt-000000002']);
    expect(await api.setRetentionPolicy({ allRuns: true, policy: { keepLast: 5 } })).toEqual(['alpha', 'beta']);
  });

  it("pages through a run's metric history by cursor, skipping a torn last line", async () => {
    const { api, root } = await studioWith();
    const lines = Array.from({ length: 7 }, (_, i) => JSON.stringify({ kind: 'train', step: i + 1, loss: 1 / (i + 1) }));
    fs.writeFileSync(path.join(root, 'alpha', 'metrics.jsonl'), `${lines.join('\n')}\n{"kind":"tra`);
    const steps: number[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await api.metricHistory({ run: 'alpha', limit: 3, ...(after !== undefined ? { after } : {}) });
      steps.push(...result.records.map((r) => r.step as number));
      if (result.next === null) break;
      after = result.next;
    }
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await api.runConfig({ run: 'alpha' })).name).toBe('alpha');
  });

  it('inspects and verifies a checkpoint folder of another workspace, or of none', async () => {
    const { api } = await studioWith();
    const elsewhere = await studioWith({ gamma: [7] });
    const folder = path.join(elsewhere.root, 'gamma', 'ckpt-000000007');
    expect((await api.inspect({ target: folder })).map((r) => r.name)).toContain('dense/kernel');
    const report = await api.verify({ targets: [folder] });
    expect(report.results.map((r) => [r.path, r.ok])).toEqual([[folder, true]]);
    // Copied out of any workspace, it is read on its own.
    const loose = path.join(elsewhere.base, 'loose-ckpt');
    fs.cpSync(folder, loose, { recursive: true });
    expect((await api.verify({ targets: [loose] })).results[0]?.ok).toBe(true);
    rewriteManifest(loose, (m) => {
      (m.tensors as { crc32c: string }[])[0]!.crc32c = '00000000';
    });
    expect((await api.verify({ targets: [loose] })).results[0]?.ok).toBe(false);
    // A tensor file on its own is another program's safetensors file, read in place: its own bytes are whole.
    const file = path.join(loose, 'model.safetensors');
    expect((await api.verify({ targets: [file] })).results.map((r) => [r.id, r.ok])).toEqual([[file, true]]);
    expect((await failure(api.verify({ targets: [path.join(loose, 'manifest.json')] }))).code).toBe('refused');
  });
});

describe('revealing a checkpoint in the file manager', () => {
  it('hands the host the folder of a listed checkpoint only, and says when nothing could open it', async () => {
    const { root } = await studioWith();
    const shown: string[] = [];
    const withDesktop = new Studio({ revealFolder: async (folder) => (shown.push(folder), true) });
    onCleanup(() => withDesktop.close());
    await withDesktop.api.openWorkspace({ path: root });
    expect(await withDesktop.api.revealInFolder({ target: 'alpha/ckpt-000000200' })).toEqual({
      path: path.join(root, 'alpha', 'ckpt-000000200'),
      opened: true,
    });
    expect(shown).toEqual([path.join(root, 'alpha', 'ckpt-000000200')]);
    // Not a path of the page's choosing: what the catalog does not list is not found, and nothing is opened.
    expect((await failure(withDesktop.api.revealInFolder({ target: '/etc' }))).code).toBe('not-found');
    expect((await failure(withDesktop.api.revealInFolder({ target: 'alpha/ckpt-000000999' }))).code).toBe('not-found');
    expect(shown).toHaveLength(1);

    const headless = new Studio();
    onCleanup(() => headless.close());
    await headless.api.openWorkspace({ path: root });
    expect(await headless.api.revealInFolder({ target: 'alpha/ckpt-000000100' })).toEqual({ path: path.join(root, 'alpha', 'ckpt-000000100'), opened: false });
  });
});

describe('starting training is checked before anything loads', () => {
  it('a bad request fails in well under a second, naming what is wrong, and creates nothing', async () => {
    const { api, root, base } = await studioWith();
    const config = { model: { kind: 'mlp' as const }, optimizer: { name: 'adam' as const, learningRate: 0.001 }, batchSize: 32, epochs: 1, seed: 1 };
    const started = performance.now();
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => api.startTraining({ config: { ...config, dataDir: path.join(base, 'no-data') } }), 'not-found', /no-data: missing train-images-idx3-ubyte/],
      [() => api.startTraining({ run: 'alpha', config }), 'refused', /a run with this name already exists/],
      [() => api.startTraining({ run: 'bad\nname', config }), 'refused', /control character/],
      [
        () => api.startTraining({ config: { ...config, validationCount: 60_000 } }),
        'usage',
        /validation split \(60000\) must be smaller than the 60000 training examples/,
      ],
      [
        () => api.startTraining({ config: { ...config, validationCount: 0 }, checkpoints: { best: { metric: 'val_loss', mode: 'min' } } }),
        'usage',
        /needs a validation split/,
      ],
      [() => api.startTraining({ config: { ...config, batchSize: 0 } }), 'usage', /batchSize/],
      [() => api.continueTraining({ from: 'alpha/ckpt-000000100' }), 'refused', /holds no training configuration/],
      [() => api.continueTraining({ from: 'alpha/ckpt-999' }), 'not-found', /not a checkpoint of the workspace/],
    ];
    for (const [attempt, code, message] of cases) {
      const error = await failure(attempt());
      expect(error.code, error.message).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect(performance.now() - started).toBeLessThan(1000 * cases.length);
    expect(fs.readdirSync(root).sort()).toEqual(['.studio', 'alpha'].filter((n) => fs.existsSync(path.join(root, n))).sort());
    expect((await api.trainingStatus()).state).toBe('idle');
  });
});

describe('a checkpoint in the trash', () => {
  it('continuing from it says it is in the trash, when and why it went, and how to restore it', async () => {
    const { api, root } = await studioWith({ alpha: [100, 200, 300, 400] });
    const [byHand] = await api.deleteCheckpoints({ targets: ['alpha/ckpt-000000200'] });
    // A retention policy moved 100 there (as a trainer's keep-last does while it trains).
    const plans = await api.planRetention({ run: 'alpha', policy: { keepLast: 2 } });
    const [byPolicy] = await api.applyRetention({ plans });
    expect(byPolicy?.checkpointId).toBe('alpha/ckpt-000000100');
    const when = (iso: string): string => `${iso.replace('T', ' ').slice(0, 19)} UTC`;
    const expected = (entry: typeof byHand): string =>
      `${entry?.checkpointId}: in the trash (${entry?.reason}, ${when(entry?.deletedAt ?? '')}; batch ${entry?.batch}): restore it first with \`checkpoint-studio trash restore ${entry?.id}\` or the Trash view's Restore`;
    // By id, by its step written short, and by its old path: each is named.
    for (const [from, entry] of [
      ['alpha/ckpt-000000200', byHand],
      ['alpha/ckpt-100', byPolicy],
      [path.join(root, 'alpha', 'ckpt-000000100'), byPolicy],
    ] as const) {
      const error = await failure(api.continueTraining({ from }));
      expect(error.code).toBe('not-found');
      expect(error.message).toBe(expected(entry));
    }
    expect(byPolicy?.reason).toBe('retention policy of run "alpha"');
    // Inspecting it says the same; a checkpoint that never existed is still simply not one.
    expect((await failure(api.inspect({ target: 'alpha/ckpt-000000200' }))).message).toBe(expected(byHand));
    expect((await failure(api.continueTraining({ from: 'alpha/ckpt-000000999' }))).message).toMatch(/not a checkpoint of the workspace/);
    // Restored as it says, it can be named again.
    await api.restoreFromTrash({ ids: [byHand?.id ?? ''] });
    expect((await failure(api.continueTraining({ from: 'alpha/ckpt-000000200' }))).message).toMatch(/holds no training configuration/);
  });
});
