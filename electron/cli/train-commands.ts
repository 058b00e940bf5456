// `train` and `verify-resume`. Both run in a trainer process the Studio starts, the same way the
// app runs them; this file turns flags into a request, and events and reports into lines.
import { type Command, Option } from 'commander';
import {
  BACKEND_PREFERENCES,
  type BackendPreference,
  type CheckpointPolicy,
  type ContinueTraining,
  DEFAULT_LEARNING_RATE,
  OPTIMIZER_NAMES,
  type RetentionPolicy,
  type StartTraining,
  type MetricMode,
  type StudioApi,
  type TrainingStatus,
  type VerifyResumeReport,
  VERIFY_RESUME_STEPS,
  ModelSpecSchema,
  TRAINING_DEFAULTS,
  StudioError,
  continuedRunName,
  newRunName,
} from '../contract.js';
import path from 'node:path';
import { readMapFile } from '../core/studio/map-file.js';
import { type ActionContext, type CommonOptions, type Output, positiveInt, positiveNumber, stderr, studioAction, wholeNumber, withCommon } from './common.js';
import { ProgressView } from './progress-view.js';

const MODEL_KINDS = ModelSpecSchema.shape.kind.options;
/** The model preset's sizes where the flags give none: the contract's defaults. */
const MODEL_DEFAULTS = ModelSpecSchema.parse({ kind: TRAINING_DEFAULTS.model });

interface TrainFlags extends CommonOptions {
  run?: string;
  model?: 'mlp' | 'cnn';
  width?: number;
  depth?: number;
  filters?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: (typeof OPTIMIZER_NAMES)[number];
  seed?: number;
  backend?: BackendPreference;
  data?: string;
  validation?: number;
  trainLimit?: number;
  maxSteps?: number;
  saveEverySteps?: number;
  saveEveryEpochs?: number;
  saveEverySeconds?: number;
  saveBest?: string;
  keepLast?: number;
  keepBest?: number;
  resume?: string;
  map?: string;
  logEvery?: number;
}

function parseSaveBest(text: string | undefined): CheckpointPolicy['best'] {
  if (text === undefined) return undefined;
  const match = /^(val_loss|val_accuracy)(?::(min|max))?$/.exec(text);
  if (!match) throw new StudioError('usage', `--save-best takes val_loss[:min] or val_accuracy[:max], not "${text}"`);
  const metric = match[1] as 'val_loss' | 'val_accuracy';
  return { metric, mode: (match[2] as 'min' | 'max' | undefined) ?? (metric === 'val_loss' ? 'min' : 'max') };
}

/** The checkpoint policy the flags ask for, or undefined when they name none (a continuation keeps its parent's). */
function checkpointFlags(flags: TrainFlags): CheckpointPolicy | undefined {
  const best = parseSaveBest(flags.saveBest);
  const given = flags.saveEverySteps !== undefined || flags.saveEveryEpochs !== undefined || flags.saveEverySeconds !== undefined || best !== undefined;
  if (!given) return undefined;
  return {
    ...(flags.saveEverySteps !== undefined ? { everySteps: flags.saveEverySteps } : {}),
    ...(flags.saveEveryEpochs !== undefined ? { everyEpochs: flags.saveEveryEpochs } : {}),
    ...(flags.saveEverySeconds !== undefined ? { everySeconds: flags.saveEverySeconds } : {}),
    ...(best ? { best } : {}),
    onStop: true,
  };
}

function retentionFlags(flags: TrainFlags): RetentionPolicy | undefined {
  if (flags.keepLast === undefined && flags.keepBest === undefined) return undefined;
  const metric = parseSaveBest(flags.saveBest) ?? { metric: 'val_loss', mode: 'min' as const };
  return {
    ...(flags.keepLast !== undefined ? { keepLast: flags.keepLast } : {}),
    ...(flags.keepBest !== undefined ? { keepBest: { k: flags.keepBest, metric: metric.metric, mode: metric.mode } } : {}),
  };
}

