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
