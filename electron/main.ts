// The desktop app: one window over the same Studio the command line and browser mode use, the
// trainer as a utility process. Thin on purpose: each concern is a module of its own.
import { app, dialog, ipcMain, session, shell, utilityProcess } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerAppScheme, serveRenderer } from './app/app-protocol.js';
import { launchS3Connection, launchWorkspace } from './app/launch-workspace.js';
import { UtilityProcessLauncher } from './app/utility-launcher.js';
import { createMainWindow, lockDownSession } from './app/window.js';
import { userSettingsFile } from './core/studio/settings-file.js';
import { Studio } from './core/studio/studio.js';
import { setupIpc } from './host/ipc-host.js';
import { rendererDir } from './host/renderer-location.js';

const here = path.dirname(fileURLToPath(import.meta.url));
registerAppScheme();

async function start(): Promise<void> {
  await app.whenReady();
  lockDownSession(session.defaultSession);
  serveRenderer(rendererDir());
  const studio = new Studio({
    launcher: new UtilityProcessLauncher(utilityProcess),
    watch: true,
    settingsFile: userSettingsFile(),
    revealFolder: async (folder) => {
      shell.showItemInFolder(folder);
      return true;
    },
  });
  const s3 = launchS3Connection(process.argv);
  await studio.api.openWorkspace({
    path: launchWorkspace(process.argv, { packaged: app.isPackaged, cwd: process.cwd(), home: app.getPath('home') }),
    create: true,
    ...(s3 ? { s3 } : {}),
  });
  const window = createMainWindow(path.join(here, 'preload.cjs'));
  const stopIpc = setupIpc(ipcMain, studio.api, window, {
    chooseFolder: async () => {
      const chosen = await dialog.showOpenDialog(window, { title: 'Open workspace', buttonLabel: 'Open', properties: ['openDirectory', 'createDirectory'] });
      return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
    },
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    // A training in progress saves before the app goes.
    if (studio.workspace === null) return;
    event.preventDefault();
    stopIpc();
    void studio.close().finally(() => app.exit(0));
  });
}

start().catch((error: unknown) => {
  // Before the window exists (a workspace that cannot be opened, say) there is nowhere else to say it.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`checkpoint-studio: ${message}`);
  dialog.showErrorBox('Checkpoint Studio could not start', message);
  app.exit(1);
});
