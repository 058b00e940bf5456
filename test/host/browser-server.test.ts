// Browser mode's server: 127.0.0.1 only, nothing without the token, no foreign Host or Origin,
// and the StudioApi over the WebSocket, calls and events alike.
import fs from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { WsReply } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { type BrowserServer, startBrowserServer } from '../../electron/host/browser-server.js';
import { trainingState, useTempWorkspaces } from '../store/helpers.js';
import { callOver } from './server-helpers.js';

const makeWorkspace = useTempWorkspaces();
const open: { server: BrowserServer; studio: Studio }[] = [];
afterEach(async () => {
  for (const { server, studio } of open.splice(0)) {
    await server.close();
    await studio.close();
  }
});

async function serve(): Promise<{ server: BrowserServer; studio: Studio; root: string }> {
  const { base, root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  for (const step of [1, 2, 3]) await writer.save(trainingState(step));
  await writer.close();
  const pages = path.join(base, 'pages');
  fs.mkdirSync(pages);
  fs.writeFileSync(path.join(pages, 'index.html'), '<!doctype html><title>Checkpoint Studio</title>');
  const studio = new Studio();
  await studio.api.openWorkspace({ path: root });
  const server = await startBrowserServer({ api: studio.api, rendererDir: pages });
  open.push({ server, studio });
  return { server, studio, root: store.root };
}

function get(
  port: number,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(server: BrowserServer, options: { origin?: string; token?: string | null; host?: string } = {}): Promise<WebSocket> {
  const query = options.token === null ? '' : `?token=${options.token ?? server.token}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, {
      origin: options.origin ?? `http://127.0.0.1:${server.port}`,
      headers: { host: options.host ?? `127.0.0.1:${server.port}` },
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
}

function replies(ws: WebSocket): WsReply[] {
  const seen: WsReply[] = [];
  ws.on('message', (data) => seen.push(JSON.parse(data.toString()) as WsReply));
  return seen;
}

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('browser mode', () => {
  it('listens on 127.0.0.1 only and prints an address that carries its token', async () => {
    const { server } = await serve();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
    const refused = await new Promise<string>((resolve) => {
      const req = request({ host: 'localhost', family: 6, port: server.port, path: '/' }, () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    expect(refused).not.toBe('answered');
  });

  it('serves pages only with the token, then by a strict cookie, and never to a foreign Host', async () => {
    const { server } = await serve();
    expect((await get(server.port, '/')).status).toBe(403);
    expect((await get(server.port, '/?token=wrong')).status).toBe(403);
    const first = await get(server.port, `/?token=${server.token}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('Checkpoint Studio');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(first.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await get(server.port, '/index.html', { cookie: cookie.split(';')[0] as string })).status).toBe(200);
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    expect((await get(server.port, `/?token=${server.token}`, { host: `evil.example:${server.port}` })).status).toBe(403);
  });

  it('refuses a WebSocket without the token, from a foreign Origin, or to a foreign Host', async () => {
    const { server } = await serve();
    await expect(connect(server, { token: null })).rejects.toThrow('refused');
    await expect(connect(server, { token: 'wrong' })).rejects.toThrow('refused');
    await expect(connect(server, { origin: 'http://evil.example' })).rejects.toThrow('refused');
    await expect(connect(server, { host: `evil.example:${server.port}` })).rejects.toThrow('refused');
    const ws = await connect(server);
    ws.close();
  });

  it('answers StudioApi calls, with codes for what fails, and sends events', async () => {
    const { server } = await serve();
    const ws = await connect(server);
    const seen = replies(ws);
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'listCheckpoints', params: { run: 'alpha' } }));
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'listCheckpoints', params: { run: 'nope' } }));
    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'formatDisk', params: {} }));
    ws.send('not json');
    const list = await until('the list', () => seen.find((r) => r.type === 'result' && r.id === 1));
    expect(list.type === 'result' && (list.result as { id: string }[]).map((c) => c.id)).toEqual([
      'alpha/ckpt-000000001',
      'alpha/ckpt-000000002',
      'alpha/ckpt-000000003',
    ]);
    const missing = await until('the refusal', () => seen.find((r) => r.type === 'error' && r.id === 2));
    expect(missing.type === 'error' && missing.error.code).toBe('not-found');
    const unknown = await until('the unknown method', () => seen.find((r) => r.type === 'error' && r.id === 3));
    expect(unknown.type === 'error' && unknown.error.code).toBe('usage');
    expect(await until('the garbage', () => seen.find((r) => r.type === 'error' && r.id === 0))).toBeTruthy();
    ws.send(JSON.stringify({ type: 'call', id: 4, method: 'deleteCheckpoints', params: { targets: ['alpha/ckpt-000000001'] } }));
    const removed = await until('the event', () => seen.find((r) => r.type === 'event' && r.event === 'catalog:removed'));
    expect(removed.type === 'event' && removed.payload).toEqual({ id: 'alpha/ckpt-000000001', run: 'alpha', step: 1 });
    ws.close();
  });

  it('takes a call without params as params {}', async () => {
    const { server } = await serve();
    const ws = await connect(server);
    expect(await callOver(ws, 1, 'listRuns')).toMatchObject({ type: 'result', id: 1, result: [{ name: 'alpha' }] });
    // A method whose parameters are required says which field is missing, not that params is.
    expect(await callOver(ws, 2, 'inspect')).toMatchObject({ type: 'error', id: 2, error: { code: 'usage', message: expect.stringMatching(/^target: /) } });
    ws.close();
  });
});