function newRun(flags: TrainFlags): StartTraining {
  const optimizer = flags.optimizer ?? TRAINING_DEFAULTS.optimizer;
  const checkpoints = checkpointFlags(flags);
  const retention = retentionFlags(flags);
  return {
    ...(flags.run !== undefined ? { run: flags.run } : {}),
    config: {
      model: {
        kind: flags.model ?? TRAINING_DEFAULTS.model,
        ...(flags.width ? { width: flags.width } : {}),
        ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
        ...(flags.filters ? { filters: flags.filters } : {}),
      },
      optimizer: { name: optimizer, learningRate: flags.lr ?? DEFAULT_LEARNING_RATE[optimizer] },
      batchSize: flags.batchSize ?? TRAINING_DEFAULTS.batchSize,
      epochs: flags.epochs ?? TRAINING_DEFAULTS.epochs,
      seed: flags.seed ?? TRAINING_DEFAULTS.seed,
      ...(flags.validation !== undefined ? { validationCount: flags.validation } : {}),
      ...(flags.trainLimit !== undefined ? { trainLimit: flags.trainLimit } : {}),
      dataDir: flags.data ?? null,
    },
    backend: flags.backend ?? 'auto',
    ...(checkpoints ? { checkpoints } : {}),
    ...(retention ? { retention } : {}),
    ...(flags.maxSteps !== undefined ? { maxSteps: flags.maxSteps } : {}),
    ...(flags.logEvery !== undefined ? { logEvery: flags.logEvery } : {}),
  };
}

function continuation(flags: TrainFlags, resume: string): ContinueTraining {
  const checkpoints = checkpointFlags(flags);
  const retention = retentionFlags(flags);
  const best = parseSaveBest(flags.saveBest) ?? { metric: 'val_loss', mode: 'min' as const };
  const model = {
    ...(flags.model ? { kind: flags.model } : {}),
    ...(flags.width ? { width: flags.width } : {}),
    ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
    ...(flags.filters ? { filters: flags.filters } : {}),
  };
  return {
    from: resume,
    ...(resume === 'best' ? { metric: best.metric, mode: best.mode } : {}),
    ...(flags.run !== undefined ? { run: flags.run } : {}),
    overrides: {
      ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
      ...(flags.lr !== undefined ? { learningRate: flags.lr } : {}),
      ...(checkpoints ? { checkpoints } : {}),
      ...(retention ? { retention } : {}),
      ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
      ...(flags.maxSteps !== undefined ? { maxSteps: flags.maxSteps } : {}),
      ...(flags.logEvery !== undefined ? { logEvery: flags.logEvery } : {}),
      // Stated values the continuation cannot change: the Studio refuses them if they differ.
      fixed: {
        ...(Object.keys(model).length > 0 ? { model } : {}),
        ...(flags.data !== undefined ? { dataDir: flags.data } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.validation !== undefined ? { validationCount: flags.validation } : {}),
        ...(flags.trainLimit !== undefined ? { trainLimit: flags.trainLimit } : {}),
        ...(flags.optimizer !== undefined ? { optimizer: flags.optimizer } : {}),
      },
    },
  };
}

