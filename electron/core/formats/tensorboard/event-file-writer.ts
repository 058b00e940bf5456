// Writes a TensorBoard event file as TF2's `tf.summary.create_file_writer` + `tf.summary.scalar`
// do, so that `tensorboard --logdir <workspace>` shows our runs: the file named as TensorFlow
// names it, a first Event holding `file_version: "brain.Event:2"`, then one Event per step whose
// Summary holds one Value per metric: the tag, a rank-0 DT_FLOAT tensor with its 4 bytes in
// `tensor_content`, and metadata naming the `scalars` plugin. Byte for byte what TensorFlow
// writes for the same values (the test compares with ../shared/fixtures/tensorboard/tf2-summary-scalar).
//
// Append-only, one write per record at the end of what is known to be written, and each record
// fsynced, as metrics.jsonl is: a killed writer leaves at most one torn last record, which a
// reader takes for "not written yet". A write that fails is cut back off the file, so a later
// record never follows a torn one.
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from '../../base/durable-fs.js';
import { WireWriter } from '../tf/protobuf-wire.js';
import { eventFileName } from './event-file-names.js';
import { DT, EVENT, FILE_VERSION, PLUGIN, PLUGIN_DATA, SUMMARY, SUMMARY_METADATA, SUMMARY_VALUE, TENSOR } from './event-protos.js';
import { frameRecord } from './tfrecord.js';

/** The `file_version` Event TensorFlow's EventsWriter starts each file with. */
export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return new WireWriter().doubleField(EVENT.wallTime, wallTime).bytesField(EVENT.fileVersion, Buffer.from(FILE_VERSION)).finish();
}

const SCALARS_METADATA = new WireWriter()
  .bytesField(SUMMARY_METADATA.pluginData, new WireWriter().bytesField(PLUGIN_DATA.pluginName, Buffer.from(PLUGIN.scalars)).finish())
  .finish();
const RANK_0_SHAPE = new Uint8Array(0);

function scalarTensor(value: number): Uint8Array {
  const content = Buffer.alloc(4);
  content.writeFloatLE(value);
  return new WireWriter().varintField(TENSOR.dtype, DT.FLOAT).bytesField(TENSOR.tensorShape, RANK_0_SHAPE).bytesField(TENSOR.tensorContent, content).finish();
}

/** One Event at `step` holding one scalar Value per [tag, value], as `tf.summary.scalar` writes each. */
export function encodeScalarEvent(step: number, wallTime: number, scalars: ReadonlyArray<readonly [string, number]>): Uint8Array {
  const summary = new WireWriter();
  for (const [tag, value] of scalars) {
    const entry = new WireWriter()
      .bytesField(SUMMARY_VALUE.tag, Buffer.from(tag))
      .bytesField(SUMMARY_VALUE.tensor, scalarTensor(value))
      .bytesField(SUMMARY_VALUE.metadata, SCALARS_METADATA)
      .finish();
    summary.bytesField(SUMMARY.value, entry);
  }
  return new WireWriter().doubleField(EVENT.wallTime, wallTime).varintField(EVENT.step, step).bytesField(EVENT.summary, summary.finish()).finish();
}

export interface EventFileWriterOptions {
  /** The writer's start, Unix milliseconds (names the file and times its first record). */
  readonly now?: number;
  readonly hostname?: string;
  readonly pid?: number;
}

/** TF2 numbers each file writer of a process (`ops.uid()`); so do we. */
let writersMade = 0;

export class EventFileWriter {
  private size = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates a new event file in `dir` (never over an existing one) holding its `file_version` record. */
  static async create(dir: string, options: EventFileWriterOptions = {}): Promise<EventFileWriter> {
    const seconds = Math.floor((options.now ?? Date.now()) / 1000);
    for (;;) {
      const file = path.join(dir, eventFileName(seconds, ++writersMade, options.hostname, options.pid));
      let handle: FileHandle;
      try {
        handle = await open(file, 'wx', 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      const writer = new EventFileWriter(file, handle);
      try {
        // TensorFlow's EventsWriter times this record in whole seconds, as the file's name.
        await writer.appendRecord(encodeFileVersionEvent(seconds));
        await fsyncPath(dir);
      } catch (error) {
        await writer.close();
        throw error;
      }
      return writer;
    }
  }

  /** Appends one Event at `step` (wall time in Unix seconds) holding these scalars, and fsyncs it. */
  append(step: number, wallTime: number, scalars: ReadonlyArray<readonly [string, number]>): Promise<void> {
    return this.appendRecord(encodeScalarEvent(step, wallTime, scalars));
  }

  private appendRecord(data: Uint8Array): Promise<void> {
    const next = this.queue.then(() => this.writeRecord(frameRecord(data)));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeRecord(record: Buffer): Promise<void> {
    if (this.closed) throw new Error(`${this.file}: written after it was closed`);
    try {
      let done = 0;
      while (done < record.length) {
        const { bytesWritten } = await this.handle.write(record, done, record.length - done, this.size + done);
        if (bytesWritten === 0) throw new Error(`${this.file}: write made no progress`);
        done += bytesWritten;
      }
      await this.handle.sync();
    } catch (error) {
      await this.handle.truncate(this.size).catch(() => undefined);
      throw error;
    }
    this.size += record.length;
  }

  /** Waits for the records in flight, then closes the file; later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    await this.handle.close();
  }
}
