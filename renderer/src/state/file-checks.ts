// Asks the core to stat the files of the checkpoints in view (checkFiles: present, with their
// manifest's sizes; no hashing), so one whose file went missing after listing reads damaged
// without Verify. The rows in view change on every scroll: they are gathered for a moment and
// sent as one request, and a checkpoint is not asked about again for a while. Which statuses
// changed comes back as catalog events, like any other change.
import type { StudioApi } from '../lib/contract';

/** A scroll's rows settle before they are asked about. */
const GATHER_MS = 150;
/** How long a checkpoint's check counts: looked at again after this, it is checked again. */
const FRESH_MS = 10_000;

export class FileChecks {
  private readonly checkedAt = new Map<string, number>();
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: StudioApi,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The checkpoints now in view (or shown in detail); those not checked lately are checked soon. */
  inView(ids: Iterable<string>): void {
    const now = this.clock();
    for (const id of ids) {
      const at = this.checkedAt.get(id);
      if (at === undefined || now - at > FRESH_MS) this.pending.add(id);
    }
    if (this.pending.size > 0 && this.timer === null) this.timer = setTimeout(() => void this.flush(), GATHER_MS);
  }

  /** Another workspace, or a reconnection: every checkpoint is checked again when next seen. */
  forget(): void {
    this.checkedAt.clear();
    this.pending.clear();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ids = [...this.pending];
    this.pending = new Set();
    if (ids.length === 0) return;
    const now = this.clock();
    for (const id of ids) this.checkedAt.set(id, now);
    try {
      await this.api.checkFiles({ ids });
    } catch {
      // A check that could not run changes nothing shown; the next look asks again.
      for (const id of ids) this.checkedAt.delete(id);
    }
  }
}
