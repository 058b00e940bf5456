// The user's settings: recent workspaces and view state survive a new Studio (a restart of either
// host), bad stored content is kept aside rather than lost, and a bad request is refused.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_VIEW_STATE_BYTES, RECENT_WORKSPACES } from '../../electron/contract.js';
import { userSettingsFile } from '../../electron/core/studio/settings-file.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { makeTempWorkspace, onCleanup, useTempWorkspaces } from '../store/helpers.js';

useTempWorkspaces();

function studioWith(settingsFile: string): Studio {
  const studio = new Studio({ settingsFile });
  onCleanup(() => studio.close());
  return studio;
}

function workspaces(count: number): string[] {
  return Array.from({ length: count }, () => {
    const { root } = makeTempWorkspace();
    mkdirSync(root, { recursive: true });
    return root;
  });
}

describe('settings', () => {
  it('remembers opened workspaces newest first, without duplicates, across a restart', async () => {
    const file = path.join(makeTempWorkspace().root, 'config', 'settings.json');
    const [a, b] = workspaces(2) as [string, string];
    const first = studioWith(file);
    await first.api.openWorkspace({ path: a });
    await first.api.openWorkspace({ path: b });
    await first.api.openWorkspace({ path: a });
    await first.close();
    const again = studioWith(file);
    expect((await again.api.settings()).recentWorkspaces).toEqual([a, b]);
  });

  it(`keeps the ${RECENT_WORKSPACES} most recent and forgets one on request`, async () => {
    const file = path.join(makeTempWorkspace().root, 'settings.json');
    const studio = studioWith(file);
    const all = workspaces(RECENT_WORKSPACES + 2);
    for (const root of all) await studio.api.openWorkspace({ path: root });
    const recent = (await studio.api.settings()).recentWorkspaces;
    expect(recent).toEqual(all.slice(2).reverse());
    const after = await studio.api.updateSettings({ forgetWorkspaces: [recent[0] as string] });
    expect(after.recentWorkspaces).toEqual(recent.slice(1));
  });

  it('replaces and removes view keys, and the file holds what was returned', async () => {
    const file = path.join(makeTempWorkspace().root, 'settings.json');
    const studio = studioWith(file);
    await studio.api.updateSettings({ view: { charts: { smoothing: 0.8 }, timeline: { axis: 'step' } } });
    const saved = await studio.api.updateSettings({ view: { charts: { smoothing: 0.3 }, timeline: null } });
    expect(saved.view).toEqual({ charts: { smoothing: 0.3 } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(saved);
  });

  it('refuses view state over its size bound, and changes nothing', async () => {
    const file = path.join(makeTempWorkspace().root, 'settings.json');
    const studio = studioWith(file);
    await studio.api.updateSettings({ view: { charts: { smoothing: 0.5 } } });
    const before = readFileSync(file, 'utf8');
    await expect(studio.api.updateSettings({ view: { charts: 'x'.repeat(MAX_VIEW_STATE_BYTES) } })).rejects.toMatchObject({ code: 'usage' });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('keeps an unreadable settings file aside, says so, and starts from defaults', async () => {
    const dir = makeTempWorkspace().root;
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, '{"recentWorkspaces": [');
    const studio = studioWith(file);
    const warnings: string[] = [];
    studio.on('warning', ({ message }) => warnings.push(message));
    expect(await studio.api.settings()).toEqual({ recentWorkspaces: [], view: {}, quietSeconds: 10 });
    expect(warnings).toEqual([
      expect.stringMatching(
        /settings .*settings\.json are not valid \(not valid JSON: a closing bracket was expected at line 1, column 23\): kept as settings\.json\.unreadable-\d+/,
      ),
    ]);
    const aside = readdirSync(dir).find((name) => name.startsWith('settings.json.unreadable-'));
    expect(aside && readFileSync(path.join(dir, aside), 'utf8')).toBe('{"recentWorkspaces": [');
  });

  it('lives in memory when no file is given', async () => {
    const studio = new Studio();
    onCleanup(() => studio.close());
    const [root] = workspaces(1) as [string];
    await studio.api.openWorkspace({ path: root });
    expect((await studio.api.updateSettings({ view: { a: 1 } })).recentWorkspaces).toEqual([root]);
  });

  it('follows each platform’s convention for the settings folder', () => {
    expect(userSettingsFile({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/checkpoint-studio/settings.json');
    expect(userSettingsFile({ XDG_CONFIG_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.config/checkpoint-studio/settings.json');
    expect(userSettingsFile({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Checkpoint Studio/settings.json');
  });
});
