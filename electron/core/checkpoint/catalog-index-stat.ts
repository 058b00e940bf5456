// The identities of many files and folders at once, for the index's check (catalog-index-check.ts):
// 200,000 stats at 100,000 checkpoints are most of an open from the index. Paths are queued as
// the records naming them are read, in groups a worker thread fills in the order they come while
// this thread reads on; at the end this thread fills, from the last, the groups the worker has not
// reached, so whichever thread is free does the stats.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../base/module-worker.js';
import { FILLED, fillIdentities, fillIfFree } from './catalog-index-stat-fill.js';

export { fillIdentities };

/** Once this many stats are queued (paths times suffixes), a worker is started: below, its start (tens of ms) costs more than it saves. */
export const WORKER_MIN_PATHS = 20_000;

/** Stats handed to the worker at a time (paths times suffixes): a few ms, so that neither thread waits long for the other's last. */
const GROUP_PATHS = 2048;

/** Identities, four numbers per path in order (ino, size, mtimeMs, ctimeMs); NaN where nothing is, or it cannot be looked at. */
export type Identities = Float64Array;

/** A worker started for a queue, or null where none could start (the queue is then stated by this thread alone). */
export type StatHelper = Worker | null;

export function startStatHelper(): StatHelper {
  try {
    const worker = startModuleWorker('catalog-index-stat-worker', import.meta.url);
    // Never what keeps a process alive: each queue ends it.
    worker.unref();
    worker.on('error', () => undefined);
    return worker;
  } catch {
    return null;
  }
}

interface Group {
  /** Its first path's place among all the queue's paths. */
  readonly start: number;
  readonly paths: readonly string[];
  readonly out: Float64Array;
  readonly state: Int32Array;
}

/** Where one `add`'s paths are among all the queue's paths. */
interface Slot {
  readonly start: number;
  readonly count: number;
}

export interface StatQueueOptions {
  /** The worker to share the stats with from the start (else one is started once WORKER_MIN_PATHS are queued). */
  readonly helper?: StatHelper;
  /**
   * What is stated of each path queued: the path followed by each of these, in order ([''], the
   * path itself, unless said). A checkpoint's folder and its manifest are one path queued: the
   * manifest's path is made only while it is stated, not kept for 100,000 checkpoints.
   */
  readonly suffixes?: readonly string[];
  /**
   * Whether the stats are work for after an answer (the index's check of manifests, after an
   * open): where a worker takes them, this thread fills only what it cannot (a group it could not
   * be given, or one it held when it died), instead of taking groups from the end as it does for
   * an answer being waited for.
   */
  readonly background?: boolean;
}

/** Paths to stat, queued a batch at a time; `finish` gives each batch's identities once all are in. */
export class StatQueue {
  private pending: string[] = [];
  private readonly groups: Group[] = [];
  private readonly slots: Slot[] = [];
  private queued = 0;
  private helper: StatHelper = null;
  /** Whether a helper ever was, so that none is started again once this one is gone. */
  private helped = false;
  private helperGone = false;
  /** Set when a group could not be handed to the worker: this thread fills what is free, background or not. */
  private unposted = false;
  /** Called when the worker finished a group, failed or exited. */
  private wake: () => void = () => undefined;

  private readonly suffixes: readonly string[];
  private readonly background: boolean;

  constructor(options: StatQueueOptions = {}) {
    this.suffixes = options.suffixes && options.suffixes.length > 0 ? [...options.suffixes] : [''];
    this.background = options.background === true;
    if (options.helper !== undefined) this.attach(options.helper);
  }

  /** Starts the worker now, when the caller knows many stats will come: it is ready by the time they do. */
  prestart(): void {
    if (!this.helped) this.attach(startStatHelper());
  }

