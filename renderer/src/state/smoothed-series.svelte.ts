// The Studio's smoothed series of runs too long to send whole (over WHOLE_POINTS): such a run
// comes as an overview, and an EMA over an overview's points is not the EMA over the run, so a
// card asks the Studio to smooth every point and bucket the smoothed curve (metricSeries'
// `smoothing`) for the range and resolution it shows. Answers are kept by (run, metric,
// smoothing, range, resolution), a bounded number of them, and shared by every card that asks
// the same: two cards at one weight send one request.
//
// A slider drag changes the weight at every pixel. A slot (the same ask but for its weight) sends
// its first ask at once, and any ask that follows within SETTLE_MS of the one before it only once
// the weight has stayed SETTLE_MS: a drag sends two requests, its first weight and its last,
// whatever its length. Meanwhile the card draws the curve smoothed over the overview, saying so.
import type { MetricSeries, MetricSmoothing, StudioApi } from '../lib/contract';

/** How long a weight must stay before a slot that was just asked for asks again. */
export const SETTLE_MS = 300;
/**
 * Answers kept, least recently used dropped first: each is a few thousand points of one metric,
 * and a card on screen reads its own at every drawing (a long run's overview, and its zoom's).
 */
export const MAX_ANSWERS = 128;

export interface SmoothedQuery {
  readonly run: string;
  /** The card's metric, as the log names it (a validation `loss` answers to it too). */
  readonly metric: string;
  readonly smoothing: MetricSmoothing;
  /** A zoom's step window; none for the overview of the whole run. */
  readonly from?: number;
  readonly to?: number;
  readonly points: number;
}

/** The ask without its weight: a drag asks again for the same slot. */
function slotOf(query: SmoothedQuery): string {
  const { mode, unit } = query.smoothing;
  return JSON.stringify([query.run, query.metric, mode, mode === 'steps' ? unit : 1, query.from ?? null, query.to ?? null, query.points]);
}

export function keyOf(query: SmoothedQuery): string {
  return `${slotOf(query)}|${query.smoothing.weight}`;
}

export class SmoothedSeries {
  /** Bumped when an answer lands: what a card reads to draw again. */
  version = $state(0);
  /** In least-recently-used order (a Map keeps insertion order; a read moves its entry last). */
  private readonly answers = new Map<string, MetricSeries>();
  private readonly inFlight = new Set<string>();
  /** Per slot: when it was last asked for, and the ask waiting for its weight to settle. */
  private readonly slots = new Map<string, { at: number; waiting: ReturnType<typeof setTimeout> | null }>();
  /** Bumped by `forget`: answers to asks from before it are dropped. */
  private generation = 0;

  constructor(
    private readonly api: StudioApi,
    private readonly settleMs = SETTLE_MS,
  ) {}

  /** The answer to this ask, if the Studio gave it (no request is sent: see `want`). */
  answer(query: SmoothedQuery): MetricSeries | undefined {
    const key = keyOf(query);
    const hit = this.answers.get(key);
    if (hit) {
      this.answers.delete(key);
      this.answers.set(key, hit);
    }
    return hit;
  }

  /** Asks the Studio for this, unless it answered or is answering; at once, or once a changing weight settles. */
  want(query: SmoothedQuery): void {
    const key = keyOf(query);
    const slot = slotOf(query);
    const now = Date.now();
    const state = this.slots.get(slot) ?? { at: -Infinity, waiting: null };
    this.slots.set(slot, state);
    if (state.waiting !== null) clearTimeout(state.waiting);
    state.waiting = null;
    const recent = now - state.at < this.settleMs;
    state.at = now;
    if (this.answers.has(key) || this.inFlight.has(key)) return;
    if (!recent) {
      void this.send(key, query);
      return;
    }
    state.waiting = setTimeout(() => {
      state.waiting = null;
      if (!this.answers.has(key) && !this.inFlight.has(key)) void this.send(key, query);
    }, this.settleMs);
  }

  /** Drops every answer (a workspace switched, a reconnection), and the asks still waiting. */
  forget(): void {
    this.generation += 1;
    this.answers.clear();
    this.inFlight.clear();
    for (const state of this.slots.values()) if (state.waiting !== null) clearTimeout(state.waiting);
    this.slots.clear();
  }

  private async send(key: string, query: SmoothedQuery): Promise<void> {
    const generation = this.generation;
    this.inFlight.add(key);
    try {
      const { run, metric, smoothing, from, to, points } = query;
      const answer = await this.api.metricSeries({
        run,
        metrics: [metric],
        points,
        smoothing,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      });
      if (generation !== this.generation) return;
      this.answers.set(key, answer);
      while (this.answers.size > MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value as string);
      this.version += 1;
    } catch {
      // The curve smoothed over the overview stays drawn (and labelled so); a later ask tries again.
    } finally {
      if (generation === this.generation) this.inFlight.delete(key);
    }
  }
}
