/// <reference lib="dom" />
// npm run bench:ui — the app in Chromium (through Playwright, against browser mode) on a big
// workspace: 10,000 checkpoints in 50 runs, 5 of them with 100,000-point metric histories. Prints
// the first render of the timeline and the charts, selecting a range of 1,000 checkpoints, frame
// times while scrolling and zooming, how soon a checkpoint renamed into place on disk is on the
// timeline, and the page's JS heap, each against the target.
//   BENCH_UI_SMALL=1   a quick run on a tenth of the data (checks the bench itself)
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { checkpointDirName } from '../../electron/core/checkpoint/layout.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { startBrowserServer } from '../../electron/host/browser-server.js';
import { rendererDir } from '../../electron/host/renderer-location.js';
import { buildLanes } from '../../renderer/src/lib/lanes.js';
import { DEFAULT_GEOMETRY, layoutTimeline } from '../../renderer/src/lib/timeline-layout.js';
import { launchChromium } from '../ui/browser.js';
import { FULL_SHAPE, type UiWorkspaceShape, checkpointStride, makeUiWorkspace, runName } from './ui-workspace.js';

const SHAPE: UiWorkspaceShape = process.env['BENCH_UI_SMALL'] ? { runs: 10, checkpointsPerRun: 200, metricRuns: 2, metricPoints: 10_000 } : FULL_SHAPE;
const RANGE = 1000;
const RENAMES = 30;
/** The first renames after opening the Checkpoints tab again pay one-time costs: shown, not counted. */
const WARM_UP = 3;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Starts recording the page's frame intervals (requestAnimationFrame to requestAnimationFrame). */
async function recordFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchStop: boolean };
    w.benchFrames = [];
    w.benchStop = false;
    let last = performance.now();
    const tick = (now: number): void => {
      w.benchFrames.push(now - last);
      last = now;
      if (!w.benchStop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

async function stopFrames(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchStop: boolean };
    w.benchStop = true;
    return w.benchFrames.slice(1);
  });
}

