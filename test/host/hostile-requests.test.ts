// Nothing a client sends stops browser mode's server: a malformed request, however it is
// malformed, gets a 4xx answer with the security headers, never reaches the process's uncaught
// handler (which would end the server and any training with it), and the next client is served.
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../electron/contract.js';
import { SECURITY_HEADERS } from '../../electron/host/security-headers.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { type RawAnswer, type Served, connectWs, httpRequest, rawExchange, serveWorkspace, upgradeRequest, failOnEscapes } from './server-helpers.js';

useTempWorkspaces();
failOnEscapes();

function expectRefusal(answer: RawAnswer, what: string, status?: number): void {
  expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, what).toBeLessThan(500);
  if (status !== undefined) expect(answer.status, what).toBe(status);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(answer.headers[name], `${what}: ${name}`).toBe(value);
}

async function expectStillServing(served: Served): Promise<void> {
  expect((await httpRequest(served.server.port, 'GET', '/index.html', served.auth)).status).toBe(200);
  const ws = await connectWs(served.server);
  ws.close();
  expect(served.reports).toEqual([]);
}

describe('a malformed HTTP request', () => {
  it('gets a 4xx answer with the security headers, and the server goes on', async () => {
    const served = await serveWorkspace();
    const { port } = served.server;
    const host = `Host: 127.0.0.1:${port}`;
    const cases: [string, string, number?][] = [
      ['a path that is no URL', `GET //[ HTTP/1.1\r\n${host}\r\n\r\n`],
      ['an upload path that is no URL', `PUT /upload//[ HTTP/1.1\r\n${host}\r\n${TOKEN_HEADER}: ${served.server.token}\r\nContent-Length: 0\r\n\r\n`],
      ['an absolute target that is no URL', `GET http://[ HTTP/1.1\r\n${host}\r\n\r\n`],
      ['a lone percent sign', `GET /% HTTP/1.1\r\n${host}\r\n\r\n`],
      ['a broken escape under /upload/', `PUT /upload/%E0%A4%A/a/b HTTP/1.1\r\n${host}\r\nContent-Length: 0\r\n\r\n`],
      ['no Host at all', 'GET / HTTP/1.0\r\n\r\n'],
      ['no Host in HTTP/1.1 (Node would answer this one itself)', 'GET / HTTP/1.1\r\n\r\n', 403],
      ['a proxy request', `CONNECT 127.0.0.1:22 HTTP/1.1\r\n${host}\r\n\r\n`, 405],
      ['a foreign Host', `GET / HTTP/1.1\r\nHost: evil.example:${port}\r\n\r\n`],
      ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400],
      ['a header line without a colon', `GET / HTTP/1.1\r\n${host}\r\nno colon here\r\n\r\n`, 400],
      ['headers too large to read', `GET / HTTP/1.1\r\n${host}\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
    ];
    for (const [what, bytes, status] of cases) expectRefusal(await rawExchange(port, bytes), what, status);
    await expectStillServing(served);
  });
});

describe('a malformed or refused WebSocket upgrade', () => {
  it('gets a 4xx answer with the security headers, and the server goes on', async () => {
    const served = await serveWorkspace();
    const { server } = served;
    const cases: [string, string, number?][] = [
      ['a path that is no URL', upgradeRequest(server, { path: '//[' })],
      ['another path', upgradeRequest(server, { path: '/elsewhere' }), 404],
      ['no token', upgradeRequest(server, { token: null }), 403],
      ['a wrong token', upgradeRequest(server, { token: 'x'.repeat(32) }), 403],
      ['a foreign Origin', upgradeRequest(server, { origin: 'http://evil.example' }), 403],
      ['a foreign Host', upgradeRequest(server, { host: `evil.example:${server.port}` }), 403],
      ['a malformed key', upgradeRequest(server, { key: 'short' }), 400],
      ['an unknown version', upgradeRequest(server, { version: '7' }), 400],
      ['a malformed subprotocol list', upgradeRequest(server, { extra: ['Sec-WebSocket-Protocol: a,,b'] }), 400],
      ['a method other than GET', upgradeRequest(server).replace(/^GET/, 'POST')],
    ];
    for (const [what, bytes, status] of cases) expectRefusal(await rawExchange(server.port, bytes), what, status);
    await expectStillServing(served);
  });
});
