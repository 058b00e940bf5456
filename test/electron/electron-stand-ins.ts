// Electron's IPC and context bridge, stood in by plain objects that keep the rules the app relies
// on: a call is answered by the handler on its channel; arguments, replies and events are copies
// (structured clone), delivered a turn later; a handler that throws rejects the invoke with
// Electron's "Error invoking remote method" error; each message names the frame that sent it.
// The preload is the shipped bundle (dist/electron/preload.cjs, from `npm run build`), run in a
// bare VM context whose require knows only 'electron', as a sandboxed preload is.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import type { BrowserWindow, IpcMain } from 'electron';
import { REPOSITORY_ROOT } from '../fixtures.js';

export const PRELOAD_BUNDLE = path.join(REPOSITORY_ROOT, 'dist', 'electron', 'preload.cjs');

/** A frame of the window: only its URL matters to the main side (and which object it is). */
export interface Frame {
  url: string;
}

type Listener = (event: unknown, ...args: unknown[]) => void;
type Handler = (event: unknown, ...args: unknown[]) => unknown;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One window with our page in its top frame, and both ends of IPC between them. */
export class StandInIpc {
  readonly mainFrame: Frame = { url: 'app://studio/index.html' };
  private readonly handlers = new Map<string, Handler>();
  private readonly mainListeners = new Map<string, Set<Listener>>();
  private readonly rendererListeners = new Map<string, Set<Listener>>();
  private readonly contentsListeners = new Map<string, Set<(...args: unknown[]) => void>>();
  readonly webContents = {
    mainFrame: this.mainFrame,
    isDestroyed: (): boolean => false,
    send: (channel: string, ...args: unknown[]): void => {
      const copies = structuredClone(args);
      void turn().then(() => {
        for (const listener of [...(this.rendererListeners.get(channel) ?? [])]) listener({ sender: this.ipcRenderer }, ...copies);
      });
    },
    on: (event: string, listener: (...args: unknown[]) => void): void => {
      const set = this.contentsListeners.get(event) ?? new Set();
      set.add(listener);
      this.contentsListeners.set(event, set);
    },
  };
  readonly window = { webContents: this.webContents, isDestroyed: (): boolean => false } as unknown as BrowserWindow;
  readonly ipcMain = {
    handle: (channel: string, handler: Handler): void => {
      if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      this.handlers.set(channel, handler);
    },
    removeHandler: (channel: string): void => {
      this.handlers.delete(channel);
    },
    on: (channel: string, listener: Listener): void => {
      const set = this.mainListeners.get(channel) ?? new Set();
      set.add(listener);
      this.mainListeners.set(channel, set);
    },
    off: (channel: string, listener: Listener): void => {
      this.mainListeners.get(channel)?.delete(listener);
    },
  } as unknown as IpcMain;
  /** The page's ipcRenderer, in our window's top frame. */
  readonly ipcRenderer = this.rendererIn(this.mainFrame);

  /**
   * An ipcRenderer whose messages come from `frame` (a child frame, a page that navigated away, a
   * frame that is gone: null) of `contents` (another window's, say).
   */
  rendererIn(
    frame: Frame | null,
    contents: object = this.webContents,
  ): {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    send(channel: string, ...args: unknown[]): void;
    on(channel: string, listener: Listener): void;
    off(channel: string, listener: Listener): void;
  } {
    const event = (): unknown => ({ sender: contents, senderFrame: frame });
    return {
      invoke: async (channel, ...args) => {
        const copies = structuredClone(args);
        await turn();
        const handler = this.handlers.get(channel);
        if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
        try {
          return structuredClone(await handler(event(), ...copies));
        } catch (error) {
          throw new Error(`Error invoking remote method '${channel}': ${String(error)}`);
        }
      },
      send: (channel, ...args) => {
        const copies = structuredClone(args);
        void turn().then(() => {
          for (const listener of [...(this.mainListeners.get(channel) ?? [])]) listener(event(), ...copies);
        });
      },
      on: (channel, listener) => {
        const set = this.rendererListeners.get(channel) ?? new Set();
        set.add(listener);
        this.rendererListeners.set(channel, set);
      },
      off: (channel, listener) => {
        this.rendererListeners.get(channel)?.delete(listener);
      },
    };
  }

