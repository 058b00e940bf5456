// One definition each: how often a run logs by default, and the name a run gets when the request
// gives none. The contract defines them; the Studio's requests, the trainer's request and the
// command line's help use those definitions, so they cannot drift apart again.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { StartTrainingSchema, TRAINING_DEFAULTS, continuedRunName, newRunName } from '../../electron/contract.js';
import { registerTrainCommands } from '../../electron/cli/train-commands.js';
import { stdout } from '../../electron/cli/common.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { prepareContinuation, prepareNewRun } from '../../electron/core/studio/training-requests.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { newControl, runTrainingSession } from '../../electron/core/training/session/training-session.js';
import { TINY_CONFIG, miniMnistDir, tempWorkspace, tinyRequest } from '../trainer/helpers.js';

const NEW_RUN = { config: { ...TINY_CONFIG, dataDir: miniMnistDir() }, backend: 'cpu' } as const;

describe('the names a run gets when the request gives none', () => {
  it('a new run: its model kind and the time in UTC, to the second', () => {
    expect(newRunName('cnn', new Date('2025-01-31T09:30:05.123Z'))).toBe('cnn-2025-01-31_09-30-05');
  });

  it('a continued run: its parent run and step', () => {
    expect(continuedRunName({ run: 'base', step: 40 })).toBe('base-from-40');
  });

  it('the Studio names new and continued runs so, numbering a name that is taken', { timeout: 30_000 }, async () => {
    const store = await CheckpointStore.open(tempWorkspace());
    const before = new Date();
    const fresh = await prepareNewRun(store, NEW_RUN);
    expect([newRunName('mlp', before), newRunName('mlp', new Date())]).toContain(fresh.request.run);
    expect(fresh.started.run).toBe(fresh.request.run);

    await runTrainingSession({
      store,
      request: TrainRequestSchema.parse(tinyRequest(store.root, { run: 'base', maxSteps: 2 })),
      control: newControl(),
      onEvent: () => undefined,
    });
    const first = await prepareContinuation(store, { from: 'base/ckpt-000000002' });
    expect(first.request.run).toBe(continuedRunName({ run: 'base', step: 2 }));
    // A run that saved is taken (one that never did is taken over by the next start of its name).
    await runTrainingSession({ store, request: TrainRequestSchema.parse({ ...first.request, maxSteps: 1 }), control: newControl(), onEvent: () => undefined });
    const second = await prepareContinuation(store, { from: 'base/ckpt-000000002' });
    expect(second.request.run).toBe(`${continuedRunName({ run: 'base', step: 2 })}-2`);
    // The parent logged every 5 steps (tinyRequest): a continuation keeps that unless told.
    expect(second.request.logEvery).toBe(5);
  });
});

describe('how often a run logs, by default', () => {
  it('is the one constant in the contract, the trainer and the Studio', async () => {
    expect(StartTrainingSchema.parse(NEW_RUN).logEvery).toBe(TRAINING_DEFAULTS.logEvery);
    const { logEvery: _dropped, ...request } = tinyRequest('/tmp/ws');
    expect(TrainRequestSchema.parse(request).logEvery).toBe(TRAINING_DEFAULTS.logEvery);
    const store = await CheckpointStore.open(tempWorkspace());
    expect((await prepareNewRun(store, NEW_RUN)).request.logEvery).toBe(TRAINING_DEFAULTS.logEvery);
  });

  it("is what the command line's help says, and its defaults for the model are the contract's", () => {
    const program = new Command();
    registerTrainCommands(program, stdout);
    const train = program.commands.find((c) => c.name() === 'train');
    const help = (flag: string): string => train?.options.find((o) => o.long === flag)?.description ?? '';
    expect(help('--log-every')).toContain(`(default ${TRAINING_DEFAULTS.logEvery};`);
    expect(help('--epochs')).toContain(`(default ${TRAINING_DEFAULTS.epochs};`);
    expect(help('--batch-size')).toContain(`(default ${TRAINING_DEFAULTS.batchSize})`);
    expect(help('--run')).toContain(continuedRunName({ run: 'base', step: 40 }));
  });
});
