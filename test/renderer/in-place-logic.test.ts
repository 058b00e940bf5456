// The page's logic for folders read in place, apart from any component: run names that are paths
// shown short, a workspace's summary by kind, the folder's own latest when it is not the highest
// step, the label a checkpoint is read out by, the quiet period's refusal and its field, what a
// workspace switch forgets, and the metric points a growing log adds to a run's history.
import { describe, expect, it } from 'vitest';
import { checkpointLabel } from '../../renderer/src/lib/checkpoint-rows';
import { type MetricSeries, RUN_LAYOUT_KINDS, RunLayoutSchema } from '../../renderer/src/lib/contract';
import { buildLanes, folderLatest } from '../../renderer/src/lib/lanes';
import { isBusyRefusal, parseQuietSeconds } from '../../renderer/src/lib/quiet-period';
import { checkpointName, isInPlace, runDisplayName, runFullName, runNameParts, stepText } from '../../renderer/src/lib/run-names';
import { layoutTimeline, DEFAULT_GEOMETRY } from '../../renderer/src/lib/timeline-layout';
import { summariseLanes, summariseWorkspace } from '../../renderer/src/lib/workspace-summary';
import { AppState } from '../../renderer/src/state/app-state';
import { CatalogState } from '../../renderer/src/state/catalog-state.svelte';
import { fakeHost } from './component-fixtures';
import { FakeStudio, checkpoint, run, settle } from './fakes';
import { STEPS, TUTORIAL, boardRun, tfCheckpoint, tutorialRun, tutorialSnapshot } from './in-place-fixtures';

/** metricSeries' answer for a run whose log holds one train point, at step 0 or 1. */
function oneTrainPoint(run: string, values: Record<string, number>, step = run === '.' ? 1 : 0): MetricSeries {
  const columns = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [value]]));
  return {
    run,
    from: step,
    to: step,
    kinds: [{ kind: 'train', total: 1, exact: true, steps: [step], times: [null], columns, buckets: null }],
    source: 'in-place',
    warning: null,
  };
}

describe('run names that are paths', () => {
  it('shows the workspace itself by its folder’s name, a path by its last two parts, ours as they are; the whole on hover', () => {
    expect(runDisplayName('.', '/data/mnist-softmax')).toBe('mnist-softmax');
    expect(runDisplayName('.', 'C:\\runs\\mnist\\')).toBe('mnist');
    expect(runDisplayName('.', null)).toBe('this folder');
    expect(runDisplayName('logs/fit/mnist/train', TUTORIAL)).toBe('…/mnist/train');
    expect(runDisplayName('tf1-saver/mnist', TUTORIAL)).toBe('tf1-saver/mnist');
    expect(runDisplayName('alpha-from-200', TUTORIAL)).toBe('alpha-from-200');
    expect(runFullName('.', TUTORIAL)).toBe(TUTORIAL);
    expect(runFullName('logs/fit/mnist/train', TUTORIAL)).toBe('logs/fit/mnist/train');
    // A narrow place cuts the folders before the run's own name, never the name.
    expect(runNameParts('logs/fit/mnist/train', TUTORIAL)).toEqual({ head: 'logs/fit/mnist/', tail: 'train' });
    expect(runNameParts('models\\encoder.h5', TUTORIAL)).toEqual({ head: 'models/', tail: 'encoder.h5' });
    expect(runNameParts('alpha', TUTORIAL)).toEqual({ head: '', tail: 'alpha' });
  });

  it('names another program’s checkpoint by its own name and step, or says it has none', () => {
    const h5 = checkpoint('models/encoder.h5', 0, {
      id: 'models/encoder.h5',
      stepKnown: false,
      epoch: null,
      source: { format: 'keras-h5', label: 'Keras HDF5 weights (.h5)', name: 'encoder.h5', linkedFrom: null },
      files: [{ name: 'encoder.h5', bytes: 10 }],
    });
    expect([isInPlace(h5), checkpointName(h5), stepText(h5)]).toEqual([true, 'encoder.h5', '—']);
    expect(checkpointLabel(h5, [], [])).toBe('models/encoder.h5, no step recorded, Keras HDF5 weights (.h5), unverified, 1.0 KB');
    expect(checkpointLabel(tfCheckpoint(5000), ['latest'], ['loss'])).toBe('model-5000, step 5000, TensorFlow checkpoint, unverified, 50.3 KB, latest');
    // Ours, and a copy imported from another program, keep the label they had.
    const ours = checkpoint('alpha', 300);
    expect([isInPlace(ours), checkpointName(ours), stepText(ours)]).toEqual([false, 'ckpt-000000300', '300']);
    expect(checkpointLabel(ours, [], [])).toMatch(/^alpha step 300, epoch 0, unverified,/);
    const imported = checkpoint('imported', 7, {
      origin: 'imported',
      source: { format: 'tf-bundle', label: 'TensorFlow checkpoint', name: 'model-7', linkedFrom: null },
    });
    expect(isInPlace(imported)).toBe(false);
    expect(checkpointLabel(imported, [], [])).toMatch(/^imported step 7,/);
  });
});

