// The "New training" form: its fields as typed (strings), and the StartTraining request they make,
// or what is wrong with each field. Empty optional fields take the Studio's defaults.
import { DEFAULT_LEARNING_RATE, ModelSpecSchema, type StartTraining, TRAINING_DEFAULTS } from './contract';

export type OptimizerName = keyof typeof DEFAULT_LEARNING_RATE;

/** The model preset's sizes where the form gives none: the contract's defaults. */
const MODEL_DEFAULTS = ModelSpecSchema.parse({ kind: TRAINING_DEFAULTS.model });

export interface TrainingFormFields {
  run: string;
  model: 'mlp' | 'cnn';
  width: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  optimizer: OptimizerName;
  seed: string;
  validation: string;
  trainLimit: string;
  dataDir: string;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  maxSteps: string;
  logEvery: string;
  saveEverySteps: string;
  saveEveryEpochs: string;
  saveEverySeconds: string;
  saveBest: '' | 'val_loss' | 'val_accuracy';
  keepLast: string;
  keepBest: string;
}

export function defaultFields(): TrainingFormFields {
  return {
    run: '',
    model: TRAINING_DEFAULTS.model,
    width: String(MODEL_DEFAULTS.width),
    epochs: '3',
    batchSize: String(TRAINING_DEFAULTS.batchSize),
    learningRate: String(DEFAULT_LEARNING_RATE[TRAINING_DEFAULTS.optimizer]),
    optimizer: TRAINING_DEFAULTS.optimizer,
    seed: String(TRAINING_DEFAULTS.seed),
    validation: '',
    trainLimit: '',
    dataDir: '',
    backend: 'auto',
    maxSteps: '',
    logEvery: String(TRAINING_DEFAULTS.logEvery),
    saveEverySteps: '',
    saveEveryEpochs: '1',
    saveEverySeconds: '',
    saveBest: 'val_loss',
    keepLast: '',
    keepBest: '',
  };
}

export type FieldErrors = Partial<Record<keyof TrainingFormFields, string>>;

export type FormResult = { readonly ok: true; readonly request: StartTraining } | { readonly ok: false; readonly errors: FieldErrors };

export function buildStartRequest(f: TrainingFormFields): FormResult {
  const errors: FieldErrors = {};
  const int = (key: keyof TrainingFormFields, min: number, optional: boolean): number | undefined => {
    const text = String(f[key]).trim();
    if (text === '') {
      if (!optional) errors[key] = 'Required.';
      return undefined;
    }
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) {
      errors[key] = min === 0 ? 'A whole number, 0 or more.' : `A whole number, ${min} or more.`;
      return undefined;
    }
    return value;
  };
  const width = int('width', 1, false);
  const epochs = int('epochs', 1, false);
  const batchSize = int('batchSize', 1, false);
  const seed = int('seed', 0, false);
  const validation = int('validation', 0, true);
  const trainLimit = int('trainLimit', 1, true);
  const maxSteps = int('maxSteps', 1, true);
  const logEvery = int('logEvery', 1, true);
  const everySteps = int('saveEverySteps', 1, true);
  const everyEpochs = int('saveEveryEpochs', 1, true);
  const keepLast = int('keepLast', 1, true);
  const keepBest = int('keepBest', 1, true);
  const secondsText = f.saveEverySeconds.trim();
  const everySeconds = secondsText === '' ? undefined : Number(secondsText);
  if (everySeconds !== undefined && !(Number.isFinite(everySeconds) && everySeconds > 0)) errors.saveEverySeconds = 'A number of seconds above 0.';
  const learningRate = Number(f.learningRate.trim());
  if (f.learningRate.trim() === '' || !Number.isFinite(learningRate) || learningRate <= 0) errors.learningRate = 'A number above 0.';
  if (validation === 0 && f.saveBest !== '') errors.saveBest = 'Saving on a new best needs validation examples.';
  if (keepBest !== undefined && f.saveBest === '') errors.keepBest = 'Keeping the best needs a metric: choose one under "Save on a new best".';
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const best = f.saveBest === '' ? undefined : { metric: f.saveBest, mode: f.saveBest === 'val_loss' ? ('min' as const) : ('max' as const) };
  const request: StartTraining = {
    ...(f.run.trim() ? { run: f.run.trim() } : {}),
    config: {
      model: { kind: f.model, width: width as number },
      optimizer: { name: f.optimizer, learningRate },
      batchSize: batchSize as number,
      epochs: epochs as number,
      seed: seed as number,
      ...(validation !== undefined ? { validationCount: validation } : {}),
      ...(trainLimit !== undefined ? { trainLimit } : {}),
      dataDir: f.dataDir.trim() === '' ? null : f.dataDir.trim(),
    },
    backend: f.backend,
    checkpoints: {
      ...(everySteps !== undefined ? { everySteps } : {}),
      ...(everyEpochs !== undefined ? { everyEpochs } : {}),
      ...(everySeconds !== undefined ? { everySeconds } : {}),
      ...(best ? { best } : {}),
      onStop: true,
    },
    retention: {
      ...(keepLast !== undefined ? { keepLast } : {}),
      ...(keepBest !== undefined && best ? { keepBest: { k: keepBest, metric: best.metric, mode: best.mode } } : {}),
    },
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(logEvery !== undefined ? { logEvery } : {}),
  };
  return { ok: true, request };
}
