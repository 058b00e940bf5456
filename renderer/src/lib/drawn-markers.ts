// A card's markers as its canvas draws them: each run's placed markers (MarkerCache.groups) with
// the run's colour, the selected checkpoint and the keyboard's. Kept per run: while a thousand
// runs arrive a few at a time, and when the selection moves, only the runs whose markers, colour,
// or selected or keyboard's marker changed are made again, not a hundred thousand markers a batch.
import type { Marker } from './chart-data';
import type { DrawnMarker } from './uplot-chart';

interface Made {
  readonly color: string;
  readonly selected: string | null;
  readonly active: string | null;
  readonly drawn: readonly DrawnMarker[];
}

export class DrawnMarkerCache {
  private readonly ids = new WeakMap<readonly Marker[], ReadonlySet<string>>();
  private readonly made = new WeakMap<readonly Marker[], Made>();

  /**
   * Every group's markers drawn, one array per group in the same order (the chart reads them one
   * group after another): not a flat copy of a hundred thousand markers per batch of runs.
   */
  draw(groups: readonly (readonly Marker[])[], colorOf: (run: string) => string, selected: string | null, active: string | null): (readonly DrawnMarker[])[] {
    return groups.map((group) => this.drawGroup(group, colorOf, selected, active));
  }

  private drawGroup(group: readonly Marker[], colorOf: (run: string) => string, selected: string | null, active: string | null): readonly DrawnMarker[] {
    const first = group[0];
    if (!first) return [];
    let ids = this.ids.get(group);
    if (!ids) this.ids.set(group, (ids = new Set(group.map((m) => m.id))));
    // Only whether this run holds the selected (or the keyboard's) marker matters to it.
    const mine = {
      color: colorOf(first.run),
      selected: selected !== null && ids.has(selected) ? selected : null,
      active: active !== null && ids.has(active) ? active : null,
    };
    const hit = this.made.get(group);
    if (hit && hit.color === mine.color && hit.selected === mine.selected && hit.active === mine.active) return hit.drawn;
    const drawn = group.map((m): DrawnMarker => ({
      x: m.x,
      y: m.y,
      color: mine.color,
      latest: m.latest,
      best: m.best,
      warning: m.warning,
      selected: m.id === mine.selected,
      active: m.id === mine.active,
    }));
    this.made.set(group, { ...mine, drawn });
    return drawn;
  }
}
