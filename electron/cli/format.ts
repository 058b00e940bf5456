// Human output for the CLI: aligned columns, sizes and ages people can read at a glance.
import { StudioError } from '../contract.js';
import type { CheckpointInfo } from '../contract.js';

import { formatBytes } from '../core/format-bytes.js';

export { formatBytes };

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new StudioError('usage', `"${text}" is not a size (examples: 500MB, 20GB, 1.5TiB)`);
  return Math.round(Number(match[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!match) throw new StudioError('usage', `"${text}" is not a duration (examples: 30m, 12h, 7d)`);
  return Number(match[1]) * (DURATION_UNITS[(match[2] ?? '').toLowerCase()] ?? 0);
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatMetric(value: number | null | undefined): string {
  if (value === null) return 'NaN';
  if (value === undefined) return '';
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

export function checkpointRows(
  checkpoints: readonly CheckpointInfo[],
  marks: Readonly<Record<string, readonly string[]>>,
  metrics: readonly string[],
): string[][] {
  return checkpoints.map((c) => [
    c.run,
    // What to type after the run: our folder's name, or another program's checkpoint's own name.
    c.files !== null && c.source ? c.source.name : c.id.slice(c.run.length + 1),
    c.stepKnown ? String(c.step) : '-',
    c.epoch === null ? '' : String(c.epoch),
    c.status,
    formatBytes(c.bytes),
    c.createdAt ? c.createdAt.replace('T', ' ').slice(0, 19) : '',
    // Own keys only: a metric called "constructor" must not find Object.prototype's.
    ...metrics.map((m) => formatMetric(Object.hasOwn(c.metrics, m) ? c.metrics[m] : undefined)),
    [
      ...(marks[c.id] ?? []),
      ...(c.pinned ? ['pinned'] : []),
      ...(c.origin !== 'trained' ? [c.origin] : []),
      ...(c.linked ? ['linked'] : []),
      ...(c.sameStepAs.length > 0 ? ['same-step'] : []),
    ].join(','),
  ]);
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
