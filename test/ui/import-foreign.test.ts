// Importing other programs' checkpoints in browser mode, in a real Chromium, from the real
// Apache fixtures in test/data: by the import dialog's path field (a relative path refused in
// the page, a path that is no checkpoint refused naming it, a TensorFlow checkpoint found,
// linked in place and shown with its format, source and tensor roles, its folder untouched);
// and uploaded through the pickers (a SavedModel folder copied and verified; one loose
// .safetensors file); and loose files dropped together (a TF.js model.json beside its shard).
// Screenshots of the found step, the results and the details pane.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sharedFixture, testData } from '../fixtures.js';
import { treeHash } from '../import/import-helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();
const tfjs = sharedFixture('tfjs-layers', 'celsius-dense');

/** Drops files on the window as a person's drag would (a DataTransfer built in the page holds files, not folders). */
async function dropFiles(page: Page, files: readonly string[]): Promise<void> {
  const items = files.map((file) => ({ name: path.basename(file), base64: readFileSync(file).toString('base64') }));
  await page.evaluate((dropped) => {
    const transfer = new DataTransfer();
    for (const { name, base64 } of dropped) transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name));
    const main = document.querySelector('main');
    main?.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    main?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, items);
}

describe("importing another program's checkpoints", () => {
  it('finds a TensorFlow checkpoint by a typed path, links it in place, and shows where it is read from', { timeout: 90_000 }, async () => {
    const exporter = testData('tf-serving', 'half-plus-two-exporter');
    const before = treeHash(exporter);
    const world = await open((store) => writeRun(store, 'alpha', [1, 2]));
    const { page } = world;
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.getAttribute('data-lanes')).toBe('1');

    await page.getByRole('button', { name: 'Import…' }).click();
    const start = page.getByRole('dialog', { name: 'Import checkpoints' });
    const field = start.getByLabel('Import from a path on this computer');
    // Relative: refused in the page, nothing asked of the Studio.
    await field.fill('test/data/tf-serving/half-plus-two-exporter');
    await start.getByRole('button', { name: 'Look' }).click();
    await expect.poll(() => start.getByRole('alert').textContent()).toMatch(/^test\/data\/tf-serving\/half-plus-two-exporter: not an absolute path/);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await world.screenshot('import-start');

    // A file that is no checkpoint: the found step says so, naming it, and offers no import.
    const notes = testData('ATTRIBUTION.md');
    await field.fill(notes);
    await start.getByRole('button', { name: 'Look' }).click();
    const refused = page.getByRole('dialog', { name: 'Nothing can be imported' });
    await expect.poll(() => refused.count()).toBe(1);
    expect(await refused.textContent()).toContain(`${notes}: refused: not something this program can import`);
    expect(await refused.getByRole('button', { name: 'Import', exact: true }).count()).toBe(0);
    await world.screenshot('import-found-refused');
    // Back to the path field, the path kept to be corrected.
    await refused.getByRole('button', { name: 'Back' }).click();
    expect(await field.inputValue()).toBe(notes);
    await start.getByLabel('Import from a path on this computer').fill(exporter);
    await start.getByLabel('Import from a path on this computer').press('Enter');
    const found = page.getByRole('dialog', { name: 'Found 1 source to import' });
    await expect.poll(() => found.count()).toBe(1);
    const text = (await found.textContent()) ?? '';
    expect(text).toContain('TensorFlow checkpoint');
    expect(text).toContain(exporter);
    expect(text).toMatch(/1 checkpoint · no step recorded · 2 tensors · 4\.4 KB/);
    // A typed path is a real path on the Studio's machine: it may be linked in place.
    const link = found.getByRole('radio', { name: /Link in place.*never written or deleted; nothing copied/ });
    expect(await found.getByRole('radio', { name: /Copy into the workspace/ }).isChecked()).toBe(true);
    await world.screenshot('import-found');
    await link.check();
    await found.getByRole('button', { name: 'Link in place' }).click();

    const done = page.getByRole('dialog', { name: 'Imported 1 source' });
    await expect.poll(() => done.count(), { timeout: 20_000 }).toBe(1);
    expect(await done.textContent()).toMatch(/→ run half-plus-two-exporter \(new\), 1 checkpoint.*imported as step 0, as it records no step of its own/);
    await world.screenshot('import-results');
    await done.getByRole('button', { name: 'Close' }).click();

    // On the timeline as a second run; its details say what it is and where it is read from.
    await expect.poll(() => timeline.getAttribute('data-lanes')).toBe('2');
    await page.getByRole('option', { name: /^half-plus-two-exporter step 0,/ }).click();
    const details = page.getByRole('complementary', { name: 'Checkpoint details' });
    await expect.poll(() => details.getByRole('heading', { name: 'half-plus-two-exporter step 0' }).count()).toBe(1);
    const shown = (await details.textContent()) ?? '';
    // The term and its value, as the list pairs them (layout whitespace between them is not content).
    expect(shown.replace(/\s+/g, ' ')).toMatch(/Format ?TensorFlow checkpoint/);
    expect(shown).toContain(`read in place from ${exporter} (never written)`);
    await expect.poll(() => details.getByRole('columnheader', { name: 'Role' }).count()).toBe(1);
    const row = details.getByRole('row', { name: /^Variable_1 / });
    expect(await row.getByRole('cell').last().textContent()).toBe('weight');
    await row.scrollIntoViewIfNeeded();
    await world.screenshot('import-linked-details');

    const [checkpoint] = await world.studio.api.listCheckpoints({ run: 'half-plus-two-exporter' });
    expect(checkpoint?.linked).toBe(true);
    expect(checkpoint?.source?.linkedFrom).toBe(exporter);
    expect(treeHash(exporter)).toBe(before);
    expectNoProblems(world);
  });

  it('uploads a SavedModel folder and a loose .safetensors file, each copied and verified', { timeout: 90_000 }, async () => {
    const world = await open();
    const { page } = world;

    const folder = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByRole('button', { name: 'Choose a folder…' }).click();
    await (await folder).setFiles(testData('tf-serving', 'saved-model-v1-half-plus-two'));
    const found = page.getByRole('dialog', { name: 'Found 1 source to import' });
    await expect.poll(() => found.count(), { timeout: 20_000 }).toBe(1);
    const text = (await found.textContent()) ?? '';
    expect(text).toMatch(/TensorFlow SavedModel variables.*saved-model-v1-half-plus-two/);
    expect(text).toMatch(/5 tensors/);
    // Named as chosen, not by where the server staged the upload.
    expect(text).not.toContain('checkpoint-studio-uploads');
    expect(await found.getByRole('radio').count()).toBe(0);
    await found.getByRole('button', { name: 'Import', exact: true }).click();
    const done = page.getByRole('dialog', { name: 'Imported 1 source' });
    await expect.poll(() => done.count(), { timeout: 20_000 }).toBe(1);
    expect(await done.textContent()).toMatch(/saved-model-v1-half-plus-two → run saved-model-v1-half-plus-two \(new\), 1 checkpoint/);
    expect(await done.textContent()).toContain('Every checkpoint was verified before it was added.');
    await done.getByRole('button', { name: 'Close' }).click();

    const files = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByRole('button', { name: 'Choose files…' }).click();
    await (await files).setFiles(testData('hf-safetensors-samples', 'f.safetensors'));
    await expect.poll(() => found.count(), { timeout: 20_000 }).toBe(1);
    expect(await found.textContent()).toMatch(/safetensors.*f\.safetensors.*1 checkpoint/);
    await found.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => done.count(), { timeout: 20_000 }).toBe(1);
    expect(await done.textContent()).toMatch(/f\.safetensors → run f \(new\), 1 checkpoint/);
    await done.getByRole('button', { name: 'Close' }).click();

    await expect.poll(() => page.getByTestId('timeline').getAttribute('data-lanes')).toBe('2');
    for (const run of ['saved-model-v1-half-plus-two', 'f']) {
      const checkpoints = await world.studio.api.listCheckpoints({ run });
      expect(checkpoints.map((c) => [c.origin, c.status, c.linked, c.source?.linkedFrom ?? null])).toEqual([['imported', 'verified', false, null]]);
    }
    expectNoProblems(world);
  });

  it.skipIf(tfjs === null)('imports a TF.js model.json dropped together with its weight shard', { timeout: 90_000 }, async () => {
    const world = await open();
    const { page } = world;
    const dir = tfjs as string;
    await dropFiles(page, [path.join(dir, 'model.json'), path.join(dir, 'group1-shard1of1.bin')]);
    const found = page.getByRole('dialog', { name: 'Found 1 source to import' });
    await expect.poll(() => found.count(), { timeout: 20_000 }).toBe(1);
    const text = (await found.textContent()) ?? '';
    expect(text).toMatch(/TensorFlow\.js/);
    // The two files went up side by side, named by the model file, not by the server's staging path.
    expect(text).toContain('model.json');
    expect(text).not.toContain('checkpoint-studio-uploads');
    await found.getByRole('button', { name: 'Import', exact: true }).click();
    const done = page.getByRole('dialog', { name: 'Imported 1 source' });
    await expect.poll(() => done.count(), { timeout: 20_000 }).toBe(1);
    expect(await done.textContent()).toMatch(/→ run model \(new\), 1 checkpoint/);
    await world.screenshot('import-dropped-files');
    await done.getByRole('button', { name: 'Close' }).click();
    const [checkpoint] = await world.studio.api.listCheckpoints({ run: 'model' });
    expect([checkpoint?.status, checkpoint?.source?.format]).toEqual(['verified', 'tfjs-layers']);
    expectNoProblems(world);
  });
});
