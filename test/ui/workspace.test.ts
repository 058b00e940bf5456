// Opening workspaces: a typed path opens, a missing one is refused where it was typed (nothing
// is created), and the workspaces opened lately are offered again and can be forgotten.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { makeTempWorkspace } from '../store/helpers.js';
import { expectNoProblems, useUi, writeRun } from './harness.js';

const open = useUi();

describe('opening a workspace', () => {
  it('opens a typed path, refuses a missing one in place, and reopens a recent one', { timeout: 60_000 }, async () => {
    const world = await open(async (store) => writeRun(store, 'first', [1, 2]));
    const { page } = world;
    const first = world.studio.workspace as string;
    const other = makeTempWorkspace();
    const otherStore = await CheckpointStore.open(other.root, { access: 'create' });
    await writeRun(otherStore, 'second', [5]);
    const list = page.getByRole('listbox', { name: 'Checkpoints' });
    await expect.poll(() => list.getAttribute('data-count')).toBe('2');

    await page.getByRole('button', { name: 'Open workspace…' }).click();
    const form = page.getByRole('form', { name: 'Open workspace' });
    const missing = path.join(other.root, 'no-such-folder');
    await form.getByLabel('Workspace folder').fill(missing);
    await form.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/no such workspace folder/);
    expect(existsSync(missing)).toBe(false);

    await form.getByLabel('Workspace folder').fill(other.root);
    await form.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(otherStore.root);
    await expect.poll(() => list.getAttribute('data-count')).toBe('1');

    await page.getByRole('button', { name: 'Open workspace…' }).click();
    const recent = page.getByRole('region', { name: 'Recent workspaces' });
    await expect.poll(() => recent.getByRole('button', { name: first, exact: true }).count()).toBe(1);
    await world.screenshot('open-workspace');
    await recent.getByRole('button', { name: first, exact: true }).click();
    await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(first);
    await expect.poll(() => list.getAttribute('data-count')).toBe('2');

    await page.getByRole('button', { name: 'Open workspace…' }).click();
    await recent.getByRole('button', { name: `Forget ${otherStore.root}` }).click();
    await expect.poll(() => recent.count()).toBe(0);
    expect((await world.studio.api.settings()).recentWorkspaces).toEqual([first]);
    expect(existsSync(otherStore.root)).toBe(true);
    expectNoProblems(world);
  });
});
