import { describe, expect, it } from 'vitest';
import { listedInGroups, listedMarkers } from '../../renderer/src/lib/marker-listbox';

const markers = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `c${i}` }));

describe('listedMarkers', () => {
  it('lists every marker while they are few', () => {
    expect(listedMarkers(markers(5), null, null, 10)).toEqual([0, 1, 2, 3, 4]);
  });

  it("beyond that lists only the keyboard's and the selected marker, not one option per checkpoint", () => {
    const many = markers(100_000);
    expect(listedMarkers(many, null, null)).toEqual([]);
    expect(listedMarkers(many, 'c70000', null)).toEqual([70000]);
    expect(listedMarkers(many, 'c70000', 'c12')).toEqual([12, 70000]);
    expect(listedMarkers(many, 'c5', 'c5')).toEqual([5]);
  });
});

describe('listedInGroups', () => {
  const groups = (runs: number, each: number): { id: string }[][] =>
    Array.from({ length: runs }, (_, r) => Array.from({ length: each }, (_, i) => ({ id: `r${r}c${i}` })));

  it('lists every marker while they are few, by their index in the groups one after another', () => {
    const few = groups(2, 3);
    expect(listedInGroups(few, null, null, 10).map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(listedInGroups(few, null, null, 10)[4]?.marker).toBe(few[1]?.[1]);
  });

  it("beyond that lists the keyboard's and the selected marker, at the index a flat list would give them, walking only their runs", () => {
    const many = groups(1000, 100);
    expect(listedInGroups(many, null, null)).toEqual([]);
    expect(listedInGroups(many, 'r700c5', null)).toEqual([{ index: 70005, marker: many[700]?.[5] }]);
    expect(listedInGroups(many, 'r700c5', 'r0c12').map((l) => l.index)).toEqual([12, 70005]);
    expect(listedInGroups(many, 'r3c3', 'r3c3').map((l) => l.index)).toEqual([303]);
    // Each marker of the other runs is not looked at: a run's ids are asked of its set.
    const walked = new Set<number>();
    const watched = many.map((group, r) => new Proxy(group, { get: (t, k, rcv) => (k === 'forEach' && walked.add(r), Reflect.get(t, k, rcv)) }));
    listedInGroups(watched, 'r700c5', null);
    listedInGroups(watched, 'r700c5', null);
    expect([...walked]).toEqual([700]);
  });
});
