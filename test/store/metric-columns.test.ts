// metrics.columns: the history as columns beside metrics.jsonl. Every value the log holds comes
// back exactly (a column is Float32 where each of its values is one, else Float64), a torn last
// block is ignored, a stale or damaged file is named and the log read instead (and rebuilt where
// the workspace may be written), range reads are exact at block edges, and buckets keep the raw
// min and max.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricKindSeries } from '../../electron/contract.js';
import { BLOCK_ROWS, COLUMNS_FILE, decodeColumns } from '../../electron/core/checkpoint/metric-columns.js';
import { readRunColumns } from '../../electron/core/checkpoint/metric-columns-file.js';
import { MetricColumnsLog } from '../../electron/core/checkpoint/metric-columns-log.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { importFolder } from '../../electron/core/import/import-folder.js';
import { kindSeries } from '../../electron/core/studio/metric-buckets.js';
import { trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

function runFolder(): string {
  const { root } = makeWorkspace();
  const dir = path.join(root, 'run');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const TIME = Date.parse('2026-12-07T08:00:00.000Z');
const lossAt = (step: number): number => 2 / (step + 1) + Math.sin(step) / 10;

function trainLine(step: number): string {
  return JSON.stringify({ kind: 'train', step, epoch: 0, batch: step, loss: lossAt(step), accuracy: step / 1e6, time: new Date(TIME + step).toISOString() });
}

function writeLog(dir: string, lines: readonly string[], flag: 'w' | 'a' = 'w'): void {
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.map((l) => `${l}\n`).join(''), { flag });
}

const steps = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

async function series(
  dir: string,
  write: boolean,
  query: { from?: number; to?: number; points: number },
): Promise<{ train: MetricKindSeries | null; source: string; problem: string | null }> {
  const columns = await readRunColumns(dir, { write });
  return { train: kindSeries('train', columns.tables, query), source: columns.source, problem: columns.problem };
}

describe('metrics.columns', () => {
  it('round-trips every value the log holds exactly: values, steps and times, nulls, validation apart, checkpoints skipped', async () => {
    const dir = runFolder();
    writeLog(dir, [
      JSON.stringify({
        kind: 'train',
        step: 1,
        epoch: 0,
        batch: 1,
        loss: 0.1,
        accuracy: null,
        huge: 1e300,
        tiny: 1e-300,
        float32: Math.fround(0.1),
        time: '2026-12-07T08:00:00.001Z',
      }),
      JSON.stringify({ kind: 'checkpoint', step: 1, bytes: 1000 }),
      JSON.stringify({ kind: 'validation', step: 1, loss: 0.3, accuracy: 0.5, time: '2026-12-07T08:00:00.002Z' }),
      JSON.stringify({ step: 2, loss: 123456.789 }),
      JSON.stringify({ kind: 'train', step: 3, loss: -7.25, note: 'text is no metric', extra: 4 }),
    ]);
    const columns = await readRunColumns(dir, { write: true });
    expect(columns.source).toBe('columns');
    expect(fs.existsSync(path.join(dir, COLUMNS_FILE))).toBe(true);
    // Read again from the file alone.
    const again = await readRunColumns(dir, { write: false });
    const train = kindSeries('train', again.tables, { points: 100 });
    const validation = kindSeries('validation', again.tables, { points: 100 });
    expect(train).toMatchObject({ total: 3, exact: true, steps: [1, 2, 3], times: [TIME + 1, null, null] });
    expect(train?.columns).toEqual({
      loss: [0.1, 123456.789, -7.25],
      accuracy: [null, null, null],
      huge: [1e300, null, null],
      tiny: [1e-300, null, null],
      float32: [Math.fround(0.1), null, null],
      extra: [null, null, 4],
    });
    expect(validation).toMatchObject({ steps: [1], times: [TIME + 2], columns: { loss: [0.3], accuracy: [0.5] } });
    // Half the bytes where the values are float32 already (a trainer's losses), exact either way.
    const { blocks } = decodeColumns(COLUMNS_FILE, fs.readFileSync(path.join(dir, COLUMNS_FILE)));
    const stored = blocks[0]?.tables.find((t) => t.kind === 'train')?.columns;
    expect(stored?.get('float32')).toBeInstanceOf(Float32Array);
    expect(stored?.get('accuracy')).toBeInstanceOf(Float32Array);
    expect(stored?.get('loss')).toBeInstanceOf(Float64Array);
  });

  it('ignores a torn last block and reads the log past the last whole one', async () => {
    const dir = runFolder();
    const log = await MetricColumnsLog.open(dir);
    // The trainer's log sees each record as it is appended to metrics.jsonl (written here in one go: a fsync a line is slow).
    const lines = steps(BLOCK_ROWS + 10).map(trainLine);
    writeLog(dir, lines);
    for (const line of lines) await log.append(JSON.parse(line) as Record<string, number | string>);
    await log.close();
    const file = path.join(dir, COLUMNS_FILE);
    const whole = fs.readFileSync(file);
    // The second block (the last 10 rows) cut in the middle, as a writer killed mid-append leaves it.
    fs.writeFileSync(file, whole.subarray(0, whole.length - 40));
    const read = await series(dir, false, { points: 100_000 });
    expect(read.problem).toBeNull();
    expect(read.source).toBe('columns');
    expect(read.train?.steps).toEqual(steps(BLOCK_ROWS + 10));
    expect(read.train?.columns['loss']?.at(-1)).toBe(lossAt(BLOCK_ROWS + 9));
  });

  it('follows a file a trainer appends blocks to between reads, reading only what was appended', async () => {
    const dir = runFolder();
    const log = await MetricColumnsLog.open(dir);
    const append = async (from: number, count: number): Promise<void> => {
      const lines = steps(count, from).map(trainLine);
      writeLog(dir, lines, from === 0 ? 'w' : 'a');
      for (const line of lines) await log.append(JSON.parse(line) as Record<string, number | string>);
    };
    await append(0, BLOCK_ROWS + 5);
    expect((await series(dir, false, { points: 100_000 })).train?.steps).toEqual(steps(BLOCK_ROWS + 5));
    await append(BLOCK_ROWS + 5, BLOCK_ROWS * 2);
    const grown = await series(dir, false, { points: 100_000 });
    expect(grown).toMatchObject({ source: 'columns', problem: null });
    expect(grown.train?.steps).toEqual(steps(BLOCK_ROWS * 3 + 5));
    expect(grown.train?.columns['loss']?.at(-1)).toBe(lossAt(BLOCK_ROWS * 3 + 4));
    // The three blocks written so far, then the 5 rows of the log past them (not a long tail of the log).
    expect((await readRunColumns(dir, { write: false })).tables.map((t) => t.rows)).toEqual([BLOCK_ROWS, BLOCK_ROWS, BLOCK_ROWS, 5]);
    await log.close();
    const closed = await series(dir, false, { points: 100_000 });
    expect(closed.train?.steps).toEqual(steps(BLOCK_ROWS * 3 + 5));
    expect(decodeColumns(COLUMNS_FILE, fs.readFileSync(path.join(dir, COLUMNS_FILE))).blocks).toHaveLength(4);
  });

  it('follows a log that grew past the file, and extends the file once the tail is a block long', async () => {
    const dir = runFolder();
    writeLog(dir, steps(100).map(trainLine));
    await readRunColumns(dir, { write: true });
    const size = fs.statSync(path.join(dir, COLUMNS_FILE)).size;
    writeLog(dir, steps(20, 100).map(trainLine), 'a');
    const grown = await series(dir, true, { points: 100_000 });
    expect(grown.train?.steps).toEqual(steps(120));
    // A short tail is read from the log, not written.
    expect(fs.statSync(path.join(dir, COLUMNS_FILE)).size).toBe(size);
    writeLog(dir, steps(BLOCK_ROWS, 120).map(trainLine), 'a');
    const longer = await series(dir, true, { points: 100_000 });
    expect(longer.train?.steps).toEqual(steps(BLOCK_ROWS + 120));
    expect(fs.statSync(path.join(dir, COLUMNS_FILE)).size).toBeGreaterThan(size);
    expect((await series(dir, false, { points: 100_000 })).train?.steps).toEqual(steps(BLOCK_ROWS + 120));
  });

  it('names a stale file and reads the log it no longer matches, then rebuilds it', async () => {
    const dir = runFolder();
    writeLog(dir, steps(50).map(trainLine));
    await readRunColumns(dir, { write: true });
    // The log replaced by another of the same length (a retry set the first aside).
    writeLog(dir, steps(50, 1000).map(trainLine));
    const stale = await series(dir, false, { points: 1000 });
    expect(stale.problem).toContain(path.join(dir, COLUMNS_FILE));
    expect(stale.problem).toContain('stale');
    expect(stale.train?.steps).toEqual(steps(50, 1000));
    await readRunColumns(dir, { write: true });
    const rebuilt = await series(dir, false, { points: 1000 });
    expect(rebuilt).toMatchObject({ problem: null, source: 'columns' });
    expect(rebuilt.train?.steps).toEqual(steps(50, 1000));
  });

  it('matches the log by its last line however long that line is', async () => {
    const dir = runFolder();
    const long = (note: string): string => JSON.stringify({ kind: 'train', step: 9, loss: 1, note: note.repeat(20_000) });
    writeLog(dir, [...steps(3).map(trainLine), long('a')]);
    await readRunColumns(dir, { write: true });
    expect(await series(dir, false, { points: 10 })).toMatchObject({ source: 'columns', problem: null });
    writeLog(dir, [...steps(3).map(trainLine), long('b')]);
    expect((await series(dir, false, { points: 10 })).problem).toContain('stale');
  });

  it('names a garbage file, falls back to metrics.jsonl, and never writes in a read-only read', async () => {
    const dir = runFolder();
    writeLog(dir, steps(10).map(trainLine));
    const file = path.join(dir, COLUMNS_FILE);
    fs.writeFileSync(file, 'this is not a columns file at all');
    const read = await series(dir, false, { points: 1000 });
    expect(read.problem).toContain(file);
    expect(read.problem).toContain('not a metric columns file');
    expect(read.source).toBe('log');
    expect(read.train?.steps).toEqual(steps(10));
    expect(fs.readFileSync(file, 'utf8')).toBe('this is not a columns file at all');
    // A damaged block in the middle (not a torn end) is named too.
    writeLog(dir, steps(BLOCK_ROWS * 2).map(trainLine));
    fs.rmSync(file);
    await readRunColumns(dir, { write: true });
    const bytes = fs.readFileSync(file);
    bytes[200] = (bytes[200] as number) ^ 0xff;
    fs.writeFileSync(file, bytes);
    const damaged = await series(dir, false, { points: 100_000 });
    expect(damaged.problem).toMatch(/metrics\.columns.*(CRC|header)/);
    expect(damaged.train?.total).toBe(BLOCK_ROWS * 2);
  });

  it('reads a range exactly at block edges', async () => {
    const dir = runFolder();
    writeLog(
      dir,
      steps(BLOCK_ROWS * 3).map((s) => trainLine(s * 10)),
    );
    const columns = await readRunColumns(dir, { write: true });
    expect(columns.tables.length).toBeGreaterThanOrEqual(3);
    const edge = BLOCK_ROWS * 10;
    const around = kindSeries('train', columns.tables, { from: edge - 10, to: edge, points: 10 });
    expect(around).toMatchObject({ exact: true, total: 2, steps: [edge - 10, edge] });
    const between = kindSeries('train', columns.tables, { from: edge - 9, to: edge - 1, points: 10 });
    expect(between).toBeNull();
    const twoBlocks = kindSeries('train', columns.tables, { from: edge - 10 * 3, to: edge + 10 * 3, points: 100 });
    expect(twoBlocks?.steps).toEqual(steps(7, -3).map((i) => edge + i * 10));
  });

  it('buckets a long range: each bucket keeps the raw min and max, their points are among those answered, and the mean is the raw mean', async () => {
    const dir = runFolder();
    const n = BLOCK_ROWS * 2 + 123;
    writeLog(dir, steps(n).map(trainLine));
    const columns = await readRunColumns(dir, { write: true });
    const points = 37;
    const answer = kindSeries('train', columns.tables, { points }) as MetricKindSeries;
    expect(answer.exact).toBe(false);
    expect(answer.total).toBe(n);
    const buckets = answer.buckets;
    expect(buckets?.first.length).toBeLessThanOrEqual(points);
    const raw = steps(n).map((s) => lossAt(s));
    buckets?.first.forEach((first, b) => {
      const last = buckets.last[b] as number;
      const inBucket = raw.slice(first, last + 1);
      expect(buckets.count[b]).toBe(inBucket.length);
      expect(buckets.stats['loss']?.min[b]).toBe(Math.min(...inBucket));
      expect(buckets.stats['loss']?.max[b]).toBe(Math.max(...inBucket));
      expect(buckets.stats['loss']?.mean[b]).toBeCloseTo(inBucket.reduce((a, v) => a + v, 0) / inBucket.length, 12);
      const answered = answer.steps.flatMap((s, i) => (s >= first && s <= last ? [answer.columns['loss']?.[i]] : []));
      expect(answered).toContain(Math.min(...inBucket));
      expect(answered).toContain(Math.max(...inBucket));
    });
    expect(buckets?.first[0]).toBe(0);
    expect(buckets?.last.at(-1)).toBe(n - 1);
    // Answered points are points of the log, in step order.
    answer.steps.forEach((s, i) => {
      expect(answer.columns['loss']?.[i]).toBe(raw[s]);
      if (i > 0) expect(s).toBeGreaterThan(answer.steps[i - 1] as number);
    });
  });

  it('orders a log whose steps go back (a replayed stretch): a later point of a step replaces the earlier', async () => {
    const dir = runFolder();
    writeLog(dir, [...steps(5).map(trainLine), JSON.stringify({ kind: 'train', step: 2, loss: 99 }), trainLine(5)]);
    const answer = (await series(dir, true, { points: 100 })).train;
    expect(answer?.steps).toEqual(steps(6));
    expect(answer?.columns['loss']?.[2]).toBe(99);
  });
});

describe('metrics.columns of a run imported into another workspace', () => {
  it('is not carried over nor taken for a stray file: the copy builds its own from the log', async () => {
    const source = await CheckpointStore.open(makeWorkspace().root, { access: 'create' });
    const writer = await source.createRun('r', { parent: null, config: {} });
    const columns = await MetricColumnsLog.open(writer.dir);
    writer.addMetricsLog(columns);
    await writer.appendMetrics({ kind: 'train', step: 1, loss: 2, time: new Date(TIME).toISOString() });
    await writer.save(trainingState(1));
    await writer.close();
    await columns.close();
    expect(fs.existsSync(path.join(writer.dir, COLUMNS_FILE))).toBe(true);
    const target = await CheckpointStore.open(makeWorkspace().root, { access: 'create' });
    const imported = await importFolder(target, writer.dir, { into: 'copy' });
    expect(imported.notes.filter((n) => n.includes('not imported'))).toEqual([]);
    expect(fs.existsSync(path.join(target.runDir('copy'), COLUMNS_FILE))).toBe(false);
    expect((await series(target.runDir('copy'), true, { points: 10 })).train?.steps).toEqual([1]);
    expect(fs.existsSync(path.join(target.runDir('copy'), COLUMNS_FILE))).toBe(true);
  });
});
