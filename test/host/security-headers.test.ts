// One Content-Security-Policy and one set of security headers for both hosts: the desktop app's
// app://studio/ pages (Electron's protocol handler, with Electron stood in) and browser mode's.
import { describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../../electron/host/security-headers.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { httpRequest, serveWorkspace } from './server-helpers.js';

type ProtocolHandler = (request: Request) => Promise<Response>;
const protocolHandlers = vi.hoisted(() => new Map<string, ProtocolHandler>());
vi.mock('electron', () => ({
  protocol: { handle: (scheme: string, handler: ProtocolHandler) => protocolHandlers.set(scheme, handler), registerSchemesAsPrivileged: () => undefined },
  net: { fetch: async () => new Response('<!doctype html><title>Checkpoint Studio</title>', { headers: { 'content-type': 'text/html' } }) },
}));

useTempWorkspaces();

/** The security headers of an answer, by their names in SECURITY_HEADERS. */
function securityHeadersOf(get: (name: string) => string | null): Record<string, string | null> {
  return Object.fromEntries(Object.keys(SECURITY_HEADERS).map((name) => [name, get(name)]));
}

describe('the security headers', () => {
  it('forbid scripts from elsewhere, eval, framing and form posting', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("form-action 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });

  it('are the same in the desktop app and in browser mode', async () => {
    const { APP_SCHEME, serveRenderer } = await import('../../electron/app/app-protocol.js');
    serveRenderer('/renderer');
    const desktop = await (protocolHandlers.get(APP_SCHEME) as ProtocolHandler)(new Request('app://studio/index.html'));
    expect(desktop.status).toBe(200);

    const { server, auth } = await serveWorkspace();
    const browser = await httpRequest(server.port, 'GET', `/index.html`, auth);
    expect(browser.status).toBe(200);

    const fromDesktop = securityHeadersOf((name) => desktop.headers.get(name));
    const fromBrowser = securityHeadersOf((name) => {
      const value = browser.headers[name];
      return typeof value === 'string' ? value : null;
    });
    expect(fromDesktop).toEqual(SECURITY_HEADERS);
    expect(fromBrowser).toEqual(SECURITY_HEADERS);
  });
});
