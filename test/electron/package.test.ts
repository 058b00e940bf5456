// electron-builder run for real on our electron-builder.yml, up to the unpacked app (its `dir`
// target), with a stand-in for Electron's binary: the real one comes from GitHub, which these
// machines cannot reach. The stand-in carries the fuse wire Electron binaries have, so the fuses
// electron-builder flips are read back from it; the asar is listed with @electron/asar. What is
// left unproven here is only what needs the real binary (that the app then starts: app.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listPackage } from '@electron/asar';
import { type Configuration, Platform, build } from 'electron-builder';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../fixtures.js';

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'; // @electron/fuses' marker before the wire
const FUSES = [
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
];

let work = '';
let resources = '';
let binary = '';

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-pack-'));
  const electronDist = path.join(work, 'electron');
  fs.mkdirSync(electronDist);
  // Electron's defaults: every fuse as an unflipped binary has it (wire version 1, 8 fuses).
  const wire = Buffer.concat([Buffer.from(`#!/bin/sh\nexit 0\n#${SENTINEL}`), Buffer.from([1, FUSES.length]), Buffer.from('10110001')]);
  fs.writeFileSync(path.join(electronDist, 'electron'), wire, { mode: 0o755 });
  fs.writeFileSync(path.join(electronDist, 'version'), 'v45.5.0');
  const config = parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'electron-builder.yml'), 'utf8')) as Configuration;
  await build({
    projectDir: REPOSITORY_ROOT,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    config: { ...config, electronDist, directories: { ...config.directories, output: path.join(work, 'out') } },
  });
  const unpacked = path.join(work, 'out', 'linux-unpacked');
  resources = path.join(unpacked, 'resources');
  binary = path.join(unpacked, 'checkpoint-studio');
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the packaged app (electron-builder, linux dir target)', () => {
  it('holds the compiled app, its pages and production modules, and no sources, tests, maps or launcher', () => {
    const entries = listPackage(path.join(resources, 'app.asar'), { isPack: false }).map((entry) => entry.split(path.sep).join('/'));
    const own = entries.filter((entry) => !entry.startsWith('/node_modules/'));
    for (const needed of [
      '/package.json',
      '/dist/electron/main.js',
      '/dist/electron/preload.cjs',
      '/dist/electron/core/training/session/trainer-main.js',
      '/dist/electron/core/training/session/checkpoint-writer-worker.js',
      '/renderer/dist/index.html',
    ]) {
      expect(own, needed).toContain(needed);
    }
    expect(
      own.filter(
        (entry) =>
          /\.(ts|map|md|svelte)$/.test(entry) ||
          /^\/(test|electron|renderer\/src|bin|scripts|vendor|resources|dist\/test|dist\/electron\/(cli|launch))(\/|\.|$)/.test(entry),
      ),
    ).toEqual([]);
    const modules = new Set(
      entries
        .filter((entry) => entry.startsWith('/node_modules/'))
        .map((entry) =>
          entry
            .split('/')
            .slice(2, entry.split('/')[2]?.startsWith('@') ? 4 : 3)
            .join('/'),
        ),
    );
    for (const runtime of ['zod', 'chokidar', 'ws', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@node-rs/crc32'])
      expect(modules, runtime).toContain(runtime);
    for (const development of ['electron-builder', 'vitest', 'typescript', 'vite', 'svelte', '@electron/get', 'playwright-core', 'esbuild'])
      expect(modules, development).not.toContain(development);
  });

  it("keeps @node-rs/crc32's native binary outside the asar, where it can be loaded", () => {
    const unpacked = fs.readdirSync(path.join(resources, 'app.asar.unpacked'), { recursive: true }).map(String);
    expect(unpacked.some((file) => file.startsWith(path.join('node_modules', '@node-rs')) && file.endsWith('.node'))).toBe(true);
  });

  it("flips the fuses in the app's binary as electron-builder.yml says", () => {
    const bytes = fs.readFileSync(binary);
    const at = bytes.indexOf(SENTINEL) + SENTINEL.length;
    const states = Object.fromEntries(FUSES.map((name, index) => [name, String.fromCharCode(bytes[at + 2 + index] ?? 0)]));
    expect(states).toMatchObject({
      RunAsNode: '0',
      EnableCookieEncryption: '1',
      EnableNodeOptionsEnvironmentVariable: '0',
      EnableNodeCliInspectArguments: '0',
      EnableEmbeddedAsarIntegrityValidation: '1',
      OnlyLoadAppFromAsar: '1',
      GrantFileProtocolExtraPrivileges: '0',
    });
  });
});
