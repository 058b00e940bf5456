// The checkpoint list's selection as reactive state; the rules themselves are in lib/selection.
import {
  type ClickModifiers,
  EMPTY_SELECTION,
  type Selection,
  clearSelection,
  clickSelection,
  moveSelection,
  retainExisting,
  selectAll,
  selectIds,
} from '../lib/selection';

export class SelectionState {
  current = $state.raw<Selection>(EMPTY_SELECTION);

  readonly selected = $derived(this.current.selected);
  readonly active = $derived(this.current.active);
  readonly count = $derived(this.current.selected.size);

  click(id: string, order: readonly string[], mods: ClickModifiers): void {
    this.current = clickSelection(this.current, id, order, mods);
  }

  move(delta: number, order: readonly string[], extend: boolean): void {
    this.current = moveSelection(this.current, delta, order, extend);
  }

  toggleActive(): void {
    if (this.current.active !== null) this.current = clickSelection(this.current, this.current.active, [], { range: false, toggle: true });
  }

  selectAll(order: readonly string[]): void {
    this.current = selectAll(this.current, order);
  }

  select(ids: readonly string[]): void {
    this.current = selectIds(this.current, ids);
  }

  clear(): void {
    this.current = clearSelection(this.current);
  }

  retain(exists: (id: string) => boolean): void {
    const next = retainExisting(this.current, exists);
    if (next !== this.current) this.current = next;
  }
}
