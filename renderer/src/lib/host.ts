// Which host this page runs in. Electron's preload exposes `window.studio`; without it this is
// browser mode, and the StudioApi is a WebSocket client of the server that served the page, with
// the token the printed address gave this tab. Both fail the same way: a call rejects with a
// StudioError, its message and code as the core wrote them.
import { type TokenWindow, adoptToken } from './browser-token.js';
import { type StudioApi, type StudioMethod, studioMethods } from './contract.js';
import { asStudioError } from './errors.js';
import { type ConnectionInfo, WsStudioClient } from './ws-client.js';

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
  /** Browser mode opened without the printed address's token: the server will refuse every attempt. */
  readonly missingToken: boolean;
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
  missingToken: false,
  onConnection: () => () => undefined,
  onReconnect: () => () => undefined,
};

/**
 * The preload's object as the page should see it: what crosses Electron's context bridge is a
 * copy, so a call's rejection arrives as plain data (or, for a failure of the bridge itself, an
 * Error with only its message); each becomes the StudioError browser mode would give.
 */
export function desktopApi(bridged: StudioApi): StudioApi {
  const api: Record<string, unknown> = { on: bridged.on };
  for (const method of Object.keys(studioMethods) as StudioMethod[]) {
    const call = bridged[method] as (params?: unknown) => Promise<unknown>;
    api[method] = async (params?: unknown) => {
      try {
        return await call(params);
      } catch (error) {
        throw asStudioError(error);
      }
    };
  }
  // Built from the contract's own table of methods, so it has exactly StudioApi's members.
  return api as StudioApi;
}

/** The page's window: Electron's preload objects, and in browser mode what the token is read from. */
export type HostWindow = Pick<Window, 'studio' | 'studioFiles'> & Partial<TokenWindow>;

export function connectHost(win: HostWindow): Host {
  const files = win.studioFiles;
  if (win.studio) {
    return {
      kind: 'desktop',
      api: desktopApi(win.studio),
      connection: ALWAYS_OPEN,
      pathForFile: files ? (file) => files.pathFor(file) : null,
      chooseFolder: files ? () => files.chooseFolder().catch((error: unknown) => Promise.reject(asStudioError(error))) : null,
    };
  }
  const { location, history, sessionStorage } = win;
  const token = location && history && sessionStorage ? adoptToken({ location, history, sessionStorage }) : null;
  const client = new WsStudioClient({ token });
  return { kind: 'browser', api: client.api, connection: client, pathForFile: null, chooseFolder: null };
}
