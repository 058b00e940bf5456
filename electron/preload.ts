// The one object the page gets: window.studio, a StudioApi of narrow functions over IPC, plus
// the path of a dropped file. Nothing else of Electron or Node reaches the page. Bundled into one
// CommonJS file (sandboxed preloads cannot load our modules); the method names come from the
// contract, so this object cannot drift from it.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { type StudioApi, type StudioEventName, type StudioListener, type StudioMethod, studioMethods } from './contract.js';
import type { IpcReply } from './host/ipc-guard.js';

const CALL_CHANNEL = 'studio:call';
const EVENT_CHANNEL = 'studio:event';
const READY_CHANNEL = 'studio:ready';
const CHOOSE_FOLDER_CHANNEL = 'studio:choose-folder';

function call(method: StudioMethod): (params?: unknown) => Promise<unknown> {
  return async (params) => {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, method, params)) as IpcReply;
    if (reply.ok) {
      // What crosses into the page is what the contract says: checked here, in the page's process.
      const result = studioMethods[method].result.safeParse(reply.result);
      if (result.success) return result.data;
      throw {
        name: 'StudioError',
        code: 'internal',
        message: `the Studio's answer to ${method} is not what the contract says: ${result.error.issues[0]?.message ?? 'invalid'}`,
      };
    }
    // A plain object crosses the context bridge whole (an Error would lose its code).
    throw { name: 'StudioError', code: reply.error.code, message: reply.error.message };
  };
}

const api = Object.fromEntries((Object.keys(studioMethods) as StudioMethod[]).map((method) => [method, call(method)])) as Omit<StudioApi, 'on'>;

/**
 * The main side holds events back until the page listens: the first subscription says so, a turn
 * later, so that every subscription the page makes at once is in place before they arrive.
 */
let readySent = false;
function sayReady(): void {
  if (readySent) return;
  readySent = true;
  setTimeout(() => ipcRenderer.send(READY_CHANNEL), 0);
}

const studio = {
  ...api,
  on<E extends StudioEventName>(event: E, listener: StudioListener<E>): () => void {
    sayReady();
    const handler = (_event: Electron.IpcRendererEvent, message: { event: string; payload: unknown }): void => {
      if (message.event === event) listener(message.payload as Parameters<StudioListener<E>>[0]);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.off(EVENT_CHANNEL, handler);
    };
  },
} satisfies StudioApi;

contextBridge.exposeInMainWorld('studio', studio);
// Drag-and-drop import: a dropped File's real path (Electron ≥ 32 no longer sets File.path); and
// "Open workspace…" through the native folder dialog.
contextBridge.exposeInMainWorld('studioFiles', {
  pathFor: (file: File): string => webUtils.getPathForFile(file),
  chooseFolder: async (): Promise<string | null> => {
    const chosen: unknown = await ipcRenderer.invoke(CHOOSE_FOLDER_CHANNEL);
    return typeof chosen === 'string' ? chosen : null;
  },
});
