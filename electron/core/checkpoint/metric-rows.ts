// metrics.jsonl records as rows of columns, one table per kind, as the charts read them
// (renderer/src/lib/metric-series.ts pointFromRecord): a record is a point when its step is a
// whole number ≥ 0 and its kind is train or validation (an older record without a kind, but with
// a loss, is train); every numeric or null field but the counters is a metric.
import { crc32c } from '../base/crc32c.js';
import type { ColumnKind, Table, TableRows } from './metric-columns.js';

/** Fields that say where a point is, not what was measured. */
const COUNTERS = new Set(['step', 'epoch', 'batch', 'batchInEpoch']);

export interface Row {
  readonly kind: ColumnKind;
  readonly step: number;
  /** Epoch milliseconds; NaN when the record has none. */
  readonly time: number;
  /** NaN for null. */
  readonly values: readonly (readonly [string, number])[];
}

export function rowOf(record: Readonly<Record<string, unknown>>): Row | null {
  const step = record['step'];
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return null;
  const kindField = record['kind'];
  const kind: ColumnKind | null =
    kindField === 'validation' ? 'validation' : kindField === 'train' || (kindField === undefined && 'loss' in record) ? 'train' : null;
  if (kind === null) return null;
  const time = typeof record['time'] === 'string' ? Date.parse(record['time']) : NaN;
  const values: [string, number][] = [];
  for (const [name, value] of Object.entries(record)) {
    if (COUNTERS.has(name)) continue;
    if (value === null) values.push([name, NaN]);
    else if (typeof value === 'number' && Number.isFinite(value)) values.push([name, value]);
  }
  return { kind, step, time, values };
}

export function emptyRows(kind: ColumnKind): TableRows {
  return { kind, steps: [], times: [], columns: new Map() };
}

export function addRow(rows: TableRows, row: Row): void {
  const index = rows.steps.length;
  rows.steps.push(row.step);
  rows.times.push(row.time);
  for (const [name, value] of row.values) {
    let column = rows.columns.get(name);
    if (!column) {
      column = new Array<number>(index).fill(NaN);
      rows.columns.set(name, column);
    }
    column.push(value);
  }
  for (const column of rows.columns.values()) if (column.length === index) column.push(NaN);
}

/** Gathered rows as a table (the log's tail, which has no block yet). */
export function tableOf(rows: TableRows): Table {
  let ordered = true;
  let stepMin = Infinity;
  let stepMax = -Infinity;
  rows.steps.forEach((step, i) => {
    if (i > 0 && step <= (rows.steps[i - 1] as number)) ordered = false;
    if (step < stepMin) stepMin = step;
    if (step > stepMax) stepMax = step;
  });
  const columns = new Map([...rows.columns].map(([name, values]) => [name, Float64Array.from(values)] as const));
  return {
    kind: rows.kind,
    rows: rows.steps.length,
    steps: Float64Array.from(rows.steps),
    times: Float64Array.from(rows.times),
    columns,
    stepMin,
    stepMax,
    ordered,
  };
}

/** The log's lines as rows, with where each stretch ends: what a block built from them records. */
export class RowGatherer {
  readonly train = emptyRows('train');
  readonly validation = emptyRows('validation');
  /** Byte offset in metrics.jsonl just past the last line taken. */
  end: number;
  lastLineCrc = 0;

  constructor(start: number) {
    this.end = start;
  }

  get rows(): number {
    return this.train.steps.length + this.validation.steps.length;
  }

  /** One line of the log without its newline; `bytes` is its length in the file, newline included. */
  take(line: string, bytes: number, lineBytes?: Uint8Array): void {
    this.end += bytes;
    this.lastLineCrc = crc32c(lineBytes ?? Buffer.from(line, 'utf8'));
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) this.add(value as Record<string, unknown>);
  }

  /** A record the caller has as an object already (a writer's), after `end` and `lastLineCrc` are moved past its line. */
  add(record: Readonly<Record<string, unknown>>): void {
    const row = rowOf(record);
    if (row) addRow(row.kind === 'train' ? this.train : this.validation, row);
  }

  /** Moves past a line of the log without reading it as a record. */
  skip(line: string): void {
    const bytes = Buffer.from(line, 'utf8');
    this.end += bytes.length + 1;
    this.lastLineCrc = crc32c(bytes);
  }

  tables(): Table[] {
    return [this.train, this.validation].filter((t) => t.steps.length > 0).map(tableOf);
  }

  clear(): void {
    for (const rows of [this.train, this.validation]) {
      rows.steps.length = 0;
      rows.times.length = 0;
      rows.columns.clear();
    }
  }
}
