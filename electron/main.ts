// The desktop app: one window over the same Studio the command line and browser mode use, the
// trainer as a utility process. Thin on purpose: each concern is a module of its own.
import { app, ipcMain, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerAppScheme, serveRenderer } from './app/app-protocol.js';
import { UtilityProcessLauncher } from './app/utility-launcher.js';
import { createMainWindow, lockDownSession } from './app/window.js';
import { Studio } from './core/studio/studio.js';
import { setupIpc } from './host/ipc-host.js';
import { rendererDir } from './host/renderer-location.js';

const here = path.dirname(fileURLToPath(import.meta.url));
registerAppScheme();

/** The workspace: the command line's --workspace, else ./checkpoints of where the app started. */
function workspaceFromArgs(argv: readonly string[]): string {
  const index = argv.indexOf('--workspace');
  return index >= 0 && argv[index + 1] ? (argv[index + 1] as string) : path.resolve('checkpoints');
}

async function start(): Promise<void> {
  await app.whenReady();
  lockDownSession(session.defaultSession);
  serveRenderer(rendererDir());
  const studio = new Studio({ launcher: new UtilityProcessLauncher(), watch: true });
  await studio.api.openWorkspace({ path: workspaceFromArgs(process.argv), create: true });
  const window = createMainWindow(path.join(here, 'preload.cjs'));
  const stopIpc = setupIpc(ipcMain, studio, window);
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    // A training in progress saves before the app goes.
    if (studio.workspace === null) return;
    event.preventDefault();
    stopIpc();
    void studio.close().finally(() => app.exit(0));
  });
}

void start();
