// Hugging Face Trainer checkpoints: checkpoint-N/ folders (trainer.py `_save_checkpoint`) holding
// model.safetensors, trainer_state.json and files we keep but cannot read, and an output_dir of
// several. trainer_state.json here follows transformers' trainer_callback.py `TrainerState`
// (epoch, global_step, max_steps, logging/eval/save_steps, train_batch_size, num_train_epochs,
// num_input_tokens_seen, total_flos, log_history, best_metric, best_global_step,
// best_model_checkpoint, is_*_process_zero, is_hyper_param_search, trial_*, stateful_callbacks),
// written as Python's json.dumps does: a diverged value is the bare word NaN or Infinity.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { readTrainerState } from '../../electron/core/formats/safetensors/trainer-state.js';
import { copySample, formatErrorOf, openOne, readAll, sampleValues, useTempDirs } from './safetensors-helpers.js';

const tempDir = useTempDirs();

/** What Trainer's log_history holds around a save at `step`: a training log and an evaluation. */
function logHistory(step: number): Record<string, unknown>[] {
  return [
    { epoch: (step - 10) / 1000, grad_norm: 1.5, learning_rate: 4.9e-5, loss: 0.9, step: step - 10 },
    { epoch: step / 1000, grad_norm: '__NaN__', learning_rate: 4.8e-5, loss: 0.7, step },
    { epoch: step / 1000, eval_accuracy: 0.81, eval_loss: 0.55, eval_runtime: 1.25, eval_samples_per_second: 800.1, eval_steps_per_second: 100.2, step },
    { epoch: step / 1000, loss: 0.65, step },
  ];
}

function trainerState(step: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    best_global_step: 500,
    best_metric: 0.55,
    best_model_checkpoint: 'out/checkpoint-500',
    epoch: step / 1000,
    eval_steps: 500,
    global_step: step,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: logHistory(step),
    logging_steps: 10,
    max_steps: 3000,
    num_input_tokens_seen: 0,
    num_train_epochs: 3,
    save_steps: 500,
    stateful_callbacks: { TrainerControl: { args: { should_save: true }, attributes: {} } },
    total_flos: 12345.0,
    train_batch_size: 8,
    trial_name: null,
    trial_params: null,
    ...overrides,
  };
}

