// What the installers would hold, judged without the Electron binary (which electron-builder
// downloads): electron-builder.yml's file patterns applied to the real build output with the
// matcher electron-builder itself uses, the Electron version, the unpacked native modules, the
// fuses, the icons; and `npm run dist`'s fast refusal where Electron cannot be downloaded.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { readElectronRelease } from '../../electron/launch/electron-release.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { closedPortUrl, startMirror } from './release-fixtures.js';

interface BuilderConfig {
  electronVersion: string;
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  directories: { buildResources: string };
}

const config = parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

/** electron-builder's rule: a path is packed when the last pattern that matches it is not negated. */
function packed(file: string): boolean {
  let included = false;
  for (const pattern of config.files) {
    const negated = pattern.startsWith('!');
    if (minimatch(file, negated ? pattern.slice(1) : pattern, { dot: true })) included = !negated;
  }
  return included;
}

function walk(dir: string): string[] {
  if (!fs.existsSync(path.join(REPOSITORY_ROOT, dir))) return [];
  return fs
    .readdirSync(path.join(REPOSITORY_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(REPOSITORY_ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

describe('the installers', () => {
  it('pack Electron of vendor/electron, the version the app is developed against', () => {
    expect(config.electronVersion).toBe(readElectronRelease(REPOSITORY_ROOT).version);
  });

  it('hold the compiled app and its pages, and no sources, tests, maps, command line or launcher', () => {
    const built = walk('dist');
    expect(built.length, 'dist/ is empty: npm run build first').toBeGreaterThan(0);
    const files = [
      ...built,
      ...walk('renderer'),
      ...walk('electron'),
      ...walk('test'),
      ...walk('bin'),
      ...walk('scripts'),
      ...walk('vendor'),
      'package.json',
      'README.md',
    ];
    const inside = files.filter(packed);
    for (const needed of [
      'package.json',
      'dist/electron/main.js',
      'dist/electron/preload.cjs',
      'dist/electron/core/training/session/trainer-main.js',
      'dist/electron/app/utility-launcher.js',
      'dist/electron/host/ipc-host.js',
      'renderer/dist/index.html',
    ]) {
      expect(inside, needed).toContain(needed);
    }
    const main = (JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { main: string }).main;
    expect(inside).toContain(main);
    const strays = inside.filter(
      (file) =>
        /\.(ts|map|svelte|md)$/.test(file) ||
        /^(dist\/test|test|electron|renderer\/src|bin|scripts|vendor)\//.test(file) ||
        /^dist\/electron\/(cli|launch)[/.]/.test(file) ||
        file === 'dist/electron/preload.js',
    );
    expect(strays).toEqual([]);
    expect(inside.some((file) => file.startsWith('renderer/dist/assets/'))).toBe(true);
  });

  it('unpack the native modules from the asar and rebuild nothing (both are N-API)', () => {
    expect(config.npmRebuild).toBe(false);
    const unpacked = (file: string): boolean => config.asarUnpack.some((pattern) => minimatch(file, pattern, { dot: true }));
    expect(unpacked('node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node')).toBe(true);
    expect(unpacked('node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow.so.2')).toBe(true);
    expect(unpacked('node_modules/@node-rs/crc32-linux-x64-gnu/crc32.linux-x64-gnu.node')).toBe(true);
    expect(unpacked('node_modules/@node-rs/crc32/index.js')).toBe(false);
  });

  it('set the fuses: no Node mode, no NODE_OPTIONS or inspector, the app only from its checked asar, no extra privileges for file://', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('target AppImage, deb, dmg and nsis with icons that exist and are the right size', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
    const pngSize = (file: string): [number, number] => {
      const bytes = fs.readFileSync(path.join(REPOSITORY_ROOT, file));
      expect(bytes.subarray(1, 4).toString('ascii'), file).toBe('PNG');
      return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    };
    expect(pngSize('resources/icon.png')).toEqual([1024, 1024]);
    expect(pngSize(`${config.linux.icon}/512x512.png`)).toEqual([512, 512]);
    expect(pngSize(`${config.linux.icon}/256x256.png`)).toEqual([256, 256]);
    const ico = fs.readFileSync(path.join(REPOSITORY_ROOT, config.win.icon));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt8(6)]).toEqual([0, 1, 0]); // an icon; its first image 256 px
    expect(fs.readFileSync(path.join(REPOSITORY_ROOT, config.mac.icon)).subarray(0, 4).toString('ascii')).toBe('icns');
  });
});

describe('npm run dist, first', () => {
  const check = path.join(REPOSITORY_ROOT, 'dist', 'electron', 'launch', 'dist-check.js');
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('stops in seconds with one sentence and exit code 1 where Electron cannot be downloaded', async () => {
    const mirror = await closedPortUrl();
    const started = Date.now();
    const result = spawnSync(process.execPath, [check], { encoding: 'utf8', env: { ...process.env, ELECTRON_MIRROR: mirror }, timeout: 20_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^npm run dist cannot build installers here: Electron \d+\.\d+\.\d+ cannot be downloaded from 127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]+\); run it where that host is reachable, or set ELECTRON_MIRROR\.$/,
      ),
    ]);
  });

  it('lets electron-builder go on where the release answers', async () => {
    const { version } = readElectronRelease(REPOSITORY_ROOT);
    const mirror = await startMirror({ [`/v${version}/SHASUMS256.txt`]: Buffer.from('sums\n') });
    closers.push(() => mirror.close());
    // Not spawnSync: the mirror answers from this process.
    const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [check], { env: { ...process.env, ELECTRON_MIRROR: mirror.url }, timeout: 20_000 }, (error, _stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
      );
    });
    expect(result).toEqual({ status: 0, stderr: '' });
    expect(mirror.requests).toEqual([`HEAD /v${version}/SHASUMS256.txt`]);
  });
});
