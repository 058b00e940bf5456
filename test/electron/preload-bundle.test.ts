// The preload as Electron's sandbox loads it: dist/electron/preload.cjs, made by `npm run build`.
// A sandboxed preload is one CommonJS script that may require only a few of Electron's own
// modules, so it is run here in a bare VM context whose require knows nothing but 'electron'.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { studioMethods } from '../../electron/contract.js';
import { REPOSITORY_ROOT } from '../fixtures.js';

const bundle = path.join(REPOSITORY_ROOT, 'dist', 'electron', 'preload.cjs');

interface Loaded {
  exposed: Map<string, Record<string, unknown>>;
  invoked: unknown[][];
  sent: string[];
}

/** Runs the bundle with a stand-in for the three Electron modules the preload uses. */
function load(reply: unknown): Loaded {
  const exposed = new Map<string, Record<string, unknown>>();
  const invoked: unknown[][] = [];
  const sent: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: Record<string, unknown>) => exposed.set(key, value) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        invoked.push(args);
        return Promise.resolve(reply);
      },
      send: (channel: string) => sent.push(channel),
      on: () => undefined,
      off: () => undefined,
    },
    webUtils: { getPathForFile: () => '/dropped/file' },
  };
  const module = { exports: {} };
  const context = vm.createContext({
    module,
    exports: module.exports,
    setTimeout,
    require: (name: string) => {
      if (name === 'electron') return electron;
      throw new Error(`the preload required ${name}`);
    },
  });
  new vm.Script(fs.readFileSync(bundle, 'utf8'), { filename: bundle }).runInContext(context);
  return { exposed, invoked, sent };
}

describe('the preload bundle', () => {
  it('exists after the build, where main.ts loads it from', () => {
    expect(fs.existsSync(bundle), `${bundle} is missing: npm run build makes it`).toBe(true);
    const main = fs.readFileSync(path.join(REPOSITORY_ROOT, 'electron', 'main.ts'), 'utf8');
    expect(main).toContain("path.join(here, 'preload.cjs')");
  });

  it('is CommonJS that requires nothing but electron', () => {
    const text = fs.readFileSync(bundle, 'utf8');
    const required = [...text.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((match) => match[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
    // A module (import/export) would not even parse as a script.
    expect(() => new vm.Script(text)).not.toThrow();
  });

  it('exposes window.studio with every method of the contract, answering through the one IPC channel', async () => {
    const run = { name: 'alpha', path: '/w/alpha', createdAt: null, parent: null, checkpointCount: 0, bytes: 0, writer: null };
    const { exposed, invoked } = load({ ok: true, result: [run] });
    const studio = exposed.get('studio');
    expect(studio).toBeDefined();
    expect(Object.keys(studio ?? {}).sort()).toEqual([...Object.keys(studioMethods), 'on'].sort());
    await expect((studio?.listRuns as () => Promise<unknown>)()).resolves.toEqual([run]);
    expect(invoked).toEqual([['studio:call', 'listRuns', undefined]]);
    expect([...exposed.keys()].every((key) => key.startsWith('studio'))).toBe(true);
  });

  it("checks every answer against the contract in the page's process", async () => {
    const listRuns = load({ ok: true, result: ['alpha'] }).exposed.get('studio')?.listRuns as () => Promise<unknown>;
    await expect(listRuns()).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('listRuns is not what the contract says') });
  });

  it("exposes studioFiles: a dropped file's path and the native folder dialog over its own channel", async () => {
    const chosen = load('/home/u/checkpoints');
    const files = chosen.exposed.get('studioFiles');
    expect(Object.keys(files ?? {}).sort()).toEqual(['chooseFolder', 'pathFor']);
    expect((files?.pathFor as (f: unknown) => string)({})).toBe('/dropped/file');
    await expect((files?.chooseFolder as () => Promise<unknown>)()).resolves.toBe('/home/u/checkpoints');
    expect(chosen.invoked).toEqual([['studio:choose-folder']]);
    // Whatever else comes back (a refused sender gets null; anything malformed) is no folder.
    const odd = load({ path: '/x' }).exposed.get('studioFiles');
    await expect((odd?.chooseFolder as () => Promise<unknown>)()).resolves.toBeNull();
  });

  it('turns a refusal into an error with its code', async () => {
    const { exposed } = load({ ok: false, error: { code: 'not-found', message: 'no such run' } });
    const listRuns = exposed.get('studio')?.listRuns as () => Promise<unknown>;
    await expect(listRuns()).rejects.toMatchObject({ code: 'not-found', message: 'no such run' });
  });
});
