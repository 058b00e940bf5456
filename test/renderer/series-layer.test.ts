// A card of many curves draws them on its own layer over several tasks (series-layer): no task
// longer than a slice's budget, the markers over the curves, the picture shown only once whole,
// and a new drawing of the chart dropping the one under way. A card of ordinary size stays uPlot's.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type uPlot from 'uplot';
import { LAYERED_CURVES, PAINT_REST, nextSendAt, paintGate, seriesLayer, slicer } from '../../renderer/src/lib/series-layer';
import { type Curve, addedLines, layerSeries } from '../../renderer/src/lib/uplot-chart';

/** A clock each piece of work moves on by `cost` ms, and the tasks queued to run after this one. */
function fakeTime(cost: number): { clock: () => number; later: (run: () => void) => void; tick: () => void; queued: () => number; work: () => void } {
  let now = 0;
  const tasks: (() => void)[] = [];
  return {
    clock: () => now,
    later: (run) => void tasks.push(run),
    tick: () => tasks.shift()?.(),
    queued: () => tasks.length,
    work: () => void (now += cost),
  };
}

describe('a drawing split into slices', () => {
  it('does a slice’s budget of pieces per task, the first in a task of its own, and says when it is done', () => {
    const time = fakeTime(3);
    const slices = slicer(8, time.clock, time.later);
    const drawn: number[] = [];
    let done = 0;
    slices.start(
      10,
      (i) => {
        time.work();
        drawn.push(i);
      },
      () => (done += 1),
    );
    // Nothing in the task that started it; then 3 ms a piece within 8 ms: three pieces a task (the third one crosses the budget).
    expect(drawn).toEqual([]);
    time.tick();
    expect(drawn).toEqual([0, 1, 2]);
    expect(done).toBe(0);
    time.tick();
    expect(drawn).toEqual([0, 1, 2, 3, 4, 5]);
    while (time.queued() > 0) time.tick();
    expect(drawn).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(done).toBe(1);
  });

  it('drops the drawing under way when a new one starts', () => {
    const time = fakeTime(5);
    const slices = slicer(8, time.clock, time.later);
    const old: number[] = [];
    let oldDone = false;
    slices.start(
      20,
      (i) => {
        time.work();
        old.push(i);
      },
      () => (oldDone = true),
    );
    time.tick();
    expect(old).toEqual([0, 1]);
    const fresh: number[] = [];
    let freshDone = false;
    slices.start(
      4,
      (i) => {
        time.work();
        fresh.push(i);
      },
      () => (freshDone = true),
    );
    while (time.queued() > 0) time.tick();
    expect(old).toEqual([0, 1]);
    expect(oldDone).toBe(false);
    expect(fresh).toEqual([0, 1, 2, 3]);
    expect(freshDone).toBe(true);
  });
});

/** A 2D context that records what is drawn on which canvas. */
function recordingCanvases(): { log: string[] } {
  const log: string[] = [];
  const contexts = new WeakMap<HTMLCanvasElement, CanvasRenderingContext2D>();
  const contextOf = (canvas: HTMLCanvasElement): CanvasRenderingContext2D => {
    let ctx = contexts.get(canvas);
    if (!ctx) {
      const call =
        (key: string) =>
        (...args: unknown[]): number =>
          log.push(`${canvas.isConnected ? 'shown' : 'buffer'}.${key}${key === 'drawImage' ? '' : `(${args.length})`}`);
      ctx = new Proxy({}, { get: (_target, key) => (key === 'canvas' ? canvas : call(String(key))), set: () => true }) as unknown as CanvasRenderingContext2D;
      contexts.set(canvas, ctx);
    }
    return ctx;
  };
  const getContext = function (this: HTMLCanvasElement): CanvasRenderingContext2D {
    return contextOf(this);
  };
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(getContext as unknown as typeof HTMLCanvasElement.prototype.getContext);
  return { log };
}

function fakePlot(): uPlot {
  const wrap = document.createElement('div');
  const canvas = document.createElement('canvas');
  canvas.width = 800;
  canvas.height = 400;
  canvas.style.width = '400px';
  const over = document.createElement('div');
  wrap.append(canvas, over);
  document.body.append(wrap);
  return { over, ctx: { canvas } } as unknown as uPlot;
}

