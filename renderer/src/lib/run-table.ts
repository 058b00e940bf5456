// The Runs table's logic, apart from the page: its columns (fixed ones and one per configuration
// key), sorting by any of them, the filter, and grouping by a configuration key. Kept view state
// (which columns, the sort, the grouping) is validated here field by field.
import { z } from 'zod';
import { type FlatConfig, type JsonValue, configText } from './run-config';
import type { RunEntry } from './run-entries';
import './zod-setup';

export const FIXED_COLUMNS = ['status', 'parent', 'final', 'best', 'checkpoints', 'size', 'duration', 'created'] as const;
export type FixedColumn = (typeof FIXED_COLUMNS)[number];
/** A configuration key's column: `config:<key>`. */
export const CONFIG_COLUMN = 'config:';

export const FIXED_COLUMN_LABELS: Record<FixedColumn, string> = {
  status: 'Status',
  parent: 'Parent',
  final: 'Final',
  best: 'Best',
  checkpoints: 'Checkpoints',
  size: 'Size',
  duration: 'Duration',
  created: 'Created',
};

export const RunTableViewSchema = z.object({
  /** Columns shown, in order, besides the run's name (always first). */
  columns: z.array(z.string().max(300)).max(200),
  /** null: lineage order (each run under its parent). */
  sort: z.object({ column: z.string().max(300), descending: z.boolean() }).nullable(),
  filter: z.string().max(1000),
  /** A configuration key: the charts then draw each group's mean. */
  groupBy: z.string().max(300).nullable(),
});
export type RunTableView = z.infer<typeof RunTableViewSchema>;

export const DEFAULT_TABLE_VIEW: RunTableView = {
  columns: ['status', 'parent', 'final', 'best', 'checkpoints', 'size', 'duration'],
  sort: null,
  filter: '',
  groupBy: null,
};

export function parseTableView(stored: unknown): RunTableView {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return { ...DEFAULT_TABLE_VIEW };
  const record = stored as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(RunTableViewSchema.shape)) {
    const parsed = schema.safeParse(record[key]);
    view[key] = parsed.success ? parsed.data : DEFAULT_TABLE_VIEW[key as keyof RunTableView];
  }
  return RunTableViewSchema.parse(view);
}

export interface TableRow {
  readonly entry: RunEntry;
  /** Flattened configuration; null until read (or for a run that has none). */
  readonly config: FlatConfig | null;
}

type SortKey = number | string | null;

/** The value a column sorts by: numbers as numbers, the rest as text; null (no value) always last. */
export function sortKey(row: TableRow, column: string): SortKey {
  const { entry } = row;
  if (column.startsWith(CONFIG_COLUMN)) {
    const value = row.config?.get(column.slice(CONFIG_COLUMN.length));
    if (value === undefined || value === null) return null;
    return typeof value === 'number' ? value : configText(value);
  }
  switch (column) {
    case 'name':
      return entry.name;
    case 'status':
      return entry.weightsOnly ? 'weights only' : (entry.kind ?? entry.status);
    case 'parent':
      return entry.parent;
    case 'final':
      return entry.final?.value ?? null;
    case 'best':
      return entry.best?.value ?? null;
    case 'checkpoints':
      return entry.checkpoints;
    case 'size':
      return entry.bytes;
    case 'duration':
      return entry.durationMs;
    case 'created':
      return entry.createdAt;
    default:
      return null;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareKeys(a: SortKey, b: SortKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** Sorted by a column (stable: ties keep lineage order); rows without a value go last either way. */
export function sortRows(rows: readonly TableRow[], sort: RunTableView['sort']): TableRow[] {
  if (sort === null) return [...rows];
  const keyed = rows.map((row, index) => ({ row, index, key: sortKey(row, sort.column) }));
  keyed.sort((a, b) => {
    if (a.key === null || b.key === null) return a.key === b.key ? a.index - b.index : a.key === null ? 1 : -1;
    const order = compareKeys(a.key, b.key);
    return (sort.descending ? -order : order) || a.index - b.index;
  });
  return keyed.map((k) => k.row);
}

export interface RowFilter {
  readonly test: (row: TableRow) => boolean;
  /** A part of the filter that is not a regular expression (matched as text instead). */
  readonly invalid: boolean;
}

/**
 * The table's filter: words separated by spaces, all of which must match. `key=value` (or
 * `key:value`) matches a configuration key (or `status`, `parent`) whose value contains the text;
 * `key=/regex/` by a regular expression; any other word is a regular expression (or, when it is
 * not one, plain text) tried on the run's name. Case is ignored.
 */
export function rowFilter(text: string): RowFilter {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  let invalid = false;
  const pattern = (source: string): ((value: string) => boolean) => {
    try {
      const re = new RegExp(source, 'i');
      return (value) => re.test(value);
    } catch {
      invalid = true;
      const lower = source.toLowerCase();
      return (value) => value.toLowerCase().includes(lower);
    }
  };
  const tests = words.map((word): ((row: TableRow) => boolean) => {
    const pair = /^([^=:]+)[=:](.*)$/.exec(word);
    if (!pair) {
      const matches = pattern(word);
      return (row) => matches(row.entry.name);
    }
    const [, key = '', wanted = ''] = pair;
    const regex = /^\/(.*)\/$/.exec(wanted);
    const lower = wanted.toLowerCase();
    const matches = regex ? pattern(regex[1] ?? '') : (value: string) => value.toLowerCase().includes(lower);
    return (row) => {
      const value = key === 'status' || key === 'parent' ? sortKey(row, key) : row.config?.get(key);
      return value !== undefined && value !== null && matches(configText(value as JsonValue));
    };
  });
  return { test: (row) => tests.every((t) => t(row)), invalid };
}

export interface RunGroup {
  /** The key's value as text ("—" for runs without the key). */
  readonly label: string;
  readonly runs: readonly string[];
}

export const NO_VALUE = '—';

/** Runs grouped by one configuration key's value, groups in the order their first run comes. */
export function groupRows(rows: readonly TableRow[], key: string): RunGroup[] {
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const value = row.config?.get(key);
    const label = value === undefined ? NO_VALUE : configText(value);
    const members = groups.get(label);
    if (members) members.push(row.entry.name);
    else groups.set(label, [row.entry.name]);
  }
  return [...groups].map(([label, runs]) => ({ label, runs }));
}

/** Configuration keys across runs, the most common first (then by name). */
export function configKeys(configs: Iterable<FlatConfig | null>): string[] {
  const counts = new Map<string, number>();
  for (const config of configs) if (config) for (const key of config.keys()) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
}