  /** How many listeners the page's side has on a channel. */
  rendererListenerCount(channel: string): number {
    return this.rendererListeners.get(channel)?.size ?? 0;
  }

  /** Whether the main side handles or listens on a channel. */
  mainListens(channel: string): boolean {
    return this.handlers.has(channel) || (this.mainListeners.get(channel)?.size ?? 0) > 0;
  }

  /** Emits one of webContents' own events (a navigation starting, say). */
  emitContents(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.contentsListeners.get(event) ?? [])]) listener(...args);
  }
}

function isError(value: unknown): value is Error {
  // Across realms (the preload's VM context) instanceof Error is false: ask for the brand instead.
  return Object.prototype.toString.call(value) === '[object Error]';
}

/**
 * A value as it arrives on the other side of Electron's context bridge
 * (https://www.electronjs.org/docs/latest/api/context-bridge): functions are proxied (their
 * arguments cross back the same way), a returned promise is proxied, objects and arrays are copied
 * without their prototype, and a thrown or rejected Error keeps only its message.
 */
export function crossBridge(value: unknown): unknown {
  if (typeof value === 'function') {
    return (...args: unknown[]) => {
      let result: unknown;
      try {
        result = (value as (...a: unknown[]) => unknown)(...args.map(crossBridge));
      } catch (error) {
        throw crossBridgeError(error);
      }
      return crossBridge(result);
    };
  }
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { then?: unknown }).then === 'function') {
    return new Promise((resolve, reject) => {
      (value as Promise<unknown>).then(
        (settled) => resolve(crossBridge(settled)),
        (error: unknown) => reject(crossBridgeError(error)),
      );
    });
  }
  if (isError(value)) return crossBridgeError(value);
  if (Array.isArray(value)) return value.map(crossBridge);
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, crossBridge(entry)]));
}

function crossBridgeError(error: unknown): unknown {
  return isError(error) ? new Error(error.message) : crossBridge(error);
}

export interface LoadedPreload {
  /** What the preload exposed, as the page sees it (across the bridge), by key. */
  readonly exposed: Map<string, Record<string, unknown>>;
  /** What the preload wrote to its console. */
  readonly console: { level: 'warn' | 'error'; text: string }[];
}

export interface PreloadElectron {
  readonly ipcRenderer: ReturnType<StandInIpc['rendererIn']>;
  readonly webUtils?: { getPathForFile(file: unknown): string };
}

/** Runs the preload bundle in its own context with these stand-ins for Electron's renderer modules. */
export function loadPreload(electron: PreloadElectron): LoadedPreload {
  const exposed = new Map<string, Record<string, unknown>>();
  const logged: LoadedPreload['console'] = [];
  const modules = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, crossBridge(value) as Record<string, unknown>) },
    ipcRenderer: electron.ipcRenderer,
    webUtils: electron.webUtils ?? { getPathForFile: () => '' },
  };
  const say =
    (level: 'warn' | 'error') =>
    (...args: unknown[]) =>
      logged.push({ level, text: args.map(String).join(' ') });
  const module = { exports: {} };
  const context = vm.createContext({
    module,
    exports: module.exports,
    setTimeout,
    console: { warn: say('warn'), error: say('error'), log: () => undefined },
    require: (name: string) => {
      if (name === 'electron') return modules;
      throw new Error(`the preload required ${name}`);
    },
  });
  new vm.Script(fs.readFileSync(PRELOAD_BUNDLE, 'utf8'), { filename: PRELOAD_BUNDLE }).runInContext(context);
  return { exposed, console: logged };
}
