// Each UI test owns a world: a temporary workspace, browser mode serving it from this process
// (the same Studio and server `checkpoint-studio serve` runs), a fresh browser context, and a
// page whose console errors and uncaught exceptions fail the test. Screenshots go to
// test-results/ui/ (gitignored) to be looked at.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { type BrowserServer, startBrowserServer } from '../../electron/host/browser-server.js';
import { rendererDir } from '../../electron/host/renderer-location.js';
import { type TempWorkspace, makeTempWorkspace, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { launchChromium } from './browser.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(root, 'test-results', 'ui');

export interface UiWorld {
  readonly workspace: TempWorkspace;
  readonly studio: Studio;
  readonly server: BrowserServer;
  readonly page: Page;
  readonly problems: string[];
  screenshot(name: string): Promise<void>;
}

export interface UiOptions {
  /** Light or dark: prefers-color-scheme in the page. */
  readonly colorScheme?: 'light' | 'dark';
  readonly viewport?: { width: number; height: number };
}

/** Registers the hooks of a UI test file; returns what opens a world in a test. */
export function useUi(): (prepare?: (store: CheckpointStore) => Promise<void>, options?: UiOptions) => Promise<UiWorld> {
  useTempWorkspaces();
  let browser: Browser | null = null;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
  });

  return async (prepare, options = {}) => {
    if (!browser) throw new Error('the browser did not start');
    const workspace = makeTempWorkspace();
    const store = await CheckpointStore.open(workspace.root);
    await prepare?.(store);
    const studio = new Studio({ watch: true });
    await studio.api.openWorkspace({ path: workspace.root });
    const server = await startBrowserServer({ api: studio.api, rendererDir: rendererDir() });
    onCleanup(async () => {
      await server.close();
      await studio.close();
    });
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 860 }, colorScheme: options.colorScheme ?? 'light' });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(server.url);
    mkdirSync(SCREENSHOTS, { recursive: true });
    return {
      workspace,
      studio,
      server,
      page,
      problems,
      screenshot: async (name) => {
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
      },
    };
  };
}

/** The page reported no console error and threw nothing (a CSP violation would show here). */
export function expectNoProblems(world: UiWorld): void {
  expect(world.problems).toEqual([]);
}

/** A run of small checkpoints, as a trainer would have written them. */
export async function writeRun(
  store: CheckpointStore,
  run: string,
  steps: readonly number[],
  parent: { run: string; step: number } | null = null,
): Promise<void> {
  const writer = await store.createRun(run, { parent, config: {} });
  for (const step of steps) await writer.save(trainingState(step, { parent }));
  await writer.close();
}
