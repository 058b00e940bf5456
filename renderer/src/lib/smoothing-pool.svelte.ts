// Smoothing of long curves in a Web Worker: a card asks for a trace's smoothed values and gets
// them at once when they are known (or the curve is short: smoothed here, posting it would cost
// more), else null while the worker computes them; `version` changes when an answer lands, so the
// cards that drew raw values meanwhile draw again. Answers are kept by the history snapshot they
// came from (histories are replaced, never changed), as TraceCache keeps traces.
import type { RunSeries } from './metric-series';
import { type SmoothingMode, smooth } from './smoothing';
import type { SmoothAnswer, SmoothRequest } from './smoothing-worker';

/** Curves shorter than this are smoothed on the page: a few milliseconds at most. */
export const WORKER_MIN_POINTS = 50_000;

interface Entry {
  readonly lineage: readonly (RunSeries | undefined)[];
  smoothed: (number | null)[] | null;
}

export class SmoothingPool {
  /** Bumped on every answer: what a card reads to draw again. */
  version = $state(0);
  private worker: Worker | null | undefined;
  private readonly entries = new WeakMap<RunSeries, Map<string, Entry>>();
  private readonly pending = new Map<number, Entry>();
  private nextId = 1;

  /** Smoothed values of a trajectory of `own` (and its lineage), or null while the worker has them. */
  smooth(
    own: RunSeries,
    lineage: readonly (RunSeries | undefined)[],
    key: string,
    request: { mode: SmoothingMode; steps: readonly number[]; values: readonly (number | null)[]; weight: number; unit: number },
  ): (number | null)[] | null {
    const { mode, steps, values, weight, unit } = request;
    const worker = values.length >= WORKER_MIN_POINTS && weight > 0 ? this.start() : null;
    if (!worker) return smooth(mode, steps, values, weight, unit);
    let byKey = this.entries.get(own);
    const hit = byKey?.get(key);
    if (hit && hit.lineage.length === lineage.length && hit.lineage.every((h, i) => h === lineage[i])) return hit.smoothed;
    const entry: Entry = { lineage, smoothed: null };
    if (!byKey) this.entries.set(own, (byKey = new Map()));
    byKey.set(key, entry);
    const id = this.nextId++;
    this.pending.set(id, entry);
    const message: SmoothRequest = {
      id,
      mode,
      steps: Float64Array.from(steps),
      values: Float64Array.from(values, (v) => (v === null ? NaN : v)),
      weight,
      unit,
    };
    worker.postMessage(message, [message.steps.buffer, message.values.buffer]);
    return null;
  }

  private start(): Worker | null {
    if (this.worker !== undefined) return this.worker;
    try {
      this.worker = new Worker(new URL('./smoothing-worker.ts', import.meta.url), { type: 'module' });
    } catch {
      this.worker = null;
      return null;
    }
    this.worker.onmessage = (event: MessageEvent<SmoothAnswer>) => {
      const entry = this.pending.get(event.data.id);
      if (!entry) return;
      this.pending.delete(event.data.id);
      entry.smoothed = Array.from(event.data.smoothed, (v) => (Number.isNaN(v) ? null : v));
      this.version += 1;
    };
    // A worker that cannot run (or failed): everything is smoothed here from now on.
    this.worker.onerror = () => {
      this.worker?.terminate();
      this.worker = null;
      for (const entry of this.pending.values()) entry.smoothed = null;
      this.pending.clear();
      this.version += 1;
    };
    return this.worker;
  }
}

let shared: SmoothingPool | null = null;

/** The page's one pool (one worker for every card). */
export function smoothingPool(): SmoothingPool {
  return (shared ??= new SmoothingPool());
}
