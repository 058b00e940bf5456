import { describe, expect, it } from 'vitest';
import { listedMarkers } from '../../renderer/src/lib/marker-listbox';

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