describe('the layer of a card of many curves', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    document.body.innerHTML = '';
  });

  it('sits between uPlot’s canvas and its cursor overlay, and shows the curves, then the markers, only once all are drawn', () => {
    const { log } = recordingCanvases();
    const time = fakeTime(5);
    const u = fakePlot();
    const layer = seriesLayer(u, slicer(8, time.clock, time.later));
    const shown = u.over.previousElementSibling as HTMLCanvasElement;
    expect(shown.className).toBe('series-layer');
    expect(shown.previousElementSibling).toBe(u.ctx.canvas);
    const drawn: number[] = [];
    let shownAt = -1;
    layer.draw(
      [1, 2, 3, 4, 5],
      (ctx, si) => {
        time.work();
        drawn.push(si);
        ctx.stroke();
      },
      (ctx) => ctx.fill(),
      () => (shownAt = drawn.length),
    );
    expect(log.filter((l) => l.startsWith('shown.'))).toEqual([]);
    while (time.queued() > 0) time.tick();
    expect(drawn).toEqual([1, 2, 3, 4, 5]);
    expect(shownAt).toBe(5);
    // The curves on the buffer, then the buffer shown whole, the markers over it.
    expect(log.filter((l) => l.startsWith('buffer.stroke')).length).toBe(5);
    // Each curve made pixels as it is drawn, within its slice's budget.
    expect(log.filter((l) => l.startsWith('buffer.getImageData')).length).toBe(5);
    expect(log.filter((l) => l.startsWith('shown.'))).toEqual(['shown.clearRect(4)', 'shown.drawImage', 'shown.fill(0)']);
    expect(shown.width).toBe(800);
    expect(shown.style.width).toBe('400px');
    layer.destroy();
    expect(shown.isConnected).toBe(false);
  });

  it('works out what the markers need (their layout) in slices of their own after the curves, before drawing them', () => {
    const { log } = recordingCanvases();
    const time = fakeTime(5);
    const u = fakePlot();
    const layer = seriesLayer(u, slicer(8, time.clock, time.later));
    const order: string[] = [];
    let tasks = 0;
    const step = (name: string) => () => {
      time.work();
      order.push(name);
    };
    layer.draw(
      [1, 2],
      (_ctx, si) => step(`curve ${si}`)(),
      () => order.push('markers'),
      () => order.push('shown'),
      [step('place'), step('thin'), step('finish')],
    );
    while (time.queued() > 0) {
      time.tick();
      tasks += 1;
    }
    expect(order).toEqual(['curve 1', 'curve 2', 'place', 'thin', 'finish', 'markers', 'shown']);
    // Two pieces of 5 ms a task (the second crosses the 8 ms budget): three tasks, none holding all.
    expect(tasks).toBe(3);
    expect(log.filter((l) => l.startsWith('buffer.getImageData')).length).toBe(2);
  });

  it('paints only the curves it is given over the last picture when asked to (a batch of new runs, the scales unchanged)', () => {
    const { log } = recordingCanvases();
    const time = fakeTime(5);
    const u = fakePlot();
    const layer = seriesLayer(u, slicer(8, time.clock, time.later));
    const drawn: number[] = [];
    const paint = (series: number[], onTop: boolean): void => {
      layer.draw(
        series,
        (ctx, si) => {
          drawn.push(si);
          ctx.stroke();
        },
        (ctx) => ctx.fill(),
        () => undefined,
        [],
        onTop,
      );
      while (time.queued() > 0) time.tick();
    };
    paint([1, 2, 3], false);
    expect(log.filter((l) => l === 'buffer.clearRect(4)').length).toBe(1);
    drawn.length = 0;
    paint([4, 5], true);
    // The buffer keeps the three curves drawn: not wiped, only the two new ones stroked on it; shown whole again, the markers over all.
    expect(drawn).toEqual([4, 5]);
    expect(log.filter((l) => l === 'buffer.clearRect(4)').length).toBe(1);
    expect(log.filter((l) => l.startsWith('buffer.stroke')).length).toBe(5);
    expect(log.filter((l) => l.startsWith('shown.')).slice(-3)).toEqual(['shown.clearRect(4)', 'shown.drawImage', 'shown.fill(0)']);
    // Anything else paints every curve on a clean buffer.
    drawn.length = 0;
    paint([1, 2, 3, 4, 5], false);
    expect(drawn).toEqual([1, 2, 3, 4, 5]);
    expect(log.filter((l) => l === 'buffer.clearRect(4)').length).toBe(2);
  });

  it('is wiped when the card goes back to uPlot drawing its curves, and draws nothing more of a drawing dropped', () => {
    const { log } = recordingCanvases();
    const time = fakeTime(5);
    const u = fakePlot();
    const layer = seriesLayer(u, slicer(8, time.clock, time.later));
    let shown = 0;
    layer.draw(
      [1, 2, 3],
      () => time.work(),
      () => undefined,
      () => (shown += 1),
    );
    while (time.queued() > 0) time.tick();
    layer.draw(
      [1, 2, 3, 4, 5, 6],
      () => time.work(),
      () => undefined,
      () => (shown += 1),
    );
    layer.clear();
    while (time.queued() > 0) time.tick();
    expect(shown).toBe(1);
    expect(log.filter((l) => l.startsWith('shown.clearRect')).length).toBe(2);
  });
});