export function registerTrainCommands(program: Command, out: Output): void {
  withCommon(program.command('train').description('train a model in a trainer process, saving full training state as it goes'))
    .option(
      '--run <name>',
      `name of the new run (default: the model and the time, like ${newRunName(TRAINING_DEFAULTS.model)}; when continuing, <run>-from-<step>, like ${continuedRunName({ run: 'base', step: 40 })})`,
    )
    .addOption(new Option('--model <kind>', `model preset (default ${TRAINING_DEFAULTS.model})`).choices(MODEL_KINDS))
    .option('--width <n>', `units of each hidden dense layer (default ${MODEL_DEFAULTS.width})`, positiveInt)
    .option('--depth <n>', `hidden dense layers (mlp; 0 for none) or convolutions (cnn) (default ${MODEL_DEFAULTS.depth})`, wholeNumber)
    .option('--filters <n>', `filters per convolution (cnn, default ${MODEL_DEFAULTS.filters})`, positiveInt)
    .option('--epochs <n>', `epochs to train (default ${TRAINING_DEFAULTS.epochs}; when continuing, the total epochs)`, positiveInt)
    .option('--batch-size <n>', `examples per step (default ${TRAINING_DEFAULTS.batchSize})`, positiveInt)
    .option('--lr <x>', 'learning rate (default depends on the optimizer)', positiveNumber)
    .addOption(new Option('--optimizer <name>', `optimizer (default ${TRAINING_DEFAULTS.optimizer})`).choices([...OPTIMIZER_NAMES]))
    .option('--seed <n>', `random seed for weights and shuffling (default ${TRAINING_DEFAULTS.seed})`, wholeNumber)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (default auto; when continuing, the one the run used)').choices([...BACKEND_PREFERENCES]))
    .option('--data <dir>', 'folder with the four MNIST-format IDX files (default: the bundled MNIST)')
    .option('--validation <n>', 'examples held out for validation (default: 10% of the data, at most 5000; 0 for none)', wholeNumber)
    .option('--train-limit <n>', 'train on only the first N examples (quick runs)', positiveInt)
    .option('--max-steps <n>', 'stop (and save) after this many steps in this session', positiveInt)
    .option('--save-every-steps <n>', 'checkpoint every N steps', positiveInt)
    .option('--save-every-epochs <n>', 'checkpoint every N epochs', positiveInt)
    .option('--save-every-seconds <t>', 'checkpoint every T seconds', positiveNumber)
    .option('--save-best <metric:mode>', 'checkpoint when val_loss:min or val_accuracy:max improves')
    .option('--keep-last <n>', 'keep only the N latest checkpoints of this run', positiveInt)
    .option('--keep-best <k>', 'also keep the K best (by the --save-best metric, else val_loss)', positiveInt)
    .option(
      '--resume <checkpoint>',
      "continue from a checkpoint id or folder, latest, or best; or from another program's checkpoint (a TensorFlow or TF.js checkpoint path), imported first",
    )
    .option('--map <file>', 'with --resume of another program\'s checkpoint: JSON {"our weight": "its tensor"} (the form the mapping is printed in)')
    .option('--log-every <k>', `log train loss and accuracy every K steps (default ${TRAINING_DEFAULTS.logEvery}; when continuing, the parent's)`, positiveInt)
    .action(studioAction('create', async (flags: TrainFlags, context: ActionContext) => runTrain(flags, context.api, out)));

  withCommon(program.command('verify-resume').description('prove a checkpoint resumes exactly by replaying the steps after it (in a trainer process)'))
    .argument('<checkpoint>', 'checkpoint id or path, latest, or best (with --metric)')
    .option('--steps <k>', `steps to replay (default ${VERIFY_RESUME_STEPS})`, positiveInt)
    .addOption(new Option('--backend <name>', 'backend to replay on (default: the one that wrote it)').choices([...BACKEND_PREFERENCES]))
    .option('--data <dir>', "the run's dataset folder, if it has moved since (default: the folder the run recorded)")
    .option('--run <name>', 'latest or best within this run')
    .option('--metric <name>', 'for best: the metric recorded in the checkpoints, e.g. val_loss')
    .addOption(new Option('--mode <mode>', 'for best: min or max (default min)').choices(['min', 'max']))
    .action(
      studioAction('read', async (checkpoint: string, flags: VerifyFlags, { api }: ActionContext) => {
        const report = await api.verifyResume({
          checkpoint,
          ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
          ...(flags.run !== undefined ? { run: flags.run } : {}),
          ...(flags.metric !== undefined ? { metric: flags.metric } : {}),
          ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
          ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
          ...(flags.data !== undefined ? { dataDir: flags.data } : {}),
        });
        if (flags.json) out.json(report);
        else printReplay(out, report);
        return report.ok ? 0 : 1;
      }),
    );
}

