// The Distributions view in browser mode, on a run of twelve checkpoints whose kernel spreads and
// drifts as it trains: open the tab, find the tensor by name, and see the quantile bands and the
// stacked histograms drawn; the cursor over a step names that checkpoint with its figures. Light
// and dark screenshots go to test-results/ui/ to be looked at.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { f32, trainingState } from '../store/helpers.js';
import { expectNoProblems, useUi } from './harness.js';

const open = useUi();
const STEPS = Array.from({ length: 12 }, (_, i) => (i + 1) * 100);

/** Normal-looking values (Box–Muller on a fixed sequence) whose mean drifts and spread widens with the step; step 700 holds NaN and Inf. */
function kernel(step: number): number[] {
  let seed = 12345 + step;
  const uniform = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed + 1) / 2147483649;
  };
  const values = Array.from({ length: 4000 }, () => {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return step / 4000 + normal * (0.02 + step / 8000);
  });
  // Step 700 diverged a little: two NaN and an infinity.
  if (step === 700) values.splice(0, 3, NaN, NaN, Infinity);
  return values;
}

async function prepare(store: CheckpointStore): Promise<void> {
  const writer = await store.createRun('spread', { parent: null, config: {} });
  for (const step of STEPS) {
    const state = trainingState(step);
    const model: Tensor[] = [{ name: 'dense/kernel', dtype: 'F32', shape: [40, 100], data: f32(kernel(step)) }, ...state.model.slice(1)];
    await writer.save({ ...state, model });
  }
  await writer.close();
}

/** Coloured (not blank) pixels in a column of the canvas in `figure`, at a fraction of its width. */
async function paintedInColumn(page: Page, figure: string, at: number): Promise<number> {
  return page.locator(`figure:has-text("${figure}") canvas`).evaluate((canvas: HTMLCanvasElement, fraction) => {
    const ctx = canvas.getContext('2d');
    if (!ctx) return 0;
    const x = Math.round(canvas.width * fraction);
    const { data } = ctx.getImageData(x, 0, 1, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) painted += 1;
    return painted;
  }, at);
}

