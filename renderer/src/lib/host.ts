// Which host this page runs in. Electron's preload exposes `window.studio`; without it this is
// browser mode, and the StudioApi is a WebSocket client of the server that served the page.
import type { StudioApi } from './contract';
import { type ConnectionInfo, WsStudioClient } from './ws-client';

declare global {
  interface Window {
    /** Set by Electron's preload (contextBridge); absent in a browser. */
    readonly studio?: StudioApi;
  }
}

/** What the connection indicator and the resync after a reconnection listen to. */
export interface ConnectionSource {
  readonly connection: ConnectionInfo;
  onConnection(listener: (info: ConnectionInfo) => void): () => void;
  onReconnect(listener: () => void): () => void;
}

export interface Host {
  readonly kind: 'desktop' | 'browser';
  readonly api: StudioApi;
  readonly connection: ConnectionSource;
}

/** In-process IPC does not drop: the desktop app's connection is always open. */
const ALWAYS_OPEN: ConnectionSource = {
  connection: { status: 'open', failures: 0, retryAt: null },
  onConnection: () => () => undefined,
  onReconnect: () => () => undefined,
};

export function connectHost(win: Window): Host {
  if (win.studio) return { kind: 'desktop', api: win.studio, connection: ALWAYS_OPEN };
  const client = new WsStudioClient();
  return { kind: 'browser', api: client.api, connection: client };
}
