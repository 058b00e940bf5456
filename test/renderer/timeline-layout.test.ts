// The timeline's geometry: lanes in the list's order, x along the step or the wall time,
// lineage lines from the parent checkpoint to the continued run's lane, hit-testing, and only
// the lanes in view drawn.
import { describe, expect, it, vi } from 'vitest';
import { buildLanes } from '../../renderer/src/lib/lanes';
import {
  DEFAULT_GEOMETRY,
  clampZoom,
  laneY,
  layoutTimeline,
  nearestInLane,
  niceTicks,
  panZoom,
  pointAt,
  visibleLanes,
  zoomAround,
} from '../../renderer/src/lib/timeline-layout';
import { checkpoint, run } from './fakes';

const g = { ...DEFAULT_GEOMETRY, width: 1000 };
const left = g.gutter + g.padding;
const right = g.width - g.padding;

function workspace() {
  const runs = [run('a', { createdAt: '2026-01-01T00:00:00.000Z' }), run('b', { createdAt: '2026-01-01T01:00:00.000Z', parent: { run: 'a', step: 200 } })];
  const checkpoints = [
    checkpoint('a', 100, { createdAt: '2026-01-01T00:10:00.000Z' }),
    checkpoint('a', 200, { createdAt: '2026-01-01T00:20:00.000Z' }),
    checkpoint('a', 300, { createdAt: '2026-01-01T00:30:00.000Z' }),
    checkpoint('b', 250, { createdAt: '2026-01-01T01:10:00.000Z' }),
    checkpoint('b', 500, { createdAt: '2026-01-01T01:40:00.000Z' }),
  ];
  return buildLanes(runs, checkpoints);
}

