// A bounded number of requests in flight: a batch of a thousand copies must not open a thousand
// connections at once. On a failure no new work starts, and the first error is thrown only once
// the work in flight has settled: whoever undoes what was done must not race a copy still landing.
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const at = next++;
      try {
        out[at] = await work(items[at] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}
