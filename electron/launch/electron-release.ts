// Which Electron the app runs on and where its binary lives. The version and the SHA-256 of each
// release zip come from vendor/electron/ (copied from the electron npm package by
// scripts/vendor-electron.mjs; README, "Node and Electron versions", says why we do not install
// that package).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export interface ElectronRelease {
  version: string;
  /** File name of a release artifact → its SHA-256, as Electron publishes them. */
  checksums: Record<string, string>;
}

const releaseSchema = z.object({ electron: z.string().regex(/^\d+\.\d+\.\d+$/, 'a version such as 45.5.0') });
const checksumsSchema = z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'));

/** Reads vendor/electron/ under the package root; a damaged file is named with what is wrong. */
export function readElectronRelease(root: string): ElectronRelease {
  const dir = path.join(root, 'vendor', 'electron');
  const read = <T>(file: string, schema: z.ZodType<T>): T => {
    const where = path.join(dir, file);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(where, 'utf8'));
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success)
      throw new Error(`${where}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'the file'}: ${issue.message}`).join('; ')}`);
    return parsed.data;
  };
  return { version: read('release.json', releaseSchema).electron, checksums: read('checksums.json', checksumsSchema) };
}

/** The executable inside the extracted release zip (as the electron package's install.js has it). */
export function executableInRelease(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return path.join('Electron.app', 'Contents', 'MacOS', 'Electron');
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/**
 * @electron/get's cache folder: `electron_config_cache` (the variable the electron package
 * honours) or the platform's default, which is @electron/get's own default too.
 */
export function electronCacheRoot(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  const configured = env.electron_config_cache ?? env.ELECTRON_CONFIG_CACHE;
  if (configured) return path.resolve(configured);
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'electron');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'electron', 'Cache');
  return path.join(env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'electron');
}

/** Where we unpack a release, beside @electron/get's cached zips: shared by every clone. */
export function releaseInstallDir(cacheRoot: string, version: string, platform: string, arch: string): string {
  return path.join(cacheRoot, 'checkpoint-studio', `electron-v${version}-${platform}-${arch}`);
}

/** The zip's name in Electron's releases, e.g. electron-v45.5.0-linux-x64.zip. */
export function releaseZipName(version: string, platform: string, arch: string): string {
  return `electron-v${version}-${platform}-${arch}.zip`;
}

export const DEFAULT_ELECTRON_MIRROR = 'https://github.com/electron/electron/releases/download/';

/** The download's base address, with @electron/get's precedence for the variables we document. */
export function electronMirror(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_config_electron_mirror || env.NPM_CONFIG_ELECTRON_MIRROR || env.ELECTRON_MIRROR || DEFAULT_ELECTRON_MIRROR;
}
