// Event files made for the TensorBoard tests: records encoded by protobufjs (tensorboard-protos.ts),
// never by the code under test, in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type OpenedEventFile, openEventFile } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { eventRecord } from './tensorboard-protos.js';

export const WALL_TIME = 1_700_000_000.25;

export function versionRecord(wallTime = WALL_TIME): Buffer {
  return eventRecord({ wall_time: wallTime, file_version: 'brain.Event:2' });
}

function floatBytes(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(value);
  return bytes;
}

export const SCALARS = { plugin_data: { plugin_name: 'scalars' } };

/** A TF2 scalar (`tf.summary.scalar`): a rank-0 DT_FLOAT tensor under the scalars plugin. */
export function scalarRecord(step: number, tag: string, value: number, wallTime = WALL_TIME + step): Buffer {
  return eventRecord({
    wall_time: wallTime,
    step,
    summary: { value: [{ tag, tensor: { dtype: 1, tensor_shape: {}, tensor_content: floatBytes(value) }, metadata: SCALARS }] },
  });
}

/** A TF1 scalar: `simple_value`, no metadata. */
export function simpleRecord(step: number, tag: string, value: number, wallTime = WALL_TIME + step): Buffer {
  return eventRecord({ wall_time: wallTime, step, summary: { value: [{ tag, simple_value: value }] } });
}

/** An event whose summary holds these Summary.Value objects. */
export function valuesRecord(step: number, values: Record<string, unknown>[], wallTime = WALL_TIME + step): Buffer {
  return eventRecord({ wall_time: wallTime, step, summary: { value: values } });
}

export interface Scratch {
  readonly dir: string;
  file(name?: string): string;
  remove(): void;
}

export function scratch(): Scratch {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tensorboard-'));
  return { dir, file: (name = 'events.out.tfevents.1700000000.test') => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens event files as the reader does, counting every byte read and every read's length. */
export function countingOpen(): { open: (file: string) => Promise<OpenedEventFile>; bytes: () => number; largestRead: () => number } {
  let bytes = 0;
  let largest = 0;
  return {
    open: async (file) => {
      const opened = await openEventFile(file);
      return {
        size: opened.size,
        identity: opened.identity,
        read: async (buffer, offset, length, position) => {
          largest = Math.max(largest, length);
          const read = await opened.read(buffer, offset, length, position);
          bytes += read;
          return read;
        },
        close: () => opened.close(),
      };
    },
    bytes: () => bytes,
    largestRead: () => largest,
  };
}
