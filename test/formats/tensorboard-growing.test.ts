// An event file read while its writer appends to it: a record cut short at the end is "not
// written yet" (no points, no problem), read whole once the rest arrives, and every byte of the
// file is read once (counted through the reader's `open` seam).
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventFileReader } from '../../electron/core/formats/tensorboard/event-file-reader.js';
import { type Scratch, countingOpen, scalarRecord, scratch, valuesRecord, versionRecord } from './tensorboard-helpers.js';

let s: Scratch;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

const points = (read: { points: readonly { tag: string; step: number; value: number }[] }): [string, number, number][] =>
  read.points.map((p) => [p.tag, p.step, p.value]);

describe('a growing event file', () => {
  it('returns nothing for half a record, the record once it is whole, then only what was appended; each byte is read once', async () => {
    const file = s.file();
    const first = scalarRecord(1, 'loss', 0.5);
    writeFileSync(file, Buffer.concat([versionRecord(), first.subarray(0, 20)]));
    const counter = countingOpen();
    const reader = new EventFileReader(file, { open: counter.open });

    const half = await reader.readNew();
    expect(half.points).toEqual([]);
    expect(half.problems).toEqual([]);
    expect(half.fileVersion).toBe('brain.Event:2');
    expect(half.pendingBytes).toBe(20);

    appendFileSync(file, first.subarray(20));
    const whole = await reader.readNew();
    expect(points(whole)).toEqual([['loss', 1, 0.5]]);
    expect(whole.problems).toEqual([]);
    expect(whole.pendingBytes).toBe(0);

    appendFileSync(file, Buffer.concat([scalarRecord(2, 'loss', 0.25), scalarRecord(3, 'loss', 0.125)]));
    expect(points(await reader.readNew())).toEqual([
      ['loss', 2, 0.25],
      ['loss', 3, 0.125],
    ]);
    const none = await reader.readNew();
    expect(none.points).toEqual([]);
    expect(none.bytesRead).toBe(0);
    expect(counter.bytes()).toBe(versionRecord().length + first.length + 2 * scalarRecord(2, 'loss', 0.25).length);
  });

  it('takes a record cut at any byte (length, its CRC, the data, the data CRC) for one not written yet', async () => {
    const record = scalarRecord(7, 'accuracy', 0.75);
    for (let cut = 1; cut < record.length; cut += 1) {
      const file = s.file(`events.out.tfevents.${cut}`);
      writeFileSync(file, Buffer.concat([versionRecord(), record.subarray(0, cut)]));
      const reader = new EventFileReader(file);
      const early = await reader.readNew();
      expect([early.points, early.problems, early.pendingBytes], `cut at ${cut}`).toEqual([[], [], cut]);
      appendFileSync(file, record.subarray(cut));
      expect(points(await reader.readNew()), `cut at ${cut}`).toEqual([['accuracy', 7, 0.75]]);
    }
  });

  it('reads a file appended a few bytes at a time to the same points as the whole file, each byte once', async () => {
    const records = [versionRecord(), ...Array.from({ length: 30 }, (_, i) => scalarRecord(i, i % 2 ? 'a' : 'b', i / 8))];
    const bytes = Buffer.concat(records);
    const file = s.file();
    writeFileSync(file, '');
    const counter = countingOpen();
    const reader = new EventFileReader(file, { open: counter.open });
    const seen: [string, number, number][] = [];
    for (let at = 0; at < bytes.length; at += 13) {
      appendFileSync(file, bytes.subarray(at, Math.min(bytes.length, at + 13)));
      const read = await reader.readNew();
      expect(read.problems).toEqual([]);
      seen.push(...points(read));
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => [i % 2 ? 'a' : 'b', i, i / 8]));
    expect(counter.bytes()).toBe(bytes.length);
  });

  it('reads in chunks smaller than a record, growing its buffer only for a record that needs it', async () => {
    const big = valuesRecord(5, [
      { tag: 'note', tensor: { dtype: 7, string_val: [Buffer.alloc(5000, 0x61)] }, metadata: { plugin_data: { plugin_name: 'text' } } },
    ]);
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 1), big, scalarRecord(6, 'loss', 2)]));
    const counter = countingOpen();
    const read = await new EventFileReader(file, { open: counter.open, chunkBytes: 64 }).readNew();
    expect(points(read)).toEqual([
      ['loss', 1, 1],
      ['loss', 6, 2],
    ]);
    expect(read.skipped).toEqual({ text: 1 });
    expect(counter.largestRead()).toBeLessThanOrEqual(big.length);
  });

  it('keeps no more than a bounded tail of an unfinished large record between calls, and reads it right once whole', async () => {
    const big = valuesRecord(2, [{ tag: 'picture', image: { height: 1, width: 1, encoded_image_string: Buffer.alloc(200_000, 7) } }]);
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 1), big.subarray(0, 150_000)]));
    const reader = new EventFileReader(file);
    expect(points(await reader.readNew())).toEqual([['loss', 1, 1]]);
    appendFileSync(file, Buffer.concat([big.subarray(150_000), scalarRecord(3, 'loss', 3)]));
    const rest = await reader.readNew();
    expect(points(rest)).toEqual([['loss', 3, 3]]);
    expect(rest.skipped).toEqual({ images: 1 });
  });

  it('gives the event loop turns while it reads a large file', async () => {
    const picture = valuesRecord(1, [{ tag: 'picture', image: { height: 1, width: 1, encoded_image_string: Buffer.alloc(5_000_000, 1) } }]);
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), picture, picture, picture, picture, scalarRecord(2, 'loss', 1)]));
    let turns = 0;
    const count = (): void => {
      turns += 1;
      if (!done) setImmediate(count);
    };
    let done = false;
    setImmediate(count);
    const read = await new EventFileReader(file).readNew();
    done = true;
    expect(points(read)).toEqual([['loss', 2, 1]]);
    expect(turns).toBeGreaterThan(1);
  });

  it('lets calls that overlap wait for each other, so no point comes twice', async () => {
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), ...Array.from({ length: 50 }, (_, i) => scalarRecord(i, 'loss', i))]));
    const reader = new EventFileReader(file);
    const reads = await Promise.all([reader.readNew(), reader.readNew(), reader.readNew()]);
    expect(reads.map((r) => r.points.length)).toEqual([50, 0, 0]);
  });

  it('reads a file replaced under its name (or cut short) again from its start, and says the earlier points are void', async () => {
    const file = s.file();
    writeFileSync(file, Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 1), scalarRecord(2, 'loss', 2)]));
    const reader = new EventFileReader(file);
    expect((await reader.readNew()).points).toHaveLength(2);

    const other = s.file('other');
    // Longer than what was read: only its identity tells it from the file read before.
    writeFileSync(other, Buffer.concat([versionRecord(), scalarRecord(1, 'loss', 10), scalarRecord(2, 'loss', 20), scalarRecord(3, 'loss', 30)]));
    renameSync(other, file);
    const replaced = await reader.readNew();
    expect(replaced.reset).toBe(true);
    expect(replaced.problems.map((p) => [p.kind, p.byteOffset])).toEqual([['replaced', 0]]);
    expect(replaced.problems[0]?.message).toContain(file);
    expect(points(replaced)).toEqual([
      ['loss', 1, 10],
      ['loss', 2, 20],
      ['loss', 3, 30],
    ]);

    // Cut short below what was read: the same file, but not the bytes read before.
    truncateSync(file, versionRecord().length);
    const cut = await reader.readNew();
    expect([cut.reset, cut.points]).toEqual([true, []]);
    expect(cut.fileVersion).toBe('brain.Event:2');
  });
});