  /** Queues `paths`; returns the index of their identities in what `finish` gives. */
  add(paths: readonly string[]): number {
    this.slots.push({ start: this.queued, count: paths.length });
    this.queued += paths.length;
    if (!this.helped && this.queued * this.suffixes.length >= WORKER_MIN_PATHS) this.attach(startStatHelper());
    for (const p of paths) {
      this.pending.push(p);
      if (this.pending.length * this.suffixes.length >= GROUP_PATHS) this.seal();
    }
    return this.slots.length - 1;
  }

  /** Has this thread stat what the worker has not, waits for the worker's group in hand, and gives each batch's identities in the order added. */
  async finish(): Promise<Identities[]> {
    this.seal();
    try {
      if (!this.background || !this.helper || this.unposted)
        for (let g = this.groups.length - 1; g >= 0; g -= 1) {
          const { paths, out, state } = this.groups[g] as Group;
          fillIfFree(paths, this.suffixes, out, state);
        }
      while (!this.allFilled() && this.helper && !this.helperGone) await new Promise<void>((resolve) => (this.wake = resolve));
      // Only a worker that died midway leaves a group it claimed unfilled: this thread fills it.
      for (const group of this.groups)
        if (Atomics.load(group.state, 0) !== FILLED) fillIdentities(group.paths, group.out, 0, group.paths.length, this.suffixes);
    } finally {
      this.cancel();
    }
    return this.slots.map((slot) => this.identitiesOf(slot));
  }

  /** A slot's identities: a view of its group's, or a copy of its part of each group it spans. */
  private identitiesOf({ start, count }: Slot): Identities {
    if (count === 0) return new Float64Array(0);
    // Numbers per path queued.
    const width = 4 * this.suffixes.length;
    let g = this.groupAt(start);
    const first = this.groups[g] as Group;
    const end = start + count;
    if (end <= first.start + first.paths.length) return first.out.subarray((start - first.start) * width, (end - first.start) * width);
    const identities = new Float64Array(count * width);
    for (let at = start; at < end; g += 1) {
      const group = this.groups[g] as Group;
      const upTo = Math.min(end, group.start + group.paths.length);
      identities.set(group.out.subarray((at - group.start) * width, (upTo - group.start) * width), (at - start) * width);
      at = upTo;
    }
    return identities;
  }

  /** The group holding the path at `index` (the last group when the queue holds none past it). */
  private groupAt(index: number): number {
    let [low, high] = [0, this.groups.length - 1];
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.groups[middle] as Group).start <= index) low = middle;
      else high = middle - 1;
    }
    return Math.max(0, low);
  }

  /** Ends the worker (when the batches are no longer wanted). */
  cancel(): void {
    if (this.helper) void this.helper.terminate();
    this.helper = null;
    this.wake();
  }

  private attach(helper: StatHelper): void {
    this.helped = true;
    if (!helper) return;
    this.helper = helper;
    const gone = (): void => {
      this.helperGone = true;
      this.wake();
    };
    helper.on('message', () => this.wake());
    helper.once('error', gone);
    helper.once('exit', gone);
    for (const group of this.groups) this.post(group);
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    const paths = this.pending;
    this.pending = [];
    const last = this.groups[this.groups.length - 1];
    const group = {
      start: last ? last.start + last.paths.length : 0,
      paths,
      out: new Float64Array(new SharedArrayBuffer(paths.length * this.suffixes.length * 4 * Float64Array.BYTES_PER_ELEMENT)),
      state: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    };
    this.groups.push(group);
    this.post(group);
  }

  private post(group: Group): void {
    if (!this.helper || this.helperGone) return;
    try {
      this.helper.postMessage({ paths: group.paths.join('\0'), suffixes: this.suffixes, out: group.out, state: group.state });
    } catch {
      // A worker that cannot take it leaves the group free: this thread fills it.
      this.unposted = true;
    }
  }

  private allFilled(): boolean {
    return this.groups.every((group) => Atomics.load(group.state, 0) === FILLED);
  }
}

export async function identitiesOf(paths: readonly string[]): Promise<Identities> {
  const queue = new StatQueue();
  queue.add(paths);
  return (await queue.finish())[0] ?? new Float64Array(0);
}
