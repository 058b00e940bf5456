// The IPC host's channels, with Electron's ipcMain, ipcRenderer and window stood in (the binary is
// not needed to see which sender gets an answer): our window's top frame on our page gets the
// folder dialog, the StudioApi and, once it says it is ready, the events; any other frame gets
// none of them.
import { describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio/studio.js';
import { setupIpc } from '../../electron/host/ipc-host.js';
import { CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, EVENT_CHANNEL, READY_CHANNEL } from '../../electron/host/ipc-protocol.js';
import { withForgedEvents } from '../host/transports.js';
import { onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { StandInIpc } from './electron-stand-ins.js';

useTempWorkspaces();

function studio(): Studio {
  const opened = new Studio();
  onCleanup(() => opened.close());
  return opened;
}

/** Lets queued deliveries (a turn each way, in the stand-in) happen. */
const turns = async (count = 3): Promise<void> => {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('the IPC host', () => {
  it("opens the folder dialog and answers calls only for our window's top frame on our page", async () => {
    const ipc = new StandInIpc();
    let dialogs = 0;
    const stop = setupIpc(ipc.ipcMain, studio().api, ipc.window, { chooseFolder: async () => ((dialogs += 1), '/home/u/checkpoints') });

    await expect(ipc.ipcRenderer.invoke(CHOOSE_FOLDER_CHANNEL)).resolves.toBe('/home/u/checkpoints');
    // A child frame of our window, a frame that is gone, another window, our window gone elsewhere: no dialog.
    await expect(ipc.rendererIn({ url: 'app://studio/index.html' }).invoke(CHOOSE_FOLDER_CHANNEL)).resolves.toBeNull();
    await expect(ipc.rendererIn(null).invoke(CHOOSE_FOLDER_CHANNEL)).resolves.toBeNull();
    await expect(ipc.rendererIn(ipc.mainFrame, {}).invoke(CHOOSE_FOLDER_CHANNEL)).resolves.toBeNull();
    ipc.mainFrame.url = 'https://example.com/';
    await expect(ipc.ipcRenderer.invoke(CHOOSE_FOLDER_CHANNEL)).resolves.toBeNull();
    ipc.mainFrame.url = 'app://studio/index.html';
    expect(dialogs).toBe(1);

    await expect(ipc.ipcRenderer.invoke(CALL_CHANNEL, 'settings', undefined)).resolves.toMatchObject({ ok: true });
    await expect(ipc.rendererIn({ url: 'app://studio/' }).invoke(CALL_CHANNEL, 'settings', undefined)).resolves.toMatchObject({
      ok: false,
      error: { code: 'refused' },
    });

    stop();
    for (const channel of [CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, READY_CHANNEL]) expect(ipc.mainListens(channel), channel).toBe(false);
  });

  it('holds events back until our top frame says it is ready: a child frame cannot release them', async () => {
    const ipc = new StandInIpc();
    const { api, forge } = withForgedEvents(studio().api);
    setupIpc(ipc.ipcMain, api, ipc.window, { chooseFolder: async () => null });
    const delivered: unknown[] = [];
    ipc.ipcRenderer.on(EVENT_CHANNEL, (_event, message) => delivered.push(message));

    forge('warning', { message: 'held' });
    ipc.rendererIn({ url: 'app://studio/index.html' }).send(READY_CHANNEL);
    ipc.rendererIn(ipc.mainFrame, {}).send(READY_CHANNEL);
    await turns();
    expect(delivered).toEqual([]);

    ipc.ipcRenderer.send(READY_CHANNEL);
    await turns();
    expect(delivered).toEqual([{ event: 'warning', payload: { message: 'held' } }]);
    forge('warning', { message: 'then at once' });
    await turns();
    expect(delivered).toHaveLength(2);

    // A reload is a new page: events wait for it to say it is ready again.
    ipc.emitContents('did-start-navigation', {}, 'app://studio/index.html', false, true);
    forge('warning', { message: 'after the reload' });
    await turns();
    expect(delivered).toHaveLength(2);
    ipc.ipcRenderer.send(READY_CHANNEL);
    await turns();
    expect(delivered.at(-1)).toEqual({ event: 'warning', payload: { message: 'after the reload' } });
  });
});
