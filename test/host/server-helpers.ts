// What the browser-mode tests share: a served workspace, and the three ways a client reaches the
// server (an HTTP request, raw bytes over TCP, a WebSocket), each written the way the token is
// handed over, so the tests name what they send and not how the credential travels.
import fs from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { WsReply } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { type BrowserServer, type BrowserServerOptions, startBrowserServer } from '../../electron/host/browser-server.js';
import { makeTempWorkspace, onCleanup } from '../store/helpers.js';

export interface Served {
  readonly server: BrowserServer;
  readonly studio: Studio;
  /** The workspace's real path. */
  readonly root: string;
  /** The server's own origin, as a browser sends it. */
  readonly origin: string;
  /** The headers that carry the token on an upload. */
  readonly auth: Record<string, string>;
  /** What the server reported about itself (a handler that failed); a test expects none. */
  readonly reports: string[];
}

/** A workspace (made by `prepare`) served in browser mode from a folder with one page; closed after the test. */
export async function serveWorkspace(
  options: { prepare?: (store: CheckpointStore) => Promise<void>; server?: Partial<Omit<BrowserServerOptions, 'api' | 'rendererDir'>> } = {},
): Promise<Served> {
  const { base, root } = makeTempWorkspace();
  const store = await CheckpointStore.open(root);
  await options.prepare?.(store);
  const pages = path.join(base, 'pages');
  fs.mkdirSync(pages);
  fs.writeFileSync(path.join(pages, 'index.html'), '<!doctype html><title>Checkpoint Studio</title>');
  const studio = new Studio();
  await studio.api.openWorkspace({ path: root });
  const reports: string[] = [];
  const server = await startBrowserServer({ api: studio.api, rendererDir: pages, ...options.server });
  onCleanup(async () => {
    await server.close();
    await studio.close();
  });
  return { server, studio, root: store.root, origin: `http://127.0.0.1:${server.port}`, auth: { cookie: `studio_token=${server.token}` }, reports };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request with the Host a browser would send (unless `headers.host` says otherwise); '' leaves a header out. */
export function httpRequest(port: number, method: string, pathname: string, headers: Record<string, string> = {}, body?: Buffer): Promise<HttpAnswer> {
  const all = Object.fromEntries(
    Object.entries({ host: `127.0.0.1:${port}`, ...(body ? { 'content-length': String(body.length) } : {}), ...headers }).filter(([, v]) => v !== ''),
  );
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: pathname, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawAnswer {
  /** The status of the first response line, or null when the server answered nothing. */
  readonly status: number | null;
  /** Its headers, names in lower case. */
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** Writes `bytes` as they are (nothing checked, nothing added) and reads until the server ends the connection. */
export function rawExchange(port: number, bytes: Buffer | string, options: { halfClose?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the server has answered and closed is the same answer.
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve(parseRaw(Buffer.concat(chunks).toString('latin1'))));
    socket.write(bytes, () => {
      if (options.halfClose) socket.end();
    });
  });
}

function parseRaw(text: string): RawAnswer {
  const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n/.exec(text);
  if (!match) return { status: null, headers: {}, text };
  const headers: Record<string, string> = {};
  for (const line of (match[2] ?? '').split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers, text };
}

export interface WsOptions {
  readonly origin?: string;
  readonly host?: string;
  /** null: no token at all. */
  readonly token?: string | null;
  readonly path?: string;
}

/** A WebSocket to /api as the page opens it; rejects with the refusal's status. */
export function connectWs(server: BrowserServer, options: WsOptions = {}): Promise<WebSocket> {
  const token = options.token === undefined ? server.token : options.token;
  const query = token === null ? '' : `?token=${token}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${options.path ?? '/api'}${query}`, {
      origin: options.origin ?? `http://127.0.0.1:${server.port}`,
      headers: { host: options.host ?? `127.0.0.1:${server.port}` },
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
}

/** Every reply and event the socket receives, in order, as it arrives. */
export function replies(ws: WebSocket): WsReply[] {
  const seen: WsReply[] = [];
  ws.on('message', (data: Buffer) => seen.push(JSON.parse(data.toString()) as WsReply));
  return seen;
}

/** Resolves once `find` finds something among what arrives on the socket. */
export function replyWhere(ws: WebSocket, seen: readonly WsReply[], find: (reply: WsReply) => boolean): Promise<WsReply> {
  const found = seen.find(find);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer): void => {
      const reply = JSON.parse(data.toString()) as WsReply;
      if (!find(reply)) return;
      ws.off('message', onMessage);
      resolve(reply);
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('the socket closed before the reply came')));
  });
}

/** One call over the socket, answered. */
export async function callOver(ws: WebSocket, id: number, method: string, params?: unknown): Promise<WsReply> {
  const seen: WsReply[] = [];
  const answer = replyWhere(ws, seen, (reply) => reply.type !== 'event' && reply.id === id);
  ws.send(JSON.stringify(params === undefined ? { type: 'call', id, method } : { type: 'call', id, method, params }));
  return answer;
}
