// Shared by the trainer tests: a small MNIST subset (so a trainer starts in about a second
// rather than reading 55 MB), temporary workspaces, tiny training requests, and a recorder of
// everything a TrainerSupervisor reports.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { MNIST_FILE_NAMES, defaultMnistDir } from '../../electron/core/training/data/mnist-dataset.js';
import type { SessionEvent } from '../../electron/contract.js';
import type { z } from 'zod';
import type { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { prepareContinuation } from '../../electron/core/studio/training-requests.js';
import type { ContinueTraining, TrainerCrash, TrainerExit, TrainerState } from '../../electron/contract.js';
import type { TrainerSupervisor } from '../../electron/core/training/process/supervisor.js';
import type { SerializedError, TrainerLog } from '../../electron/core/training/process/trainer-protocol.js';
import type { TrainingConfig } from '../../electron/core/training/engine/training-loop.js';
import { OptimizerSpecSchema } from '../../electron/contract.js';

export const TINY_CONFIG: TrainingConfig = {
  model: { kind: 'mlp', width: 16, depth: 1, filters: 4 },
  optimizer: OptimizerSpecSchema.parse({ name: 'adam', learningRate: 0.01 }),
  batchSize: 32,
  epochs: 2,
  seed: 1,
  validationCount: 200,
  dataDir: null,
  trainLimit: 640,
};

export type RequestInput = z.input<typeof TrainRequestSchema>;

/** Copies the first `count` examples of one IDX pair of the real MNIST files. */
function copyHead(from: string, to: string, images: string, labels: string, count: number): void {
  const copy = (name: string, header: number, itemBytes: number): void => {
    const fd = openSync(path.join(from, name), 'r');
    try {
      const bytes = Buffer.alloc(header + count * itemBytes);
      readSync(fd, bytes, 0, bytes.length, 0);
      bytes.writeUInt32BE(count, 4);
      writeFileSync(path.join(to, name), bytes);
    } finally {
      closeSync(fd);
    }
  };
  copy(images, 16, 28 * 28);
  copy(labels, 8, 1);
}

let miniMnist: string | null = null;

/** 1,000 training and 100 test examples of real MNIST, written once per test file. */
export function miniMnistDir(): string {
  if (miniMnist) return miniMnist;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cs-trainer-mnist-'));
  const source = defaultMnistDir();
  copyHead(source, dir, MNIST_FILE_NAMES.trainImages, MNIST_FILE_NAMES.trainLabels, 1000);
  copyHead(source, dir, MNIST_FILE_NAMES.testImages, MNIST_FILE_NAMES.testLabels, 100);
  miniMnist = dir;
  return dir;
}

afterAll(() => {
  if (miniMnist) rmSync(miniMnist, { recursive: true, force: true });
  miniMnist = null;
});

const workspaces: string[] = [];
const supervisors: TrainerSupervisor[] = [];

// After the file rather than after each test: the real-process tests run concurrently, and one
// test's end must not kill another's trainer. No trainer outlives its file.
afterAll(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.kill()));
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh workspace folder under the system temp folder, removed after the test file. */
export function tempWorkspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cs-trainer-ws-'));
  workspaces.push(dir);
  return dir;
}

/** Makes sure the supervisor's trainer is killed after the test file, whatever happened. */
export function supervised<T extends TrainerSupervisor>(supervisor: T): T {
  supervisors.push(supervisor);
  return supervisor;
}

/** A small new run on the cpu backend, over the mini MNIST. */
export function tinyRequest(workspace: string, overrides: Partial<RequestInput> = {}): RequestInput {
  return { workspace, run: 'r', config: { ...TINY_CONFIG, dataDir: miniMnistDir() }, checkpoints: { onStop: true }, backend: 'cpu', logEvery: 5, ...overrides };
}

/** Continuing the workspace's latest checkpoint, resolved as the Studio resolves it. */
export async function continueLatest(workspace: string, run: string, overrides: ContinueTraining['overrides'] = {}): Promise<RequestInput> {
  const store = await CheckpointStore.open(workspace, { access: 'read' });
  const prepared = await prepareContinuation(store, { from: 'latest', run, overrides: { backend: 'cpu', logEvery: 5, ...overrides } });
  return prepared.request;
}

/** Everything a supervisor reports, in order, plus waiting for a condition on it. */
export class Recorder {
  readonly events: SessionEvent[] = [];
  readonly logs: TrainerLog[] = [];
  readonly errors: SerializedError[] = [];
  readonly states: TrainerState[] = [];
  readonly crashes: TrainerCrash[] = [];
  readonly exits: TrainerExit[] = [];
  private waiters: (() => void)[] = [];

  constructor(supervisor: TrainerSupervisor) {
    const track =
      <T>(list: T[]) =>
      (item: T): void => {
        list.push(item);
        for (const waiter of [...this.waiters]) waiter();
      };
    supervisor.on('event', track(this.events));
    supervisor.on('log', track(this.logs));
    supervisor.on('error', track(this.errors));
    supervisor.on('state', track(this.states));
    supervisor.on('crashed', track(this.crashes));
    supervisor.on('exit', track(this.exits));
  }

  of<K extends SessionEvent['type']>(type: K): Extract<SessionEvent, { type: K }>[] {
    return this.events.filter((e): e is Extract<SessionEvent, { type: K }> => e.type === type);
  }

  /**
   * Resolves once `condition` holds (checked on every report). Rejects, saying what was seen,
   * after `timeoutMs` or when the trainer exits first.
   */
  until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (condition()) return Promise.resolve();
    const exitsBefore = this.exits.length;
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        if (error) reject(error);
        else resolve();
      };
      const fail = (why: string): Error =>
        new Error(
          `${why} waiting for ${what}; errors: ${JSON.stringify(this.errors)}; crashes: ${JSON.stringify(this.crashes)}; last events: ${JSON.stringify(this.events.slice(-3))}`,
        );
      const timer = setTimeout(() => done(fail(`timed out after ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        if (condition()) done();
        else if (this.exits.length > exitsBefore) done(fail(`the trainer exited (${JSON.stringify(this.exits.at(-1))})`));
      };
      this.waiters.push(check);
    });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the current trainer's exit as the supervisor reports it ('exit'); null when none was started. */
export function exitOf(supervisor: TrainerSupervisor): Promise<TrainerExit | null> {
  const state = supervisor.state;
  if (state === 'idle') return Promise.resolve(null);
  if (state === 'exited' || state === 'crashed') return Promise.resolve(supervisor.lastExit);
  return new Promise((resolve) => {
    const off = supervisor.on('exit', (exit) => {
      off();
      resolve(exit);
    });
  });
}
