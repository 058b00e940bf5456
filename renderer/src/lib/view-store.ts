// Where a screen's view (the Charts screen's smoothing, axis, scale, visible runs, filter) is kept
// between sessions: the user's settings, through the StudioApi, so the desktop app and browser
// mode (whose address, and so localStorage, changes with its port) remember the same view. It
// stores what it is given and returns what it finds; the caller validates (stored data may be
// from another version, or edited by hand).
import { z } from 'zod';
import type { StudioApi } from './contract';

export interface ViewStore {
  /** The stored view, or null when there is none or it cannot be read. */
  load(): Promise<unknown>;
  /** Keeps the view; writes are coalesced, so a dragged slider is one write. */
  save(view: unknown): void;
}

/** Nothing stored, nothing kept: a page without settings (and tests that need none). */
export const NO_VIEW_STORE: ViewStore = { load: async () => null, save: () => undefined };

const Json = z.json();

export function settingsViewStore(api: Pick<StudioApi, 'settings' | 'updateSettings'>, key: string, delayMs = 300): ViewStore {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: (() => void) | null = null;
  // A page closed or reloaded within the delay still sends its last change.
  globalThis.addEventListener?.('pagehide', () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending?.();
  });
  return {
    load: async () => {
      try {
        return (await api.settings()).view[key] ?? null;
      } catch {
        // Settings unreachable: the caller falls back to its defaults.
        return null;
      }
    },
    save: (view) => {
      const parsed = Json.safeParse(view);
      if (!parsed.success) return;
      if (timer !== null) clearTimeout(timer);
      pending = () => {
        pending = null;
        // A view that cannot be kept is still right for this session.
        api.updateSettings({ view: { [key]: parsed.data } }).catch(() => undefined);
      };
      timer = setTimeout(() => {
        timer = null;
        pending?.();
      }, delayMs);
    },
  };
}
