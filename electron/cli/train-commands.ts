// `train` and `verify-resume`: training on a server, with the same session the app runs.
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  BACKEND_PREFERENCES,
  type BackendPreference,
  DEFAULT_LEARNING_RATE,
  ModelSpecSchema,
  OptimizerSpecSchema,
  TrainingConfigSchema,
} from '../contract.js';
import { TrainRequestSchema } from '../core/training/process/train-request.js';
import type { CheckpointStore } from '../core/checkpoint/store.js';
import { type CommonOptions, type Output, intOption, stderr, storeAction, withCommon } from './common.js';
import { ProgressView } from './progress-view.js';
import { UsageError } from './store-commands.js';

interface TrainFlags extends CommonOptions {
  run?: string;
  model: 'mlp' | 'cnn';
  width?: number;
  depth?: number;
  filters?: number;
  epochs?: number;
  batchSize: number;
  lr?: number;
  optimizer: 'adam' | 'sgd' | 'momentum' | 'rmsprop';
  seed: number;
  backend: BackendPreference;
  data?: string;
  validation: number;
  trainLimit?: number;
  maxSteps?: number;
  saveEverySteps?: number;
  saveEveryEpochs?: number;
  saveEverySeconds?: number;
  saveBest?: string;
  keepLast?: number;
  keepBest?: number;
  resume?: string;
  logEvery: number;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive number');
  return parsed;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number');
  return parsed;
}

function parseSaveBest(text: string | undefined): { metric: 'val_loss' | 'val_accuracy'; mode: 'min' | 'max' } | undefined {
  if (text === undefined) return undefined;
  const match = /^(val_loss|val_accuracy)(?::(min|max))?$/.exec(text);
  if (!match) throw new UsageError(`--save-best takes val_loss[:min] or val_accuracy[:max], not "${text}"`);
  const metric = match[1] as 'val_loss' | 'val_accuracy';
  return { metric, mode: (match[2] as 'min' | 'max' | undefined) ?? (metric === 'val_loss' ? 'min' : 'max') };
}

export function registerTrainCommands(program: Command, out: Output): void {
  withCommon(program.command('train').description('train a model, saving full training state as it goes'))
    .option('--run <name>', 'name of the new run (default: model and time)')
    .addOption(new Option('--model <kind>', 'model preset').choices(['mlp', 'cnn']).default('mlp'))
    .option('--width <n>', 'units of each hidden dense layer (default 128)', intOption)
    .option('--depth <n>', 'hidden dense layers (mlp) or convolutions (cnn) (default 1)', intOption)
    .option('--filters <n>', 'filters per convolution (cnn, default 32)', intOption)
    .option('--epochs <n>', 'epochs to train (default 2; for --resume, the total epochs)', intOption)
    .option('--batch-size <n>', 'examples per step', intOption, 64)
    .option('--lr <x>', 'learning rate (default depends on the optimizer)', positiveNumber)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd', 'momentum', 'rmsprop']).default('adam'))
    .option('--seed <n>', 'random seed for weights and shuffling', wholeNumber, 42)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKEND_PREFERENCES]).default('auto'))
    .option('--data <dir>', 'folder with the four MNIST-format IDX files (default: the bundled MNIST)')
    .option('--validation <n>', 'examples held out from training for validation', intOption, 5000)
    .option('--train-limit <n>', 'train on only the first N examples (quick runs)', intOption)
    .option('--max-steps <n>', 'stop (and save) after this many steps in this session', intOption)
    .option('--save-every-steps <n>', 'checkpoint every N steps', intOption)
    .option('--save-every-epochs <n>', 'checkpoint every N epochs', intOption)
    .option('--save-every-seconds <t>', 'checkpoint every T seconds', positiveNumber)
    .option('--save-best <metric:mode>', 'checkpoint when val_loss:min or val_accuracy:max improves')
    .option('--keep-last <n>', 'keep only the N latest checkpoints of this run', intOption)
    .option('--keep-best <k>', 'also keep the K best (by the --save-best metric, else val_loss)', intOption)
    .option('--resume <checkpoint>', 'continue from a checkpoint id or path, latest, or best')
    .option('--log-every <k>', 'log train loss and accuracy every K steps', intOption, 10)
    .action(storeAction('create', async (flags: TrainFlags, store: CheckpointStore) => runTrain(flags, store, out)));

  withCommon(program.command('verify-resume').description('prove a checkpoint resumes exactly by replaying the steps after it'))
    .argument('<checkpoint>', 'checkpoint id or path, latest, or best')
    .option('--steps <k>', 'steps to replay', intOption, 20)
    .addOption(new Option('--backend <name>', 'backend to replay on (default: the one that wrote it)').choices([...BACKEND_PREFERENCES]))
    .option('--data <dir>', 'the dataset folder the run trained on')
    .action(
      storeAction('read', async (selector: string, flags: CommonOptions & { steps: number; backend?: BackendPreference; data?: string }, store: CheckpointStore) => {
        // TensorFlow.js loads only for the commands that train: `ls` and friends stay fast.
        const { verifyResume } = await import('../core/training/session/verify-resume.js');
        const report = await verifyResume(store, selector, { steps: flags.steps, ...(flags.backend ? { backend: flags.backend } : {}), ...(flags.data ? { dataDir: flags.data } : {}) });
        if (flags.json) out.json(report);
        else {
          const losses = report.comparisons.filter((c) => c.kind === 'loss');
          const hashes = report.comparisons.filter((c) => c.kind === 'weights');
          out.line(`replayed ${report.replayedSteps} steps from ${report.checkpoint} on ${report.backend} (written on ${report.originalBackend ?? 'unknown'}), against the logs of ${report.sources.join(', ')}`);
          out.line(`losses: ${losses.filter((c) => c.equal).length}/${losses.length} identical; weight hashes: ${hashes.filter((c) => c.equal).length}/${hashes.length} identical`);
          for (const c of report.comparisons.filter((x) => !x.equal)) out.line(`  step ${c.step} ${c.kind}: expected ${c.expected}, replay gave ${c.actual}`);
          if (report.comparisons.length === 0) out.line(`NOTHING TO COMPARE: the original logged no loss or weights hash within ${report.replayedSteps} steps after it; try more --steps`);
          else out.line(report.ok ? 'RESUMES EXACTLY' : 'DOES NOT RESUME EXACTLY');
        }
        return report.ok ? 0 : 1;
      }),
    );
}

