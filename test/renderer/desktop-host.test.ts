// The desktop host as the page meets it: Electron's context bridge hands the page copies, so a
// failed call arrives as the preload's plain { name, code, message } data, or (for a failure of
// the bridge itself) as an Error with its message only. The desktop host turns each into the
// StudioError browser mode's client gives, so whatever the page shows reads the same in both.
import { describe, expect, it } from 'vitest';
import { StudioError, type StudioApi } from '../../renderer/src/lib/contract';
import { asStudioError, errorCode, errorMessage } from '../../renderer/src/lib/errors';
import { connectHost } from '../../renderer/src/lib/host';
import { CatalogState } from '../../renderer/src/state/catalog-state.svelte';
import { DeleteState } from '../../renderer/src/state/delete-state.svelte';
import { FakeStudio, checkpoint, run, settle } from './fakes';

const REFUSAL = 'a/ckpt-000000001: pinned; unpin it first';

/** What the preload rejects with, as it arrives on the page's side of the bridge. */
const bridged = (code: string, message: string): unknown => ({ name: 'StudioError', code, message });

/** A failed delete, through a given host's api: what the dialog then shows. */
async function failedDelete(fake: FakeStudio, api: StudioApi): Promise<string | null> {
  fake.handle('snapshot', () => ({ workspace: '/ws', runs: [run('a')], checkpoints: [checkpoint('a', 1)], skipped: [] })).handle('marks', () => ({}));
  const catalog = new CatalogState(api, { schedule: (flush) => flush() });
  await catalog.start();
  await settle();
  const deletion = new DeleteState(api, catalog);
  deletion.prepare(['a/ckpt-000000001']);
  expect(await deletion.confirm()).toBe(false);
  return deletion.error;
}

describe('the desktop host', () => {
  it('shows a failed delete in the same words as browser mode', async () => {
    const browser = new FakeStudio().handle('deleteCheckpoints', () => Promise.reject(new StudioError('refused', REFUSAL)));
    const desktop = new FakeStudio().handle('deleteCheckpoints', () => Promise.reject(bridged('refused', REFUSAL)));
    const inBrowser = await failedDelete(browser, browser.api);
    const onDesktop = await failedDelete(desktop, connectHost({ studio: desktop.api }).api);
    expect(inBrowser).toBe(REFUSAL);
    expect(onDesktop).toBe(inBrowser);
  });

  it('rejects every failed call with a StudioError, whatever crossed the bridge', async () => {
    const fake = new FakeStudio();
    const api = connectHost({ studio: fake.api }).api;
    const failWith = async (reason: unknown): Promise<StudioError> => {
      fake.handle('listRuns', () => Promise.reject(reason));
      const error: unknown = await api.listRuns().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StudioError);
      return error as StudioError;
    };
    expect(await failWith(bridged('not-found', 'no run named b in /ws'))).toMatchObject({ code: 'not-found', message: 'no run named b in /ws' });
    // The bridge keeps only an Error's message.
    expect(await failWith(new Error("Error invoking remote method 'studio:call': reply was never sent"))).toMatchObject({
      code: 'internal',
      message: "Error invoking remote method 'studio:call': reply was never sent",
    });
    // A code the contract does not know is no StudioError data: said as it came.
    expect(await failWith(bridged('weird', 'odd'))).toMatchObject({ code: 'internal', message: 'odd' });
    for (const odd of [{ status: 500 }, 42, undefined, null]) {
      const error = await failWith(odd);
      expect(error.code).toBe('internal');
      expect(error.message).not.toContain('[object Object]');
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('passes calls, answers and events through unchanged', async () => {
    const fake = new FakeStudio().handle('listRuns', () => [run('a')]);
    const api = connectHost({ studio: fake.api }).api;
    await expect(api.listRuns()).resolves.toEqual([run('a')]);
    expect(fake.callsOf('listRuns')).toEqual([undefined]);
    const seen: string[] = [];
    const off = api.on('warning', (w) => seen.push(w.message));
    fake.emit('warning', { message: 'disk almost full' });
    off();
    fake.emit('warning', { message: 'after' });
    expect(seen).toEqual(['disk almost full']);
  });

  it("rejects a failed folder dialog with a StudioError too, and keeps a dropped file's path", async () => {
    const host = connectHost({
      studio: new FakeStudio().api,
      studioFiles: { pathFor: () => '/home/u/ckpt', chooseFolder: () => Promise.reject(bridged('io', 'the dialog could not open')) },
    });
    await expect(host.chooseFolder?.()).rejects.toEqual(new StudioError('io', 'the dialog could not open'));
    expect(host.pathForFile?.(new File([], 'ckpt'))).toBe('/home/u/ckpt');
    expect(host.kind).toBe('desktop');
  });
});

describe('errorMessage and errorCode', () => {
  it('read a plain object with a message as that message, and never print [object Object]', () => {
    expect(errorMessage({ code: 'busy', message: 'a trainer is running\nat line 2' })).toBe('a trainer is running');
    expect(errorCode({ code: 'busy', message: 'x' })).toBe('busy');
    expect(errorCode({ code: 'nonsense', message: 'x' })).toBeNull();
    expect(errorMessage(new StudioError('io', 'disk full'))).toBe('disk full');
    expect(errorMessage('plain words')).toBe('plain words');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const odd of [{}, { status: 500 }, cyclic, 42, null, undefined, [1, 2]]) {
      const said = errorMessage(odd);
      expect(said).not.toContain('[object Object]');
      expect(said.length).toBeGreaterThan(0);
    }
    expect(errorMessage({ status: 500 })).toContain('"status":500');
  });

  it('asStudioError keeps a StudioError as it is', () => {
    const error = new StudioError('busy', 'a trainer is running');
    expect(asStudioError(error)).toBe(error);
  });
});
