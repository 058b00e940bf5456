// `serve`: browser mode. The same app as the desktop window, served on 127.0.0.1 to a browser,
// over the same Studio.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { userSettingsFile } from '../core/studio/settings-file.js';
import { Studio } from '../core/studio/studio.js';
import { startBrowserServer } from '../host/browser-server.js';
import { rendererDir } from '../host/renderer-location.js';
import { type CommonOptions, type Output, positiveInt, result, stderr } from './common.js';

interface ServeOptions extends CommonOptions {
  port?: number;
  open: boolean;
}

/** Opens the address in the default browser, where there is one; quietly does nothing otherwise. */
function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '""', url] : [url];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser to open: the printed address is enough.
  }
}

export function registerServeCommand(program: Command, out: Output): void {
  program
    .command('serve')
    .description('serve the app to a browser on this machine (127.0.0.1 only)')
    .option('--workspace <dir>', 'the checkpoint workspace folder (created if missing)', './checkpoints')
    .option('--port <n>', 'port (default: a free one)', positiveInt)
    .option('--no-open', 'do not open a browser')
    .action(async (options: ServeOptions) => {
      const studio = new Studio({ watch: true, settingsFile: userSettingsFile() });
      await studio.api.openWorkspace({ path: options.workspace, create: true });
      const server = await startBrowserServer({ studio, rendererDir: rendererDir(), ...(options.port !== undefined ? { port: options.port } : {}) });
      out.line(`Checkpoint Studio: ${studio.workspace}`);
      out.line(`open ${server.url}`);
      out.line('(Ctrl-C stops; a training in progress saves first)');
      if (options.open) openInBrowser(server.url);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      stderr.line('stopping…');
      await server.close();
      await studio.close();
      result.exitCode = 0;
    });
}
