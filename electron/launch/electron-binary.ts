// The Electron binary for `checkpoint-studio start`: one named by CHECKPOINT_STUDIO_ELECTRON, one
// unpacked by an earlier start, or downloaded now through @electron/get (the electron package's
// own downloader: its cache, the mirror variables, and the SHA-256 Electron publishes, checked
// before anything is unpacked). @electron/get and extract-zip are development dependencies, as
// the electron package was: they are loaded only here, when a download is needed.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type ElectronRelease, electronCacheRoot, electronMirror, executableInRelease, releaseInstallDir } from './electron-release.js';

export interface ElectronHost {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  arch: string;
}

export const thisHost = (): ElectronHost => ({ env: process.env, platform: process.platform, arch: process.arch === 'arm' ? 'armv7l' : process.arch });

/** A binary named by CHECKPOINT_STUDIO_ELECTRON that is not there: a usage error, not a fallback. */
export class ElectronPathError extends Error {
  override name = 'UsageError';
}

/** The binary to run, or null when it must be downloaded first. */
export function findElectron(release: ElectronRelease, host: ElectronHost = thisHost()): string | null {
  const named = host.env.CHECKPOINT_STUDIO_ELECTRON;
  if (named) {
    if (!existsSync(named)) throw new ElectronPathError(`CHECKPOINT_STUDIO_ELECTRON is ${named}, which does not exist`);
    return path.resolve(named);
  }
  const executable = path.join(
    releaseInstallDir(electronCacheRoot(host.env, host.platform), release.version, host.platform, host.arch),
    executableInRelease(host.platform),
  );
  return existsSync(executable) ? executable : null;
}

export interface DownloadOptions {
  /** Called once the server answers, with the zip's size when it says. */
  onStart?: (totalBytes: number | null) => void;
  /** Milliseconds: name lookup, connection, and silence in the middle of the transfer. */
  timeouts?: { lookup: number; connect: number; idle: number };
}

const DEFAULT_TIMEOUTS = { lookup: 10_000, connect: 15_000, idle: 30_000 };

/** Downloads (or takes from @electron/get's cache), verifies and unpacks; returns the executable. */
export async function downloadElectron(release: ElectronRelease, host: ElectronHost = thisHost(), options: DownloadOptions = {}): Promise<string> {
  const { downloadArtifact } = await import('@electron/get');
  const cacheRoot = electronCacheRoot(host.env, host.platform);
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  let started = false;
  // We say what happens ourselves; and @electron/get's progress bar starts a 30-second timer
  // that a failed download leaves running, which would keep browser mode from exiting on Ctrl-C.
  process.env.ELECTRON_GET_NO_PROGRESS ??= '1';
  const zip = await downloadArtifact({
    version: release.version,
    artifactName: 'electron',
    platform: host.platform,
    arch: host.arch,
    cacheRoot,
    checksums: release.checksums,
    mirrorOptions: { mirror: electronMirror(host.env) },
    downloadOptions: {
      // got's options: a dead network fails in seconds, a slow one may take its time.
      timeout: { lookup: timeouts.lookup, connect: timeouts.connect, socket: timeouts.idle },
      retry: { limit: 1 },
      quiet: true,
      getProgressCallback: (progress: { total?: number }) => {
        if (started) return Promise.resolve();
        started = true;
        options.onStart?.(progress.total ?? null);
        return Promise.resolve();
      },
    },
  });
  const target = releaseInstallDir(cacheRoot, release.version, host.platform, host.arch);
  // Unpacked beside its final name and renamed, so a folder of that name is always whole.
  const unpacking = `${target}.tmp-${process.pid}`;
  await fs.rm(unpacking, { recursive: true, force: true });
  await fs.mkdir(path.dirname(target), { recursive: true });
  const { default: extract } = await import('extract-zip');
  try {
    await extract(zip, { dir: unpacking });
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(unpacking, target);
  } finally {
    await fs.rm(unpacking, { recursive: true, force: true });
  }
  const executable = path.join(target, executableInRelease(host.platform));
  if (!existsSync(executable)) throw new Error(`the downloaded zip holds no ${executableInRelease(host.platform)}`);
  return executable;
}

/**
 * The one sentence a failed download ends in. got's errors carry the address they tried; the
 * reason is their first line (e.g. "getaddrinfo ENOTFOUND github.com").
 */
export function describeDownloadFailure(error: unknown, version: string, mirror: string): string {
  const host = hostOf(error) ?? safeHost(mirror);
  const message = error instanceof Error ? error.message : String(error);
  let reason = (message.split('\n')[0] ?? '').replace(/[.\s]+$/, '');
  if (/checksum/i.test(reason)) reason = 'its SHA-256 is not the one Electron published';
  else if (/cannot find (module|package) '(@electron\/get|extract-zip)'/i.test(reason))
    reason = 'the downloader is a development dependency, not installed here';
  if (reason.length > 160) reason = `${reason.slice(0, 157)}...`;
  return `Electron ${version} could not be downloaded from ${host} (${reason}): starting browser mode instead.`;
}

function hostOf(error: unknown): string | null {
  const url = (error as { options?: { url?: unknown } } | null)?.options?.url;
  return url instanceof URL ? url.host : null;
}

function safeHost(address: string): string {
  try {
    return new URL(address).host || address;
  } catch {
    return address;
  }
}