async function runTrain(flags: TrainFlags, store: CheckpointStore, out: Output): Promise<number> {
  const saveBest = parseSaveBest(flags.saveBest);
  const keepMetric = saveBest ?? { metric: 'val_loss', mode: 'min' as const };
  const request = TrainRequestSchema.parse({
    workspace: store.root,
    run: flags.run,
    ...(flags.resume
      ? { resume: flags.resume, ...(flags.resume === 'best' ? { resumeMetric: keepMetric } : {}), ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}) }
      : {
          config: TrainingConfigSchema.parse({
            model: ModelSpecSchema.parse({ kind: flags.model, ...(flags.width ? { width: flags.width } : {}), ...(flags.depth ? { depth: flags.depth } : {}), ...(flags.filters ? { filters: flags.filters } : {}) }),
            optimizer: OptimizerSpecSchema.parse({ name: flags.optimizer, learningRate: flags.lr ?? DEFAULT_LEARNING_RATE[flags.optimizer] }),
            batchSize: flags.batchSize,
            epochs: flags.epochs ?? 2,
            seed: flags.seed,
            validationCount: flags.validation,
            ...(flags.trainLimit ? { trainLimit: flags.trainLimit } : {}),
          }),
        }),
    maxSteps: flags.maxSteps,
    checkpoints: {
      ...(flags.saveEverySteps ? { everySteps: flags.saveEverySteps } : {}),
      ...(flags.saveEveryEpochs ? { everyEpochs: flags.saveEveryEpochs } : {}),
      ...(flags.saveEverySeconds ? { everySeconds: flags.saveEverySeconds } : {}),
      ...(saveBest ? { best: saveBest } : {}),
      onStop: true,
    },
    retention: {
      ...(flags.keepLast ? { keepLast: flags.keepLast } : {}),
      ...(flags.keepBest ? { keepBest: { k: flags.keepBest, ...keepMetric } } : {}),
    },
    logEvery: flags.logEvery,
    dataDir: flags.data,
    backend: flags.backend,
  });
  const { newControl, runTrainingSession } = await import('../core/training/session/training-session.js');
  const control = newControl();
  const view = new ProgressView((text) => out.write(text), Boolean(process.stdout.isTTY) && !flags.json);
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      control.stopRequested = true;
      control.wake?.();
      const notice = 'stopping: saving the training state… (Ctrl-C again to abort without saving)';
      // With --json, stdout carries only events.
      if (flags.json) stderr.line(notice);
      else view.line(notice);
    } else {
      stderr.write('\naborted; the last complete checkpoint is intact\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runTrainingSession({
      store,
      ...request,
      control,
      // One JSON object per line, so a script can follow the stream.
      onEvent: (event) => (flags.json ? out.write(`${JSON.stringify(event)}\n`) : view.show(event)),
    });
    return result.reason === 'stopped' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