interface VerifyFlags extends CommonOptions {
  steps?: number;
  backend?: BackendPreference;
  data?: string;
  run?: string;
  metric?: string;
  mode?: MetricMode;
}

function printReplay(out: Output, report: VerifyResumeReport): void {
  const { losses, weightHashes } = report;
  out.line(
    `replayed ${report.replayedSteps} steps from ${report.checkpoint} on ${report.backend} (written on ${report.originalBackend ?? 'unknown'}), against the logs of ${report.sources.join(', ')}`,
  );
  out.line(`losses: ${losses.identical}/${losses.compared} identical; weight hashes: ${weightHashes.identical}/${weightHashes.compared} identical`);
  for (const c of report.comparisons.filter((x) => !x.equal))
    out.line(`  step ${c.step} ${c.kind}: expected ${c.expected}, replay gave ${c.actual ?? 'a loss that is not finite'}`);
  if (report.comparisons.length === 0)
    out.line(`NOTHING TO COMPARE: the original logged no loss or weights hash within ${report.replayedSteps} steps after it; try more --steps`);
  else out.line(report.ok ? 'RESUMES EXACTLY' : 'DOES NOT RESUME EXACTLY');
}

const ENDED: ReadonlySet<TrainingStatus['state']> = new Set(['exited', 'crashed']);

async function runTrain(flags: TrainFlags, api: StudioApi, out: Output): Promise<number> {
  const view = new ProgressView((text) => out.write(text), Boolean(process.stdout.isTTY) && !flags.json);
  let fatal: { code: StudioError['code']; message: string } | null = null;
  let stopped = false;
  const ended = new Promise<TrainingStatus>((resolve) => {
    api.on('training:state', (status) => {
      if (ENDED.has(status.state)) resolve(status);
    });
  });
  // One JSON object per line with --json, so a script can follow the stream; lines otherwise.
  api.on('training:event', (event) => (flags.json ? out.write(`${JSON.stringify(event)}\n`) : view.show(event)));
  api.on('warning', ({ message }) => (flags.json ? stderr.line(`warning: ${message}`) : view.line(`warning: ${message}`)));
  api.on('training:log', ({ level, text }) => {
    if (level === 'warn' || level === 'error') stderr.line(text);
  });
  api.on('training:error', (error) => {
    if (error.fatal) fatal = { code: error.code, message: error.message };
  });
  const crashed = new Promise<{ code: number | null; signal: string | null; stderrTail: string[] }>((resolve) => api.on('training:crashed', resolve));

  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      stopped = true;
      const notice = 'stopping: saving the training state… (Ctrl-C again to abort without saving)';
      if (flags.json) stderr.line(notice);
      else view.line(notice);
      void api.stopTraining().catch(() => undefined);
    } else {
      stderr.write('\naborted; the last complete checkpoint is intact\n');
      void api.killTraining().finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (flags.resume !== undefined) {
      const map = flags.map !== undefined ? await readMapFile(path.resolve(flags.map)) : undefined;
      // What the continuation decides (a foreign checkpoint's mapping, say) arrives as warning events.
      await api.continueTraining({ ...continuation(flags, flags.resume), ...(map ? { map } : {}) });
    } else await api.startTraining(newRun(flags));
    const status = await ended;
    if (status.state === 'crashed') {
      // A trainer that reported why it failed said it in one line; anything else gets the crash report.
      const reported = fatal as { code: StudioError['code']; message: string } | null;
      if (reported !== null) throw new StudioError(reported.code, reported.message);
      const crash = await crashed;
      stderr.line(`the trainer process died (${crash.signal ? `signal ${crash.signal}` : `exit code ${crash.code}`}); its last lines:`);
      for (const line of crash.stderrTail) stderr.line(`  ${line}`);
      return 1;
    }
    return stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
