// Folders read in place as the core describes them to the page: the tutorial's TensorFlow Saver
// folder (model-1000 … model-10000, its checkpoint file naming one latest) opened as the workspace,
// a TensorBoard run beside it, and a fake Studio that answers for the whole page.
import type { CatalogSnapshot, CheckpointInfo, RunInfo, Settings } from '../../renderer/src/lib/contract';
import { type FakeStudio, checkpoint, run } from './fakes';

export const TUTORIAL = '/data/mnist-softmax';

/** One TensorFlow group of the folder, as the core lists it: its three files, its step from its name. */
export function tfCheckpoint(step: number, overrides: Partial<CheckpointInfo> = {}): CheckpointInfo {
  const name = `model-${step}`;
  return checkpoint('.', step, {
    id: name,
    path: `${TUTORIAL}/${name}`,
    bytes: 50_303,
    epoch: null,
    batchInEpoch: null,
    trainingTimeMs: null,
    saveBlockedMs: null,
    metrics: {},
    backend: null,
    origin: 'foreign',
    source: { format: 'tf-bundle', label: 'TensorFlow checkpoint', name, linkedFrom: null },
    files: [
      { name: `${name}.index`, bytes: 176 },
      { name: `${name}.data-00000-of-00001`, bytes: 31_404 },
      { name: `${name}.meta`, bytes: 18_723 },
    ],
    notes: [`step ${step} from the name ${name}`],
    ...overrides,
  });
}

export function tutorialRun(latest: string | null = 'model-10000', overrides: Partial<RunInfo> = {}): RunInfo {
  return run('.', { path: TUTORIAL, layout: 'tf-folder', label: 'TensorFlow checkpoint folder', latest, checkpointCount: 10, bytes: 503_030, ...overrides });
}

export const boardRun = (name = 'logs/fit/mnist/train'): RunInfo =>
  run(name, { path: `${TUTORIAL}/${name}`, layout: 'tensorboard', label: 'TensorBoard run', createdAt: '2026-01-02T00:00:00.000Z' });

export const STEPS = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000] as const;

export function tutorialSnapshot(latest = 'model-10000', extraRuns: readonly RunInfo[] = [boardRun()]): CatalogSnapshot {
  return { workspace: TUTORIAL, runs: [tutorialRun(latest), ...extraRuns], checkpoints: STEPS.map((s) => tfCheckpoint(s)), skipped: [] };
}

/**
 * Everything the whole page asks for at start, answered as a Studio with this snapshot would: the
 * catalog (its marks name the folder's own latest, as the core's catalog does), the trainer idle,
 * the settings (a quiet period of 10 s), histories empty.
 */
export function servePage(fake: FakeStudio, snapshot: () => CatalogSnapshot): { settings: Settings } {
  const state = { settings: { recentWorkspaces: [], view: {}, quietSeconds: 10 } as Settings };
  const latestOf = (s: CatalogSnapshot): Record<string, string[]> => {
    const marks: Record<string, string[]> = {};
    for (const r of s.runs) if (r.latest) marks[r.latest] = ['latest'];
    return marks;
  };
  fake
    .handle('snapshot', () => snapshot())
    .handle('listRuns', () => snapshot().runs)
    .handle('marks', () => latestOf(snapshot()))
    .handle('trainingStatus', () => ({ state: 'idle', run: null, lastExit: null }))
    .handle('settings', () => state.settings)
    .handle('updateSettings', (params) => {
      if (params?.quietSeconds !== undefined) state.settings = { ...state.settings, quietSeconds: params.quietSeconds };
      return state.settings;
    })
    .handle('metricSeries', (params) => ({ run: params?.run ?? '', from: null, to: null, kinds: [], source: 'in-place', warning: null }))
    .handle('inspect', () => [])
    .handle('runConfig', (params) => ({ formatVersion: 1, name: params?.run ?? '', createdAt: '2026-01-01T00:00:00.000Z', parent: null, config: {} }));
  return state;
}
