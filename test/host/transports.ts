// The StudioApi as the page receives it, through each of the two transports, over a Studio the
// test holds: browser mode (the renderer's WebSocket client against the real server) and the
// desktop app (the shipped preload, through Electron's context bridge, against the IPC host and its
// guard, with Electron stood in; see test/electron/electron-stand-ins.ts).
import { WebSocket } from 'ws';
import path from 'node:path';
import type { StudioApi, StudioEventName, StudioListener } from '../../electron/contract.js';
import type { Studio } from '../../electron/core/studio/studio.js';
import { startBrowserServer } from '../../electron/host/browser-server.js';
import { setupIpc } from '../../electron/host/ipc-host.js';
import { connectHost } from '../../renderer/src/lib/host.js';
import { type WebSocketLike, WsStudioClient } from '../../renderer/src/lib/ws-client.js';
import { type LoadedPreload, StandInIpc, loadPreload } from '../electron/electron-stand-ins.js';
import { REPOSITORY_ROOT } from '../fixtures.js';

export interface Transport {
  /** What the page calls: the same StudioApi in both hosts. */
  readonly api: StudioApi;
  close(): Promise<void>;
}

export interface DesktopTransport extends Transport {
  readonly ipc: StandInIpc;
  readonly preload: LoadedPreload;
}

/** A StudioApi that also lets a test send events the Studio never would (malformed ones). */
export interface ForgeableApi {
  readonly api: StudioApi;
  forge(event: StudioEventName, payload: unknown): void;
}

export function withForgedEvents(real: StudioApi): ForgeableApi {
  const forged = new Map<StudioEventName, Set<(payload: unknown) => void>>();
  const on = <E extends StudioEventName>(event: E, listener: StudioListener<E>): (() => void) => {
    const set = forged.get(event) ?? new Set();
    set.add(listener as (payload: unknown) => void);
    forged.set(event, set);
    const off = real.on(event, listener);
    return () => {
      set.delete(listener as (payload: unknown) => void);
      off();
    };
  };
  return {
    api: { ...real, on },
    forge: (event, payload) => {
      for (const listener of [...(forged.get(event) ?? [])]) listener(payload);
    },
  };
}

/**
 * Browser mode: the real server over `api`, and the page's WebSocket client connected to it with
 * the token the server made. The one place that knows how browser mode authenticates.
 */
export async function connectBrowser(studio: Studio, api: StudioApi = studio.api): Promise<Transport> {
  const server = await startBrowserServer({ api, rendererDir: path.join(REPOSITORY_ROOT, 'renderer', 'dist') });
  const client = new WsStudioClient({
    url: `ws://127.0.0.1:${server.port}/api`,
    token: server.token,
    // The ws package's WebSocket has the browser's on* properties; its event types are its own.
    connect: (url, protocols) => new WebSocket(url, protocols, { origin: `http://127.0.0.1:${server.port}` }) as unknown as WebSocketLike,
  });
  // Open before the test starts: events sent while no socket is open would not reach it.
  await client.api.trainingStatus();
  return {
    api: client.api,
    close: async () => {
      client.close();
      await server.close();
    },
  };
}

/** The desktop app: the IPC host over `api`, the preload bundle in the page, and the page's desktop host over what it exposed. */
export function connectDesktop(api: StudioApi): DesktopTransport {
  const ipc = new StandInIpc();
  const stop = setupIpc(ipc.ipcMain, api, ipc.window, { chooseFolder: async () => null });
  const preload = loadPreload({ ipcRenderer: ipc.ipcRenderer });
  const studio = preload.exposed.get('studio') as unknown as StudioApi;
  const host = connectHost({ studio });
  return {
    api: host.api,
    ipc,
    preload,
    close: async () => stop(),
  };
}
