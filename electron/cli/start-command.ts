// `start` (and `checkpoint-studio` alone): the desktop app. Electron when its binary is here or
// can be downloaded now; otherwise one sentence saying why, and browser mode instead.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type ElectronHost, describeDownloadFailure, downloadElectron, findElectron, thisHost } from '../launch/electron-binary.js';
import { type ElectronRelease, electronMirror, readElectronRelease } from '../launch/electron-release.js';
import { packageRoot } from '../host/package-root.js';
import { formatBytes } from '../core/format-bytes.js';
import { isS3Address } from '../core/storage/s3-address.js';
import { type CommonOptions, DEFAULT_WORKSPACE, type Output, result, s3Connection, stderr, withS3Options } from './common.js';
import { portArgument, runBrowserMode } from './serve-command.js';

/** `--workspace --no-open` would otherwise make a folder named --no-open. */
function workspaceArgument(value: string): string {
  if (value.startsWith('-')) throw new InvalidArgumentError('expected a folder, not another flag');
  return value;
}

interface StartOptions extends Pick<CommonOptions, 's3Endpoint' | 's3PathStyle' | 'profile'> {
  workspace: string;
  browser: boolean;
  port?: number;
  open: boolean;
}

export type StartPlan = { mode: 'electron'; executable: string } | { mode: 'browser'; why: string | null };

export interface StartDeps {
  release: ElectronRelease;
  host: ElectronHost;
  find: (release: ElectronRelease, host: ElectronHost) => string | null;
  download: (release: ElectronRelease, host: ElectronHost) => Promise<string>;
}

/**
 * Electron or browser mode. Asked for (--browser, CHECKPOINT_STUDIO_NO_ELECTRON=1): browser mode,
 * nothing downloaded. A binary here: it. None: download it; a failure is the one sentence `why`.
 */
export async function planStart(forceBrowser: boolean, deps: StartDeps): Promise<StartPlan> {
  if (forceBrowser || deps.host.env.CHECKPOINT_STUDIO_NO_ELECTRON === '1') return { mode: 'browser', why: null };
  const found = deps.find(deps.release, deps.host);
  if (found) return { mode: 'electron', executable: found };
  try {
    return { mode: 'electron', executable: await deps.download(deps.release, deps.host) };
  } catch (error) {
    return { mode: 'browser', why: describeDownloadFailure(error, deps.release.version, electronMirror(deps.host.env)) };
  }
}

/** Runs the app's main script under Electron and waits for it; its exit code is ours. */
function runElectron(executable: string, appRoot: string, workspace: string, extra: readonly string[] = []): Promise<number> {
  // A variable that turns Electron into plain Node would make it run nothing of ours.
  const { ELECTRON_RUN_AS_NODE: _asNode, ...env } = process.env;
  const child = spawn(executable, [appRoot, '--workspace', workspace, ...extra], { stdio: 'inherit', env });
  // Ctrl-C reaches the app through the terminal, and we wait for it to save and go rather than
  // die first; a SIGTERM to us alone is passed on.
  const forward = (): void => {
    child.kill('SIGTERM');
  };
  const wait = (): void => undefined;
  process.on('SIGTERM', forward);
  process.on('SIGINT', wait);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      stderr.line(`checkpoint-studio: could not run Electron at ${executable}: ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', wait);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

export function registerStartCommand(program: Command, out: Output): void {
  withS3Options(
    program
      .command('start', { isDefault: true })
      .description('open the app (the default): Electron, or browser mode where Electron cannot run')
      .option('--workspace <dir>', 'the checkpoint workspace: a folder (created if missing), or s3://bucket/prefix', workspaceArgument, DEFAULT_WORKSPACE),
  )
    .option('--browser', 'browser mode, even where Electron could run (also CHECKPOINT_STUDIO_NO_ELECTRON=1)')
    .option('--port <n>', 'browser mode: port (default or 0: a free one)', portArgument)
    .option('--no-open', 'browser mode: do not open a browser')
    .action(async (options: StartOptions) => {
      const root = packageRoot();
      const release = readElectronRelease(root);
      const plan = await planStart(options.browser === true, {
        release,
        host: thisHost(),
        find: findElectron,
        download: (wanted, host) =>
          downloadElectron(wanted, host, {
            onStart: (total) =>
              stderr.line(`downloading Electron ${wanted.version}${total ? ` (${formatBytes(total)})` : ''}, once: later starts use it from the cache…`),
          }),
      });
      // `npm start` runs us in the package's folder; a relative --workspace means where npm was typed.
      const workspace = isS3Address(options.workspace)
        ? options.workspace
        : path.resolve(process.env.npm_lifecycle_event === 'start' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd(), options.workspace);
      const s3 = s3Connection(options);
      if (plan.mode === 'electron') {
        const extra = [
          ...(s3?.endpoint !== undefined ? ['--s3-endpoint', s3.endpoint] : []),
          ...(s3?.pathStyle ? ['--s3-path-style'] : []),
          ...(s3?.profile !== undefined ? ['--profile', s3.profile] : []),
        ];
        result.exitCode = await runElectron(plan.executable, root, workspace, extra);
        return;
      }
      if (plan.why) stderr.line(plan.why);
      await runBrowserMode({ workspace, open: options.open, ...(s3 ? { s3 } : {}), ...(options.port !== undefined ? { port: options.port } : {}) }, out);
      result.exitCode = 0;
    });
}
