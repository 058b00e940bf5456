// `checkpoint-studio start`: which of Electron and browser mode it chooses, the first-start
// download (through @electron/get, against a mirror on 127.0.0.1 instead of GitHub), and the
// real command, spawned, in each case.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDownloadFailure, downloadElectron, findElectron, type ElectronHost } from '../../electron/launch/electron-binary.js';
import { type ElectronRelease, executableInRelease, readElectronRelease, releaseZipName } from '../../electron/launch/electron-release.js';
import { browserOpener, folderOpener } from '../../electron/launch/open-browser.js';
import { planStart, type StartDeps } from '../../electron/cli/start-command.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { FAKE_ELECTRON, type Mirror, closedPortUrl, makeZip, sha256, startMirror } from './release-fixtures.js';

const bin = path.join(REPOSITORY_ROOT, 'bin', 'checkpoint-studio.js');
const release = readElectronRelease(REPOSITORY_ROOT);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `studio-${label}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function mirror(files: Record<string, Buffer>): Promise<Mirror> {
  const started = await startMirror(files);
  cleanups.push(() => started.close());
  return started;
}

/** This machine, with Electron's cache in a temp folder and the given mirror. */
function host(env: NodeJS.ProcessEnv = {}): ElectronHost {
  return { env: { electron_config_cache: tempDir('electron-cache'), ...env }, platform: process.platform, arch: process.arch };
}

const zipPath = (version: string): string => `/v${version}/${releaseZipName(version, process.platform, process.arch)}`;

function fakeRelease(): { zip: Buffer; release: ElectronRelease } {
  const zip = makeZip([
    { name: executableInRelease(process.platform).split(path.sep).join('/'), data: Buffer.from(FAKE_ELECTRON), mode: 0o755 },
    { name: 'version', data: Buffer.from('99.0.0'), mode: 0o644 },
  ]);
  return { zip, release: { version: '99.0.0', checksums: { [releaseZipName('99.0.0', process.platform, process.arch)]: sha256(zip) } } };
}

describe('the start decision', () => {
  const refuse = (): never => {
    throw new Error('must not be called');
  };

  it('goes to browser mode when asked, looking for no Electron and downloading nothing', async () => {
    const deps: StartDeps = { release, host: host(), find: refuse, download: refuse };
    expect(await planStart(true, deps)).toEqual({ mode: 'browser', why: null });
    expect(await planStart(false, { ...deps, host: host({ CHECKPOINT_STUDIO_NO_ELECTRON: '1' }) })).toEqual({ mode: 'browser', why: null });
  });

  it('runs the Electron that is here without downloading', async () => {
    const plan = await planStart(false, { release, host: host(), find: () => '/opt/electron/electron', download: refuse });
    expect(plan).toEqual({ mode: 'electron', executable: '/opt/electron/electron' });
  });

  it('downloads a missing Electron, and says in one sentence why browser mode when that fails', async () => {
    const unreachable = await closedPortUrl();
    const plan = await planStart(false, {
      release,
      host: host({ ELECTRON_MIRROR: unreachable }),
      find: () => null,
      download: (r, h) => downloadElectron(r, h),
    });
    expect(plan.mode).toBe('browser');
    const why = plan.mode === 'browser' ? plan.why : null;
    expect(why).toMatch(
      new RegExp(
        `^Electron ${release.version.replace(/\./g, '\\.')} could not be downloaded from 127\\.0\\.0\\.1:\\d+ \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\): starting browser mode instead\\.$`,
      ),
    );
  });
});

describe('the first-start download', () => {
  it('fetches the release zip through the mirror, checks its SHA-256, unpacks it, and finds it next time', async () => {
    const { zip, release: fake } = fakeRelease();
    const server = await mirror({ [zipPath(fake.version)]: zip });
    const where = host({ ELECTRON_MIRROR: server.url });
    expect(findElectron(fake, where)).toBeNull();
    const sizes: (number | null)[] = [];
    const executable = await downloadElectron(fake, where, { onStart: (total) => sizes.push(total) });
    expect(server.requests).toEqual([`GET ${zipPath(fake.version)}`]);
    expect(sizes).toEqual([zip.length]);
    expect(fs.readFileSync(executable, 'utf8')).toBe(FAKE_ELECTRON);
    if (process.platform !== 'win32') expect(fs.statSync(executable).mode & 0o111).not.toBe(0);
    expect(findElectron(fake, where)).toBe(executable);
    // The zip stays in @electron/get's cache: unpacking again needs no network.
    await server.close();
    fs.rmSync(path.dirname(executable), { recursive: true });
    expect(await downloadElectron(fake, where)).toBe(executable);
  });

  it('refuses a zip whose SHA-256 is not the published one, and unpacks nothing', async () => {
    const { zip, release: fake } = fakeRelease();
    const tampered = Buffer.concat([zip, Buffer.from('x')]);
    const server = await mirror({ [zipPath(fake.version)]: tampered });
    const where = host({ ELECTRON_MIRROR: server.url });
    const failure = await downloadElectron(fake, where).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(describeDownloadFailure(failure, fake.version, server.url)).toBe(
      `Electron 99.0.0 could not be downloaded from ${new URL(server.url).host} (its SHA-256 is not the one Electron published): starting browser mode instead.`,
    );
    expect(findElectron(fake, where)).toBeNull();
  });

  it('takes the Electron that CHECKPOINT_STUDIO_ELECTRON names, and refuses one that is not there', () => {
    const named = path.join(tempDir('named'), 'electron');
    fs.writeFileSync(named, FAKE_ELECTRON, { mode: 0o755 });
    expect(findElectron(release, host({ CHECKPOINT_STUDIO_ELECTRON: named }))).toBe(named);
    expect(() => findElectron(release, host({ CHECKPOINT_STUDIO_ELECTRON: `${named}-missing` }))).toThrow(
      /CHECKPOINT_STUDIO_ELECTRON is .*electron-missing, which does not exist/,
    );
  });
});

describe('showing a folder in the file manager', () => {
  it('selects it on macOS and Windows, opens it with xdg-open on a Linux desktop, and finds none without one', () => {
    expect(folderOpener('/w/run/ckpt-1', 'darwin', {})).toEqual({ command: 'open', args: ['-R', '/w/run/ckpt-1'] });
    expect(folderOpener('C:\\w\\run\\ckpt-1', 'win32', {})).toEqual({ command: 'explorer.exe', args: ['/select,C:\\w\\run\\ckpt-1'] });
    expect(folderOpener('/w/run/ckpt-1', 'linux', { DISPLAY: ':0' })).toEqual({ command: 'xdg-open', args: ['/w/run/ckpt-1'] });
    expect(folderOpener('/w/run/ckpt-1', 'linux', {})).toBeNull();
  });
});

describe('opening the default browser', () => {
  it('uses the platform opener, and none on a Linux without a display', () => {
    expect(browserOpener('http://127.0.0.1:1/', 'linux', {})).toBeNull();
    expect(browserOpener('http://127.0.0.1:1/', 'linux', { DISPLAY: ':0' })).toEqual({ command: 'xdg-open', args: ['http://127.0.0.1:1/'] });
    expect(browserOpener('http://127.0.0.1:1/', 'linux', { WAYLAND_DISPLAY: 'wayland-0' })?.command).toBe('xdg-open');
    expect(browserOpener('http://x/?a=1&b=2', 'darwin', {})).toEqual({ command: 'open', args: ['http://x/?a=1&b=2'] });
    // Never through cmd, which would read the & as its own.
    expect(browserOpener('http://x/?a=1&b=2', 'win32', {})).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', 'http://x/?a=1&b=2'] });
  });
});

/** The real command; resolves with its output once `until` matches its stdout, or when it exits. */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const {
    DISPLAY: _display,
    WAYLAND_DISPLAY: _wayland,
    CHECKPOINT_STUDIO_NO_ELECTRON: _no,
    CHECKPOINT_STUDIO_ELECTRON: _named,
    ELECTRON_MIRROR: _mirror,
    ...base
  } = process.env;
  // The app's recent workspaces go to a settings file of the test's own, not the user's.
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...base, XDG_CONFIG_HOME: tempDir('config'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (err += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(read: () => string, pattern: RegExp, exited: Promise<unknown>, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const match = read().match(pattern);
    if (match) return match;
    if (done || Date.now() > deadline) throw new Error(`never printed ${pattern}; got:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('checkpoint-studio with no subcommand (what npm start runs)', () => {
  it('without Electron and without its download, says why in one sentence and serves browser mode', async () => {
    const cwd = tempDir('cwd');
    const run = startCli(
      ['--no-open', '--port', '0', '--workspace', 'my ws'],
      { ELECTRON_MIRROR: await closedPortUrl(), electron_config_cache: tempDir('cache') },
      cwd,
    );
    const [, url] = await waitFor(run.stdout, /open (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/, run.exited);
    expect(run.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Electron \d+\.\d+\.\d+ could not be downloaded from 127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]+\): starting browser mode instead\.$/,
      ),
    ]);
    expect(run.stdout()).toContain(`Checkpoint Studio: ${fs.realpathSync(path.join(cwd, 'my ws'))}`);
    const page = await fetch(url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('with --browser or CHECKPOINT_STUDIO_NO_ELECTRON=1 asks no mirror for anything', async () => {
    const server = await mirror({});
    for (const [args, env] of [
      [['start', '--browser'], {}],
      [[], { CHECKPOINT_STUDIO_NO_ELECTRON: '1' }],
    ] as const) {
      const run = startCli(
        [...args, '--no-open', '--workspace', tempDir('ws')],
        { ...env, ELECTRON_MIRROR: server.url, electron_config_cache: tempDir('cache') },
        tempDir('cwd'),
      );
      await waitFor(run.stdout, /open http:\/\/127\.0\.0\.1:\d+\//, run.exited);
      expect(run.stderr()).toBe('');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    expect(server.requests).toEqual([]);
  });

  it('runs the Electron that is here on the app with the workspace, without ELECTRON_RUN_AS_NODE, and exits with its code', async () => {
    const dir = tempDir('electron');
    const electron = path.join(dir, 'electron');
    fs.writeFileSync(electron, FAKE_ELECTRON, { mode: 0o755 });
    const log = path.join(dir, 'log.json');
    const cwd = tempDir('cwd');
    const run = startCli(['--workspace', 'ws'], { CHECKPOINT_STUDIO_ELECTRON: electron, FAKE_ELECTRON_LOG: log, ELECTRON_RUN_AS_NODE: '1' }, cwd);
    expect(await run.exited).toBe(3);
    expect(JSON.parse(fs.readFileSync(log, 'utf8'))).toEqual({ args: [REPOSITORY_ROOT, '--workspace', path.join(cwd, 'ws')], runAsNode: null });
    expect(run.stderr()).toBe('');
  });

  it('passes a SIGTERM on to Electron so the app can save, and exits with its code', async () => {
    const dir = tempDir('electron');
    const electron = path.join(dir, 'electron');
    fs.writeFileSync(electron, FAKE_ELECTRON, { mode: 0o755 });
    const log = path.join(dir, 'log.json');
    const run = startCli(['--workspace', 'ws'], { CHECKPOINT_STUDIO_ELECTRON: electron, FAKE_ELECTRON_LOG: log, FAKE_ELECTRON_WAIT: '1' }, tempDir('cwd'));
    await waitFor(run.stdout, /fake electron running/, run.exited);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect((JSON.parse(fs.readFileSync(log, 'utf8')) as { signal?: string }).signal).toBe('SIGTERM');
  });

  it('under npm start, takes a relative --workspace from where npm was typed, not the package folder', async () => {
    const dir = tempDir('electron');
    const electron = path.join(dir, 'electron');
    fs.writeFileSync(electron, FAKE_ELECTRON, { mode: 0o755 });
    const log = path.join(dir, 'log.json');
    const typedIn = tempDir('typed-in');
    const run = startCli(
      ['start', '--workspace', 'runs'],
      { CHECKPOINT_STUDIO_ELECTRON: electron, FAKE_ELECTRON_LOG: log, npm_lifecycle_event: 'start', INIT_CWD: typedIn },
      REPOSITORY_ROOT,
    );
    expect(await run.exited).toBe(3);
    expect((JSON.parse(fs.readFileSync(log, 'utf8')) as { args: string[] }).args).toEqual([REPOSITORY_ROOT, '--workspace', path.join(typedIn, 'runs')]);
  });

  it('refuses odd flags as usage errors, before anything starts', () => {
    for (const [args, message] of [
      [['--workspace', '--no-open'], "option '--workspace <dir>' argument '--no-open' is invalid. expected a folder, not another flag"],
      [['--port', '70000'], "option '--port <n>' argument '70000' is invalid. expected a port number from 0 to 65535 (0: a free one)"],
      [['start', 'now'], "too many arguments for 'start'"],
    ] as const) {
      const cwd = tempDir('cwd');
      const result = spawnSync(process.execPath, [bin, ...args], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, CHECKPOINT_STUDIO_NO_ELECTRON: '1' },
        timeout: 10_000,
      });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(fs.readdirSync(cwd)).toEqual([]);
    }
  });
});
