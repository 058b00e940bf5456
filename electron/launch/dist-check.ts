// `npm run dist` runs this first: electron-builder needs Electron's release zips (from GitHub, or
// ELECTRON_MIRROR), and where they cannot be downloaded it would retry for minutes before failing
// obscurely. A probe of a few seconds says so in one sentence instead, exit code 1.
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../host/package-root.js';
import { electronMirror, readElectronRelease } from './electron-release.js';

/** Null when the release's checksum file answers within `timeoutMs`, else why not. */
export async function probeDownload(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? null : `HTTP ${response.status} for ${url}`;
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') return `no answer in ${Math.round(timeoutMs / 1000)} s`;
    // fetch says "fetch failed"; the cause holds the system's words.
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return cause.message;
    return error instanceof Error ? error.message : String(error);
  }
}

export async function distCheck(env: NodeJS.ProcessEnv = process.env, timeoutMs = 8_000): Promise<string | null> {
  const { version } = readElectronRelease(packageRoot());
  const mirror = electronMirror(env);
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  const reason = await probeDownload(`${base}v${version}/SHASUMS256.txt`, timeoutMs);
  if (reason === null) return null;
  return `npm run dist cannot build installers here: Electron ${version} cannot be downloaded from ${new URL(base).host} (${reason}); run it where that host is reachable, or set ELECTRON_MIRROR.`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problem = await distCheck();
  if (problem) {
    console.error(problem);
    process.exitCode = 1;
  }
}
