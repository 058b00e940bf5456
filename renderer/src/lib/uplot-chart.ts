// uPlot behind a small interface: made when its element is in the page, fed aligned columns,
// sized to its container, with checkpoint markers drawn as a plugin. uPlot is loaded on first use,
// after the locale guard has made navigator.language a tag Intl accepts.
import 'uplot/dist/uPlot.min.css';
import type uPlot from 'uplot';
import type { Aligned } from './chart-data';

export interface ChartSpec {
  readonly trainLabel: string;
  readonly validationLabel: string;
  readonly data: Aligned;
  /** Steps that have a checkpoint: drawn as markers on the step axis. */
  readonly markers: readonly number[];
}

export interface ChartHandle {
  update(spec: ChartSpec): void;
  destroy(): void;
}

function cssVar(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

function markerPlugin(markers: () => readonly number[], color: string): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { top, height, left, width } = u.bbox;
          const ratio = devicePixelRatio;
          ctx.save();
          ctx.strokeStyle = color;
          ctx.fillStyle = color;
          ctx.lineWidth = ratio;
          ctx.setLineDash([3 * ratio, 3 * ratio]);
          ctx.globalAlpha = 0.55;
          for (const step of markers()) {
            const x = Math.round(u.valToPos(step, 'x', true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
          }
          ctx.setLineDash([]);
          ctx.globalAlpha = 1;
          const size = 5 * ratio;
          for (const step of markers()) {
            const x = Math.round(u.valToPos(step, 'x', true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top + height - size * 1.6);
            ctx.lineTo(x - size, top + height);
            ctx.lineTo(x + size, top + height);
            ctx.closePath();
            ctx.fill();
          }
          ctx.restore();
        },
      ],
    },
  };
}

export async function createChart(element: HTMLElement, initial: ChartSpec): Promise<ChartHandle> {
  const { default: UPlot } = await import('uplot');
  let spec = initial;
  const text = cssVar(element, '--text-2', '#666');
  const grid = cssVar(element, '--border', '#ddd');
  const axis: uPlot.Axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const size = (): { width: number; height: number } => ({ width: Math.max(200, element.clientWidth), height: 220 });
  const plot = new UPlot(
    {
      ...size(),
      // Steps, not times: the x axis never builds a date formatter. Its range takes in every
      // checkpoint, so a marker before the first logged point is still drawn.
      scales: {
        x: {
          time: false,
          range: (_u, min, max) => {
            const lo = Math.min(min, ...spec.markers.slice(0, 1));
            const hi = Math.max(max, ...spec.markers.slice(-1));
            return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
          },
        },
      },
      axes: [{ ...axis, label: 'step' }, { ...axis }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'step' },
        // Points only while there are few: a lone point is otherwise invisible, many are clutter.
        { label: spec.trainLabel, stroke: cssVar(element, '--chart-train', '#3b5bdb'), width: 1.5, spanGaps: true, points: { show: (u) => u.data[0].length < 40, size: 4 } },
        { label: spec.validationLabel, stroke: cssVar(element, '--chart-val', '#e8590c'), width: 2, spanGaps: true, points: { show: true, size: 5 } },
      ],
      plugins: [markerPlugin(() => spec.markers, cssVar(element, '--chart-marker', '#7048e8'))],
    },
    spec.data,
    element,
  );
  const resize = new ResizeObserver(() => plot.setSize(size()));
  resize.observe(element);
  return {
    update(next) {
      spec = next;
      plot.setData(next.data);
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