describe('timeline layout', () => {
  it('draws a lone checkpoint at step 0 (an import that records no step) among steps 0 and 1, never negative ones', () => {
    const layout = layoutTimeline(buildLanes([run('imported')], [checkpoint('imported', 0)]), 'step', g);
    expect(layout.domain).toEqual([0, 1]);
    expect(layoutTimeline(buildLanes([run('one')], [checkpoint('one', 7)]), 'step', g).domain).toEqual([6, 8]);
  });

  it('puts one lane per run, in order, and each checkpoint at its step between the padded ends', () => {
    const layout = layoutTimeline(workspace(), 'step', g);
    expect(layout.lanes.map((l) => l.lane.run)).toEqual(['a', 'b']);
    expect(layout.lanes.map((l) => l.y)).toEqual([laneY(0, g), laneY(1, g)]);
    expect(layout.domain).toEqual([100, 500]);
    const xs = layout.lanes.flatMap((l) => l.points.map((p) => Math.round(p.x)));
    expect(xs).toEqual([
      left,
      Math.round(left + (right - left) / 4),
      Math.round(left + (right - left) / 2),
      Math.round(left + ((right - left) * 3) / 8),
      right,
    ]);
    expect(layout.height).toBe(g.axisHeight + 2 * g.laneHeight);
    expect(layout.pointCount).toBe(5);
  });

  it('draws lineage from the parent checkpoint to the continued lane at the branch step', () => {
    const layout = layoutTimeline(workspace(), 'step', g);
    const [a, b] = layout.lanes;
    const parent = a?.points.find((p) => p.checkpoint.step === 200);
    expect(layout.links).toEqual([
      { run: 'b', parent: { run: 'a', step: 200 }, from: { x: parent?.x, y: a?.y }, to: { x: parent?.x, y: b?.y }, parentMissing: false },
    ]);
    // The continued lane's line starts at its branch point, before its first checkpoint.
    expect(b?.fromX).toBe(parent?.x);
  });

  it('still places a branch whose parent checkpoint was deleted, marked as missing', () => {
    const lanes = workspace().map((l) => (l.run === 'a' ? { ...l, checkpoints: l.checkpoints.filter((c) => c.step !== 200) } : l));
    const layout = layoutTimeline(lanes, 'step', g);
    expect(layout.links[0]?.parentMissing).toBe(true);
    expect(layout.links[0]?.from.x).toBeCloseTo(left + (right - left) / 4);
    expect(layout.links[0]?.from.y).toBe(laneY(0, g));
  });

  it('on wall time, spaces points by their creation and starts the branch where the run began', () => {
    const layout = layoutTimeline(workspace(), 'time', g);
    const start = Date.parse('2026-01-01T00:10:00.000Z');
    const end = Date.parse('2026-01-01T01:40:00.000Z');
    expect(layout.domain).toEqual([start, end]);
    const b500 = layout.lanes[1]?.points.find((p) => p.checkpoint.step === 500);
    expect(b500?.x).toBeCloseTo(right);
    const runStart = left + ((Date.parse('2026-01-01T01:00:00.000Z') - start) / (end - start)) * (right - left);
    expect(layout.links[0]?.to.x).toBeCloseTo(runStart);
    expect(layout.links[0]?.from.x).toBeCloseTo(layout.lanes[0]?.points[1]?.x ?? Number.NaN);
  });

  it('leaves checkpoints without a time off the wall-time axis and counts them', () => {
    const lanes = buildLanes([run('a')], [checkpoint('a', 1, { createdAt: null }), checkpoint('a', 2)]);
    const layout = layoutTimeline(lanes, 'time', g);
    expect(layout.undated).toBe(1);
    expect(layout.pointCount).toBe(1);
    expect(layoutTimeline(lanes, 'step', g).pointCount).toBe(2);
  });

  it('finds the point under the pointer, the nearest in a lane, and nothing between lanes or far away', () => {
    const layout = layoutTimeline(workspace(), 'step', g);
    const a = layout.lanes[0];
    const p = a?.points[1];
    if (!a || !p) throw new Error('no point');
    expect(pointAt(layout, p.x + 3, p.y + 2, g)?.checkpoint.id).toBe('a/ckpt-000000200');
    expect(pointAt(layout, p.x + 20, p.y, g)).toBeNull();
    expect(pointAt(layout, p.x, g.axisHeight / 2, g)).toBeNull();
    expect(nearestInLane(a, 0)?.checkpoint.step).toBe(100);
    expect(nearestInLane(a, 10_000)?.checkpoint.step).toBe(300);
  });

  it('lays out 10,000 checkpoints in 50 runs and draws only the lanes in view', () => {
    const runs = Array.from({ length: 50 }, (_, i) =>
      run(`r${String(i).padStart(2, '0')}`, { createdAt: `2026-01-01T00:${String(i).padStart(2, '0')}:00.000Z` }),
    );
    const checkpoints = runs.flatMap((r) => Array.from({ length: 200 }, (_, s) => checkpoint(r.name, s + 1)));
    const lanes = buildLanes(runs, checkpoints);
    const layout = layoutTimeline(lanes, 'step', g);
    expect(layout.pointCount).toBe(10_000);
    expect(visibleLanes(layout, 0, 200, g)).toEqual([0, 7]);
    expect(visibleLanes(layout, 20 * g.laneHeight, 200, g)).toEqual([19, 27]);
    const lane = layout.lanes[30];
    const target = lane?.points[150];
    if (!lane || !target) throw new Error('no lane');
    expect(pointAt(layout, target.x, target.y, g)?.checkpoint.id).toBe(target.checkpoint.id);
  });

  it("lays out again after one run's change reading that run's checkpoints alone", () => {
    const runs = Array.from({ length: 50 }, (_, i) => run(`r${String(i).padStart(2, '0')}`));
    const stamp = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
    const checkpoints = runs.flatMap((r) => Array.from({ length: 200 }, (_, s) => checkpoint(r.name, s + 1, { createdAt: stamp(s) })));
    const lanes = buildLanes(runs, checkpoints);
    const parse = vi.spyOn(Date, 'parse');
    const before = layoutTimeline(lanes, 'time', g);
    expect(parse.mock.calls.length).toBeGreaterThanOrEqual(10_000);
    // r07 gains a checkpoint: its lane is replaced, the 49 others are the same objects.
    const changed = lanes.map((lane) =>
      lane.run === 'r07' ? { ...lane, checkpoints: [...lane.checkpoints, checkpoint('r07', 201, { createdAt: stamp(500) })] } : lane,
    );
    parse.mockClear();
    const after = layoutTimeline(changed, 'time', g);
    // Its 201 checkpoints, and each run's own start: not the 10,000.
    expect(parse.mock.calls.length).toBeLessThanOrEqual(201 + 2 * runs.length);
    parse.mockRestore();
    expect(after.pointCount).toBe(10_001);
    expect(after.domain[1]).toBeGreaterThan(before.domain[1]);
    expect(after.lanes[7]?.points.at(-1)?.checkpoint.step).toBe(201);
    expect(after.lanes[7]?.points.at(-1)?.x).toBeCloseTo(right);
  });

  it('chooses round ticks', () => {
    expect(niceTicks(0, 1000, 5, 'step')).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(3, 7, 10, 'step')).toEqual([3, 4, 5, 6, 7]);
    expect(niceTicks(0, 36e5, 4, 'time')).toEqual([0, 9e5, 18e5, 27e5, 36e5]);
  });

  it('zooms into a part of the range: points outside fall beyond the edges and are not hit', () => {
    // Steps 100..500: the middle half is 200..400.
    const layout = layoutTimeline(workspace(), 'step', g, [0.25, 0.75]);
    expect(layout.domain).toEqual([200, 400]);
    const a = layout.lanes[0];
    const byStep = (step: number) => a?.points.find((p) => p.checkpoint.step === step);
    expect(byStep(200)?.x).toBeCloseTo(left);
    expect(byStep(300)?.x).toBeCloseTo((left + right) / 2);
    const hidden = byStep(100);
    expect(hidden?.x).toBeLessThan(g.gutter);
    expect(pointAt(layout, hidden?.x ?? 0, hidden?.y ?? 0, g)).toBeNull();
    expect(layout.ticks.every((t) => t.x >= left - 0.01 && t.x <= right + 0.01)).toBe(true);
  });

  it('zooms around the pointer, pans, and never leaves the full range', () => {
    expect(zoomAround([0, 1], 0.5, 0.5)).toEqual([0.25, 0.75]);
    // The point under the pointer stays under it.
    const z = zoomAround([0, 1], 0.2, 0.5);
    expect(z[0] + (z[1] - z[0]) * 0.2).toBeCloseTo(0.2);
    expect(zoomAround([0.25, 0.75], 0.5, 4)).toEqual([0, 1]);
    expect(panZoom([0.25, 0.75], 0.5)).toEqual([0.5, 1]);
    expect(panZoom([0.25, 0.75], 2)).toEqual([0.5, 1]);
    expect(panZoom([0.25, 0.75], -2)).toEqual([0, 0.5]);
    expect(clampZoom([0.5, 0.5])[1] - clampZoom([0.5, 0.5])[0]).toBeCloseTo(0.001);
  });
});
