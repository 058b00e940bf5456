// `serve`: browser mode. The same app as the desktop window, served on 127.0.0.1 to a browser,
// over the same Studio. `start` falls back to it where there is no Electron.
import { type Command, InvalidArgumentError } from 'commander';
import { errorMessage } from '../core/base/errors.js';
import { userSettingsFile } from '../core/studio/settings-file.js';
import { Studio } from '../core/studio/studio.js';
import { startBrowserServer } from '../host/browser-server.js';
import { rendererDir } from '../host/renderer-location.js';
import { openPrivately, revealInFileManager } from '../launch/open-browser.js';
import type { S3Connection } from '../contract.js';
import { type CommonOptions, type Output, result, s3Connection, stderr, withS3Options } from './common.js';

type CommonS3Flags = Pick<CommonOptions, 's3Endpoint' | 's3PathStyle' | 'profile'>;

/** --port: 0 (or none) for a free one, else a TCP port. */
export function portArgument(value: string): number {
  const port = Number(value);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535 (0: a free one)');
  return port;
}

export interface BrowserModeOptions {
  workspace: string;
  s3?: S3Connection;
  port?: number;
  open: boolean;
}

/** Serves until SIGINT or SIGTERM, then closes the Studio (a training in progress saves first). */
export async function runBrowserMode(options: BrowserModeOptions, out: Output): Promise<void> {
  const studio = new Studio({ watch: true, settingsFile: userSettingsFile(), revealFolder: (folder) => revealInFileManager(folder) });
  await studio.api.openWorkspace({ path: options.workspace, create: true, ...(options.s3 ? { s3: options.s3 } : {}) });
  const server = await startBrowserServer({ api: studio.api, rendererDir: rendererDir(), ...(options.port !== undefined ? { port: options.port } : {}) }).catch(
    async (error: unknown) => {
      // A port in use: the watcher would otherwise keep this process alive after the message.
      await studio.close();
      throw error;
    },
  );
  out.line(`Checkpoint Studio: ${studio.workspace}`);
  // The address is printed for the user alone; the browser is handed a private page that leads to it.
  out.line(`open ${server.url}`);
  out.line('(Ctrl-C stops; a training in progress saves first)');
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const opening = options.open
    ? await openPrivately(server.url).catch((error: unknown) => {
        stderr.line(`could not open a browser (${errorMessage(error)}): open the address above`);
        return null;
      })
    : null;
  await stopped;
  stderr.line('stopping…');
  await server.close();
  await opening?.close();
  await studio.close();
}

export function registerServeCommand(program: Command, out: Output): void {
  withS3Options(
    program
      .command('serve')
      .description('serve the app to a browser on this machine (127.0.0.1 only)')
      .option('--workspace <dir>', 'the checkpoint workspace: a folder (created if missing), or s3://bucket/prefix', './checkpoints'),
  )
    .option('--port <n>', 'port (default or 0: a free one)', portArgument)
    .option('--no-open', 'do not open a browser')
    .action(async (options: BrowserModeOptions & CommonS3Flags) => {
      const s3 = s3Connection(options);
      await runBrowserMode({ ...options, ...(s3 ? { s3 } : {}) }, out);
      result.exitCode = 0;
    });
}
