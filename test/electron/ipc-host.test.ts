// The IPC host's handlers, with Electron's ipcMain and window stood in by plain objects (the
// binary is not needed to see which sender gets an answer): our window's top frame on our page
// gets the folder dialog and the StudioApi; any other frame gets neither.
import type { BrowserWindow, IpcMain } from 'electron';
import { describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio/studio.js';
import { CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, setupIpc } from '../../electron/host/ipc-host.js';
import { onCleanup } from '../store/helpers.js';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function standIns(): { ipcMain: IpcMain; window: BrowserWindow; handlers: Map<string, Handler>; ourFrame: object; webContents: object } {
  const handlers = new Map<string, Handler>();
  const ourFrame = { url: 'app://studio/index.html' };
  const webContents = { mainFrame: ourFrame, send: () => undefined, isDestroyed: () => false, on: () => undefined };
  const ipcMain = {
    handle: (channel: string, handler: Handler) => handlers.set(channel, handler),
    removeHandler: (channel: string) => handlers.delete(channel),
    on: () => undefined,
    off: () => undefined,
  } as unknown as IpcMain;
  const window = { webContents, isDestroyed: () => false } as unknown as BrowserWindow;
  return { ipcMain, window, handlers, ourFrame, webContents };
}

describe('the IPC host', () => {
  it("opens the folder dialog and answers calls only for our window's top frame on our page", async () => {
    const { ipcMain, window, handlers, ourFrame, webContents } = standIns();
    const studio = new Studio();
    onCleanup(() => studio.close());
    let dialogs = 0;
    const stop = setupIpc(ipcMain, studio, window, { chooseFolder: async () => ((dialogs += 1), '/home/u/checkpoints') });
    const choose = handlers.get(CHOOSE_FOLDER_CHANNEL) as Handler;
    const call = handlers.get(CALL_CHANNEL) as Handler;

    await expect(choose({ sender: webContents, senderFrame: ourFrame })).resolves.toBe('/home/u/checkpoints');
    // A child frame of our window, a frame that navigated away, another window: no dialog.
    await expect(choose({ sender: webContents, senderFrame: { url: 'app://studio/index.html' } })).resolves.toBeNull();
    await expect(choose({ sender: webContents, senderFrame: null })).resolves.toBeNull();
    await expect(choose({ sender: {}, senderFrame: ourFrame })).resolves.toBeNull();
    const away = { url: 'https://example.com/' };
    await expect(choose({ sender: { ...webContents, mainFrame: away }, senderFrame: away })).resolves.toBeNull();
    expect(dialogs).toBe(1);

    await expect(call({ sender: webContents, senderFrame: ourFrame }, 'settings', undefined)).resolves.toMatchObject({ ok: true });
    await expect(call({ sender: webContents, senderFrame: { url: 'app://studio/' } }, 'settings', undefined)).resolves.toMatchObject({
      ok: false,
      error: { code: 'refused' },
    });

    stop();
    expect(handlers.size).toBe(0);
  });
});
