// The case folder every fuzz case starts from, built once per test run through the store's own API
// (so it is exactly what the product writes today), plus the canaries the product must never touch.
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState } from '../store/helpers.js';
import { INSIDE_CANARIES } from './protocol.js';

export interface Template {
  /** The case folder to copy: `ws/`, `outside/`, `beside.txt`. */
  readonly dir: string;
  /** What the template could not include, and why (said in the test's output). */
  readonly notes: readonly string[];
}

/** A loss per step that makes "best" and "latest" different checkpoints. */
const LOSS: Readonly<Record<number, number>> = { 100: 0.9, 200: 0.3, 300: 0.5, 400: 0.4, 500: 0.6, 250: 0.35, 350: 0.25, 450: 0.2, 700: 0.1 };

export async function buildTemplate(dir: string): Promise<Template> {
  const ws = path.join(dir, 'ws');
  const notes: string[] = [];
  const store = await CheckpointStore.open(ws);

  // A valid checkpoint that lives outside the workspace: links to it must never make it ours to delete.
  const scratch = await store.createRun('scratch', { parent: null, config: {} });
  await scratch.save(trainingState(700, { loss: LOSS[700] }));
  await scratch.close();
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.renameSync(path.join(ws, 'scratch', 'ckpt-000000700'), path.join(dir, 'outside', 'ckpt-000000700'));
  fs.rmSync(path.join(ws, 'scratch'), { recursive: true });

  const alpha = await store.createRun('alpha', { parent: null, config: { model: 'mlp' } });
  for (const step of [100, 200, 300, 400, 500]) {
    await alpha.save(trainingState(step, { loss: LOSS[step] }));
    await alpha.appendMetrics({ kind: 'train', step, loss: LOSS[step] ?? null });
  }
  await alpha.close();

  const beta = await store.createRun('beta', { parent: { run: 'alpha', step: 200 }, config: { model: 'mlp' } });
  for (const step of [250, 350, 450]) {
    await beta.save(trainingState(step, { loss: LOSS[step], parent: { run: 'alpha', step: 200 } }));
    await beta.appendMetrics({ kind: 'train', step, loss: LOSS[step] ?? null });
  }
  await beta.close();

  // A name with a space and non-ASCII letters: the format's run-name rule may refuse it.
  try {
    const odd = await store.createRun('run é 2', { parent: null, config: {} });
    await odd.save(trainingState(100));
    await odd.close();
  } catch (error) {
    notes.push(`run "run é 2" left out: the store refuses it (${error instanceof Error ? error.message : String(error)})`);
  }

  await store.setPinned('alpha/ckpt-000000400', true);
  await store.setPolicy('alpha', { keepLast: 2 });
  await store.setPolicy('beta', { keepLast: 1, keepBest: { k: 1, metric: 'loss', mode: 'min' } });
  // Two batches in the trash: `restore --last` and `restore ID` then mean different things.
  await store.delete(['alpha/ckpt-000000100']);
  await store.delete(['beta/ckpt-000000250']);
  // Whole-second mtimes survive a copy exactly (utimes takes milliseconds), so the verification
  // cache written next still matches in every copy: checkpoints start "verified", as in real use.
  setMtimes(dir);
  const fresh = await CheckpointStore.open(ws);
  await fresh.verify(fresh.catalog.list().map((c) => c.id));
  // Last: opening a store may clean up what it takes for its own debris (that is what is tested).
  writeCanaries(dir);
  setMtimes(dir);
  for (const rel of INSIDE_CANARIES) if (!fs.existsSync(path.join(dir, rel))) throw new Error(`template: canary ${rel} is missing`);
  return { dir, notes };
}

const FIXED_TIME = new Date('2026-01-01T00:00:00.000Z');

function setMtimes(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) setMtimes(full);
    else if (entry.isFile()) fs.utimesSync(full, FIXED_TIME, FIXED_TIME);
  }
}

function writeCanaries(dir: string): void {
  const put = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  for (const rel of INSIDE_CANARIES) put(rel, `a user's own file at ${rel}: not the store's to delete\n`);
  put('beside.txt', 'a file beside the workspace\n');
  put('outside/secret.txt', 'outside the workspace\n');
  put('outside/x', 'x\n');
  put('outside/sub/deep.txt', 'deeper outside\n');
  // Looks like a run, and like a trash entry (the newest of all, batch number and date both highest):
  // a link from the workspace to here must never let the store restore, purge or prune it.
  put('outside/run.json', `${JSON.stringify({ formatVersion: 1, name: 'outside', createdAt: '2024-01-01T00:00:00.000Z', parent: null, config: {} })}\n`);
  put(
    'outside/entry.json',
    `${JSON.stringify({
      id: 'outside-entry',
      batch: '999999999999',
      originalPath: 'alpha/ckpt-000000800',
      checkpointId: 'alpha/ckpt-000000800',
      deletedAt: '2099-01-01T00:00:00.000Z',
      bytes: 15,
      reason: 'a record outside the workspace',
    })}\n`,
  );
  put('outside/payload/keep.txt', 'a payload outside the workspace\n');
}
