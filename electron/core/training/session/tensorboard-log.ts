// Our runs in TensorBoard: every metrics.jsonl record of a logged step is also written to a
// TensorBoard event file in the run folder, so `tensorboard --logdir <workspace>` shows each run
// of ours as a run, its curves named as our charts name them (`loss`, `accuracy`, `meanLoss`,
// `meanAccuracy`, `samplesPerSecond`; validation's `val_loss`, `val_accuracy`). A continued run is
// a new run folder, so it gets a file of its own.
//
// The file is made at the first step logged, not when the run is created: a start that fails
// before training leaves no event file behind (run-files.ts removes such a run whole).
import type { MetricsRecord } from '../../checkpoint/run-files.js';
import type { MetricsLog } from '../../checkpoint/run-writer.js';
import { EventFileWriter, type EventFileWriterOptions } from '../../formats/tensorboard/event-file-writer.js';

/** Fields of a record that place it rather than measure something. */
const PLACE_FIELDS = new Set(['kind', 'step', 'epoch', 'batch', 'time']);

/** Record kinds that are metrics of a step; a checkpoint record describes a save, not the model. */
const PREFIX_BY_KIND: Readonly<Record<string, string>> = { train: '', validation: 'val_' };

export interface StepScalars {
  readonly step: number;
  /** Unix seconds. */
  readonly wallTime: number;
  readonly scalars: readonly (readonly [string, number])[];
}

/** The scalars a metrics.jsonl record holds, as TensorBoard tags; null for a record that is not a step's metrics. */
export function stepScalarsOf(record: MetricsRecord, now = Date.now()): StepScalars | null {
  const prefix = PREFIX_BY_KIND[String(record['kind'])];
  const step = record['step'];
  if (prefix === undefined || typeof step !== 'number' || !Number.isSafeInteger(step)) return null;
  const scalars: [string, number][] = [];
  for (const [name, value] of Object.entries(record)) {
    // NaN and infinities are written as they are: TensorBoard shows a diverged loss as one.
    if (!PLACE_FIELDS.has(name) && typeof value === 'number') scalars.push([`${prefix}${name}`, value]);
  }
  if (scalars.length === 0) return null;
  const time = typeof record['time'] === 'string' ? Date.parse(record['time']) : NaN;
  return { step, wallTime: (Number.isFinite(time) ? time : now) / 1000, scalars };
}

export class TensorBoardLog implements MetricsLog {
  private writer: Promise<EventFileWriter> | null = null;

  constructor(
    private readonly runDir: string,
    private readonly options: EventFileWriterOptions = {},
  ) {}

  async append(record: MetricsRecord): Promise<void> {
    const step = stepScalarsOf(record);
    if (step === null) return;
    this.writer ??= EventFileWriter.create(this.runDir, this.options);
    await (await this.writer).append(step.step, step.wallTime, step.scalars);
  }

  async close(): Promise<void> {
    // A file that could not be made failed the append that asked for it; there is nothing to close.
    const writer = await this.writer?.catch(() => null);
    await writer?.close();
  }
}