describe('what a workspace holds, in one line', () => {
  it('counts ours by checkpoints and runs, another program’s by kind, TensorBoard runs as runs', () => {
    expect(summariseWorkspace([run('a'), run('b')], [checkpoint('a', 1), checkpoint('b', 2), checkpoint('b', 3)])).toEqual({
      text: '3 checkpoints in 2 runs',
      inPlace: false,
    });
    const tutorial = tutorialSnapshot();
    expect(summariseWorkspace([tutorialRun()], tutorial.checkpoints)).toEqual({ text: '10 TensorFlow checkpoints', inPlace: true });
    expect(summariseWorkspace([tutorialRun(), boardRun('a'), boardRun('b')], tutorial.checkpoints).text).toBe('10 TensorFlow checkpoints, 2 TensorBoard runs');
    expect(summariseWorkspace([boardRun('a')], []).text).toBe('1 TensorBoard run');
    const h5 = run('m.h5', { layout: 'keras-files', label: 'Keras weight files' });
    expect(summariseWorkspace([run('a'), h5], [checkpoint('a', 1), checkpoint('m.h5', 0)]).text).toBe('1 Checkpoint Studio checkpoint, 1 Keras file');
    // An event's checkpoint whose run is not listed yet is one of ours until it is.
    expect(summariseWorkspace([tutorialRun()], [...tutorial.checkpoints, checkpoint('new', 1)]).text).toBe(
      '1 Checkpoint Studio checkpoint, 10 TensorFlow checkpoints',
    );
    // The header counts from the lanes: the same line.
    const runs = [tutorialRun(), boardRun('a'), run('b')];
    const checkpoints = [...tutorial.checkpoints, checkpoint('b', 1), checkpoint('new', 1)];
    expect(summariseLanes(runs, buildLanes(runs, checkpoints))).toEqual(summariseWorkspace(runs, checkpoints));
    expect(summariseLanes([run('a')], buildLanes([run('a')], [checkpoint('a', 1)])).text).toBe('1 checkpoint in 1 run');
  });

  it('has one entry per layout the contract knows: the empty state lists them all', () => {
    expect(Object.keys(RUN_LAYOUT_KINDS).sort()).toEqual([...RunLayoutSchema.options].sort());
  });
});

describe("a folder's own latest", () => {
  const lane = (latest: string | null, checkpoints = STEPS.map((s) => tfCheckpoint(s))) => buildLanes([tutorialRun(latest)], checkpoints)[0];

  it('is marked when its checkpoint file names another than the highest step', () => {
    expect(folderLatest(lane('model-5000')!)).toEqual({ id: 'model-5000', notHighest: true });
    expect(folderLatest(lane('model-10000')!)).toEqual({ id: 'model-10000', notHighest: false });
    expect(folderLatest(lane(null)!)).toBeNull();
    expect(folderLatest(buildLanes([run('ours')], [checkpoint('ours', 3)])[0]!)).toBeNull();
    // Steps its files do not record do not count as higher.
    const unknown = tfCheckpoint(0, { id: 'model-final', stepKnown: false });
    expect(folderLatest(lane('model-10000', [...STEPS.map((s) => tfCheckpoint(s)), unknown])!)).toEqual({ id: 'model-10000', notHighest: false });
  });

  it('a run continued from one of its checkpoints draws as a branch from it', () => {
    const child = run('.-from-5000', { createdAt: '2026-01-03T00:00:00.000Z', parent: { run: '.', step: 5000 } });
    const lanes = buildLanes([tutorialRun(), child], [...STEPS.map((s) => tfCheckpoint(s)), checkpoint('.-from-5000', 5100)]);
    const layout = layoutTimeline(lanes, 'step', { ...DEFAULT_GEOMETRY, width: 1000 });
    expect(layout.links).toHaveLength(1);
    const [link] = layout.links;
    const parent = layout.lanes[0]?.points.find((p) => p.checkpoint.id === 'model-5000');
    expect(link).toMatchObject({ run: '.-from-5000', parent: { run: '.', step: 5000 }, parentMissing: false });
    expect(link?.from).toEqual({ x: parent?.x, y: parent?.y });
  });
});