/** Milliseconds since navigation start once `attribute` of `selector` satisfies the test, checked every frame. */
async function whenAttribute(page: Page, selector: string, attribute: string, wanted: (value: string | null) => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page
      .locator(selector)
      .first()
      .getAttribute(attribute, { timeout: timeoutMs })
      .catch(() => null);
    if (wanted(value)) return;
    if (Date.now() > deadline) throw new Error(`${selector} [${attribute}] never became what was wanted (last: ${value})`);
    await page.waitForTimeout(16);
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** The page's functions by their own time, the top 25. */
function printProfile(who: string, profile: CpuProfile): void {
  const interval = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples?.length ?? 1);
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0) * interval);
  }
  console.log(`${who}: profile over ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms, self time:`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${key}`);
}

interface Row {
  readonly what: string;
  readonly value: string;
  readonly target: string;
  readonly ok: boolean | null;
}

async function main(): Promise<void> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'ui-bench-'));
  const root = path.join(base, 'ws');
  const total = SHAPE.runs * SHAPE.checkpointsPerRun;
  const rows: Row[] = [];
  const studio = new Studio({ watch: true });
  let closeServer: (() => Promise<void>) | null = null;
  const browser = await launchChromium();
  try {
    let started = Date.now();
    await makeUiWorkspace(root, SHAPE);
    console.log(
      `workspace: ${total.toLocaleString('en-US')} checkpoints in ${SHAPE.runs} runs, ${SHAPE.metricRuns} × ${SHAPE.metricPoints.toLocaleString('en-US')} metric points (made in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    await studio.api.openWorkspace({ path: root });
    const server = await startBrowserServer({ api: studio.api, rendererDir: rendererDir() });
    closeServer = () => server.close();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    // First render: the list and the timeline hold every checkpoint (the page's own clock).
    await page.goto(server.url);
    await whenAttribute(page, '[data-testid="timeline"]', 'data-points', (v) => v === String(total));
    const timelineMs = await page.evaluate(() => performance.now());
    rows.push({
      what: `first render of the timeline (${total.toLocaleString('en-US')} checkpoints)`,
      value: `${Math.round(timelineMs)} ms`,
      target: 'none set',
      ok: null,
    });

    // A range of 1,000: the first checkpoint of the first run, Shift+click on the last of the fifth.
    const snapshot = await studio.api.snapshot();
    const width = await page.getByTestId('timeline').evaluate((el) => el.clientWidth);
    const layout = layoutTimeline(buildLanes(snapshot.runs, snapshot.checkpoints), 'step', { ...DEFAULT_GEOMETRY, width });
    const canvas = await page.locator('[data-testid="timeline"] canvas').boundingBox();
    if (!canvas) throw new Error('the timeline has no canvas');
    const perRun = SHAPE.checkpointsPerRun;
    const stride = checkpointStride(SHAPE);
    // The list's order (lanes as the timeline draws them, each by step): its first and its 1,000th.
    const ordered = layout.lanes.flatMap((l) => l.points);
    const toPage = (index: number): { x: number; y: number } => {
      const point = ordered[index];
      if (!point) throw new Error(`the timeline has no point ${index}`);
      return { x: canvas.x + point.x, y: canvas.y + point.y };
    };
    const from = toPage(0);
    const to = toPage(RANGE - 1);
    await page.mouse.click(from.x, from.y);
    await page.keyboard.down('Shift');
    started = Date.now();
    await page.mouse.click(to.x, to.y);
    await page.keyboard.up('Shift');
    await page
      .getByText(new RegExp(`^${RANGE.toLocaleString('en-US')} selected`))
      .first()
      .waitFor({ timeout: 60_000 });
    const rangeMs = Date.now() - started;
    rows.push({ what: `select a range of ${RANGE.toLocaleString('en-US')} checkpoints (Shift+click)`, value: `${rangeMs} ms`, target: 'none set', ok: null });
    await page.keyboard.press('Escape');

    // Scrolling: the list by wheel, frame by frame, top to bottom and back.
    await recordFrames(page);
    const list = await page.getByRole('listbox', { name: 'Checkpoints' }).boundingBox();
    if (!list) throw new Error('no checkpoint list');
    await page.mouse.move(list.x + list.width / 2, list.y + list.height / 2);
    for (let i = 0; i < 120; i += 1) await page.mouse.wheel(0, i < 60 ? 900 : -900);
    const scrollFrames = await stopFrames(page);
    const scrollP95 = percentile(scrollFrames, 0.95);
    rows.push({
      what: `frame time scrolling the list (${scrollFrames.length} frames)`,
      value: `p95 ${scrollP95.toFixed(1)} ms`,
      target: 'p95 ≤ 50 ms',
      ok: scrollP95 <= 50,
    });

    // The charts: every run's history loaded and drawn.
    started = Date.now();
    await page.getByRole('tab', { name: 'Charts' }).click();
    const loss = 'figure[data-points]';
    await whenAttribute(page, loss, 'data-points', (v) => Number(v) >= SHAPE.metricRuns * SHAPE.metricPoints);
    const chartsMs = Date.now() - started;
    const chartsSincePageMs = await page.evaluate(() => performance.now());
    // The histories load from the page's start; the cards draw when the tab opens.
    rows.push({
      what: `charts drawn with every point (${SHAPE.metricRuns} runs × ${SHAPE.metricPoints.toLocaleString('en-US')} points)`,
      value: `${chartsMs} ms after the tab opened`,
      target: 'none set',
      ok: null,
    });
    rows.push({ what: '  (the page had been open for)', value: `${Math.round(chartsSincePageMs)} ms`, target: '', ok: null });

    // Zooming the loss chart: drag to zoom in, double-click to reset, six times over.
    const plot = await page.locator(`${loss} .u-over`).first().boundingBox();
    if (!plot) throw new Error('no plot area');
    await recordFrames(page);
    for (let round = 0; round < 6; round += 1) {
      const x0 = plot.x + plot.width * (0.1 + 0.1 * (round % 3));
      const y = plot.y + plot.height / 2;
      await page.mouse.move(x0, y);
      await page.mouse.down();
      for (let k = 1; k <= 10; k += 1) await page.mouse.move(x0 + (plot.width * 0.3 * k) / 10, y);
      await page.mouse.up();
      await page.waitForTimeout(200);
      await page.mouse.dblclick(plot.x + plot.width / 2, y);
      await page.waitForTimeout(200);
    }
    const zoomFrames = await stopFrames(page);
    const zoomP95 = percentile(zoomFrames, 0.95);
    rows.push({
      what: `frame time zooming a chart (${zoomFrames.length} frames)`,
      value: `p95 ${zoomP95.toFixed(1)} ms`,
      target: 'p95 ≤ 50 ms',
      ok: zoomP95 <= 50,
    });

    // A checkpoint written elsewhere and renamed into place: how soon it is on the timeline.
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    const templateRun = runName(0);
    const templateDir = path.join(root, templateRun, checkpointDirName(stride));
    const files = readdirSync(templateDir).map((name) => ({ name, bytes: readFileSync(path.join(templateDir, name)) }));
    const manifest = readFileSync(path.join(templateDir, 'manifest.json'), 'utf8');
    const latencies: number[] = [];
    // Where the time goes: the Studio's event (watcher and catalog) and the page's drawing.
    const coreLatencies: number[] = [];
    let addedAt = 0;
    const offAdded = studio.on('catalog:added', () => (addedAt = Date.now()));
    // BENCH_UI_PROFILE=1: where the page spends its time while checkpoints arrive.
    const profiler = process.env['BENCH_UI_PROFILE'] ? await context.newCDPSession(page) : null;
    const studioProfiler = process.env['BENCH_UI_PROFILE'] ? new inspector.Session() : null;
    if (profiler && studioProfiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.start');
      studioProfiler.connect();
      await studioProfiler.post('Profiler.enable');
      await studioProfiler.post('Profiler.start');
    }
    const warmUp: number[] = [];
    for (let i = 1; i <= WARM_UP + RENAMES; i += 1) {
      const step = stride * (perRun + 10 * i);
      const staging = path.join(root, templateRun, `.incoming-${i}`);
      mkdirSync(staging);
      for (const { name, bytes } of files)
        writeFileSync(path.join(staging, name), name === 'manifest.json' ? manifest.replace(`"step": ${stride},`, `"step": ${step},`) : bytes);
      const want = String(total + i);
      const renamedAt = Date.now();
      renameSync(staging, path.join(root, templateRun, checkpointDirName(step)));
      await page.waitForFunction((n) => document.querySelector('[data-testid="timeline"]')?.getAttribute('data-points') === n, want, {
        polling: 'raf',
        timeout: 30_000,
      });
      const seenAt = await page.evaluate(() => performance.timeOrigin + performance.now());
      if (i <= WARM_UP) warmUp.push(seenAt - renamedAt);
      else {
        latencies.push(seenAt - renamedAt);
        coreLatencies.push(addedAt - renamedAt);
      }
      await page.waitForTimeout(100);
    }
    offAdded();
    if (profiler && studioProfiler) {
      printProfile('page', ((await profiler.send('Profiler.stop')) as { profile: CpuProfile }).profile);
      printProfile('Studio (this process)', ((await studioProfiler.post('Profiler.stop')) as { profile: CpuProfile }).profile);
      studioProfiler.disconnect();
    }
    const renameP95 = percentile(latencies, 0.95);
    if (process.env['BENCH_VERBOSE']) console.log(`rename latencies (ms): ${latencies.map((t) => Math.round(t)).join(' ')}; core: ${coreLatencies.join(' ')}`);
    rows.push({
      what: `rename on disk → on the timeline (${RENAMES} renames, 100 ms apart)`,
      value: `p95 ${Math.round(renameP95)} ms (median ${Math.round(percentile(latencies, 0.5))})`,
      target: 'p95 ≤ 300 ms',
      ok: renameP95 <= 300,
    });
    rows.push({
      what: `  the ${WARM_UP} before them (warm-up, not counted)`,
      value: warmUp.map((t) => `${Math.round(t)}`).join(', ') + ' ms',
      target: '',
      ok: null,
    });
    rows.push({
      what: "  of which: rename → the Studio's catalog:added",
      value: `p95 ${Math.round(percentile(coreLatencies, 0.95))} ms (median ${Math.round(percentile(coreLatencies, 0.5))})`,
      target: '',
      ok: null,
    });

    // The page's JS heap after a garbage collection, with every view visited.
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    const heapMb = heap.usedSize / 1024 / 1024;
    rows.push({ what: "the page's JS heap (after GC)", value: `${heapMb.toFixed(0)} MB`, target: '≤ 200 MB', ok: heapMb <= 200 });
    if (problems.length > 0) console.log(`page errors: ${problems.join('; ')}`);
    await context.close();
  } finally {
    await browser.close();
    await closeServer?.();
    await studio.close();
    rmSync(base, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map((r) => r.what.length));
  for (const row of rows)
    console.log(`${row.what.padEnd(width)}  ${row.value.padStart(26)}  target ${row.target.padEnd(12)} ${row.ok === null ? '' : row.ok ? 'met' : 'MISSED'}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
