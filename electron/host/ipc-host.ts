// The StudioApi over Electron IPC, main side. One channel for calls, answered through the guard
// (sender, method, parameters); one for events, sent only to our window once its page says it
// is ready (events before that wait in a queue). Every channel listens to our window's top frame
// only: a call, the folder dialog and the ready signal alike.
import type { BrowserWindow, IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { type StudioApi, type StudioEventName, studioEvents } from '../contract.js';
import { type IpcSender, answerIpcCall, isTrustedSender } from './ipc-guard.js';
import { CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, EVENT_CHANNEL, type IpcEvent, READY_CHANNEL } from './ipc-protocol.js';

/** Events that may pile up before the page is ready; older ones are dropped past this. */
const QUEUE_LIMIT = 10_000;

export interface HostCapabilities {
  /** Asks the user for a folder with the native dialog; null when they cancel. */
  chooseFolder(): Promise<string | null>;
}

export function setupIpc(ipcMain: IpcMain, api: StudioApi, window: BrowserWindow, host: HostCapabilities): () => void {
  const sender = (event: IpcMainInvokeEvent | IpcMainEvent): IpcSender => ({
    url: event.senderFrame?.url ?? null,
    isOurMainFrame: event.sender === window.webContents && event.senderFrame === window.webContents.mainFrame,
  });
  ipcMain.handle(CALL_CHANNEL, (event, method: unknown, params: unknown) =>
    answerIpcCall(api, sender(event), typeof method === 'string' ? method : '', params),
  );
  // The same sender check as every call: a frame that is not our page gets no dialog.
  ipcMain.handle(CHOOSE_FOLDER_CHANNEL, async (event) => (isTrustedSender(sender(event)) ? host.chooseFolder() : null));
  let ready = false;
  const queue: IpcEvent[] = [];
  const deliver = (message: IpcEvent): void => {
    if (window.isDestroyed() || window.webContents.isDestroyed()) return;
    window.webContents.send(EVENT_CHANNEL, message);
  };
  const onReady = (event: IpcMainEvent): void => {
    // A frame inside our page (or one that navigated away) must not release the queue to itself.
    if (!isTrustedSender(sender(event))) return;
    ready = true;
    for (const message of queue.splice(0)) deliver(message);
  };
  ipcMain.on(READY_CHANNEL, onReady);
  // A reload starts a new page: it says ready again, and events wait for it meanwhile.
  window.webContents.on('did-start-navigation', (_event, _url, _inPlace, isMainFrame) => {
    if (isMainFrame) ready = false;
  });
  const unsubscribe = (Object.keys(studioEvents) as StudioEventName[]).map((name) =>
    api.on(name, (payload) => {
      const message: IpcEvent = { event: name, payload };
      if (ready) deliver(message);
      else {
        queue.push(message);
        if (queue.length > QUEUE_LIMIT) queue.shift();
      }
    }),
  );
  return () => {
    ipcMain.removeHandler(CALL_CHANNEL);
    ipcMain.removeHandler(CHOOSE_FOLDER_CHANNEL);
    ipcMain.off(READY_CHANNEL, onReady);
    unsubscribe.forEach((off) => off());
  };
}