describe('the Distributions view', () => {
  for (const colorScheme of ['light', 'dark'] as const)
    it(`finds a tensor by name and draws its quantile bands and histograms over steps (${colorScheme})`, async () => {
      const world = await open(prepare, { colorScheme });
      const { page } = world;
      await page.getByRole('tab', { name: 'Distributions' }).click();
      const tensors = page.getByRole('listbox', { name: 'Tensors' });
      await expect.poll(() => tensors.getByRole('option').count()).toBeGreaterThan(3);
      // Weights and the optimizer's state are both offered.
      await expect.poll(() => tensors.getByRole('option', { name: /adam\/m\/dense\/kernel/ }).count()).toBe(1);
      await page.getByRole('searchbox', { name: 'Filter tensors' }).fill('dense/ker');
      await expect.poll(() => tensors.getByRole('option').count()).toBe(3);
      await tensors.getByRole('option', { name: /^dense\/kernel/ }).click();

      const readout = page.getByTestId('distribution-readout');
      await readout.waitFor();
      expect(await readout.textContent()).toContain('12 checkpoints');
      // The bands fill a good part of the plot's height in the middle of the run; the histograms are drawn.
      const bands = await paintedInColumn(page, 'Quantiles over steps', 0.55);
      expect(bands).toBeGreaterThan(40);
      expect(await paintedInColumn(page, 'Histograms', 0.5)).toBeGreaterThan(40);

      // The cursor over the bands near step 600 names that checkpoint and its figures.
      const plot = page.getByRole('slider', { name: /Quantile bands of dense\/kernel/ });
      const box = await plot.boundingBox();
      if (!box) throw new Error('the bands chart has no box');
      const left = 64;
      const right = box.width - 16;
      await page.mouse.move(box.x + left + ((600 - 100) / 1100) * (right - left), box.y + box.height / 2);
      await expect.poll(() => readout.textContent()).toContain('step 600');
      const expected = await world.studio.api.tensorDistributions({ run: 'spread', tensor: 'dense/kernel' });
      const at600 = expected.points.find((p) => p.step === 600);
      expect(at600?.count).toBe(4000);
      expect(await readout.textContent()).toMatch(/median -?0\.\d+/);

      // The cursor over the front (newest) histogram names the last step.
      const ridges = page.getByRole('slider', { name: /Histograms of dense\/kernel/ });
      const ridgeBox = await ridges.boundingBox();
      if (!ridgeBox) throw new Error('the histograms chart has no box');
      await page.mouse.move(ridgeBox.x + ridgeBox.width / 2, ridgeBox.y + ridgeBox.height - 30);
      await expect.poll(() => readout.textContent()).toContain('step 1,200');
      await world.screenshot(`distributions-${colorScheme}`);

      // One tab stop per chart; the arrow keys move the checkpoint read out.
      await plot.focus();
      await page.keyboard.press('Home');
      await expect.poll(() => readout.textContent()).toContain('step 100 ');
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => readout.textContent()).toContain('step 200 ');
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => plot.getAttribute('aria-valuetext')).toBe('step 1,100');

      // The checkpoint with NaN and Inf is marked above the bands and says how many.
      expect(await page.getByText('▼ NaN or Inf').count()).toBe(1);
      for (let i = 0; i < 4; i += 1) await page.keyboard.press('ArrowLeft');
      await expect.poll(() => readout.textContent()).toContain('step 700 ');
      expect(await readout.textContent()).toContain('2 NaN · 1 Inf');
      const mark = await page.locator('figure:has-text("Quantiles over steps") canvas').evaluate(
        (canvas: HTMLCanvasElement, at) => {
          const scale = canvas.width / canvas.getBoundingClientRect().width;
          const [r, g] = canvas.getContext('2d')?.getImageData(Math.round(at * scale), Math.round(9 * scale), 1, 1).data ?? [];
          return { r: r ?? 0, g: g ?? 0 };
        },
        left + ((700 - 100) / 1100) * (right - left),
      );
      expect(mark.r - mark.g).toBeGreaterThan(60);
      expectNoProblems(world);
    }, 60_000);

  it('offers to update when the run saves another checkpoint', async () => {
    const world = await open(prepare);
    const { page } = world;
    await page.getByRole('tab', { name: 'Distributions' }).click();
    await page
      .getByRole('listbox', { name: 'Tensors' })
      .getByRole('option', { name: /^dense\/kernel/ })
      .click();
    const readout = page.getByTestId('distribution-readout');
    await expect.poll(() => readout.textContent()).toContain('12 checkpoints');

    // Another process saves step 1300 into the run.
    const other = await CheckpointStore.open(world.workspace.root);
    const writer = await other.openRunWriter('spread');
    const state = trainingState(1300);
    await writer.save({ ...state, model: [{ name: 'dense/kernel', dtype: 'F32', shape: [40, 100], data: f32(kernel(1300)) }, ...state.model.slice(1)] });
    await writer.close();
    const update = page.getByRole('button', { name: 'Update' });
    await update.waitFor({ timeout: 10_000 });
    expect(await page.getByText('1 checkpoint saved since these figures were read').count()).toBe(1);
    await update.click();
    await expect.poll(() => readout.textContent(), { timeout: 20_000 }).toContain('13 checkpoints');
    expect(await update.count()).toBe(0);
    expectNoProblems(world);
  }, 60_000);
});

describe('a long computation of distributions', () => {
  it('offers Cancel while it reads the checkpoints, and stops when asked', async () => {
    const ELEMENTS = 4 << 20;
    const world = await open(async (store) => {
      const writer = await store.createRun('large', { parent: null, config: {} });
      for (const step of [100, 200, 300, 400]) {
        const state = trainingState(step);
        const values = new Float32Array(ELEMENTS);
        for (let i = 0; i < ELEMENTS; i += 1) values[i] = Math.sin(i * 0.001 + step);
        const model: Tensor[] = [{ name: 'huge', dtype: 'F32', shape: [ELEMENTS], data: new Uint8Array(values.buffer) }, ...state.model];
        await writer.save({ ...state, model });
      }
      await writer.close();
    });
    const { page } = world;
    await page.getByRole('tab', { name: 'Distributions' }).click();
    await page.getByRole('listbox', { name: 'Tensors' }).getByRole('option', { name: /^huge/ }).click();
    const charts = page.getByRole('region', { name: 'Distributions' });
    const cancel = charts.getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    await world.screenshot('distributions-computing');
    await cancel.click();
    await expect.poll(() => page.getByTestId('distributions-cancelled').textContent()).toContain('Cancelled.');
    expect(await charts.getByRole('status').filter({ hasText: 'Reading the checkpoints' }).count()).toBe(0);
    await world.screenshot('distributions-cancelled');
    expectNoProblems(world);
  }, 60_000);
});
