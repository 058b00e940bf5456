// The desktop app itself, driven by Playwright's Electron support: its window opens on our own
// page with no Node in it, lists the workspace's checkpoints, starts a small training (in a
// utility process), shows its progress and stops it. These run wherever an Electron binary is
// installed (after a first `npm start` with internet, or CHECKPOINT_STUDIO_ELECTRON) and a
// display exists; elsewhere the file says in one line why it skipped. Each test owns a world:
// a temporary workspace and a temporary Chromium profile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ElectronApplication, type Page, _electron } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { APP_ORIGIN } from '../../electron/host/ipc-guard.js';
import { findElectron } from '../../electron/launch/electron-binary.js';
import { readElectronRelease } from '../../electron/launch/electron-release.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { writeRun } from '../ui/harness.js';

const SCREENSHOTS = path.join(REPOSITORY_ROOT, 'test-results', 'electron');

function whyNot(): string | null {
  const { version } = readElectronRelease(REPOSITORY_ROOT);
  let executable: string | null;
  try {
    executable = findElectron(readElectronRelease(REPOSITORY_ROOT));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (!executable)
    return `no Electron ${version} binary on this machine (a first \`npm start\` downloads it where github.com is reachable; CHECKPOINT_STUDIO_ELECTRON names one)`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display (run the tests under xvfb-run)';
  return null;
}

const skipped = whyNot();
if (skipped) console.log(`skipping the Electron app tests: ${skipped}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface AppWorld {
  app: ElectronApplication;
  page: Page;
  workspace: string;
  problems: string[];
}

async function launch(prepare: (store: CheckpointStore) => Promise<void>): Promise<AppWorld> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-app-ws-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-app-profile-'));
  cleanups.push(() => {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  });
  await prepare(await CheckpointStore.open(workspace));
  const executable = findElectron(readElectronRelease(REPOSITORY_ROOT)) as string;
  // Chromium's sandbox refuses to start as root without its setuid helper (CI containers).
  const rootOnly = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const app = await _electron.launch({
    executablePath: executable,
    args: [...rootOnly, `--user-data-dir=${profile}`, REPOSITORY_ROOT, '--workspace', workspace],
    cwd: workspace,
    timeout: 60_000,
  });
  cleanups.push(() => app.close());
  const output: string[] = [];
  app.process().stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const page = await app.firstWindow();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.waitForLoadState('domcontentloaded');
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return { app, page, workspace, problems };
}

describe.skipIf(skipped !== null)('the desktop app (Electron)', () => {
  it('opens our page in a window without Node, lists the checkpoints, trains with progress, and stops', { timeout: 180_000 }, async () => {
    const { app, page, problems } = await launch(async (store) => {
      await writeRun(store, 'alpha', [100, 200]);
    });
    expect(page.url()).toBe(`${APP_ORIGIN}/index.html`);
    expect(await page.title()).toBe('Checkpoint Studio');
    // The page has the StudioApi and nothing of Node or Electron.
    expect(await page.evaluate(() => ['require', 'process', 'module', 'studio'].map((name) => Reflect.has(globalThis, name)))).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((window) => window.getTitle()))).toEqual(['Checkpoint Studio']);

    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getByRole('option').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.getByRole('option', { name: /^alpha step 200,.*latest/ }).count()).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'checkpoints.png') });

    await page.getByRole('tab', { name: 'Training' }).click();
    await page.getByRole('button', { name: 'New training' }).click();
    const dialog = page.getByRole('dialog', { name: 'New training' });
    const fields: Record<string, string> = {
      'Run name': 'desktop-run',
      Model: 'mlp',
      Width: '8',
      Epochs: '100',
      'Batch size': '32',
      'Validation examples': '64',
      'Train limit': '320',
      'Data folder': miniMnistDir(),
      Backend: 'cpu',
      'Save every N steps': '5',
      'Save every N epochs': '',
      'Save on a new best': '',
      'Keep last N': '4',
    };
    for (const [label, value] of Object.entries(fields)) {
      const field = dialog.getByLabel(label, { exact: true });
      if ((await field.evaluate((element) => element.tagName)) === 'SELECT') await field.selectOption(value);
      else await field.fill(value);
    }
    await page.getByRole('button', { name: 'Start training' }).click();
    const state = page.getByTestId('training-state');
    await expect.poll(() => state.textContent(), { timeout: 60_000 }).toBe('Running');
    await expect
      .poll(async () => Number(/step ([\d,]+)/.exec((await page.getByTestId('progress-steps').textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? 0), {
        timeout: 60_000,
      })
      .toBeGreaterThanOrEqual(10);
    await expect.poll(async () => (await page.getByTestId('last-checkpoint').textContent()) ?? '', { timeout: 30_000 }).toMatch(/step \d+/);
    // The trainer is Electron's utility process, not the main process.
    const trainerPid = await page.evaluate(async () => {
      const studio = Reflect.get(globalThis, 'studio') as { listRuns(): Promise<{ name: string; writer: { pid: number } | null }[]> };
      return (await studio.listRuns()).find((run) => run.name === 'desktop-run')?.writer?.pid ?? null;
    });
    const utilityPids = await app.evaluate(({ app: electronApp }) =>
      electronApp
        .getAppMetrics()
        .filter((metric) => metric.type === 'Utility')
        .map((metric) => metric.pid),
    );
    expect(utilityPids).toContain(trainerPid);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'training.png') });

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => state.textContent(), { timeout: 60_000 }).toBe('Finished');
    await page.getByRole('tab', { name: 'Checkpoints' }).click();
    await expect.poll(() => list.getByRole('option', { name: /^desktop-run step \d+,/ }).count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    expect(problems).toEqual([]);
  });

  it('opens no second window and navigates nowhere outside the app', { timeout: 60_000 }, async () => {
    const { app, page } = await launch(async () => undefined);
    await page.evaluate(() => {
      window.open('https://example.com/', '_blank');
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(1_000);
    expect(app.windows()).toHaveLength(1);
    expect(page.url()).toBe(`${APP_ORIGIN}/index.html`);
  });
});
