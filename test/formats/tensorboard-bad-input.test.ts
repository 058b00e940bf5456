// Damaged and unusual event files: damage stops the reading where TensorBoard stops (every point
// before it kept, a problem naming the file and the byte offset); a length prefix is never
// allocated for; kinds and plugins we do not read are passed over, counted, and said once; every
// scalar encoding TensorBoard takes is read.
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventFileReader, type EventFileRead } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { SummaryType, eventRecord, recordHeader, sessionStartContent, tfRecord } from './tensorboard-protos.js';
import { SCALARS, type Scratch, WALL_TIME, countingOpen, scalarRecord, scratch, simpleRecord, valuesRecord, versionRecord } from './tensorboard-helpers.js';

let s: Scratch;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

async function readOnce(...records: Buffer[]): Promise<EventFileRead & { file: string }> {
  const file = s.file();
  writeFileSync(file, Buffer.concat(records));
  return { ...(await new EventFileReader(file).readNew()), file };
}

const values = (read: EventFileRead): [string, number, number][] => read.points.map((p) => [p.tag, p.step, p.value]);

function withByte(record: Buffer, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(record);
  copy[at] = (copy[at] as number) ^ mask;
  return copy;
}

describe('damage in an event file', () => {
  it('a bad length CRC in the middle stops the reading there, keeping every point before it, and says where', async () => {
    const good = [versionRecord(), scalarRecord(1, 'loss', 1), scalarRecord(2, 'loss', 2)];
    const at = good.reduce((sum, r) => sum + r.length, 0);
    const read = await readOnce(...good, withByte(scalarRecord(3, 'loss', 3), 9), scalarRecord(4, 'loss', 4));
    expect(values(read)).toEqual([
      ['loss', 1, 1],
      ['loss', 2, 2],
    ]);
    expect(read.problems.map((p) => [p.kind, p.byteOffset])).toEqual([['damaged', at]]);
    expect(read.problems[0]?.message).toContain(`${read.file} (byte ${at}): the record's length field fails its CRC`);
    expect(read.problems[0]?.message).toContain('TensorBoard reads no further');
    expect(read.pendingBytes).toBe(0);
  });

  it('a bad data CRC stops it too, and a later call neither reads on nor says it again', async () => {
    const file = s.file();
    const bad = withByte(scalarRecord(2, 'loss', 2), 30);
    const head = Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 1)]);
    writeFileSync(file, Buffer.concat([head, bad, scalarRecord(3, 'loss', 3)]));
    const counter = countingOpen();
    const reader = new EventFileReader(file, { open: counter.open });
    const read = await reader.readNew();
    expect(values(read)).toEqual([['loss', 1, 1]]);
    expect(read.problems.map((p) => [p.kind, p.byteOffset])).toEqual([['damaged', head.length]]);
    expect(read.problems[0]?.message).toMatch(/the record's \d+ bytes of data fail their CRC/);
    expect(reader.stoppedAtOffset).toBe(head.length);
    const bytes = counter.bytes();
    const again = await reader.readNew();
    expect([again.points, again.problems, counter.bytes()]).toEqual([[], [], bytes]);
  });

  it('a record that passes its CRC but is not an Event is damage, named with the byte inside it', async () => {
    const garbage = tfRecord(Buffer.from([0x0a, 0x7f, 0x01])); // field 1 claims 127 bytes; 1 is there
    const head = Buffer.concat([versionRecord(), simpleRecord(1, 'loss', 1)]);
    const read = await readOnce(head, garbage, simpleRecord(2, 'loss', 2));
    expect(values(read)).toEqual([['loss', 1, 1]]);
    expect(read.problems.map((p) => p.kind)).toEqual(['damaged']);
    expect(read.problems[0]?.message).toContain(`(byte ${head.length}): the record passes its CRC but is not an Event (byte ${head.length + 12}:`);
  });

  it('keeps nothing of a record that is not an Event, not even the values before the bytes that are not', async () => {
    // A Summary of two good values, then a field that claims 127 bytes where there are none.
    const values2 = SummaryType.encode(
      SummaryType.fromObject({
        value: [
          { tag: 'loss', simple_value: 2 },
          { tag: 'picture', image: { height: 1 } },
        ],
      }),
    ).finish();
    const summary = Buffer.concat([values2, Buffer.from([0x0a, 0x7f])]);
    const wallTime = Buffer.alloc(8);
    wallTime.writeDoubleLE(WALL_TIME);
    const broken = Buffer.concat([Buffer.from([0x09]), wallTime, Buffer.from([0x10, 2, 0x2a, summary.length]), summary]);
    const read = await readOnce(versionRecord(), simpleRecord(1, 'loss', 1), tfRecord(broken));
    expect(values(read)).toEqual([['loss', 1, 1]]);
    expect(read.skipped).toEqual({});
    expect(read.problems.map((p) => p.kind)).toEqual(['damaged']);
  });

  it('a zero length with its CRC right is an empty Event (nothing in it), and the points after it are read', async () => {
    const read = await readOnce(versionRecord(), tfRecord(Buffer.alloc(0)), scalarRecord(1, 'loss', 1));
    expect(read.problems).toEqual([]);
    expect(values(read)).toEqual([['loss', 1, 1]]);
  });

  it('zeros where a record should be (a length of 0 whose CRC is 0) are damage, not an endless run of empty records', async () => {
    const read = await readOnce(versionRecord(), scalarRecord(1, 'loss', 1), Buffer.alloc(64));
    expect(values(read)).toEqual([['loss', 1, 1]]);
    expect(read.problems.map((p) => p.kind)).toEqual(['damaged']);
  });

  it('an enormous length prefix (CRC right) is damage and is never allocated for', async () => {
    const before = process.memoryUsage().arrayBuffers;
    for (const length of [2n ** 40n, 2n ** 63n, BigInt(256 * 1024 * 1024 + 1)]) {
      const file = s.file(`events.out.tfevents.${length}`);
      writeFileSync(file, Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 1), recordHeader(length), Buffer.alloc(100)]));
      const counter = countingOpen();
      const read = await new EventFileReader(file, { open: counter.open }).readNew();
      expect(values(read)).toEqual([['loss', 1, 1]]);
      expect(read.problems[0]?.message).toContain(`the record claims ${length} bytes, more than any event holds`);
      expect(counter.largestRead()).toBeLessThan(1024);
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a length within bounds but past the end of the file is a record not written yet: nothing is allocated for it', async () => {
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), recordHeader(200n * 1024n * 1024n), Buffer.alloc(10)]));
    const counter = countingOpen();
    const read = await new EventFileReader(file, { open: counter.open }).readNew();
    expect([read.points, read.problems]).toEqual([[], []]);
    expect(read.pendingBytes).toBe(22);
    expect(counter.largestRead()).toBeLessThan(1024);
  });
});

