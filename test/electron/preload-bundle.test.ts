// The preload as Electron's sandbox loads it: dist/electron/preload.cjs, made by `npm run build`.
// A sandboxed preload is one CommonJS script that may require only a few of Electron's own
// modules, so it is run in a bare VM context whose require knows nothing but 'electron', and what
// it exposes is seen as the page sees it, across a stand-in for the context bridge.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { studioEvents, studioMethods } from '../../electron/contract.js';
import type { StudioApi, StudioEventName } from '../../electron/contract.js';
import { CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, EVENT_CHANNEL, READY_CHANNEL } from '../../electron/host/ipc-protocol.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { type LoadedPreload, PRELOAD_BUNDLE, StandInIpc, loadPreload } from './electron-stand-ins.js';

interface Stubbed extends LoadedPreload {
  readonly invoked: unknown[][];
  readonly sent: string[];
}

/** The preload over an ipcRenderer that answers every invoke with `reply` (or fails it), recording what it is asked. */
function load(reply: unknown, fails = false): Stubbed {
  const invoked: unknown[][] = [];
  const sent: string[] = [];
  const loaded = loadPreload({
    ipcRenderer: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        if (fails) throw new Error(`Error invoking remote method '${String(args[0])}': Error: the main process is gone`);
        return reply;
      },
      send: (channel: string) => sent.push(channel),
      on: () => undefined,
      off: () => undefined,
    },
    webUtils: { getPathForFile: () => '/dropped/file' },
  });
  return { ...loaded, invoked, sent };
}

function studioOf(loaded: LoadedPreload): StudioApi {
  const studio = loaded.exposed.get('studio');
  if (!studio) throw new Error('the preload exposed no studio');
  return studio as unknown as StudioApi;
}

/** The preload over the stand-in IPC pair: events come from the main side's webContents.send. */
function loadOverIpc(): { ipc: StandInIpc; studio: StudioApi; loaded: LoadedPreload } {
  const ipc = new StandInIpc();
  const loaded = loadPreload({ ipcRenderer: ipc.ipcRenderer });
  return { ipc, studio: studioOf(loaded), loaded };
}

