// Opens an address in the user's default browser, where there is one. A machine without a
// desktop (no DISPLAY on Linux, or no xdg-open) is normal for a server: we then open nothing
// and the printed address is the way in.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface DesktopOpener {
  command: string;
  args: string[];
}

/** Whether there is a desktop to open anything on (Linux without a display server has none). */
function hasDesktop(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean {
  return platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The platform's opener, or null where there is no desktop to open it on. */
export function browserOpener(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): DesktopOpener | null {
  if (!hasDesktop(platform, env)) return null;
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // Not `cmd /c start`: cmd would read the address's & and ^ as its own syntax.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/** The platform's file manager showing `folder`, or null where there is no desktop. */
export function folderOpener(folder: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): DesktopOpener | null {
  // macOS and Windows select the folder in its parent's window; xdg-open can only open it.
  if (!hasDesktop(platform, env)) return null;
  if (platform === 'darwin') return { command: 'open', args: ['-R', folder] };
  if (platform === 'win32') return { command: 'explorer.exe', args: [`/select,${folder}`] };
  return { command: 'xdg-open', args: [folder] };
}

export interface OpenerHost {
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
  /** Starts the opener; resolves whether it started (tests stand in for it). */
  readonly run?: (opener: DesktopOpener) => Promise<boolean>;
}

export interface PrivateOpening {
  /** Whether a browser was asked to open it (false: no desktop here; the printed address is the way in). */
  readonly opened: boolean;
  /** Removes the redirect page; call it when the server closes. */
  close(): Promise<void>;
}

/**
 * Opens an address that carries a secret (browser mode's token) without putting it in any
 * process's arguments, which every local user can read (/proc/<pid>/cmdline): the address goes
 * into a small page only this user can read (0600, in a 0700 folder of the user's runtime or
 * temporary folder) that sends the browser on to it, and the opener is given that page. Jupyter
 * opens its notebooks the same way.
 */
export async function openPrivately(address: string, host: OpenerHost = {}): Promise<PrivateOpening> {
  const env = host.env ?? process.env;
  const platform = host.platform ?? process.platform;
  if (!hasDesktop(platform, env)) return { opened: false, close: async () => undefined };
  const folder = await mkdtemp(path.join(privateRoot(env), 'checkpoint-studio-open-'));
  const close = (): Promise<void> => rm(folder, { recursive: true, force: true });
  try {
    const page = path.join(folder, 'open.html');
    await writeFile(page, redirectPage(address), { mode: 0o600, flag: 'wx' });
    const opener = browserOpener(pathToFileURL(page).href, platform, env) as DesktopOpener;
    return { opened: await (host.run ?? runOpener)(opener), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** $XDG_RUNTIME_DIR (the user's own, cleared at logout) where there is one, else the temporary folder. */
function privateRoot(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) {
    try {
      if (statSync(runtime).isDirectory()) return runtime;
    } catch {
      // Named but missing: the temporary folder will do.
    }
  }
  return os.tmpdir();
}

/** A page that replaces itself with `address` at once (script), or within a second (meta refresh), sending no Referer. */
export function redirectPage(address: string): string {
  const attribute = address.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const script = JSON.stringify(address).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="referrer" content="no-referrer">',
    `<meta http-equiv="refresh" content="1;url=${attribute}">`,
    '<title>Opening Checkpoint Studio…</title>',
    `<script>window.location.replace(${script});</script>`,
    '</head>',
    `<body><p>Opening <a href="${attribute}">Checkpoint Studio</a>…</p></body>`,
    '</html>',
    '',
  ].join('\n');
}

/** Shows a folder in the file manager (browser mode's revealFolder); false where there is none. */
export function revealInFileManager(folder: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return runOpener(folderOpener(folder, platform, env));
}

/** Resolves true once the opener started, false when there is none; never rejects. */
function runOpener(opener: DesktopOpener | null): Promise<boolean> {
  if (!opener) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore' });
      child.once('spawn', () => resolve(true));
      child.once('error', () => resolve(false));
      child.unref();
    } catch {
      resolve(false);
    }
  });
}
