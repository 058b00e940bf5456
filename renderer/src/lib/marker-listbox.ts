// Which checkpoint markers a card's listbox holds as option elements. The listbox is the WAI-ARIA
// APG's with aria-activedescendant: the keyboard moves through every marker, and only the one it
// is on must be in the page. While markers are few every one is listed (a screen reader can read
// them all, and tests find a drawn marker's place on its option); beyond that only the keyboard's
// and the selected one are, not one element per checkpoint per card (a thousand runs' hundred
// thousand checkpoints on every card).

/** Up to this many markers, each has its option. */
export const MAX_LISTED = 500;

/** Indexes into `markers` of those the listbox holds, in the markers' order. */
export function listedMarkers(markers: readonly { readonly id: string }[], active: string | null, selected: string | null, max = MAX_LISTED): number[] {
  if (markers.length <= max) return markers.map((_, i) => i);
  const out: number[] = [];
  if (active === null && selected === null) return out;
  markers.forEach((m, i) => {
    if (m.id === active || m.id === selected) out.push(i);
  });
  return out;
}

const idsOf = new WeakMap<readonly { readonly id: string }[], ReadonlySet<string>>();

/**
 * listedMarkers over a card's markers as they are kept, one array per run (MarkerCache.groups):
 * each listed marker with its index in the groups one after another. Beyond `max` markers only
 * the runs holding the keyboard's or the selected one are walked, not a flat copy of a hundred
 * thousand markers made and walked per batch of runs.
 */
export function listedInGroups<M extends { readonly id: string }>(
  groups: readonly (readonly M[])[],
  active: string | null,
  selected: string | null,
  max = MAX_LISTED,
): { index: number; marker: M }[] {
  const out: { index: number; marker: M }[] = [];
  let total = 0;
  for (const group of groups) total += group.length;
  let at = 0;
  for (const group of groups) {
    if (total <= max) group.forEach((marker, i) => out.push({ index: at + i, marker }));
    else if (active !== null || selected !== null) {
      let ids = idsOf.get(group);
      if (!ids) idsOf.set(group, (ids = new Set(group.map((m) => m.id))));
      if ((active !== null && ids.has(active)) || (selected !== null && ids.has(selected)))
        group.forEach((marker, i) => {
          if (marker.id === active || marker.id === selected) out.push({ index: at + i, marker });
        });
    }
    at += group.length;
  }
  return out;
}
