// Which host this page runs in. Electron's preload exposes `window.studio`; without it this is
// browser mode, and the StudioApi is a WebSocket client of the server that served the page, with
// the token the printed address gave this tab.
import { adoptToken } from './browser-token';
import type { StudioApi } from './contract';
import { type ConnectionInfo, WsStudioClient } from './ws-client';

declare global {
  interface Window {
    /** Set by Electron's preload (contextBridge); absent in a browser. */
    readonly studio?: StudioApi;
    /** Set by Electron's preload: a dropped or chosen File's real path (webUtils.getPathForFile). */
    readonly studioFiles?: { pathFor(file: File): string; chooseFolder(): Promise<string | null> };
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
  /** The desktop app imports a folder by its real path; browser mode (null) uploads it. */
  readonly pathForFile: ((file: File) => string) | null;
  /** The desktop app's native folder dialog; browser mode (null) types a path. */
  readonly chooseFolder: (() => Promise<string | null>) | null;
}

/** In-process IPC does not drop: the desktop app's connection is always open. */
const ALWAYS_OPEN: ConnectionSource = {
  connection: { status: 'open', failures: 0, retryAt: null },
  onConnection: () => () => undefined,
  onReconnect: () => () => undefined,
};

export function connectHost(win: Window): Host {
  const files = win.studioFiles;
  if (win.studio) {
    return {
      kind: 'desktop',
      api: win.studio,
      connection: ALWAYS_OPEN,
      pathForFile: files ? (file) => files.pathFor(file) : null,
      chooseFolder: files ? () => files.chooseFolder() : null,
    };
  }
  const client = new WsStudioClient({ token: adoptToken(win) });
  return { kind: 'browser', api: client.api, connection: client, pathForFile: null, chooseFolder: null };
}