describe('what an event file holds besides scalars', () => {
  const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

  it('passes over TF1 images, histograms and audio and TF2 images, histograms, audio and text, counting each kind', async () => {
    const read = await readOnce(
      versionRecord(),
      valuesRecord(1, [{ tag: 'picture', image: { height: 1, width: 1, colorspace: 3, encoded_image_string: PNG } }]),
      valuesRecord(1, [{ tag: 'weights', histo: { min: 0, max: 1, num: 2, bucket_limit: [1], bucket: [2] } }]),
      valuesRecord(1, [{ tag: 'sound', audio: { sample_rate: 8000, num_channels: 1, length_frames: 1, encoded_audio_string: PNG } }]),
      valuesRecord(1, [{ tag: 'old', obsolete_old_style_histogram: PNG }]),
      valuesRecord(2, [{ tag: 'p2', tensor: { dtype: 7, string_val: [PNG] }, metadata: { plugin_data: { plugin_name: 'images' } } }]),
      valuesRecord(2, [{ tag: 'h2', tensor: { dtype: 2, tensor_content: Buffer.alloc(24) }, metadata: { plugin_data: { plugin_name: 'histograms' } } }]),
      valuesRecord(2, [{ tag: 'a2', tensor: { dtype: 7, string_val: [PNG] }, metadata: { plugin_data: { plugin_name: 'audio' } } }]),
      valuesRecord(2, [{ tag: 't2', tensor: { dtype: 7, string_val: [Buffer.from('hello')] }, metadata: { plugin_data: { plugin_name: 'text' } } }]),
      eventRecord({ wall_time: WALL_TIME, graph_def: PNG }),
      scalarRecord(3, 'loss', 0.5),
    );
    expect(read.problems).toEqual([]);
    expect(values(read)).toEqual([['loss', 3, 0.5]]);
    expect(read.skipped).toEqual({ images: 2, histograms: 3, audio: 2, text: 1, graphs: 1 });
  });

  it('skips an unknown plugin’s summaries, says so once, and keeps every other point', async () => {
    const curve = (step: number): Buffer =>
      valuesRecord(step, [
        { tag: 'pr', tensor: { dtype: 1, tensor_content: Buffer.alloc(8) }, metadata: { plugin_data: { plugin_name: 'pr_curves' } } },
        { tag: 'loss', simple_value: step },
      ]);
    const read = await readOnce(versionRecord(), curve(1), curve(2), curve(3));
    expect(values(read)).toEqual([
      ['loss', 1, 1],
      ['loss', 2, 2],
      ['loss', 3, 3],
    ]);
    expect(read.skipped).toEqual({ 'plugin "pr_curves"': 3 });
    expect(read.problems.map((p) => [p.kind, p.message.replace(read.file, 'FILE')])).toEqual([
      ['skipped', expect.stringMatching(/^FILE \(byte \d+\): summaries of the plugin "pr_curves" \(first: tag "pr"\) are not read; every scalar is$/)],
    ]);
  });

  it('skips a tensor under the scalars plugin that is not one number, says so once per tag, and keeps the rest', async () => {
    const vector = (step: number): Buffer =>
      valuesRecord(step, [{ tag: 'vec', tensor: { dtype: 1, tensor_shape: { dim: [{ size: 3 }] }, float_val: [1, 2, 3] }, metadata: SCALARS }]);
    const read = await readOnce(
      versionRecord(),
      vector(1),
      vector(2),
      valuesRecord(3, [{ tag: 'word', tensor: { dtype: 7, string_val: [Buffer.from('x')] }, metadata: SCALARS }]),
      valuesRecord(3, [{ tag: 'short', tensor: { dtype: 1, tensor_content: Buffer.alloc(2) }, metadata: SCALARS }]),
      valuesRecord(3, [{ tag: 'cube', tensor: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: 1 }] }, float_val: [1] }, metadata: SCALARS }]),
      scalarRecord(4, 'loss', 4),
    );
    expect(values(read)).toEqual([['loss', 4, 4]]);
    expect(read.skipped).toEqual({ 'scalars that are not one number': 5 });
    expect(read.problems.map((p) => p.message.replace(`${read.file} `, ''))).toEqual([
      expect.stringMatching(/tag "vec" \(step 1\) is under the scalars plugin but holds a tensor of rank 1, not a scalar; such points are skipped/),
      expect.stringMatching(/tag "word" \(step 3\) is under the scalars plugin but holds a tensor of DataType 7, not a number/),
      expect.stringMatching(/tag "short" \(step 3\) .* holds 2 bytes of tensor content for one 4-byte element/),
      expect.stringMatching(/tag "cube" \(step 3\) .* holds a tensor of rank 2, not a scalar/),
    ]);
  });

  it('keeps NaN and infinite values as they are (TensorBoard draws them)', async () => {
    const read = await readOnce(versionRecord(), scalarRecord(1, 'loss', NaN), scalarRecord(2, 'loss', Infinity), simpleRecord(3, 'loss', -Infinity));
    expect(values(read)).toEqual([
      ['loss', 1, NaN],
      ['loss', 2, Infinity],
      ['loss', 3, -Infinity],
    ]);
    expect(read.problems).toEqual([]);
  });

  it('reads every encoding of a scalar: tensor_content or the typed field of float, double, half, bfloat16, int32 and int64', async () => {
    const tensor = (tag: string, t: Record<string, unknown>): Buffer => valuesRecord(1, [{ tag, tensor: { tensor_shape: {}, ...t }, metadata: SCALARS }]);
    const halfOneAndHalf = 0x3e00;
    const bfloatMinusTwo = 0xc000;
    const read = await readOnce(
      versionRecord(),
      tensor('float', { dtype: 1, float_val: [0.25] }),
      tensor('double', { dtype: 2, double_val: [0.1] }),
      tensor('double content', { dtype: 2, tensor_content: Buffer.from(new Float64Array([0.1]).buffer) }),
      tensor('half', { dtype: 19, half_val: [halfOneAndHalf] }),
      tensor('bfloat16', { dtype: 14, half_val: [bfloatMinusTwo] }),
      tensor('int32', { dtype: 3, int_val: [-7] }),
      tensor('int64', { dtype: 9, int64_val: [9007199254740991] }),
      tensor('int64 content', { dtype: 9, tensor_content: Buffer.from(new BigInt64Array([-5n]).buffer) }),
      valuesRecord(1, [{ tag: 'no shape', tensor: { dtype: 1, tensor_content: Buffer.from(new Float32Array([2]).buffer) }, metadata: SCALARS }]),
    );
    expect(read.problems).toEqual([]);
    expect(values(read)).toEqual([
      ['float', 1, 0.25],
      ['double', 1, 0.1],
      ['double content', 1, 0.1],
      ['half', 1, 1.5],
      ['bfloat16', 1, -2],
      ['int32', 1, -7],
      ['int64', 1, 9007199254740991],
      ['int64 content', 1, -5],
      ['no shape', 1, 2],
    ]);
  });

  it('knows a tag’s plugin from its first metadata, as TF1’s writer strips it from the tag’s later values', async () => {
    const bare = (step: number, value: number): Buffer =>
      valuesRecord(step, [{ tag: 'acc', tensor: { dtype: 1, tensor_content: Buffer.from(new Float32Array([value]).buffer) } }]);
    const first = valuesRecord(1, [{ tag: 'acc', tensor: { dtype: 1, tensor_content: Buffer.from(new Float32Array([0.5]).buffer) }, metadata: SCALARS }]);
    const read = await readOnce(versionRecord(), first, bare(2, 0.75), bare(3, 1));
    expect(values(read)).toEqual([
      ['acc', 1, 0.5],
      ['acc', 2, 0.75],
      ['acc', 3, 1],
    ]);
    const orphan = await readOnce(versionRecord(), bare(1, 1));
    expect([orphan.points, orphan.skipped]).toEqual([[], { 'tensors without a plugin': 1 }]);
  });

  it('takes the hparams session start as the run’s configuration, and names the values it cannot hold', async () => {
    const content = sessionStartContent(
      { lr: { number_value: 0.001 }, optimizer: { string_value: 'adam' }, nesterov: { bool_value: true }, layers: { list_value: { values: [] } } },
      { group_name: 'g1', start_time_secs: 1700000000.5 },
    );
    const hparams = valuesRecord(0, [
      {
        tag: '_hparams_/session_start_info',
        tensor: { dtype: 1, tensor_shape: { dim: [{ size: 0 }] } },
        metadata: { plugin_data: { plugin_name: 'hparams', content } },
      },
    ]);
    const read = await readOnce(versionRecord(), hparams, scalarRecord(1, 'loss', 1));
    expect(read.sessionStart).toEqual({
      hparams: { lr: 0.001, optimizer: 'adam', nesterov: true },
      unread: ['layers'],
      groupName: 'g1',
      modelUri: '',
      startTime: 1700000000.5,
    });
    expect(values(read)).toEqual([['loss', 1, 1]]);
    expect(read.skipped).toEqual({});
    expect(read.problems.map((p) => p.message)).toEqual([expect.stringContaining('the hyper-parameter "layers" is null, a list or a struct')]);
  });

  it('skips events whose wall time is NaN, as TensorBoard does, and says so once', async () => {
    const read = await readOnce(versionRecord(), scalarRecord(1, 'loss', 1, NaN), scalarRecord(2, 'loss', 2, NaN), scalarRecord(3, 'loss', 3));
    expect(values(read)).toEqual([['loss', 3, 3]]);
    expect(read.problems.map((p) => p.message)).toEqual([expect.stringContaining('an event at step 1 has no valid wall time')]);
  });

  it('reads a negative step, ten bytes of two’s complement on the wire, exactly', async () => {
    const read = await readOnce(versionRecord(), scalarRecord(-3, 'loss', 1, WALL_TIME));
    expect(values(read)).toEqual([['loss', -3, 1]]);
  });
});
