// Opens an address in the user's default browser, where there is one. A machine without a
// desktop (no DISPLAY on Linux, or no xdg-open) is normal for a server: we then open nothing
// and the printed address is the way in.
import { spawn } from 'node:child_process';

export interface BrowserOpener {
  command: string;
  args: string[];
}

/** The platform's opener, or null where there is no desktop to open it on. */
export function browserOpener(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): BrowserOpener | null {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // Not `cmd /c start`: cmd would read the address's & and ^ as its own syntax.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return { command: 'xdg-open', args: [url] };
}

/** Resolves true once the opener started, false when there is none; never rejects. */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const opener = browserOpener(url, platform, env);
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
