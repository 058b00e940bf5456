// Live from any writer (issue 17): a watching Studio follows our runs' metrics.jsonl whoever
// appends to it. Another process appends records; the Studio sends `metrics:appended` holding
// exactly those records (not the history before, not a torn last line until it is whole) and the
// run's progress from them and run.json's plan. Every wait is for an event; the bound in nextEvent
// only ends a failing test.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricRecord, StudioApi } from '../../electron/contract.js';
import { nextEvent, openStudio } from '../in-place/in-place-helpers.js';
import { makeTempWorkspace, useTempWorkspaces } from '../store/helpers.js';
import { miniMnistDir } from '../trainer/helpers.js';

useTempWorkspaces();

const T0 = Date.parse('2026-01-01T00:00:00Z');

function trainRecord(step: number, extra: Record<string, unknown> = {}): MetricRecord {
  return {
    kind: 'train',
    step,
    epoch: Math.floor(step / 100),
    loss: 1 / (step + 1),
    samplesPerSecond: 500,
    time: new Date(T0 + step * 10).toISOString(),
    ...extra,
  };
}

const line = (record: MetricRecord): string => `${JSON.stringify(record)}\n`;

/** A run of ours as a trainer leaves it before its first save: run.json with its plan, and a log of `steps` records. */
function runFolder(root: string, run: string, steps: number, plan: { steps: number; epochs: number } | null): string {
  const dir = path.join(root, run);
  fs.mkdirSync(dir, { recursive: true });
  const meta = {
    formatVersion: 1,
    name: run,
    createdAt: new Date(T0).toISOString(),
    parent: null,
    config: { training: { epochs: 9 }, ...(plan ? { plan } : {}) },
  };
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(meta));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), Array.from({ length: steps }, (_, i) => line(trainRecord(i + 1))).join(''));
  return dir;
}

/** Appends `text` to `file` from another Node process, as a trainer started from the command line would. */
function appendFromAnotherProcess(file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', 'require("node:fs").appendFileSync(process.argv[1], process.argv[2])', file, text], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the appending process exited with ${code}`))));
  });
}

function collect(api: StudioApi, run: string): MetricRecord[][] {
  const batches: MetricRecord[][] = [];
  api.on('metrics:appended', (p) => {
    if (p.run === run) batches.push(p.records);
  });
  return batches;
}

