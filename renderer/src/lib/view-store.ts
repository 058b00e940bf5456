// Where the Charts screen's view (smoothing, axis, scale, visible runs, filter) is kept between
// sessions: one small seam, localStorage under one key for now, a settings call of the StudioApi
// later. It stores what it is given and returns what it finds; the caller validates (stored data
// may be from another version, or edited by hand).

const KEY = 'checkpoint-studio.charts-view';

export function loadView(): unknown {
  try {
    const text = globalThis.localStorage?.getItem(KEY);
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    // Unreadable storage or JSON: the caller falls back to its defaults.
    return null;
  }
}

export function saveView(view: unknown): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(view));
  } catch {
    // Storage full or forbidden: the view is still right for this session.
  }
}
