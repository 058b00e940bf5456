// How numbers read in the UI: sizes as the CLI prints them (1000-based, one decimal), durations
// compact (`2m 05s`), metrics with four significant digits. Every formatter uses the safe locale.
import { locale } from './locale';

const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const metric = new Intl.NumberFormat(locale, { maximumSignificantDigits: 4 });
const oneDecimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${integer.format(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${oneDecimal.format(value)} ${UNITS[unit]}`;
}

export function formatInteger(value: number): string {
  return integer.format(value);
}

/** A metric value; a diverged one (NaN, recorded as null) reads as such. */
export function formatMetric(value: number | null | undefined): string {
  if (value === undefined) return '';
  if (value === null || !Number.isFinite(value)) return 'NaN';
  return metric.format(value);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `850 ms`, `12s`, `2m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${pad(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${pad(minutes % 60)}m`;
}

export function formatDateTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${integer.format(count)} ${count === 1 ? one : many}`;
}
