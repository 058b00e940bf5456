// View state kept per workspace: a `^big$` filter typed in one workspace must not hide every run
// of another. Each workspace's view is one key of the user's settings (`workspace:<path>`), holding
// named parts (the Charts view, the page's tab and selection, the runs table…) and when it was last
// used; at most MAX_WORKSPACE_VIEWS are kept, the least recently used dropped first, so the
// settings file stays bounded however many folders are opened. One key per workspace, rather than
// one key for all, keeps each write small (a view patch is limited to MAX_VIEW_STATE_BYTES).
import { z } from 'zod';
import { MAX_VIEW_STATE_BYTES, type StudioApi } from './contract';
import type { ViewStore } from './view-store';

export const WORKSPACE_VIEW_PREFIX = 'workspace:';
export const MAX_WORKSPACE_VIEWS = 16;

const RecordSchema = z.object({ usedAt: z.number(), parts: z.record(z.string(), z.json()) });
type WorkspaceRecord = z.infer<typeof RecordSchema>;
type Api = Pick<StudioApi, 'settings' | 'updateSettings'>;

export class WorkspaceViewStore {
  private workspace: string | null = null;
  private record: WorkspaceRecord = { usedAt: 0, parts: {} };
  /** Keys of other workspaces to remove with the next write, to stay within the bound. */
  private evict: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private opening: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: Api,
    private readonly delayMs = 300,
    private readonly now: () => number = Date.now,
  ) {
    // A page closed or reloaded within the delay still sends its last change.
    globalThis.addEventListener?.('pagehide', () => this.flush());
  }

  /** Reads the view of a workspace; what was pending for the previous one is written first. */
  open(workspace: string): Promise<void> {
    this.flush();
    this.workspace = workspace;
    this.record = { usedAt: this.now(), parts: {} };
    const opened = this.read(workspace);
    this.opening = opened;
    return opened;
  }

  /** One named part of the open workspace's view. Loads wait for the workspace to be read. */
  part(name: string): ViewStore {
    return {
      load: async () => {
        await this.opening;
        return this.record.parts[name] ?? null;
      },
      save: (view) => {
        const parsed = z.json().safeParse(view);
        if (!parsed.success || this.workspace === null) return;
        this.record = { usedAt: this.now(), parts: { ...this.record.parts, [name]: parsed.data } };
        this.schedule();
      },
    };
  }

  private async read(workspace: string): Promise<void> {
    try {
      const { view } = await this.api.settings();
      if (this.workspace !== workspace) return;
      const stored = RecordSchema.safeParse(view[WORKSPACE_VIEW_PREFIX + workspace]);
      if (stored.success) this.record = { usedAt: this.now(), parts: { ...stored.data.parts, ...this.record.parts } };
      const others = Object.entries(view)
        .filter(([key]) => key.startsWith(WORKSPACE_VIEW_PREFIX) && key !== WORKSPACE_VIEW_PREFIX + workspace)
        .map(([key, value]) => ({ key, usedAt: RecordSchema.safeParse(value).data?.usedAt ?? 0 }))
        .sort((a, b) => b.usedAt - a.usedAt);
      this.evict = others.slice(MAX_WORKSPACE_VIEWS - 1).map((o) => o.key);
    } catch {
      // Settings unreachable: this session starts from the defaults.
    }
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  private flush(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.workspace === null) return;
    const patch: Record<string, z.infer<ReturnType<typeof z.json>> | null> = { [WORKSPACE_VIEW_PREFIX + this.workspace]: fitted(this.record) };
    for (const key of this.evict.splice(0)) patch[key] = null;
    // A view that cannot be kept is still right for this session.
    this.api.updateSettings({ view: patch }).catch(() => undefined);
  }
}

/** Room left in one settings write for the keys of evicted workspaces and the record's own key. */
const PATCH_MARGIN = 4096;

/**
 * The record as it can be written: one write is limited to MAX_VIEW_STATE_BYTES, so a view too
 * large (thousands of hidden runs) loses its largest parts, not every part.
 */
export function fitted(record: WorkspaceRecord): WorkspaceRecord {
  const size = (value: unknown): number => JSON.stringify(value).length;
  if (size(record) <= MAX_VIEW_STATE_BYTES - PATCH_MARGIN) return record;
  const parts = { ...record.parts };
  const bySize = Object.keys(parts).sort((a, b) => size(parts[b]) - size(parts[a]));
  for (const name of bySize) {
    delete parts[name];
    if (size({ ...record, parts }) <= MAX_VIEW_STATE_BYTES - PATCH_MARGIN) break;
  }
  return { ...record, parts };
}
