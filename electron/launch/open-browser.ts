// Opens an address in the user's default browser, where there is one. A machine without a
// desktop (no DISPLAY on Linux, or no xdg-open) is normal for a server: we then open nothing
// and the printed address is the way in.
import { spawn } from 'node:child_process';

export interface DesktopOpener {
  command: string;
  args: string[];
}

/** The platform's opener, or null where there is no desktop to open it on. */
export function browserOpener(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): DesktopOpener | null {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // Not `cmd /c start`: cmd would read the address's & and ^ as its own syntax.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return { command: 'xdg-open', args: [url] };
}

/** The platform's file manager showing `folder`, or null where there is no desktop. */
export function folderOpener(folder: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): DesktopOpener | null {
  // macOS and Windows select the folder in its parent's window; xdg-open can only open it.
  if (platform === 'darwin') return { command: 'open', args: ['-R', folder] };
  if (platform === 'win32') return { command: 'explorer.exe', args: [`/select,${folder}`] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return { command: 'xdg-open', args: [folder] };
}

/** Resolves true once the opener started, false when there is none; never rejects. */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return runOpener(browserOpener(url, platform, env));
}

/** Shows a folder in the file manager (browser mode's revealFolder); false where there is none. */
export function revealInFileManager(folder: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return runOpener(folderOpener(folder, platform, env));
}

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
