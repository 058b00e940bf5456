// Keras's CSVLogger file (keras/src/callbacks/csv_logger.py): a header `epoch,<the logs' keys,
// sorted>` and one row per epoch, written by Python's csv module (excel dialect: `\r\n` line ends,
// quotes only where needed) with a separator that is `,` unless the user chose another. The epoch
// column is Keras's 0-based epoch index, as TensorBoard's epoch summaries count too; ModelCheckpoint's
// `{epoch}` in a file name is that index plus 1. Values are Python's str() of a float (`0.3512`,
// `1e-05`, `nan`), `NA` for a key missing that epoch, or a quoted list for a vector metric.
// With append=True a resumed run adds rows under the same header (Keras writes no second header
// into a non-empty file); files joined by hand repeat the header, possibly with other columns.
import { parse } from 'csv-parse/sync';
import { CheckpointFormatError } from '../../base/errors.js';
import { shown } from '../../base/describe-value.js';
import type { MetricSeries } from '../metric-series.js';
import { readWholeFile } from '../tf/file-reads.js';

/** Far beyond any training log: a million epochs of a hundred metrics. */
export const MAX_CSV_LOG_BYTES = 256 * 1024 * 1024;

export interface CsvLog {
  /** One series per metric column, points in epoch order. */
  readonly series: MetricSeries[];
  readonly notes: string[];
  /** Bytes of an unfinished last line (the logger is still writing it), not read; 0 when the file ends with a line end. */
  readonly pendingBytes: number;
}

/** The separator a header line uses: the character after its leading `epoch` (`,` by default; `;` or a tab when chosen). */
function separatorOf(header: string, file: string): string {
  const match = /^\uFEFF?"?epoch"?(.)/.exec(header);
  if (match === null) throw new CheckpointFormatError(file, 'is not a Keras CSVLogger file: its first line does not begin with the column "epoch"');
  return match[1] as string;
}

function numberOf(cell: string): number | null | undefined {
  const text = cell.trim();
  if (/^[+-]?(nan|inf|infinity)$/i.test(text)) return null;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The metric series of a CSVLogger file's text. A later row for an epoch replaces an earlier one
 * (a resumed run redid it), and says so. `file` is named in errors and notes.
 */
export function parseCsvLog(text: string, file: string): CsvLog {
  const end = text.lastIndexOf('\n') + 1;
  const complete = text.slice(0, end);
  const pendingBytes = Buffer.byteLength(text.slice(end), 'utf8');
  const firstLine = complete.replace(/^\s*\n/, '').split('\n', 1)[0] ?? '';
  if (complete.trim() === '') return { series: [], notes: [], pendingBytes };
  const separator = separatorOf(firstLine, file);
  let rows: string[][];
  try {
    rows = parse(complete, { delimiter: separator, relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (error) {
    throw new CheckpointFormatError(file, `is not a CSV file Python's csv module wrote (${(error as { code?: string }).code ?? 'unreadable'})`);
  }
  return { ...seriesOf(rows, file), pendingBytes };
}

function seriesOf(rows: readonly string[][], file: string): { series: MetricSeries[]; notes: string[] } {
  const values = new Map<string, Map<number, number | null>>();
  const notes: string[] = [];
  const textColumns = new Set<string>();
  let columns: string[] = [];
  let replaced = 0;
  let badRows = 0;
  for (const row of rows) {
    if (row[0]?.trim() === 'epoch') {
      columns = row.map((c) => c.trim());
      continue;
    }
    const epoch = numberOf(row[0] ?? '');
    if (columns.length === 0 || row.length !== columns.length || epoch === undefined || epoch === null || !Number.isSafeInteger(epoch) || epoch < 0) {
      badRows += 1;
      continue;
    }
    let seen = false;
    columns.forEach((name, i) => {
      if (i === 0) return;
      const value = numberOf(row[i] ?? '');
      if (value === undefined) {
        if ((row[i] ?? '').trim() !== 'NA') textColumns.add(name);
        return;
      }
      const series = values.get(name) ?? new Map<number, number | null>();
      values.set(name, series);
      if (series.has(epoch)) seen = true;
      series.set(epoch, value);
    });
    if (seen) replaced += 1;
  }
  if (badRows > 0)
    notes.push(
      `${file}: ${badRows} row${badRows === 1 ? '' : 's'} left out (no header before, another number of columns, or an epoch that is not a whole number).`,
    );
  if (replaced > 0) notes.push(`${file}: ${replaced} epoch${replaced === 1 ? ' was' : 's were'} logged again (a resumed run); the later values are used.`);
  for (const name of textColumns) notes.push(`${file}: the column ${shown(name)} holds values that are not numbers; they are left out.`);
  const series: MetricSeries[] = [...values].map(([name, byEpoch]) => ({
    name,
    by: 'epoch',
    points: [...byEpoch].sort(([a], [b]) => a - b).map(([epoch, value]) => ({ epoch, value })),
  }));
  return { series, notes };
}

/** Reads and parses a CSVLogger file, refusing one larger than MAX_CSV_LOG_BYTES or that is not a regular file. */
export async function readCsvLog(file: string): Promise<CsvLog> {
  const bytes = await readWholeFile(file, MAX_CSV_LOG_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointFormatError(file, 'is not UTF-8 text');
  }
  return parseCsvLog(text, file);
}
