// `checkpoint-studio train` and `verify-resume` as a user runs them on a training server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { readMetrics } from '../../electron/core/checkpoint/run-files.js';
import type { VerifyResumeReport } from '../../electron/contract.js';
import { miniMnistDir } from '../trainer/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const SMALL = ['--train-limit', '640', '--validation', '200', '--batch-size', '32', '--width', '16', '--backend', 'cpu'];
let workspace = '';

beforeEach(() => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'cli-train-'));
});
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('checkpoint-studio train', () => {
  it('trains, checkpoints by policy, applies retention, and continues from latest', async () => {
    const first = cli('train', '--run', 'base', ...SMALL, '--epochs', '2', '--save-every-steps', '10', '--keep-last', '2', '--log-every', '1');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('run base: 12,730 parameters, 20 batches per epoch, 40 steps');
    expect(first.stdout).toContain("backend: cpu (the 'cpu' backend was requested explicitly)");
    expect(first.stdout).toMatch(/epoch 1 done at step 20: val_loss \d\.\d{4} val_accuracy \d\.\d{4}/);
    expect(first.stdout).toMatch(/saved base\/ckpt-000000010 \(every 10 steps\)/);
    expect(first.stdout).toMatch(/finished \(completed\) at step 40; last checkpoint base\/ckpt-000000040; checkpoint overhead \d+\.\d\d% of training time/);
    let store = await CheckpointStore.open(workspace);
    // keep-last 2: steps 30 and 40 remain, 10 and 20 went to the trash.
    expect(store.catalog.list('base').map((c) => c.step)).toEqual([30, 40]);
    expect((await store.listTrash()).map((e) => e.checkpointId).sort()).toEqual(['base/ckpt-000000010', 'base/ckpt-000000020']);

    const resumed = cli('train', '--resume', 'latest', '--epochs', '3', '--run', 'more', '--backend', 'cpu', '--log-every', '1');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('continuing from base step 40');
    expect(resumed.stdout).toContain('finished (completed) at step 60');
    store = await CheckpointStore.open(workspace);
    expect(store.catalog.getRun('more')?.parent).toEqual({ run: 'base', step: 40 });

    // Ten steps reach the continued run's checkpoint at step 50: its weights are compared too.
    const exact = cli('verify-resume', 'base/ckpt-000000040', '--steps', '10');
    expect(exact.stdout).toContain('losses: 10/10 identical; weight hashes: 1/1 identical');
    expect(exact.stdout).toContain('RESUMES EXACTLY');
    expect(exact.code).toBe(0);
    const json = cli('verify-resume', 'base/ckpt-000000040', '--steps', '10', '--json');
    const report = JSON.parse(json.stdout) as VerifyResumeReport;
    expect(report.weightHashes.compared).toBeGreaterThan(0);
    expect(report.weightHashes.identical).toBe(report.weightHashes.compared);
    expect(report.ok).toBe(true);
    const manifest = (await store.load('base/ckpt-000000040')).manifest;
    expect(manifest.cost?.bytes).toBeGreaterThan(50_000);
    // The save held the loop while it copied the state (time did pass), and for less than the
    // training time recorded with it.
    expect(manifest.cost?.blockedMs).toBeGreaterThan(0);
    expect(manifest.cost?.blockedMs).toBeLessThan(manifest.trainingTimeMs);

    // A log that disagrees with the replay (as a non-deterministic resume would) is caught.
    const metricsFile = path.join(workspace, 'more', 'metrics.jsonl');
    const lines = readFileSync(metricsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const tampered = lines.map((r) => (r.kind === 'train' && r.step === 43 ? { ...r, loss: (r.loss as number) * 1.0000001 } : r));
    writeFileSync(metricsFile, `${tampered.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const caught = cli('verify-resume', 'base/ckpt-000000040', '--steps', '5');
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain('losses: 4/5 identical');
    expect(caught.stdout).toMatch(/step 43 loss: expected [\d.]+, replay gave [\d.]+/);
    expect(caught.stdout).toContain('DOES NOT RESUME EXACTLY');
  }, 120_000);

  it('retention never deletes the best checkpoint by the --save-best metric', async () => {
    // "Best" as the highest val_loss: while training improves, that is the first epoch's, so
    // the best is not also the latest and keep-last alone would delete it.
    const result = cli('train', '--run', 'kept', ...SMALL, '--epochs', '3', '--save-every-steps', '5', '--save-best', 'val_loss:max', '--keep-last', '1');
    expect(result.code).toBe(0);
    const records = await readMetrics(path.join(workspace, 'kept'));
    const validations = records.filter((r) => r.kind === 'validation') as { step: number; loss: number }[];
    expect(validations.map((v) => v.step)).toEqual([20, 40, 60]);
    const bestStep = validations.reduce((a, b) => (b.loss > a.loss ? b : a)).step;
    expect(bestStep).not.toBe(60);
    const store = await CheckpointStore.open(workspace);
    // keep-last 1 keeps the latest; the best by val_loss survives every pass as well.
    expect(store.catalog.list('kept').map((c) => c.step)).toEqual([...new Set([bestStep, 60])].sort((a, b) => a - b));
    // Validation metrics belong to the checkpoint where they were measured, and only there.
    const withVal = store.catalog
      .list('kept')
      .filter((c) => c.metrics.val_loss !== undefined)
      .map((c) => c.step);
    expect(withVal.every((step) => [20, 40, 60].includes(step))).toBe(true);
  }, 120_000);

  it('--max-steps stops and saves; --json streams one event per line', () => {
    const result = cli('train', '--run', 'short', ...SMALL, '--max-steps', '7', '--json');
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; reason?: string; step?: number });
    expect(events[0]?.type).toBe('started');
    expect(events.find((e) => e.type === 'checkpoint')).toMatchObject({ step: 7, reason: 'step limit' });
    expect(events.at(-1)).toMatchObject({ type: 'finished', reason: 'max-steps', step: 7 });
  }, 60_000);

  it('Ctrl-C stops gracefully: saves the state, then exits 130', async () => {
    const child = spawn(process.execPath, [bin, 'train', '--workspace', workspace, '--run', 'interrupted', ...SMALL, '--epochs', '50', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && stdout.includes('"type":"progress"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const finished = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; reason?: string; step?: number })
      .find((e) => e.type === 'finished');
    expect(finished?.reason).toBe('stopped');
    const store = await CheckpointStore.open(workspace);
    const latest = store.resolve('latest', { run: 'interrupted' });
    expect(latest.step).toBe(finished?.step);
    expect((await store.verify([latest.id])).results[0]?.ok).toBe(true);
  }, 60_000);

  it('bad input gets a clear error naming the file or folder', () => {
    const missing = cli('train', ...SMALL, '--data', path.join(workspace, 'no-such-dataset'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(path.join(workspace, 'no-such-dataset'));
    const nothing = cli('train', '--resume', 'latest');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('no complete checkpoint');
    const badBest = cli('train', ...SMALL, '--save-best', 'loss');
    expect(badBest.code).toBe(2);
    expect(badBest.stderr).toContain('--save-best takes val_loss[:min] or val_accuracy[:max]');
  }, 60_000);

  it('a resume that fails after its run folder was made leaves no folder, so the same --run can be retried', () => {
    expect(cli('train', '--run', 'base', ...SMALL, '--max-steps', '2').code).toBe(0);
    const manifest = path.join(workspace, 'base', 'ckpt-000000002', 'manifest.json');
    const original = readFileSync(manifest, 'utf8');
    // A configuration that does not fit the saved weights: restoring fails after the run is created.
    const edited = JSON.parse(original) as { extra: { config: { model: { width: number } } } };
    edited.extra.config.model.width = 32;
    writeFileSync(manifest, JSON.stringify(edited));
    const failed = cli('train', '--resume', 'base/ckpt-000000002', '--run', 'again', '--backend', 'cpu', '--max-steps', '1');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('is F32 [784, 16], the model needs F32 [784, 32]');
    expect(existsSync(path.join(workspace, 'again'))).toBe(false);
    writeFileSync(manifest, original);
    const retried = cli('train', '--resume', 'base/ckpt-000000002', '--run', 'again', '--backend', 'cpu', '--max-steps', '1');
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
  }, 60_000);

  it('a run trained on --data continues and replays on that data, without being told again', () => {
    const data = miniMnistDir();
    const first = cli(
      'train',
      '--run',
      'small',
      '--data',
      data,
      '--validation',
      '100',
      '--batch-size',
      '50',
      '--width',
      '8',
      '--backend',
      'cpu',
      '--max-steps',
      '6',
      '--save-every-steps',
      '3',
      '--log-every',
      '1',
    );
    expect(first.stderr).toBe('');
    // 1,000 examples, 100 held out: 18 batches of 50.
    expect(first.stdout).toContain('18 batches per epoch');
    const continued = cli('train', '--resume', 'small/ckpt-000000006', '--max-steps', '2');
    expect(continued.stderr).toBe('');
    expect(continued.stdout).toContain('18 batches per epoch');
    expect(continued.stdout).toContain('backend: cpu');
    const replay = cli('verify-resume', 'small/ckpt-000000003', '--steps', '3');
    expect(replay.stdout).toContain('RESUMES EXACTLY');
    const moved = cli('train', '--resume', 'small/ckpt-000000006', '--data', path.join(workspace, 'elsewhere'));
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(`cannot change the dataset: the checkpoint was trained with ${data}`);
  }, 90_000);
});
