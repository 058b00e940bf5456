// The reader's two paths agree: the canonical scalar events read by their exact bytes
// (canonical-scalars.ts) give what the general parser gives for the same files, including those
// that are almost canonical and must fall back; and the framing's CRC (a JavaScript table for short
// records, the native one for long) is the CRC-32C the independent framing computes.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { isEventFileName } from '../../electron/core/formats/tensorboard/event-file-names.js';
import { encodeFileVersionEvent, encodeScalarEvent } from '../../electron/core/formats/tensorboard/event-file-writer.js';
import { frameRecord } from '../../electron/core/formats/tensorboard/tfrecord.js';
import { sharedFixture } from '../fixtures.js';
import { SCALARS, type Scratch, WALL_TIME, scalarRecord, scratch, simpleRecord, valuesRecord, versionRecord } from './tensorboard-helpers.js';
import { tfRecord } from './tensorboard-protos.js';

let s: Scratch;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

async function bothWays(file: string): Promise<void> {
  const canonical = await new EventFileReader(file).readNew();
  const general = await new EventFileReader(file, { canonicalScalars: false }).readNew();
  expect(canonical).toEqual(general);
}

const ours = (step: number, scalars: [string, number][], wallTime = WALL_TIME + step): Buffer => frameRecord(encodeScalarEvent(step, wallTime, scalars));

describe('the canonical scalar reader', () => {
  it('reads the real fixtures as the general parser does', async () => {
    const dirs = [
      sharedFixture('tensorboard', 'tf2-summary-scalar'),
      sharedFixture('tensorboard', 'keras-callback-reuters', 'train'),
      sharedFixture('tensorboard', 'keras-callback-reuters', 'validation'),
    ];
    for (const dir of dirs) if (dir !== null) for (const name of readdirSync(dir).filter(isEventFileName)) await bothWays(path.join(dir, name));
  });

  it('reads canonical, almost canonical and other events as the general parser does', async () => {
    const longTag = 'x'.repeat(200);
    const records = [
      frameRecord(encodeFileVersionEvent(1_700_000_000)),
      ours(0, [['loss', 1]]),
      ours(1, [
        ['loss', 0.5],
        ['accuracy', 0.25],
        ['meanLoss', NaN],
        ['samplesPerSecond', Infinity],
      ]),
      ours(2 ** 27, [['loss', 2]]),
      ours(2 ** 30, [['loss', 3]]),
      ours(5, [[longTag, 4]]),
      ours(6, [['loss', 5]], 0),
      ours(7, [['loss', 6]], NaN),
      scalarRecord(-1, 'loss', 7),
      simpleRecord(8, 'simple', 8),
      simpleRecord(9, longTag, 9),
      // A tag whose first metadata named another plugin: its later canonical-looking values are that plugin's.
      valuesRecord(10, [{ tag: 'pictures', tensor: { dtype: 1, tensor_content: Buffer.alloc(4) }, metadata: { plugin_data: { plugin_name: 'images' } } }]),
      scalarRecord(11, 'pictures', 10),
      // Two values, the second not canonical: neither may be kept twice, nor lost.
      valuesRecord(12, [
        { tag: 'loss', tensor: { dtype: 1, tensor_shape: {}, tensor_content: Buffer.from(new Float32Array([11]).buffer) }, metadata: SCALARS },
        { tag: 'other', tensor: { dtype: 2, tensor_shape: {}, tensor_content: Buffer.from(new Float64Array([12]).buffer) }, metadata: SCALARS },
      ]),
      valuesRecord(13, []),
      tfRecord(Buffer.alloc(0)),
    ];
    const file = s.file();
    writeFileSync(file, Buffer.concat(records));
    await bothWays(file);
    const read = await new EventFileReader(file).readNew();
    expect(read.points.map((p) => [p.tag === longTag ? 'long' : p.tag, p.step])).toEqual([
      ['loss', 0],
      ['loss', 1],
      ['accuracy', 1],
      ['meanLoss', 1],
      ['samplesPerSecond', 1],
      ['loss', 2 ** 27],
      ['loss', 2 ** 30],
      ['long', 5],
      ['loss', 6],
      ['loss', -1],
      ['simple', 8],
      ['long', 9],
      ['loss', 12],
      ['other', 12],
    ]);
  });
});

describe('the framing CRC', () => {
  it('is the masked CRC-32C of TensorFlow for every length up to 300 bytes, on both sides of the table/native split', () => {
    for (let length = 0; length <= 300; length += 1) {
      const data = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) & 0xff));
      expect(frameRecord(data).equals(tfRecord(data)), `length ${length}`).toBe(true);
    }
  });

  it('is checked by the reader at every length: a file of records of each length reads whole', async () => {
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), ...Array.from({ length: 150 }, (_, i) => scalarRecord(i, 't'.repeat(i + 1), i))]));
    const read = await new EventFileReader(file).readNew();
    expect(read.problems).toEqual([]);
    expect(read.points).toHaveLength(150);
  });
});