describe('new data while the layer paints', () => {
  it('is applied at once while no paint is under way', () => {
    const applied: number[] = [];
    const gate = paintGate<number>((v) => applied.push(v));
    gate.offer(1);
    gate.offer(2);
    expect(applied).toEqual([1, 2]);
  });

  it('waits for the paint under way to be shown, and only the newest of what came meanwhile is applied', () => {
    const applied: number[] = [];
    const gate = paintGate<number>((v) => applied.push(v));
    gate.offer(1);
    gate.painting();
    gate.offer(2);
    gate.offer(3);
    gate.offer(4);
    // The paint of 1 is not started over for each batch: nothing is applied until it is shown.
    expect(applied).toEqual([1]);
    gate.painted();
    expect(applied).toEqual([1, 4]);
    // Nothing held any more: the next paint applies nothing of its own.
    gate.painting();
    gate.painted();
    expect(applied).toEqual([1, 4]);
    gate.offer(5);
    expect(applied).toEqual([1, 4, 5]);
  });
});

describe('when a card sends its next data', () => {
  it('rests three times as long as its last paint took while its runs are read, and sends the last of them at the interval', () => {
    // Sent at 1,000, painted by 1,600 (600 ms of paint): the next not before 1,600 + 3 × 600 while runs arrive.
    const last = { sent: 1000, painted: 1600, paintMs: 600 };
    expect(PAINT_REST).toBe(3);
    expect(nextSendAt(last, 250, true)).toBe(3400);
    expect(nextSendAt(last, 250, false)).toBe(1250);
    // A quick paint rests no longer than the interval.
    expect(nextSendAt({ sent: 1000, painted: 1010, paintMs: 10 }, 250, true)).toBe(1250);
  });
});

describe('which curves go on the layer', () => {
  const line = (i: number): Curve => ({ label: `run${i}`, stroke: '#123', width: 1.5, points: false, role: 'smoothed' });
  it('none on a card of ordinary size (uPlot draws them, a zoom in one frame)', () => {
    expect(layerSeries(Array.from({ length: LAYERED_CURVES }, (_, i) => line(i)))).toEqual([]);
  });

  it('every line of a card of many curves, in order, by uPlot’s index; band edges stay uPlot’s (it fills between them)', () => {
    const band = (side: 'hi' | 'lo'): Curve => ({ label: side, stroke: '#1234', width: 0, points: false, role: 'raw', band: side });
    const curves = [band('hi'), band('lo'), ...Array.from({ length: LAYERED_CURVES }, (_, i) => line(i))];
    const on = layerSeries(curves);
    expect(on.length).toBe(LAYERED_CURVES);
    expect(on[0]).toBe(3);
    expect(on.at(-1)).toBe(curves.length);
  });

  it('a batch of runs arriving adds the lines of its runs, wherever they go among the others (raw before smoothed); its band edges are uPlot’s', () => {
    const raw = (i: number): Curve => ({ label: `run${i}`, stroke: '#1234', width: 1, points: false, role: 'raw' });
    const now = [raw(0), raw(1), line(0), line(1)];
    const next = [raw(0), raw(1), raw(2), line(0), line(1), line(2)];
    expect(addedLines(now, next)).toEqual([3, 6]);
    expect(addedLines(next, next)).toEqual([]);
  });
});