/** Python's json.dumps(indent=2, sort_keys=True), NaN and Infinity included. */
function pythonJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replaceAll('"__NaN__"', 'NaN').replaceAll('"__Infinity__"', 'Infinity')}\n`;
}

const KEPT = ['config.json', 'optimizer.pt', 'rng_state.pth', 'scheduler.pt', 'special_tokens_map.json', 'tokenizer.json', 'training_args.bin'];

/** `parent`/checkpoint-`step` as Trainer saves it, with `state` as its trainer_state.json (null: none). */
function checkpointFolder(parent: string, folder: string, state: Record<string, unknown> | string | null): string {
  const dir = path.join(parent, folder);
  copySample('overall', dir, 'model.safetensors');
  for (const name of KEPT) fs.writeFileSync(path.join(dir, name), `not read: ${name}`);
  if (state !== null) fs.writeFileSync(path.join(dir, 'trainer_state.json'), typeof state === 'string' ? state : pythonJson(state));
  return dir;
}

describe('a Trainer checkpoint folder', () => {
  it('step from trainer_state.json agreeing with the folder name, metrics at that step, the rest kept', async () => {
    const dir = checkpointFolder(tempDir(), 'checkpoint-500', trainerState(500));
    expect(await safetensorsReader.sniff(dir)).toBe(true);
    const checkpoint = await openOne(dir);
    expect(checkpoint).toMatchObject({
      format: 'safetensors',
      formatLabel: 'Hugging Face Trainer checkpoint, safetensors',
      dir,
      name: 'checkpoint-500',
      step: 500,
      stepSource: 'trainer_state.json global_step and the folder name checkpoint-500',
      savedAt: null,
    });
    // Later entries win (loss 0.65 over 0.7); NaN is null; strings and the step itself are not metrics.
    expect(checkpoint.metrics).toEqual({
      epoch: 0.5,
      grad_norm: null,
      learning_rate: 4.8e-5,
      loss: 0.65,
      eval_accuracy: 0.81,
      eval_loss: 0.55,
      eval_runtime: 1.25,
      eval_samples_per_second: 800.1,
      eval_steps_per_second: 100.2,
      best_metric: 0.55,
    });
    const roles = Object.fromEntries(checkpoint.files.map((f) => [f.name, f.role]));
    expect(roles).toEqual({ 'model.safetensors': 'tensors', 'trainer_state.json': 'metadata', ...Object.fromEntries(KEPT.map((k) => [k, 'kept'])) });
    expect(checkpoint.notes).toContain(`kept, not read: ${KEPT.join(', ')}`);
    expect(checkpoint.notes).toContain('trainer_state.json: best_metric 0.55 (at step 500, best_model_checkpoint out/checkpoint-500)');
    expect(checkpoint.notes).toContain('model.safetensors __metadata__: test="a"');
    expect(checkpoint.tensors).toHaveLength(9);
    expect(checkpoint.tensors.every((t) => t.role === 'model' && t.file === 'model.safetensors')).toBe(true);
    const reads = await readAll(checkpoint, { names: new Set(['b']) });
    expect(sampleValues('I8', reads[0]?.data ?? new Uint8Array())).toEqual([-3, -2, -1, 0, 1, 2]);
  });

  it('a global_step that disagrees with the folder name: trainer_state.json wins, both said in a note', async () => {
    const checkpoint = await openOne(checkpointFolder(tempDir(), 'checkpoint-400', trainerState(500)));
    expect(checkpoint.step).toBe(500);
    expect(checkpoint.stepSource).toBe('trainer_state.json global_step');
    expect(checkpoint.notes).toContain(
      'trainer_state.json says global_step 500 but the folder is named checkpoint-400 (step 400); the step is taken from trainer_state.json',
    );
  });

  it('without trainer_state.json the step comes from the folder name; no best metric, no metrics', async () => {
    const checkpoint = await openOne(checkpointFolder(tempDir(), 'checkpoint-700', null));
    expect(checkpoint).toMatchObject({ step: 700, stepSource: 'the folder name checkpoint-700', metrics: {} });
    const noBest = await openOne(
      checkpointFolder(tempDir(), 'checkpoint-10', trainerState(10, { best_metric: null, best_model_checkpoint: null, log_history: [] })),
    );
    expect(noBest.metrics).toEqual({ epoch: 0.01 });
    expect(noBest.notes.some((n) => n.includes('best_metric'))).toBe(false);
  });

  it("Infinity in a log entry is null; an entry at another step is not this step's", async () => {
    const state = trainerState(500, {
      log_history: [
        { loss: '__Infinity__', step: 500 },
        { eval_loss: 0.1, step: 499 },
      ],
    });
    const checkpoint = await openOne(checkpointFolder(tempDir(), 'checkpoint-500', state));
    expect(checkpoint.metrics).toEqual({ loss: null, epoch: 0.5, best_metric: 0.55 });
  });

  it('the words NaN and Infinity inside strings stay as written', async () => {
    const where = 'out/NaN-Infinity "run\\"/checkpoint-500';
    const state = trainerState(500, { best_model_checkpoint: where, trial_name: '-Infinity', log_history: [{ loss: '__NaN__', note: 'NaN', step: 500 }] });
    const folder = checkpointFolder(tempDir(), 'checkpoint-500', state);
    expect((await readTrainerState(path.join(folder, 'trainer_state.json'))).best_model_checkpoint).toBe(where);
    const checkpoint = await openOne(folder);
    // A quote or a backslash keeps a value read from a file out of a note (base/describe-value.ts).
    expect(checkpoint.notes).toContain(`trainer_state.json: best_metric 0.55 (at step 500, best_model_checkpoint (${where.length} characters, not shown))`);
    expect(checkpoint.metrics['loss']).toBeNull();
  });

  it('a log entry key "__proto__" is no metric and changes nothing', async () => {
    const text = pythonJson(trainerState(500, { log_history: [] })).replace(
      '"log_history": []',
      '"log_history": [{"__proto__": null, "loss": 0.5, "step": 500}]',
    );
    const checkpoint = await openOne(checkpointFolder(tempDir(), 'checkpoint-500', text));
    expect(Object.getPrototypeOf(checkpoint.metrics)).toBe(Object.prototype);
    expect(Object.keys(checkpoint.metrics).sort()).toEqual(['best_metric', 'epoch', 'loss']);
  });
});

describe('what else a checkpoint folder may hold', () => {
  it('links and pipes are named in a note, never listed as files or followed', async () => {
    const parent = tempDir();
    const dir = checkpointFolder(parent, 'checkpoint-500', trainerState(500));
    fs.writeFileSync(path.join(parent, 'secret.txt'), 'outside the checkpoint');
    fs.symlinkSync(path.join(parent, 'secret.txt'), path.join(dir, 'pytorch_model.bin'));
    execFileSync('mkfifo', [path.join(dir, 'events.pipe')]);
    const checkpoint = await openOne(dir);
    expect(checkpoint.files.map((f) => f.name)).not.toContain('pytorch_model.bin');
    expect(checkpoint.files.map((f) => f.name)).not.toContain('events.pipe');
    expect(checkpoint.notes).toContain('not followed: events.pipe (a named pipe (FIFO)), pytorch_model.bin (a symbolic link)');
  });

  it('two .safetensors files without an index are one checkpoint; a tensor in both is refused', async () => {
    const dir = checkpointFolder(tempDir(), 'checkpoint-500', trainerState(500));
    const adapter = path.join(dir, 'adapter_model.safetensors');
    const encoded = encodeSafetensors(adapter, [{ name: 'lora_A', dtype: 'F32', shape: [2], data: new Uint8Array(8).fill(1) }]);
    fs.writeFileSync(adapter, Buffer.concat([encoded.header, ...encoded.payloads]));
    const checkpoint = await openOne(dir);
    expect(checkpoint.formatLabel).toBe('Hugging Face Trainer checkpoint, safetensors (2 files)');
    expect(checkpoint.tensors.map((t) => `${t.file}:${t.name}`)).toEqual([
      'adapter_model.safetensors:lora_A',
      ...'BHIbdefhi'.split('').map((n) => `model.safetensors:${n}`),
    ]);
    fs.rmSync(path.join(dir, 'adapter_model.safetensors'));
    copySample('B', dir, 'extra.safetensors');
    const error = await formatErrorOf(safetensorsReader.open(dir), path.join(dir, 'model.safetensors'));
    expect(error.problem).toBe('tensor "B" is also in extra.safetensors, in the same folder');
  });
});

describe('a Trainer output_dir with several checkpoint-N folders', () => {
  it('one checkpoint each, oldest first by step (not by name), the highest step latest', async () => {
    const out = tempDir();
    for (const step of [1500, 500, 1000]) checkpointFolder(out, `checkpoint-${step}`, trainerState(step));
    fs.mkdirSync(path.join(out, 'checkpoint-2000'));
    fs.writeFileSync(path.join(out, 'checkpoint-2000', 'pytorch_model.bin'), 'pickle');
    fs.mkdirSync(path.join(out, 'runs'));
    expect(await safetensorsReader.sniff(out)).toBe(true);
    const source = await safetensorsReader.open(out);
    expect(source.path).toBe(out);
    expect(source.checkpoints.map((c) => [c.name, c.step, c.dir])).toEqual([
      ['checkpoint-500', 500, path.join(out, 'checkpoint-500')],
      ['checkpoint-1000', 1000, path.join(out, 'checkpoint-1000')],
      ['checkpoint-1500', 1500, path.join(out, 'checkpoint-1500')],
    ]);
    expect(source.latest).toBe('checkpoint-1500');
    expect(source.checkpoints[1]?.metrics['eval_loss']).toBe(0.55);
    expect(source.notes).toEqual(['checkpoint folders without safetensors weights, not read: checkpoint-2000/', 'subfolders not read: runs/']);
  });

  it('the final model that save_model wrote into the output_dir itself is a checkpoint too', async () => {
    const out = tempDir();
    checkpointFolder(out, 'checkpoint-500', trainerState(500));
    copySample('f', out, 'model.safetensors');
    fs.writeFileSync(path.join(out, 'trainer_state.json'), pythonJson(trainerState(800)));
    const source = await safetensorsReader.open(out);
    expect(source.checkpoints.map((c) => [c.name, c.step])).toEqual([
      ['checkpoint-500', 500],
      [path.basename(out), 800],
    ]);
    expect(source.latest).toBe(path.basename(out));
    const final = source.checkpoints[1];
    expect(final?.files.map((f) => f.name)).toEqual(['model.safetensors', 'trainer_state.json']);
    expect(final?.notes.some((n) => n.startsWith('subfolders'))).toBe(false);
  });

  it('a damaged checkpoint among them is refused, naming its file', async () => {
    const out = tempDir();
    checkpointFolder(out, 'checkpoint-500', trainerState(500));
    const bad = checkpointFolder(out, 'checkpoint-1000', trainerState(1000));
    fs.appendFileSync(path.join(bad, 'model.safetensors'), 'junk');
    const error = await formatErrorOf(safetensorsReader.open(out), path.join(bad, 'model.safetensors'));
    expect(error.problem).toMatch(/trailing bytes/);
  });
});

describe('a bad trainer_state.json is refused, naming the file and the field', () => {
  async function refused(state: Record<string, unknown> | string, problem: RegExp): Promise<void> {
    const dir = checkpointFolder(tempDir(), 'checkpoint-500', state);
    const error = await formatErrorOf(safetensorsReader.open(dir), path.join(dir, 'trainer_state.json'));
    expect(error.problem).toMatch(problem);
  }

  it('not an object, not JSON, not UTF-8', async () => {
    await refused('[1, 2, 3]', /^file: .*object/);
    await refused('{"global_step": 5', /^not valid JSON/);
    await refused('"checkpoint"', /^file: .*object/);
  });

  it('fields of the wrong type', async () => {
    await refused(trainerState(500, { global_step: '500' }), /^global_step: /);
    await refused(trainerState(500, { global_step: 12.5 }), /^global_step: /);
    await refused(trainerState(500, { global_step: -1 }), /^global_step: /);
    await refused(trainerState(500, { global_step: '__NaN__' }), /^global_step: /);
    await refused(trainerState(500, { log_history: { step: 500 } }), /^log_history: /);
    await refused(trainerState(500, { log_history: [{ step: 500 }, 'loss'] }), /^log_history\.1: /);
    await refused(trainerState(500, { log_history: [{ step: '500', loss: 1 }] }), /^log_history\.0\.step: /);
    await refused(trainerState(500, { best_metric: 'low' }), /^best_metric: /);
    await refused(trainerState(500, { best_model_checkpoint: 5 }), /^best_model_checkpoint: /);
  });

  it('a trainer_state.json that is not UTF-8 bytes', async () => {
    const dir = checkpointFolder(tempDir(), 'checkpoint-500', null);
    const file = path.join(dir, 'trainer_state.json');
    fs.writeFileSync(file, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
    const error = await formatErrorOf(safetensorsReader.open(dir), file);
    expect(error.problem).toBe('is not UTF-8 text');
  });
});
