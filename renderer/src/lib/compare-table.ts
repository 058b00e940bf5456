// The Compare view's table: its columns, how each sorts (a relative change away from all zeros,
// which has no ratio, is the largest of all; a figure with no value sorts last either way), and
// how a figure reads (four significant digits; exponents for the very small and very large, so
// 1e-9 does not read as 0.000).
import type { TensorComparison } from './contract';

export type CompareColumn = 'name' | 'shape' | 'dtype' | 'l2A' | 'l2B' | 'l2Diff' | 'relChange' | 'maxAbsDiff' | 'cosine' | 'nanCount' | 'infCount';

export interface CompareSort {
  readonly column: CompareColumn;
  readonly descending: boolean;
}

export const DEFAULT_COMPARE_SORT: CompareSort = { column: 'relChange', descending: true };

export const COMPARE_COLUMNS: readonly { readonly column: CompareColumn; readonly label: string; readonly numeric: boolean }[] = [
  { column: 'name', label: 'Tensor', numeric: false },
  { column: 'shape', label: 'Shape', numeric: false },
  { column: 'dtype', label: 'dtype', numeric: false },
  { column: 'l2A', label: 'L2 A', numeric: true },
  { column: 'l2B', label: 'L2 B', numeric: true },
  { column: 'l2Diff', label: 'L2 diff', numeric: true },
  { column: 'relChange', label: 'Rel. change', numeric: true },
  { column: 'maxAbsDiff', label: 'Max |diff|', numeric: true },
  { column: 'cosine', label: 'Cosine', numeric: true },
  { column: 'nanCount', label: 'NaN', numeric: true },
  { column: 'infCount', label: 'Inf', numeric: true },
];

/** A relative change with no ratio: l2A is 0 and the tensor moved. */
export const movedFromZero = (t: TensorComparison): boolean => t.relChange === null && t.l2Diff !== 0;

/** One dtype, or A's and B's where they differ (F32 against F16: compared as values). */
export const dtypeText = (t: TensorComparison): string => (t.dtype === t.dtypeB ? t.dtype : `${t.dtype}/${t.dtypeB}`);

function key(t: TensorComparison, column: CompareColumn): number | string | null {
  switch (column) {
    case 'name':
      return t.name;
    case 'shape':
      return t.elements;
    case 'dtype':
      return dtypeText(t);
    case 'relChange':
      return movedFromZero(t) ? Number.POSITIVE_INFINITY : t.relChange;
    default:
      return t[column];
  }
}

export function sortComparisons(rows: readonly TensorComparison[], sort: CompareSort): TensorComparison[] {
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = key(a, sort.column);
    const y = key(b, sort.column);
    if (x === null || y === null) return x === y ? a.name.localeCompare(b.name) : x === null ? 1 : -1;
    const order = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
    return sign * order || a.name.localeCompare(b.name);
  });
}

/** Clicking the sorted column flips it; another column sorts by it, text A to Z, figures (and sizes) largest first. */
export function nextSort(current: CompareSort, column: CompareColumn): CompareSort {
  if (current.column === column) return { column, descending: !current.descending };
  return { column, descending: column !== 'name' && column !== 'dtype' };
}

export function formatFigure(value: number | null): string {
  if (value === null) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs < 1e-3 || abs >= 1e5 ? value.toExponential(3) : value.toPrecision(4);
}

/** The stopped-moving threshold as a person would write it: 1e-6, 0.05. */
export function formatThreshold(value: number): string {
  return value < 1e-3 ? value.toExponential() : String(value);
}

export function relChangeText(t: TensorComparison): string {
  return movedFromZero(t) ? 'from 0' : formatFigure(t.relChange);
}
