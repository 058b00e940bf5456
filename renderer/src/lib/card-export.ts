// A card's curves as a table to take away: every run on the card, train and validation, one row
// per logged point with its raw and smoothed value, as CSV (RFC 4180), JSON or TSV (what a
// spreadsheet takes from the clipboard). The rows are the card's traces as drawn: a branch
// starts with its parent's point at the branch step, as on the chart.
import type { Trace } from './chart-data';

export interface CardExport {
  readonly metric: string;
  readonly smoothing: number;
  readonly smoothingMode: string;
  readonly traces: readonly Trace[];
}

const COLUMNS = ['run', 'kind', 'step', 'wall_time', 'value', 'smoothed'] as const;

type Cell = string | number | null;

function rows(card: CardExport): Cell[][] {
  return card.traces.flatMap((t) =>
    t.steps.map((step, i): Cell[] => {
      const time = t.times[i] ?? null;
      return [t.run, t.kind, step, time === null ? null : new Date(time).toISOString(), t.values[i] ?? null, t.smoothed[i] ?? null];
    }),
  );
}

/** A number written so it reads back the same (JSON's shortest round trip); a gap is empty. */
function plain(cell: Cell): string {
  if (cell === null) return '';
  return typeof cell === 'number' ? (Number.isFinite(cell) ? String(cell) : '') : cell;
}

function csvCell(cell: Cell): string {
  const text = plain(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function cardCsv(card: CardExport): string {
  return [COLUMNS.join(','), ...rows(card).map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
}

/** Tabs and line breaks inside a cell would split it: they become spaces. */
export function cardTsv(card: CardExport): string {
  return [COLUMNS.join('\t'), ...rows(card).map((r) => r.map((c) => plain(c).replace(/[\t\r\n]/g, ' ')).join('\t'))].join('\n') + '\n';
}

/** One object per curve, the columns as arrays (a NaN or a gap is null). */
export function cardJson(card: CardExport): string {
  const finite = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
  return JSON.stringify(
    {
      metric: card.metric,
      smoothing: { weight: card.smoothing, mode: card.smoothingMode },
      curves: card.traces.map((t) => ({
        run: t.run,
        kind: t.kind,
        steps: [...t.steps],
        wallTimes: t.times.map((v) => (v === null ? null : new Date(v).toISOString())),
        values: t.values.map(finite),
        smoothed: t.smoothed.map(finite),
      })),
    },
    null,
    1,
  );
}

/** A file name for the card's metric: what a file system takes, the metric still recognisable. */
export function exportFileName(metric: string, extension: 'csv' | 'json'): string {
  const safe = metric.replace(/[^\w.-]+/g, '_').replace(/^[._]+/, '') || 'metric';
  return `${safe}.${extension}`;
}
