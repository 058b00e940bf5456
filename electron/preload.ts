// The one object the page gets: window.studio, a StudioApi of narrow functions over IPC, plus
// the path of a dropped file. Nothing else of Electron or Node reaches the page. Bundled into one
// CommonJS file (sandboxed preloads cannot load our modules); the method names come from the
// contract, so this object cannot drift from it. What comes from the main process is checked
// against the contract here, in the page's process, as browser mode's WebSocket client does.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { type ErrorCode, type StudioApi, type StudioEventName, type StudioListener, type StudioMethod, studioEvents, studioMethods } from './contract.js';
import { CALL_CHANNEL, CHOOSE_FOLDER_CHANNEL, EVENT_CHANNEL, IpcEventSchema, IpcReplySchema, READY_CHANNEL } from './host/ipc-protocol.js';

/**
 * What a failed call rejects with. Plain data, because the context bridge keeps only the message
 * of an Error (its code would be lost) and copies a plain object whole; the page's host turns it
 * back into a StudioError (renderer/src/lib/host.ts).
 */
interface CallFailure {
  readonly name: 'StudioError';
  readonly code: ErrorCode;
  readonly message: string;
}

function failure(code: ErrorCode, message: string): CallFailure {
  return { name: 'StudioError', code, message };
}

function firstIssue(error: { issues: readonly { message: string }[] }): string {
  return error.issues[0]?.message ?? 'invalid';
}

function call(method: StudioMethod): (params?: unknown) => Promise<unknown> {
  return async (params) => {
    let raw: unknown;
    try {
      raw = await ipcRenderer.invoke(CALL_CHANNEL, method, params);
    } catch (error) {
      const said = (error as { message?: unknown } | null)?.message;
      throw failure('internal', `${method} did not reach the Studio: ${typeof said === 'string' ? said : String(error)}`);
    }
    const reply = IpcReplySchema.safeParse(raw);
    if (!reply.success) throw failure('internal', `the Studio's reply to ${method} is not one this page understands: ${firstIssue(reply.error)}`);
    if (!reply.data.ok) throw failure(reply.data.error.code, reply.data.error.message);
    const result = studioMethods[method].result.safeParse(reply.data.result);
    if (result.success) return result.data;
    throw failure('internal', `the Studio's answer to ${method} is not what the contract says: ${firstIssue(result.error)}`);
  };
}

const api = Object.fromEntries((Object.keys(studioMethods) as StudioMethod[]).map((method) => [method, call(method)])) as Omit<StudioApi, 'on'>;

type AnyListener = (payload: unknown) => void;
const listeners = new Map<StudioEventName, Set<AnyListener>>();

function emit(event: StudioEventName, payload: unknown): void {
  for (const listener of [...(listeners.get(event) ?? [])]) {
    try {
      listener(payload);
    } catch (error) {
      // One broken listener must not starve the others of the event.
      console.error(`a listener of ${event} failed`, error);
    }
  }
}

/** Said as browser mode's client says it: in the console, and to the page as a warning event. */
function warn(message: string): void {
  console.warn(message);
  emit('warning', { message });
}

// One listener for the page's lifetime, whatever it subscribes: events are handed out from here.
ipcRenderer.on(EVENT_CHANNEL, (_event: unknown, raw: unknown) => {
  const message = IpcEventSchema.safeParse(raw);
  if (!message.success) {
    warn(`the Studio sent a message this page does not understand: ${firstIssue(message.error)}`);
    return;
  }
  const { event } = message.data;
  const payload = studioEvents[event].safeParse(message.data.payload);
  if (!payload.success) {
    warn(`the Studio sent a malformed ${event} event: ${firstIssue(payload.error)}`);
    return;
  }
  emit(event, payload.data);
});

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
    const set = listeners.get(event) ?? new Set<AnyListener>();
    set.add(listener as AnyListener);
    listeners.set(event, set);
    return () => {
      set.delete(listener as AnyListener);
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
