// One writer per run where there is no rename and no compare-and-swap (S3; Ceph RGW refuses even a
// PUT with If-Match, see ../shared notes): a lock is a series of generations, `<prefix><n>`, each
// created once with a conditional create, so of two takers only one gets generation n. The holder
// renews by rewriting its own generation (nobody else writes that key) well inside the lease; a
// generation whose object has not changed for a whole lease on the store's own clock has expired
// and may be succeeded by n + 1. A holder that finds a later generation has been superseded (it
// stalled past its lease) and must stop writing: `check` before each commit says so. A released
// generation stays, marked released, so numbers are never reused and a stalled holder that wakes
// up still sees it was succeeded.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { z } from 'zod';
import { RunLockedError } from '../base/errors.js';
import { isProcessAlive } from '../base/process-alive.js';
import { RewriteCounter } from './noncurrent-versions.js';
import type { Storage, StoredObject } from './storage.js';

const HolderSchema = z.object({
  host: z.string(),
  pid: z.int().positive(),
  since: z.string(),
  /** Unique per acquisition: tells two holders on one host and pid apart (a restarted process). */
  token: z.string(),
  leaseMs: z.int().positive(),
  released: z.boolean(),
});
export type LeaseHolder = z.infer<typeof HolderSchema>;

/** How long a lease lasts without renewal, and how often a holder renews it (a third of it). */
export const DEFAULT_LEASE_MS = 60_000;
const GENERATION_DIGITS = 10;

export class LeaseSupersededError extends Error {
  override readonly name = 'LeaseSupersededError';
  readonly code = 'busy';
  constructor(
    readonly target: string,
    readonly by: LeaseHolder | null,
  ) {
    super(`${target}: this writer's lock ran out and was taken over${by ? ` by process ${by.pid} on ${by.host}` : ''}; it stopped writing`);
  }
}

const generationKey = (prefix: string, generation: number): string => `${prefix}${String(generation).padStart(GENERATION_DIGITS, '0')}`;

function generationOf(prefix: string, key: string): number | null {
  const tail = key.slice(prefix.length);
  return /^\d+$/.test(tail) ? Number(tail) : null;
}

/** The latest generation under `prefix` and its object, or null when the lock was never taken. */
async function latest(storage: Storage, prefix: string): Promise<{ generation: number; object: StoredObject } | null> {
  let found: { generation: number; object: StoredObject } | null = null;
  for await (const object of storage.list(prefix)) {
    const generation = generationOf(prefix, object.key);
    if (generation !== null && (found === null || generation > found.generation)) found = { generation, object };
  }
  return found;
}

async function readHolder(storage: Storage, key: string): Promise<LeaseHolder | null> {
  try {
    return HolderSchema.parse(JSON.parse(new TextDecoder().decode(await storage.read(key))));
  } catch {
    // A generation we cannot read (torn by a crash mid-PUT cannot happen on S3, but garbage can
    // be put there) holds nothing: it expires as any other, by not changing for a lease.
    return null;
  }
}

/** Whether a generation may be succeeded now. */
function expired(storage: Storage, holder: LeaseHolder | null, object: StoredObject, leaseMs: number): boolean {
  if (holder?.released) return true;
  if (holder !== null && holder.host === os.hostname() && !isProcessAlive(holder.pid)) return true;
  return storage.clock() - object.modifiedMs > (holder?.leaseMs ?? leaseMs);
}

export class LeaseLock {
  private timer: NodeJS.Timeout | null = null;
  private superseded: LeaseSupersededError | null = null;
  private renewing: Promise<void> = Promise.resolve();
  /** When this holder last wrote its generation (acquired or renewed), on this process's monotonic clock. */
  private confirmedAt = performance.now();
  private readonly rewrites: RewriteCounter;

  constructor(
    private readonly storage: Storage,
    private readonly prefix: string,
    readonly generation: number,
    readonly holder: LeaseHolder,
  ) {
    this.rewrites = new RewriteCounter(storage);
  }

  private get key(): string {
    return generationKey(this.prefix, this.generation);
  }

  /** Renews every third of the lease until released; a renewal that finds a successor stops. */
  keepAlive(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(
      () => {
        this.renewing = this.renew().catch(() => undefined);
      },
      Math.max(100, Math.floor(this.holder.leaseMs / 3)),
    );
    this.timer.unref();
  }

