// Import in browser mode, in a real Chromium. What this covers: the drop zone's highlight and a
// drop, from a synthesised drag of a DataTransfer (Chromium cannot synthesise a dropped *folder*:
// a DataTransfer built in the page holds files only, so a loose file is uploaded, described and
// refused as not a checkpoint); and the whole upload + describe + import path through the
// import dialog's folder picker, given a real folder by Playwright (setFiles of a directory
// fills webkitRelativePath as a person's choice would): the files are uploaded, the found step
// says what they hold, importFolders imports the staged folder, the run appears; a damaged folder
// is refused with the file named and the list stays as it was.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flipLastByte, sourceWorkspace } from '../import/import-helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

describe('import', () => {
  it(
    'highlights the drop zone, imports a run folder chosen with Import…, and refuses a damaged one without changing the list',
    { timeout: 90_000 },
    async () => {
      const sources = await sourceWorkspace({ beta: [100, 200], gamma: [300] });
      flipLastByte(path.join(sources, 'gamma', 'ckpt-000000300', 'model.safetensors'));
      const world = await open((store) => writeRun(store, 'alpha', [1, 2]));
      const { page } = world;
      const list = page.getByRole('listbox', { name: 'Checkpoints' });
      await expect.poll(() => list.getByRole('option').count()).toBe(2);

      // A drag carrying files highlights the whole window; a dropped file that is no checkpoint is refused, named.
      await page.evaluate(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(['{}'], 'manifest.json', { type: 'application/json' }));
        (window as unknown as { dragged: DataTransfer }).dragged = transfer;
        document.querySelector('main')?.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      });
      await expect.poll(() => page.getByTestId('drop-overlay').isVisible()).toBe(true);
      expect(await page.getByTestId('drop-overlay').textContent()).toContain('Drop folders or files to import');
      await world.screenshot('import-drop-highlight');
      await page.evaluate(() => {
        const transfer = (window as unknown as { dragged: DataTransfer }).dragged;
        document.querySelector('main')?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      });
      await expect.poll(() => page.getByTestId('drop-overlay').count()).toBe(0);
      const refusedDrop = page.getByRole('dialog', { name: 'Nothing can be imported' });
      await expect.poll(() => refusedDrop.count()).toBe(1);
      expect(await refusedDrop.textContent()).toMatch(/manifest\.json cannot be imported.*manifest\.json: refused: not something this program can import/);
      expect(await refusedDrop.getByRole('button', { name: 'Import', exact: true }).count()).toBe(0);
      await refusedDrop.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => refusedDrop.count()).toBe(0);

      // Import… opens the dialog, its "Choose a folder…" the folder picker; the chosen folder is
      // uploaded and described, and imported on Import. An upload is never offered as a link.
      const chosen = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Import…' }).click();
      await page.getByRole('dialog', { name: 'Import checkpoints' }).getByRole('button', { name: 'Choose a folder…' }).click();
      await (await chosen).setFiles(path.join(sources, 'beta'));
      const found = page.getByRole('dialog', { name: 'Found 1 source to import' });
      await expect.poll(() => found.count(), { timeout: 20_000 }).toBe(1);
      expect(await found.textContent()).toMatch(/a Checkpoint Studio run beta.*2 checkpoints · steps 100–200, latest 200/);
      expect(await found.getByRole('radio', { name: /Link in place/ }).count()).toBe(0);
      await found.getByRole('button', { name: 'Import', exact: true }).click();
      const done = page.getByRole('dialog', { name: 'Imported 1 source' });
      await expect.poll(() => done.count(), { timeout: 20_000 }).toBe(1);
      expect(await done.textContent()).toMatch(/beta → run beta \(new\), 2 checkpoints/);
      await expect.poll(() => list.getByRole('option').count()).toBe(4);
      await world.screenshot('import-done');
      await done.getByRole('button', { name: 'Close' }).click();
      expect(world.studio.workspace && (await world.studio.api.listCheckpoints({ run: 'beta' })).map((c) => c.origin)).toEqual(['imported', 'imported']);

      // A damaged folder: refused, naming the file; nothing added.
      const again = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Import…' }).click();
      await page.getByRole('button', { name: 'Choose a folder…' }).click();
      await (await again).setFiles(path.join(sources, 'gamma'));
      await expect.poll(() => page.getByRole('dialog', { name: 'Found 1 source to import' }).count(), { timeout: 20_000 }).toBe(1);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      const refused = page.getByRole('dialog', { name: 'Nothing was imported' });
      await expect.poll(() => refused.count(), { timeout: 20_000 }).toBe(1);
      const text = (await refused.textContent()) ?? '';
      expect(text).toContain('gamma refused');
      // Named as the person knows it (the folder they chose), not by the server's staging path.
      expect(text).toMatch(/gamma\/ckpt-000000300\/model\.safetensors: tensor "[^"]+": CRC32C mismatch/);
      expect(text).not.toContain('checkpoint-studio-uploads');
      await world.screenshot('import-refused');
      await refused.getByRole('button', { name: 'Close' }).click();
      expect(await list.getByRole('option').count()).toBe(4);
      expect((await world.studio.api.listRuns()).map((r) => r.name).sort()).toEqual(['alpha', 'beta']);
      expectNoProblems(world);
    },
  );

  it("shows the upload's progress with Cancel, and a cancelled import adds nothing", { timeout: 90_000 }, async () => {
    const sources = await sourceWorkspace({ beta: [100, 200] });
    const world = await open((store) => writeRun(store, 'alpha', [1]));
    const { page } = world;
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option').count()).toBe(1);
    // Hold the second file's upload, so the import is caught in flight.
    let puts = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/upload/**', async (route) => {
      if (route.request().method() === 'PUT' && ++puts === 2) await held;
      await route.continue().catch(() => undefined);
    });
    const chosen = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByRole('button', { name: 'Choose a folder…' }).click();
    await (await chosen).setFiles(path.join(sources, 'beta'));
    const busy = page.getByRole('dialog', { name: 'Importing…' });
    await expect.poll(() => busy.count()).toBe(1);
    await expect.poll(async () => (await busy.textContent()) ?? '').toMatch(/Uploading.*of/);
    expect(await busy.getByRole('progressbar', { name: 'Import progress' }).count()).toBe(1);
    await world.screenshot('import-progress');
    await busy.getByRole('button', { name: 'Cancel import' }).click();
    release();
    const cancelled = page.getByRole('dialog', { name: 'Import cancelled' });
    await expect.poll(() => cancelled.count()).toBe(1);
    await world.screenshot('import-cancelled');
    await cancelled.getByRole('button', { name: 'Close' }).click();
    expect(await list.getByRole('option').count()).toBe(1);
    expect((await world.studio.api.listRuns()).map((r) => r.name)).toEqual(['alpha']);
  });
});