describe('the quiet period', () => {
  it("recognises the core's busy refusal, and nothing else", () => {
    expect(isBusyRefusal(`${TUTORIAL}: refused: busy: model-9000.index changed 3 s ago, so another program may be writing here`)).toBe(true);
    expect(isBusyRefusal(`${TUTORIAL}: refused: read-only here: its checkpoints can be listed`)).toBe(false);
    expect(isBusyRefusal('a training is already running (run busy: b)')).toBe(false);
    expect(isBusyRefusal(null)).toBe(false);
  });

  it('is a number of seconds from 0 to an hour', () => {
    expect(parseQuietSeconds(' 0 ')).toEqual({ ok: true, seconds: 0 });
    expect(parseQuietSeconds('2.5')).toEqual({ ok: true, seconds: 2.5 });
    for (const bad of ['', '-1', '3601', 'soon'])
      expect(parseQuietSeconds(bad)).toEqual({ ok: false, error: `The quiet period is a number of seconds from 0 to 3600 (not "${bad.trim()}").` });
  });
});

describe('opening another workspace', () => {
  it('tells when the workspace changes, not when the same one is read again', async () => {
    let workspace = '/data/a';
    const fake = new FakeStudio().handle('snapshot', () => ({ workspace, runs: [], checkpoints: [], skipped: [] })).handle('marks', () => ({}));
    let changes = 0;
    const catalog = new CatalogState(fake.api, { schedule: (flush) => flush(), onWorkspaceChanged: () => (changes += 1) });
    await catalog.start();
    await catalog.reload();
    expect(changes).toBe(0);
    workspace = '/data/b';
    fake.emit('catalog:reset', { workspace, runs: [], checkpoints: [], skipped: [] });
    expect(changes).toBe(1);
    catalog.dispose();
  });

  it('forgets the metrics read by run name: two folders opened in place both have a run named "."', async () => {
    let snapshot = { ...tutorialSnapshot(), workspace: '/data/a' };
    const fake = new FakeStudio()
      .handle('snapshot', () => snapshot)
      .handle('openWorkspace', (params) => (snapshot = { ...tutorialSnapshot(), workspace: params?.path ?? '' }))
      .handle('marks', () => ({}))
      .handle('trainingStatus', () => ({ state: 'idle', run: null, lastExit: null }))
      .handle('settings', () => ({ recentWorkspaces: [], view: {}, quietSeconds: 10 }))
      .handle('metricSeries', () => oneTrainPoint('.', { loss: snapshot.workspace === '/data/a' ? 1 : 2 }));
    const app = new AppState(fakeHost(fake));
    await app.start();
    app.metrics.setShowing('charts', true);
    await app.metrics.ensure('.');
    expect(app.metrics.history('.').series.train.columns['loss']?.[0]).toBe(1);
    app.selection.click('model-1000', ['model-1000'], { range: false, toggle: false });

    await app.openWorkspace('/data/b');
    expect(app.metrics.history('.').series.train.steps).toHaveLength(0);
    expect(app.selection.selected.size).toBe(0);
    await app.metrics.ensure('.');
    expect(app.metrics.history('.').series.train.columns['loss']?.[0]).toBe(2);
    expect(fake.callsOf('metricSeries')).toHaveLength(2);
    app.dispose();
  });
});

describe("a run's metrics while its logs grow", () => {
  it('adds the records a log gained to a history already read, by kind, and ignores runs not shown', async () => {
    const fake = new FakeStudio().handle('metricSeries', (params) => oneTrainPoint(params?.run ?? '', { my_metric: 0 }));
    const app = new AppState(fakeHost(fake));
    app.metrics.start();
    app.metrics.setShowing('charts', true);
    await app.metrics.ensure('logs');
    fake.emit('metrics:appended', {
      run: 'logs',
      records: [
        { kind: 'train', step: 1, my_metric: 0.5 },
        { kind: 'validation', step: 1, loss: 0.25 },
      ],
    });
    fake.emit('metrics:appended', { run: 'elsewhere', records: [{ kind: 'train', step: 1, loss: 1 }] });
    await settle();
    const series = app.metrics.history('logs').series;
    expect(series.train.steps).toEqual([0, 1]);
    expect(series.train.columns['my_metric']).toEqual([0, 0.5]);
    expect(series.validation.steps).toEqual([1]);
    expect(app.metrics.runs.has('elsewhere')).toBe(false);
    app.dispose();
  });
});
