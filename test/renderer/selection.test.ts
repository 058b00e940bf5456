// Multi-selection as file managers do it, over ids in display order.
import { describe, expect, it } from 'vitest';
import { EMPTY_SELECTION, type Selection, clearSelection, clickSelection, moveSelection, retainExisting, selectAll } from '../../renderer/src/lib/selection';
import { SelectionState } from '../../renderer/src/state/selection-state.svelte';

const order = ['a', 'b', 'c', 'd', 'e'];
const plain = { range: false, toggle: false };
const shift = { range: true, toggle: false };
const ctrl = { range: false, toggle: true };
const ids = (s: Selection): string[] => [...s.selected].sort();

describe('selection', () => {
  it('selects one on a click, a range on Shift+click, toggles on Ctrl+click', () => {
    let s = clickSelection(EMPTY_SELECTION, 'b', order, plain);
    expect(ids(s)).toEqual(['b']);
    s = clickSelection(s, 'd', order, shift);
    expect(ids(s)).toEqual(['b', 'c', 'd']);
    expect(s.anchor).toBe('b');
    // A second Shift+click re-draws the range from the same anchor.
    s = clickSelection(s, 'a', order, shift);
    expect(ids(s)).toEqual(['a', 'b']);
    s = clickSelection(s, 'e', order, ctrl);
    expect(ids(s)).toEqual(['a', 'b', 'e']);
    s = clickSelection(s, 'a', order, ctrl);
    expect(ids(s)).toEqual(['b', 'e']);
    expect(s.anchor).toBe('a');
    // Ctrl+Shift adds a range to what is selected.
    s = clickSelection(s, 'c', order, { range: true, toggle: true });
    expect(ids(s)).toEqual(['a', 'b', 'c', 'e']);
  });

  it('moves with the arrows, extends with Shift, stops at the ends', () => {
    let s = moveSelection(EMPTY_SELECTION, 1, order, false);
    expect(s.active).toBe('a');
    s = moveSelection(s, 1, order, true);
    s = moveSelection(s, 1, order, true);
    expect(ids(s)).toEqual(['a', 'b', 'c']);
    s = moveSelection(s, 100, order, false);
    expect(ids(s)).toEqual(['e']);
    s = moveSelection(s, -100, order, true);
    expect(ids(s)).toEqual(order);
  });

  it('selects all, clears keeping the focus, and drops ids that are gone', () => {
    let s = selectAll(clickSelection(EMPTY_SELECTION, 'c', order, plain), order);
    expect(ids(s)).toEqual(order);
    s = retainExisting(s, (id) => id !== 'c' && id !== 'd');
    expect(ids(s)).toEqual(['a', 'b', 'e']);
    expect(s.active).toBeNull();
    s = clearSelection({ ...s, active: 'b' });
    expect(ids(s)).toEqual([]);
    expect(s.active).toBe('b');
    const same = retainExisting(s, () => true);
    expect(same).toBe(s);
  });

  it('is reactive state in SelectionState', () => {
    const state = new SelectionState();
    state.click('b', order, plain);
    state.click('d', order, shift);
    expect(state.count).toBe(3);
    expect(state.active).toBe('d');
    state.toggleActive();
    expect(state.selected.has('d')).toBe(false);
    state.selectAll(order);
    expect(state.count).toBe(5);
    state.clear();
    expect(state.count).toBe(0);
  });
});
