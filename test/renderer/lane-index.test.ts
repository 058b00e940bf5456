// LaneIndex: the catalog's lanes kept change by change, each change rebuilding only its runs' lanes.
import { describe, expect, it } from 'vitest';
import { LaneIndex } from '../../renderer/src/lib/lane-index';
import { buildLanes } from '../../renderer/src/lib/lanes';
import { checkpoint, run } from './fakes';

function index(): LaneIndex {
  const runs = ['a', 'b', 'c'].map((name, i) => run(name, { createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
  const lanes = new LaneIndex();
  lanes.reset(
    runs,
    runs.flatMap((r) => Array.from({ length: 1000 }, (_, s) => checkpoint(r.name, s + 1))),
  );
  return lanes;
}

describe('LaneIndex', () => {
  it('applies a batch of thousands in one run as buildLanes would lay it out, leaving the other lanes as they were', () => {
    const lanes = index();
    const [a, b, c] = lanes.lanes;
    const changes = [
      ...Array.from({ length: 500 }, (_, s) => ({ kind: 'remove' as const, id: `b/ckpt-${String(2 * s + 1).padStart(9, '0')}` })),
      ...Array.from({ length: 1000 }, (_, s) => ({ kind: 'upsert' as const, checkpoint: checkpoint('b', s + 1, { status: 'verified' }) })),
      { kind: 'upsert' as const, checkpoint: checkpoint('b', 5000) },
      { kind: 'upsert' as const, checkpoint: checkpoint('b', 5000, { pinned: true }) },
    ];
    expect(lanes.apply(changes)).toBe(true);
    expect(lanes.lanes[0]).toBe(a);
    expect(lanes.lanes[2]).toBe(c);
    expect(lanes.lanes[1]).not.toBe(b);
    const all = [...lanes.byId.values()];
    const expected = buildLanes(
      [...lanes.lanes].map((l) => l.info).filter((i) => i !== null),
      all,
    );
    expect(lanes.lanes.map((l) => [l.run, l.bytes, l.checkpoints.map((x) => x.id)])).toEqual(
      expected.map((l) => [l.run, l.bytes, l.checkpoints.map((x) => x.id)]),
    );
    const bLane = lanes.lanes[1];
    expect(bLane?.checkpoints).toHaveLength(1001);
    expect(bLane?.checkpoints.every((x) => x.step === 5000 || x.status === 'verified')).toBe(true);
    expect(bLane?.checkpoints.at(-1)?.pinned).toBe(true);
    expect(lanes.apply([{ kind: 'remove', id: 'nowhere/ckpt-1' }])).toBe(false);
  });

  it('keeps each checkpoint as a compact copy that reads the same, its empty lists and run name shared', () => {
    const lanes = new LaneIndex();
    const given = [checkpoint('a', 1), checkpoint('a', 2, { notes: ['step from its name'] })];
    lanes.reset([run('a')], given);
    const [one, two] = [lanes.byId.get(given[0]?.id ?? ''), lanes.byId.get(given[1]?.id ?? '')];
    expect(one).toEqual(given[0]);
    expect(two).toEqual(given[1]);
    expect(one).not.toBe(given[0]);
    expect(one?.sameStepAs).toBe(two?.sameStepAs);
    expect(two?.notes).toEqual(['step from its name']);
    const added = checkpoint('a', 3);
    lanes.apply([{ kind: 'upsert', checkpoint: added }]);
    expect(lanes.byId.get(added.id)).toEqual(added);
    expect(lanes.lanes[0]?.checkpoints.map((c) => c.step)).toEqual([1, 2, 3]);
  });

  it('keeps every lane when the runs read the same, and replaces only a run read differently', () => {
    const lanes = index();
    const before = lanes.lanes;
    const runs = before.map((l) => ({ ...(l.info as NonNullable<typeof l.info>) }));
    expect(lanes.setRuns(runs)).toBe(false);
    expect(lanes.lanes).toBe(before);
    expect(lanes.setRuns(runs.map((r) => (r.name === 'c' ? { ...r, notes: ['moved'] } : r)))).toBe(true);
    expect(lanes.lanes.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(lanes.lanes[0]).toBe(before[0]);
    expect(lanes.lanes[2]?.info?.notes).toEqual(['moved']);
    expect(lanes.lanes[2]?.checkpoints).toBe(before[2]?.checkpoints);
  });
});