describe('a run of ours written by another process', () => {
  it('sends exactly the appended records, a torn last line once it is whole, and the run’s progress', async () => {
    const { root } = makeTempWorkspace();
    const log = path.join(runFolder(root, 'cli-run', 50, { steps: 1000, epochs: 10 }), 'metrics.jsonl');
    // Saved before the app looked: its progress still names that save.
    const saved = { kind: 'checkpoint', step: 50, time: new Date(T0 + 500).toISOString() };
    fs.appendFileSync(log, line(saved));
    const { api } = await openStudio(root, { watch: true });
    const batches = collect(api, 'cli-run');

    const added = [trainRecord(51), { kind: 'validation', step: 51, epoch: 0, loss: 0.5, accuracy: 0.8 }, trainRecord(52)];
    const torn = line(trainRecord(53));
    const first = nextEvent(api, 'metrics:appended', (p) => p.run === 'cli-run');
    const progressed = nextEvent(api, 'run:progress', (p) => p.run === 'cli-run' && p.step === 52);
    await appendFromAnotherProcess(log, added.map(line).join('') + torn.slice(0, 20));
    expect((await first).records).toEqual(added);
    const progress = await progressed;
    expect(progress).toMatchObject({ step: 52, epoch: 0, plannedSteps: 1000, plannedEpochs: 10, samplesPerSecond: 500, lastRecordAt: trainRecord(52)['time'] });
    expect(progress.lastCheckpoint).toEqual({ step: 50, time: saved.time });
    // Steps 51 and 52 are 10 ms apart in the log's wall times: 100 steps a second, 948 left.
    expect(progress.stepsPerSecond).toBeCloseTo(100);
    expect(progress.etaMs).toBeCloseTo(9480);

    const rest = nextEvent(api, 'metrics:appended', (p) => p.run === 'cli-run');
    await appendFromAnotherProcess(log, torn.slice(20));
    expect((await rest).records).toEqual([trainRecord(53)]);
    expect(batches).toEqual([added, [trainRecord(53)]]);
  });

  it('a run that appears while the workspace is watched sends its whole log, and runProgress reads a log nobody appended to', async () => {
    const { root } = makeTempWorkspace();
    runFolder(root, 'old', 30, null);
    const { api } = await openStudio(root, { watch: true });
    expect(await api.runProgress({ run: 'old' })).toMatchObject({ step: 30, epoch: 0, plannedSteps: null, plannedEpochs: 9, etaMs: null });
    expect(await api.runProgress({ run: 'nothing-here' })).toBeNull();

    const appeared = nextEvent(api, 'metrics:appended', (p) => p.run === 'new-run' && p.records.length === 3);
    const staged = runFolder(path.dirname(root), 'staged', 3, null);
    fs.renameSync(staged, path.join(root, 'new-run'));
    expect((await appeared).records).toEqual([trainRecord(1), trainRecord(2), trainRecord(3)]);
  });

  it('a file change reaches a listener within 200 ms at the 95th percentile', async () => {
    const { root } = makeTempWorkspace();
    const log = path.join(runFolder(root, 'timed', 1, null), 'metrics.jsonl');
    const { api } = await openStudio(root, { watch: true });
    const latencies: number[] = [];
    for (let step = 2; step < 42; step++) {
      const arrived = nextEvent(api, 'metrics:appended', (p) => p.run === 'timed' && p.records.some((r) => r['step'] === step));
      const start = performance.now();
      fs.appendFileSync(log, line(trainRecord(step)));
      await arrived;
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95)] as number;
    console.log(`metrics.jsonl append → metrics:appended: p50 ${latencies[20]?.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
    expect(p95).toBeLessThan(200);
  });
});

describe('the run the app’s own trainer writes', () => {
  it('gets its log’s progress but not its points again (the trainer sends those as events)', async () => {
    const { LiveRuns } = await import('../../electron/core/studio/live-runs.js');
    const { root } = makeTempWorkspace();
    runFolder(root, 'ours', 1, { steps: 10, epochs: 1 });
    runFolder(root, 'theirs', 1, null);
    const sent: string[] = [];
    const live = new LiveRuns(
      (event, payload) => sent.push(`${event} ${(payload as { run: string }).run}`),
      (run) => path.join(root, run),
    );
    live.trainerWrites('ours');
    expect(await live.progress('ours')).toMatchObject({ step: 1, plannedSteps: 10 });
    live.appended('ours', [trainRecord(2)]);
    live.appended('theirs', [trainRecord(2)]);
    await live.progress('theirs');
    await live.progress('ours');
    expect(sent.sort()).toEqual(['metrics:appended theirs', 'run:progress ours', 'run:progress theirs']);
  });
});

describe('a watching Studio training a run itself', () => {
  it('sends that run’s progress from its log but none of its points as metrics:appended', { timeout: 90_000 }, async () => {
    const { root } = makeTempWorkspace();
    fs.mkdirSync(root, { recursive: true });
    const { api } = await openStudio(root, { watch: true });
    const appended: string[] = [];
    api.on('metrics:appended', (p) => appended.push(p.run));
    let metricEvents = 0;
    api.on('training:event', (e) => {
      if (e.type === 'metric' && e.kind === 'train') metricEvents += 1;
    });
    const config = {
      model: { kind: 'mlp' as const, width: 8 },
      optimizer: { name: 'adam' as const, learningRate: 0.01 },
      epochs: 1,
      batchSize: 16,
      seed: 3,
      trainLimit: 320,
      validationCount: 64,
      dataDir: miniMnistDir(),
    };
    // The progress of the last step comes from the log: the whole log was read by then.
    const last = nextEvent(api, 'run:progress', (p) => p.run === 'own' && p.plannedSteps !== null && p.step === p.plannedSteps, 60_000);
    await api.startTraining({ run: 'own', config, backend: 'cpu', logEvery: 1 });
    expect(await last).toMatchObject({ plannedSteps: 20, plannedEpochs: 1 });
    expect(metricEvents).toBeGreaterThan(0);
    expect(appended).toEqual([]);
  });
});
