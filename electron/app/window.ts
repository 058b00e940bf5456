// The main window: secure settings, our pages only, no navigation away, no new windows, no
// permissions, and links to the web opened in the user's browser (http and https only).
import { BrowserWindow, type Session, shell } from 'electron';
import { APP_ORIGIN } from '../host/ipc-guard.js';
import { isExternalWebUrl, isOwnUrl } from './urls.js';
import { secureWebPreferences } from './web-preferences.js';

/** Session-wide: every permission request (camera, notifications, …) is denied. */
export function lockDownSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

export function createMainWindow(preload: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Checkpoint Studio',
    show: false,
    webPreferences: secureWebPreferences(preload),
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isOwnUrl(url)) event.preventDefault();
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}