describe('the preload bundle', () => {
  it('exists after the build, where main.ts loads it from', () => {
    expect(fs.existsSync(PRELOAD_BUNDLE), `${PRELOAD_BUNDLE} is missing: npm run build makes it`).toBe(true);
    const main = fs.readFileSync(path.join(REPOSITORY_ROOT, 'electron', 'main.ts'), 'utf8');
    expect(main).toContain("path.join(here, 'preload.cjs')");
  });

  it('is CommonJS that requires nothing but electron', () => {
    const text = fs.readFileSync(PRELOAD_BUNDLE, 'utf8');
    const required = [...text.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((match) => match[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
    // A module (import/export) would not even parse as a script.
    expect(() => new vm.Script(text)).not.toThrow();
  });

  it('exposes window.studio with every method of the contract, answering through the one IPC channel', async () => {
    const run = {
      name: 'alpha',
      path: '/w/alpha',
      layout: 'studio',
      label: null,
      latest: null,
      createdAt: null,
      parent: null,
      checkpointCount: 0,
      bytes: 0,
      writer: null,
      notes: [],
    };
    const loaded = load({ ok: true, result: [run] });
    const studio = loaded.exposed.get('studio');
    expect(Object.keys(studio ?? {}).sort()).toEqual([...Object.keys(studioMethods), 'on'].sort());
    await expect(studioOf(loaded).listRuns()).resolves.toEqual([run]);
    expect(loaded.invoked).toEqual([[CALL_CHANNEL, 'listRuns', undefined]]);
    expect([...loaded.exposed.keys()].every((key) => key.startsWith('studio'))).toBe(true);
  });

  it("checks every answer against the contract in the page's process", async () => {
    await expect(studioOf(load({ ok: true, result: ['alpha'] })).listRuns()).rejects.toEqual({
      name: 'StudioError',
      code: 'internal',
      message: expect.stringContaining('listRuns is not what the contract says'),
    });
    await expect(studioOf(load({ ok: 'maybe' })).listRuns()).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('reply to listRuns') });
  });

  it("exposes studioFiles: a dropped file's path and the native folder dialog over its own channel", async () => {
    const chosen = load('/home/u/checkpoints');
    const files = chosen.exposed.get('studioFiles');
    expect(Object.keys(files ?? {}).sort()).toEqual(['chooseFolder', 'pathFor']);
    expect((files?.pathFor as (f: unknown) => string)({})).toBe('/dropped/file');
    await expect((files?.chooseFolder as () => Promise<unknown>)()).resolves.toBe('/home/u/checkpoints');
    expect(chosen.invoked).toEqual([[CHOOSE_FOLDER_CHANNEL]]);
    // Whatever else comes back (a refused sender gets null; anything malformed) is no folder.
    const odd = load({ path: '/x' }).exposed.get('studioFiles');
    await expect((odd?.chooseFolder as () => Promise<unknown>)()).resolves.toBeNull();
  });

  it('rejects with plain data that crosses the context bridge with its code (an Error would lose it)', async () => {
    const refused = studioOf(load({ ok: false, error: { code: 'not-found', message: 'no such run' } }));
    await expect(refused.listRuns()).rejects.toEqual({ name: 'StudioError', code: 'not-found', message: 'no such run' });
    const unreachable = studioOf(load(null, true));
    await expect(unreachable.listRuns()).rejects.toEqual({
      name: 'StudioError',
      code: 'internal',
      message: "listRuns did not reach the Studio: Error invoking remote method 'studio:call': Error: the main process is gone",
    });
  });

  it('says ready once, a turn after the first subscription', async () => {
    const loaded = load(null);
    const studio = studioOf(loaded);
    studio.on('warning', () => undefined);
    studio.on('catalog:added', () => undefined);
    expect(loaded.sent).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    studio.on('catalog:changed', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(loaded.sent).toEqual([READY_CHANNEL]);
  });

  it("keeps one ipcRenderer listener for the page's lifetime, however many subscriptions it makes", () => {
    const { ipc, studio } = loadOverIpc();
    const offs = (Object.keys(studioEvents) as StudioEventName[]).flatMap((event) => [studio.on(event, () => undefined), studio.on(event, () => undefined)]);
    expect(offs.length).toBeGreaterThan(10);
    expect(ipc.rendererListenerCount(EVENT_CHANNEL)).toBe(1);
    offs.forEach((off) => off());
    expect(ipc.rendererListenerCount(EVENT_CHANNEL)).toBe(1);
  });

  it('hands each event to its subscribers as the contract parses it, and drops a malformed one with a warning', async () => {
    const { ipc, studio, loaded } = loadOverIpc();
    const removed: unknown[] = [];
    const warnings: string[] = [];
    const off = studio.on('catalog:removed', (payload) => removed.push(payload));
    studio.on('warning', (warning) => warnings.push(warning.message));
    const last = new Promise((resolve) => studio.on('training:log', resolve));

    ipc.webContents.send(EVENT_CHANNEL, { event: 'catalog:removed', payload: { id: 'a/ckpt-000000001', run: 'a', step: 1, extra: 'not in the contract' } });
    ipc.webContents.send(EVENT_CHANNEL, { event: 'catalog:removed', payload: { id: 'a/ckpt-000000002', run: 'a', step: -2 } });
    ipc.webContents.send(EVENT_CHANNEL, { event: 'no-such-event', payload: {} });
    ipc.webContents.send(EVENT_CHANNEL, 'not even an object');
    ipc.webContents.send(EVENT_CHANNEL, { event: 'training:log', payload: { level: 'info', text: 'last' } });
    await last;
    off();
    ipc.webContents.send(EVENT_CHANNEL, { event: 'catalog:removed', payload: { id: 'a/ckpt-000000003', run: 'a', step: 3 } });
    ipc.webContents.send(EVENT_CHANNEL, { event: 'training:log', payload: { level: 'info', text: 'after' } });
    await new Promise((resolve) => studio.on('training:log', resolve));

    expect(removed).toEqual([{ id: 'a/ckpt-000000001', run: 'a', step: 1 }]);
    expect(warnings).toEqual([
      'the Studio sent a malformed catalog:removed event: Too small: expected number to be >=0',
      expect.stringMatching(/^the Studio sent a message this page does not understand: /),
      expect.stringMatching(/^the Studio sent a message this page does not understand: /),
    ]);
    expect(loaded.console.filter((line) => line.level === 'warn').map((line) => line.text)).toEqual(warnings);
  });
});
