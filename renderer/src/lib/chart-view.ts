// The Charts screen's view settings: their schema (what a stored view must be to be used) and
// defaults. Each field is read on its own, so one bad field costs only itself.
import { z } from 'zod';
import { TOOLTIP_SORTS, type TooltipSort } from './card-tooltip';
import './zod-setup';

export const X_AXIS_MODES = ['step', 'relative', 'wall'] as const;
export const SMOOTHING_MODES = ['points', 'steps'] as const;
/** TensorBoard's slider stops at 0.999 too: beyond it the curve barely moves over a run. */
export const MAX_SMOOTHING = 0.999;
export const CARD_WIDTHS = { min: 18, max: 60, default: 26 } as const;

export const ChartViewSchema = z.object({
  smoothing: z.number().min(0).max(MAX_SMOOTHING),
  smoothingMode: z.enum(SMOOTHING_MODES),
  xAxis: z.enum(X_AXIS_MODES),
  logY: z.boolean(),
  ignoreOutliers: z.boolean(),
  /** Hidden rather than visible: a new run shows up without being ticked. */
  hiddenRuns: z.array(z.string()).max(10_000),
  filter: z.string().max(1000),
  /** The one run the charts show while set, whatever else is ticked. */
  solo: z.string().nullable(),
  /** Kept on disk, left out of the lists and charts until "Show archived". */
  archivedRuns: z.array(z.string()).max(10_000),
  showArchived: z.boolean(),
  // Card tools (issue 17): pinned cards first, cards at full width, log y per card (over the
  // view's), the cards' width in rem, a regex on metric names, the tooltip's order.
  pinned: z.array(z.string()).max(1000),
  expanded: z.array(z.string()).max(1000),
  cardLogY: z.record(z.string(), z.boolean()),
  cardWidth: z.number().min(CARD_WIDTHS.min).max(CARD_WIDTHS.max),
  tagFilter: z.string().max(1000),
  tooltipSort: z.enum(TOOLTIP_SORTS as [TooltipSort, ...TooltipSort[]]),
  /** The raw values' min/max per pixel as a band around each curve, instead of the raw line. */
  rawBand: z.boolean(),
});
export type ChartView = z.infer<typeof ChartViewSchema>;

export const DEFAULT_VIEW: ChartView = {
  smoothing: 0.6,
  smoothingMode: 'points',
  xAxis: 'step',
  logY: false,
  ignoreOutliers: true,
  hiddenRuns: [],
  filter: '',
  solo: null,
  archivedRuns: [],
  showArchived: false,
  pinned: [],
  expanded: [],
  cardLogY: {},
  cardWidth: CARD_WIDTHS.default,
  tagFilter: '',
  tooltipSort: 'nearest',
  rawBand: false,
};

/** A stored view as far as it is valid: each field that is not falls back to its default. */
export function parseView(stored: unknown): ChartView {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return { ...DEFAULT_VIEW };
  const record = stored as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(ChartViewSchema.shape)) {
    const parsed = schema.safeParse(record[key]);
    view[key] = parsed.success ? parsed.data : DEFAULT_VIEW[key as keyof ChartView];
  }
  return ChartViewSchema.parse(view);
}

/** Runs whose name matches the filter: a regular expression when it is one, else a substring; either ignoring case. */
export function runMatcher(filter: string): { test: (name: string) => boolean; invalid: boolean } {
  const text = filter.trim();
  if (text === '') return { test: () => true, invalid: false };
  try {
    const pattern = new RegExp(text, 'i');
    return { test: (name) => pattern.test(name), invalid: false };
  } catch {
    const lower = text.toLowerCase();
    return { test: (name) => name.toLowerCase().includes(lower), invalid: true };
  }
}