  async renew(): Promise<void> {
    await this.check();
    const writtenFrom = performance.now();
    await this.storage.write(this.key, JSON.stringify(this.holder));
    this.confirmedAt = writtenFrom;
    await this.rewrites.rewrote(this.key);
  }

  /**
   * Before a write that only the holder may make (a metrics batch): free while the last renewal is
   * recent, since nobody may take a generation before it has stood unchanged for a whole lease; a
   * holder whose renewals stopped (a stalled process, an unreachable store) checks for a successor
   * first, and throws LeaseSupersededError if there is one.
   */
  async fence(): Promise<void> {
    if (this.superseded) throw this.superseded;
    if (performance.now() - this.confirmedAt < this.holder.leaseMs / 2) return;
    await this.check();
  }

  /**
   * Throws LeaseSupersededError when a later generation exists: the caller must not commit. A
   * successor takes the generation after the last one, so one exists only if the next one does:
   * a HEAD of it tells (a LIST answers slower, and costs more); the listing only names who.
   */
  async check(): Promise<void> {
    if (this.superseded) throw this.superseded;
    const next = await this.storage.stat(generationKey(this.prefix, this.generation + 1));
    if (next === null) return;
    const last = await latest(this.storage, this.prefix);
    const successor = last !== null && last.generation > this.generation ? last.object : next;
    this.superseded = new LeaseSupersededError(this.storage.locate(this.prefix), await readHolder(this.storage, successor.key));
    throw this.superseded;
  }

  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    if (this.superseded) return;
    const last = await latest(this.storage, this.prefix);
    if (last !== null && last.generation > this.generation) return;
    await this.storage.write(this.key, JSON.stringify({ ...this.holder, released: true }));
  }
}

/**
 * Takes the lock under `prefix` (e.g. `mnist/.lock/`), or throws RunLockedError naming its live
 * holder. Two takers racing for the same generation: the store's conditional create lets one win;
 * the other is told who holds it.
 */
export async function acquireLease(storage: Storage, prefix: string, options: { leaseMs?: number } = {}): Promise<LeaseLock> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const last = await latest(storage, prefix);
  if (last !== null) {
    const holder = await readHolder(storage, last.object.key);
    if (!expired(storage, holder, last.object, leaseMs)) throw lockedBy(storage, prefix, holder);
  }
  const generation = (last?.generation ?? 0) + 1;
  const holder: LeaseHolder = {
    host: os.hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
    token: randomUUID(),
    leaseMs,
    released: false,
  };
  if (!(await storage.write(generationKey(prefix, generation), JSON.stringify(holder), { exclusive: true })))
    throw lockedBy(storage, prefix, await readHolder(storage, generationKey(prefix, generation)));
  return new LeaseLock(storage, prefix, generation, holder);
}

function lockedBy(storage: Storage, prefix: string, holder: LeaseHolder | null): RunLockedError {
  return new RunLockedError(storage.locate(prefix), holder ?? { pid: 0, host: 'an unknown writer', since: 'an unknown time' });
}

/** Whether a holder read from `object` still holds the lock now (a lease runs out without a read). */
export function isLeaseLive(storage: Storage, holder: LeaseHolder, object: StoredObject): boolean {
  return !expired(storage, holder, object, holder.leaseMs);
}

/** The holder a generation's object names, as a listing found it (what a catalog shows as a run's writer while its lease is live). */
export async function readLeaseHolder(storage: Storage, object: StoredObject): Promise<LeaseHolder | null> {
  return readHolder(storage, object.key);
}

/**
 * Read-only: the lock under `prefix` as another process sees it: null when it was never taken,
 * else its last holder (null when unreadable) and whether its lease is live now on the store's
 * clock (not released, not run out, not a dead process of this host). Who cleans up after a
 * writer asks this first: a live writer's objects are its work in progress.
 */
export async function readLease(
  storage: Storage,
  prefix: string,
  options: { leaseMs?: number } = {},
): Promise<{ readonly holder: LeaseHolder | null; readonly live: boolean } | null> {
  const last = await latest(storage, prefix);
  if (last === null) return null;
  const holder = await readHolder(storage, last.object.key);
  return { holder, live: !expired(storage, holder, last.object, options.leaseMs ?? DEFAULT_LEASE_MS) };
}
