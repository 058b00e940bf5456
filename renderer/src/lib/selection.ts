// Multi-selection as file managers do it: a click selects one, Ctrl/Cmd+click toggles one,
// Shift+click selects the range from the anchor (the last plain or toggling click) to the target,
// Ctrl/Cmd+Shift+click adds that range. Pure functions over ids in display order.

export interface Selection {
  readonly selected: ReadonlySet<string>;
  /** Where a Shift range starts. */
  readonly anchor: string | null;
  /** The one in focus: shown in the details panel, moved by the arrow keys. */
  readonly active: string | null;
}

export interface ClickModifiers {
  readonly range: boolean;
  readonly toggle: boolean;
}

export const EMPTY_SELECTION: Selection = { selected: new Set(), anchor: null, active: null };

function rangeIds(order: readonly string[], from: string, to: string): string[] {
  const a = order.indexOf(from);
  const b = order.indexOf(to);
  if (a < 0 || b < 0) return [to];
  return order.slice(Math.min(a, b), Math.max(a, b) + 1);
}

export function clickSelection(current: Selection, id: string, order: readonly string[], mods: ClickModifiers): Selection {
  if (mods.range && current.anchor !== null) {
    const range = rangeIds(order, current.anchor, id);
    const selected = mods.toggle ? new Set([...current.selected, ...range]) : new Set(range);
    return { selected, anchor: current.anchor, active: id };
  }
  if (mods.toggle) {
    const selected = new Set(current.selected);
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    return { selected, anchor: id, active: id };
  }
  return { selected: new Set([id]), anchor: id, active: id };
}

/** Arrow keys: move the focus; with Shift, extend the range from the anchor as a Shift+click would. */
export function moveSelection(current: Selection, delta: number, order: readonly string[], extend: boolean): Selection {
  if (order.length === 0) return current;
  const at = current.active === null ? -1 : order.indexOf(current.active);
  const index = at < 0 ? (delta > 0 ? 0 : order.length - 1) : Math.min(order.length - 1, Math.max(0, at + delta));
  const id = order[index] as string;
  if (extend)
    return clickSelection(current.anchor === null ? { ...current, anchor: current.active ?? id } : current, id, order, { range: true, toggle: false });
  return { selected: new Set([id]), anchor: id, active: id };
}

export function selectAll(current: Selection, order: readonly string[]): Selection {
  return { selected: new Set(order), anchor: current.anchor ?? order[0] ?? null, active: current.active ?? order[0] ?? null };
}

/** Exactly these ids (a policy's "delete" set); the focus moves to the first of them. */
export function selectIds(current: Selection, ids: readonly string[]): Selection {
  const first = ids[0] ?? null;
  return { selected: new Set(ids), anchor: first ?? current.anchor, active: first ?? current.active };
}

/** Escape: nothing selected, the focus stays where it was. */
export function clearSelection(current: Selection): Selection {
  return { selected: new Set(), anchor: null, active: current.active };
}

/** Drops ids that are gone (deleted, removed by another process). */
export function retainExisting(current: Selection, exists: (id: string) => boolean): Selection {
  const gone =
    [...current.selected].some((id) => !exists(id)) ||
    (current.active !== null && !exists(current.active)) ||
    (current.anchor !== null && !exists(current.anchor));
  if (!gone) return current;
  return {
    selected: new Set([...current.selected].filter(exists)),
    anchor: current.anchor !== null && exists(current.anchor) ? current.anchor : null,
    active: current.active !== null && exists(current.active) ? current.active : null,
  };
}
