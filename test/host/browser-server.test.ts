// Browser mode's server: 127.0.0.1 only, its public pages to anyone who names it in the Host, the
// API only to the holder of the token (offered as a WebSocket subprotocol, never taken from a
// cookie or a URL) from our own origin, and the StudioApi over the WebSocket, calls and events alike.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WS_PROTOCOL } from '../../electron/contract.js';
import type { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { trainingState, useTempWorkspaces } from '../store/helpers.js';
import {
  type Served,
  callOver,
  connectWs,
  failOnEscapes,
  httpRequest,
  rawExchange,
  replies,
  replyWhere,
  serveWorkspace,
  upgradeRequest,
} from './server-helpers.js';

useTempWorkspaces();
failOnEscapes();

async function serve(): Promise<Served> {
  return serveWorkspace({
    prepare: async (store: CheckpointStore) => {
      const writer = await store.createRun('alpha', { parent: null, config: {} });
      for (const step of [1, 2, 3]) await writer.save(trainingState(step));
      await writer.close();
    },
  });
}

describe('browser mode', () => {
  it('listens on 127.0.0.1 only and prints an address that carries its token in the fragment', async () => {
    const { server } = await serve();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const refused = await new Promise<string>((resolve) => {
      const req = request({ host: 'localhost', family: 6, port: server.port, path: '/' }, () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    expect(refused).not.toBe('answered');
  });

  it('serves its pages to our Host without a token and sets no cookie; never to a foreign Host', async () => {
    const { server } = await serve();
    const page = await httpRequest(server.port, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Checkpoint Studio');
    expect(page.headers['set-cookie']).toBeUndefined();
    expect((await httpRequest(server.port, 'GET', '/', { host: `localhost:${server.port}` })).status).toBe(200);
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    expect((await httpRequest(server.port, 'GET', '/', { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await httpRequest(server.port, 'GET', '/nothing-here')).status).toBe(404);
    expect((await httpRequest(server.port, 'POST', '/', {}, Buffer.from('x'))).status).toBe(405);
  });

  it('accepts a WebSocket with the token as a subprotocol and answers with ours alone', async () => {
    const { server } = await serve();
    const ws = await connectWs(server);
    expect(ws.protocol).toBe(WS_PROTOCOL);
    ws.close();
    const raw = await rawExchange(server.port, upgradeRequest(server));
    expect(raw.status).toBe(101);
    expect(raw.headers['sec-websocket-protocol']).toBe(WS_PROTOCOL);
    expect(raw.text).not.toContain(server.token);
  });

  it('refuses a WebSocket without the token, with the token where it used to go, from a foreign Origin, or to a foreign Host', async () => {
    const { server } = await serve();
    await expect(connectWs(server, { token: null })).rejects.toThrow('refused with 403');
    await expect(connectWs(server, { token: 'wrong' })).rejects.toThrow('refused with 403');
    await expect(connectWs(server, { origin: 'http://evil.example' })).rejects.toThrow('refused with 403');
    await expect(connectWs(server, { host: `evil.example:${server.port}` })).rejects.toThrow('refused with 403');
    const old = (extra: string[], path = '/api'): string => upgradeRequest(server, { token: null, path, extra });
    expect((await rawExchange(server.port, old([], `/api?token=${server.token}`))).status).toBe(403);
    expect((await rawExchange(server.port, old([`Cookie: studio_token=${server.token}`]))).status).toBe(403);
  });

  it('answers StudioApi calls, with codes for what fails, and sends events', async () => {
    const { server } = await serve();
    const ws = await connectWs(server);
    const seen = replies(ws);
    const answered = (find: (reply: (typeof seen)[number]) => boolean): ReturnType<typeof replyWhere> => replyWhere(ws, seen, find);
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'listCheckpoints', params: { run: 'alpha' } }));
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'listCheckpoints', params: { run: 'nope' } }));
    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'formatDisk', params: {} }));
    ws.send('not json');
    const list = await answered((r) => r.type === 'result' && r.id === 1);
    expect(list.type === 'result' && (list.result as { id: string }[]).map((c) => c.id)).toEqual([
      'alpha/ckpt-000000001',
      'alpha/ckpt-000000002',
      'alpha/ckpt-000000003',
    ]);
    const missing = await answered((r) => r.type === 'error' && r.id === 2);
    expect(missing.type === 'error' && missing.error.code).toBe('not-found');
    const unknown = await answered((r) => r.type === 'error' && r.id === 3);
    expect(unknown.type === 'error' && unknown.error.code).toBe('usage');
    expect(await answered((r) => r.type === 'error' && r.id === 0)).toBeTruthy();
    ws.send(JSON.stringify({ type: 'call', id: 4, method: 'deleteCheckpoints', params: { targets: ['alpha/ckpt-000000001'] } }));
    const removed = await answered((r) => r.type === 'event' && r.event === 'catalog:removed');
    expect(removed.type === 'event' && removed.payload).toEqual({ id: 'alpha/ckpt-000000001', run: 'alpha', step: 1 });
    ws.close();
  });

  it('takes a call without params as params {}', async () => {
    const { server } = await serve();
    const ws = await connectWs(server);
    expect(await callOver(ws, 1, 'listRuns')).toMatchObject({ type: 'result', id: 1, result: [{ name: 'alpha' }] });
    // A method whose parameters are required says which field is missing, not that params is.
    expect(await callOver(ws, 2, 'inspect')).toMatchObject({ type: 'error', id: 2, error: { code: 'usage', message: expect.stringMatching(/^target: /) } });
    ws.close();
  });
});
