// Training logs other programs write, as metric series: Keras's CSVLogger file (by epoch) and
// Hugging Face Trainer's trainer_state.json log_history (by step). The CSV text here is what
// Python's csv module writes for CSVLogger (keras/src/callbacks/csv_logger.py: excel dialect, so
// `\r\n` line ends; header `epoch` then the logs' keys sorted; str() of each float; NA for a
// missing key; a vector metric as a quoted list).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { parseCsvLog, readCsvLog } from '../../electron/core/formats/keras/csv-log.js';
import { logHistorySeries, metricsAtStep, readTrainerState } from '../../electron/core/formats/safetensors/trainer-state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'metric-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const crlf = (...lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

describe('Keras CSVLogger files', () => {
  it('gives one series per column, by epoch as Keras counts it (from 0)', () => {
    const log = parseCsvLog(
      crlf('epoch,accuracy,loss,val_accuracy,val_loss', '0,0.5123,1.2345678,0.6,1.1', '1,0.7001,0.8,0.71,0.95', '2,0.81,0.5,0.79,0.7'),
      'training.log',
    );
    expect(log.series.map((s) => s.name)).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(log.series[1]).toEqual({
      name: 'loss',
      by: 'epoch',
      points: [
        { epoch: 0, value: 1.2345678 },
        { epoch: 1, value: 0.8 },
        { epoch: 2, value: 0.5 },
      ],
    });
    expect(log).toMatchObject({ notes: [], pendingBytes: 0 });
  });

  it('reads a resumed run appended under the same header, and a second header with other columns; later rows win', () => {
    const text = crlf(
      'epoch,loss,lr',
      '0,1.5,0.001',
      '1,1.25,0.001',
      // append=True, resumed with initial_epoch=1: epoch 1 again.
      '1,1.2,0.0005',
      '2,nan,0.0005',
      // A file joined by hand: a new header, another column, a missing value.
      'epoch,loss,val_loss',
      '3,1.0,NA',
      '4,inf,0.9',
    );
    const log = parseCsvLog(text, 'log.csv');
    const byName = Object.fromEntries(log.series.map((s) => [s.name, s.points]));
    expect(byName).toEqual({
      loss: [
        { epoch: 0, value: 1.5 },
        { epoch: 1, value: 1.2 },
        { epoch: 2, value: null },
        { epoch: 3, value: 1.0 },
        { epoch: 4, value: null },
      ],
      lr: [
        { epoch: 0, value: 0.001 },
        { epoch: 1, value: 0.0005 },
        { epoch: 2, value: 0.0005 },
      ],
      val_loss: [{ epoch: 4, value: 0.9 }],
    });
    expect(log.notes).toEqual(['log.csv: 1 epoch was logged again (a resumed run); the later values are used.']);
  });

  it('takes the separator the user chose, leaves out text columns and odd rows with a note, and waits for an unfinished last line', () => {
    const text = `${crlf('epoch;loss;conf', '0;0.5;"""[1, 2]"""', '1;0.4', 'x;0.3;1')}2;0.3`;
    const log = parseCsvLog(text, 'log.csv');
    expect(log.series).toEqual([{ name: 'loss', by: 'epoch', points: [{ epoch: 0, value: 0.5 }] }]);
    expect(log.pendingBytes).toBe(5);
    expect(log.notes).toEqual([
      'log.csv: 2 rows left out (no header before, another number of columns, or an epoch that is not a whole number).',
      'log.csv: the column conf holds values that are not numbers; they are left out.',
    ]);
  });

  it('refuses a file that is not a CSVLogger file, naming it', async () => {
    expect(() => parseCsvLog('step,loss\n1,2\n', 'other.csv')).toThrow(CheckpointFormatError);
    expect(() => parseCsvLog('step,loss\n1,2\n', 'other.csv')).toThrow(/^other\.csv: is not a Keras CSVLogger file/);
    expect(() => parseCsvLog('epoch,loss\n0,"unclosed\n', 'bad.csv')).toThrow(/^bad\.csv: is not a CSV file Python's csv module wrote/);
    const binary = path.join(dir, 'binary.log');
    await writeFile(binary, Buffer.from([0x65, 0x70, 0xff, 0xfe, 0x0a]));
    await expect(readCsvLog(binary)).rejects.toThrow(/binary\.log: is not UTF-8 text/);
    const good = path.join(dir, 'training.log');
    await writeFile(good, crlf('epoch,loss', '0,0.25'));
    expect((await readCsvLog(good)).series).toEqual([{ name: 'loss', by: 'epoch', points: [{ epoch: 0, value: 0.25 }] }]);
  });
});

describe("Hugging Face Trainer's log_history", () => {
  it('gives a series per key by step, the later entry winning at a step, NaN as a gap', async () => {
    const file = path.join(dir, 'trainer_state.json');
    // As json.dumps writes it: a diverged grad_norm is the bare word NaN.
    await writeFile(
      file,
      `{"global_step": 20, "epoch": 2.0, "log_history": [
        {"epoch": 1.0, "grad_norm": 1.5, "learning_rate": 5e-05, "loss": 0.9, "step": 10},
        {"epoch": 1.0, "eval_loss": 0.8, "step": 10},
        {"epoch": 2.0, "grad_norm": NaN, "learning_rate": 2.5e-05, "loss": 0.7, "step": 20},
        {"epoch": 2.0, "loss": 0.65, "step": 20},
        {"train_runtime": 12.5}
      ]}`,
    );
    const state = await readTrainerState(file);
    const series = Object.fromEntries(logHistorySeries(state).map((s) => [s.name, s.points]));
    expect(series).toEqual({
      epoch: [
        { step: 10, value: 1 },
        { step: 20, value: 2 },
      ],
      grad_norm: [
        { step: 10, value: 1.5 },
        { step: 20, value: null },
      ],
      learning_rate: [
        { step: 10, value: 5e-5 },
        { step: 20, value: 2.5e-5 },
      ],
      loss: [
        { step: 10, value: 0.9 },
        { step: 20, value: 0.65 },
      ],
      eval_loss: [{ step: 10, value: 0.8 }],
    });
    // The same values as metricsAtStep gives a checkpoint at that step.
    expect(metricsAtStep(state, 20)).toMatchObject({ loss: 0.65, grad_norm: null, learning_rate: 2.5e-5 });
  });
});
