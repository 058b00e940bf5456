// The StudioApi over Electron IPC, main side. One channel for calls, answered through the guard
// (sender, method, parameters); one for events, sent only to our window once its page says it
// is ready (events before that wait in a queue).
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import { type StudioApi, type StudioEventName, studioEvents } from '../contract.js';
import { answerIpcCall, isTrustedSender } from './ipc-guard.js';

export const CALL_CHANNEL = 'studio:call';
/** The native folder dialog ("Open workspace…"): a host capability, not part of the StudioApi. */
export const CHOOSE_FOLDER_CHANNEL = 'studio:choose-folder';
export const EVENT_CHANNEL = 'studio:event';
export const READY_CHANNEL = 'studio:ready';

/** Events that may pile up before the page is ready; older ones are dropped past this. */
const QUEUE_LIMIT = 10_000;

export interface HostCapabilities {
  /** Asks the user for a folder with the native dialog; null when they cancel. */
  chooseFolder(): Promise<string | null>;
}

/** `studio` holds the StudioApi (a Studio): IPC reaches that API and nothing else of it. */
export function setupIpc(ipcMain: IpcMain, studio: { readonly api: StudioApi }, window: BrowserWindow, host: HostCapabilities): () => void {
  const api = studio.api;
  const isOurs = (event: IpcMainInvokeEvent): boolean => event.sender === window.webContents && event.senderFrame === window.webContents.mainFrame;
  const sender = (event: IpcMainInvokeEvent): { url: string | null; isOurMainFrame: boolean } => ({
    url: event.senderFrame?.url ?? null,
    isOurMainFrame: isOurs(event),
  });
  ipcMain.handle(CALL_CHANNEL, (event, method: unknown, params: unknown) =>
    answerIpcCall(api, sender(event), typeof method === 'string' ? method : '', params),
  );
  // The same sender check as every call: a frame that is not our page gets no dialog.
  ipcMain.handle(CHOOSE_FOLDER_CHANNEL, async (event) => (isTrustedSender(sender(event)) ? host.chooseFolder() : null));
  let ready = false;
  const queue: { event: StudioEventName; payload: unknown }[] = [];
  const deliver = (message: { event: StudioEventName; payload: unknown }): void => {
    if (window.isDestroyed() || window.webContents.isDestroyed()) return;
    window.webContents.send(EVENT_CHANNEL, message);
  };
  const onReady = (event: Electron.IpcMainEvent): void => {
    if (event.sender !== window.webContents) return;
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
      const message = { event: name, payload };
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
