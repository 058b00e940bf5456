// Browser mode opens the browser without its token in any process's arguments (which every local
// user can read in /proc/<pid>/cmdline): the opener is handed a page only this user can read, which
// sends the browser on to the address, and that page goes when the server stops.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type DesktopOpener, openPrivately, redirectPage } from '../../electron/launch/open-browser.js';
import { REPOSITORY_ROOT } from '../fixtures.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0';
const ADDRESS = `http://127.0.0.1:41079/#token=${TOKEN}`;

/** Resolves when `file` exists: the directory's own change events, not a clock. */
function fileAppears(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = fs.watch(path.dirname(file), () => {
      if (!fs.existsSync(file)) return;
      watcher.close();
      resolve();
    });
    if (fs.existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}

const temporary: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of temporary.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-open-test-'));
  temporary.push(dir);
  return dir;
}

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

describe('opening the browser privately', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    it(`(${platform}) hands the opener a private page that leads to the address, never the address`, async () => {
      const runtime = tempDir();
      const started: DesktopOpener[] = [];
      const opening = await openPrivately(ADDRESS, {
        platform,
        env: { DISPLAY: ':0', XDG_RUNTIME_DIR: runtime },
        run: async (opener) => (started.push(opener), true),
      });
      expect(opening.opened).toBe(true);
      expect(started).toHaveLength(1);
      const opener = started[0] as DesktopOpener;
      expect(JSON.stringify(opener)).not.toContain(TOKEN);
      const page = fileURLToPath(opener.args[opener.args.length - 1] as string);
      expect(fs.readFileSync(page, 'utf8')).toBe(redirectPage(ADDRESS));
      if (platform === 'linux') {
        expect(path.dirname(path.dirname(page))).toBe(runtime);
        expect(mode(page)).toBe(0o600);
        expect(mode(path.dirname(page))).toBe(0o700);
      }
      await opening.close();
      expect(fs.existsSync(path.dirname(page))).toBe(false);
    });
  }

  it('writes nothing where there is no desktop to open it on', async () => {
    const runtime = tempDir();
    const opening = await openPrivately(ADDRESS, { platform: 'linux', env: { XDG_RUNTIME_DIR: runtime }, run: async () => true });
    expect(opening.opened).toBe(false);
    expect(fs.readdirSync(runtime)).toEqual([]);
  });

  it('leads to the address by script and by refresh, and tells the browser to send no Referer', () => {
    const page = redirectPage(ADDRESS);
    expect(page).toContain(`window.location.replace(${JSON.stringify(ADDRESS)})`);
    expect(page).toContain(`<meta http-equiv="refresh" content="1;url=${ADDRESS}">`);
    expect(page).toContain('<meta name="referrer" content="no-referrer">');
    expect(redirectPage('http://x/#"><script>')).not.toContain('"><script>');
  });
});

describe('checkpoint-studio serve', () => {
  it('runs the opener without the token in its arguments, gives it a 0600 page, and removes the page when it stops', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const log = path.join(dir, 'opener.log');
    // Stands in for the desktop's opener: records its arguments as it was started with them.
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${log}.part" && mv "${log}.part" "${log}"\n`, { mode: 0o755 });
    const runtime = path.join(dir, 'runtime');
    fs.mkdirSync(runtime, { mode: 0o700 });
    const { WAYLAND_DISPLAY: _wayland, ...env } = process.env;
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, 'bin', 'checkpoint-studio.js'), 'serve', '--workspace', path.join(dir, 'ws')], {
      // Its recent workspaces go to a settings file of the test's own, not the user's.
      env: { ...env, DISPLAY: ':99', XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: path.join(dir, 'config'), PATH: `${bin}${path.delimiter}${env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    await fileAppears(log);
    const token = /#token=(\S+)/.exec(stdout)?.[1] ?? '';
    expect(token).not.toBe('');
    const args = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(args.join(' ')).not.toContain(token);
    expect(args).toHaveLength(1);
    const page = fileURLToPath(args[0] as string);
    expect(page.startsWith(runtime)).toBe(true);
    expect(mode(page)).toBe(0o600);
    expect(fs.readFileSync(page, 'utf8')).toContain(`#token=${token}`);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(page)).toBe(false);
    expect(fs.readdirSync(runtime)).toEqual([]);
  });
});
