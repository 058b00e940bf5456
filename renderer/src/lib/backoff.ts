// How long to wait before the next reconnection attempt: doubling from a quarter second to five
// seconds, spread by ±20% so several tabs of one server do not knock in step after it restarts.

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 5000;

/** `attempt` counts failures since the last open connection, from 0. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const plain = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(plain * (0.8 + 0.4 * random()));
}
