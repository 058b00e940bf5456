// The desktop app's guards, tested without an Electron binary: who may call the StudioApi over
// IPC and with what, where the window may go, and its security settings.
import { describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { isExternalWebUrl, isOwnUrl } from '../../electron/app/urls.js';
import { secureWebPreferences } from '../../electron/app/web-preferences.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/host/security-headers.js';
import { APP_ORIGIN, answerIpcCall, isTrustedSender } from '../../electron/host/ipc-guard.js';
import { launchWorkspace } from '../../electron/app/launch-workspace.js';

/** Records what reaches the Studio: a refused call must reach nothing. */
function fakeApi(): { api: StudioApi; calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const api = new Proxy({} as StudioApi, {
    get: (_target, method: string) => async (params: unknown) => {
      calls.push([method, params]);
      if (method === 'listCheckpoints') return [];
      throw Object.assign(new Error('no such run'), { code: 'not-found' });
    },
  });
  return { api, calls };
}

const OURS = { url: `${APP_ORIGIN}/index.html`, isOurMainFrame: true };

describe('the IPC guard', () => {
  it("accepts only our own page in our window's top frame", () => {
    expect(isTrustedSender(OURS)).toBe(true);
    expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, isOurMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isOurMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: 'file:///etc/passwd', isOurMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: 'app://studio.evil/', isOurMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: null, isOurMainFrame: true })).toBe(false);
  });

  it('refuses a forged sender before anything is called', async () => {
    const { api, calls } = fakeApi();
    const reply = await answerIpcCall(api, { url: 'https://evil.example/', isOurMainFrame: true }, 'deleteCheckpoints', { targets: ['a/ckpt-1'] });
    expect(reply).toEqual({ ok: false, error: { code: 'refused', message: expect.stringContaining('https://evil.example/') } });
    expect(calls).toEqual([]);
  });

  it('refuses an unknown method and malformed parameters before anything is called', async () => {
    const { api, calls } = fakeApi();
    expect(await answerIpcCall(api, OURS, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(await answerIpcCall(api, OURS, 'formatDisk', {})).toMatchObject({ ok: false, error: { code: 'usage' } });
    const bad = await answerIpcCall(api, OURS, 'deleteCheckpoints', { targets: 'everything' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('targets') } });
    expect(await answerIpcCall(api, OURS, 'deleteCheckpoints', { targets: [] })).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(calls).toEqual([]);
  });

  it("passes a valid call with its parsed parameters, and the Studio's error with its code", async () => {
    const { api, calls } = fakeApi();
    expect(await answerIpcCall(api, OURS, 'listCheckpoints', {})).toEqual({ ok: true, result: [] });
    expect(await answerIpcCall(api, OURS, 'latest', { run: 'nope' })).toEqual({ ok: false, error: { code: 'not-found', message: 'no such run' } });
    expect(calls).toEqual([
      ['listCheckpoints', {}],
      ['latest', { run: 'nope' }],
    ]);
  });
});

describe('the window', () => {
  it('navigates only among our pages, and hands only web links to the browser', () => {
    expect(isOwnUrl(`${APP_ORIGIN}/index.html#/checkpoints`)).toBe(true);
    expect(isOwnUrl('https://example.com/')).toBe(false);
    expect(isOwnUrl('file:///home/user/evil.html')).toBe(false);
    expect(isExternalWebUrl('https://www.tensorflow.org/')).toBe(true);
    expect(isExternalWebUrl('file:///etc/passwd')).toBe(false);
    expect(isExternalWebUrl('javascript:alert(1)')).toBe(false);
    expect(isExternalWebUrl('smb://server/share')).toBe(false);
  });

  it("has Electron's security settings: isolated, sandboxed, no Node, no webview", () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({
      preload: '/p.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });
});

describe('the workspace the app opens', () => {
  const place = { packaged: false, cwd: '/projects/here', home: '/home/me' };
  it('is --workspace as start passes it, resolved from where the app started', () => {
    expect(launchWorkspace(['electron', '/app', '--workspace', '/data/runs'], place)).toBe('/data/runs');
    expect(launchWorkspace(['electron', '/app', '--workspace', 'runs'], place)).toBe('/projects/here/runs');
  });
  it('is ./checkpoints in development and ~/checkpoints for a packaged app started from a desktop', () => {
    expect(launchWorkspace(['electron', '/app'], place)).toBe('/projects/here/checkpoints');
    expect(launchWorkspace(['/opt/Checkpoint Studio/checkpoint-studio'], { ...place, packaged: true, cwd: '/' })).toBe('/home/me/checkpoints');
    // A flag where the folder should be is not taken for one.
    expect(launchWorkspace(['electron', '/app', '--workspace', '--no-sandbox'], place)).toBe('/projects/here/checkpoints');
  });
});
