// What the browser-mode tests share: a served workspace, and the three ways a client reaches the
// server (an HTTP request, raw bytes over TCP, a WebSocket), each written the way the token is
// handed over, so the tests name what they send and not how the credential travels.
import fs from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { WebSocket } from 'ws';
import { TOKEN_HEADER, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type WsReply } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { type BrowserServer, type BrowserServerOptions, startBrowserServer } from '../../electron/host/browser-server.js';
import { makeTempWorkspace, onCleanup } from '../store/helpers.js';

/**
 * Registers hooks that catch what reaches the process's uncaught handlers during each test (in
 * `serve`, the end of the server and any training) and fail the test if anything did.
 */
export function failOnEscapes(): void {
  const escaped: unknown[] = [];
  const record = (error: unknown): void => void escaped.push(error);
  beforeEach(() => {
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
    expect(escaped.splice(0).map(String)).toEqual([]);
  });
}

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
  const server = await startBrowserServer({ api: studio.api, rendererDir: pages, report: (line) => reports.push(line), ...options.server });
  onCleanup(async () => {
    await server.close();
    await studio.close();
  });
  return { server, studio, root: store.root, origin: `http://127.0.0.1:${server.port}`, auth: { [TOKEN_HEADER]: server.token }, reports };
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

/** Writes `bytes` as they are (nothing checked, nothing added) and reads until the server ends the connection (or accepts an upgrade). */
export function rawExchange(port: number, bytes: Buffer | string, options: { halfClose?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // An accepted upgrade stays open: its head is the whole answer.
      const sofar = Buffer.concat(chunks).toString('latin1');
      if (sofar.startsWith('HTTP/1.1 101') && sofar.includes('\r\n\r\n')) socket.destroy();
    });
    // A reset after the server has answered and closed is the same answer.
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve(parseRaw(Buffer.concat(chunks).toString('latin1'))));
    socket.write(bytes, () => {
      if (options.halfClose) socket.end();
    });
  });
}

/** The first HTTP response in what a server sent. */
export function parseRaw(text: string): RawAnswer {
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

/** The subprotocols the page offers: ours, and the token. */
export function offeredProtocols(token: string | null): string[] {
  return token === null ? [WS_PROTOCOL] : [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** A WebSocket to /api as the page opens it; rejects with the refusal's status. */
export function connectWs(server: BrowserServer, options: WsOptions = {}): Promise<WebSocket> {
  const token = options.token === undefined ? server.token : options.token;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${options.path ?? '/api'}`, offeredProtocols(token), {
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

export interface UpgradeOptions extends WsOptions {
  readonly key?: string;
  readonly version?: string;
  /** Extra header lines, as written. */
  readonly extra?: readonly string[];
}

/** The bytes of a WebSocket upgrade request to `server`, authenticated unless told otherwise. */
export function upgradeRequest(server: Pick<BrowserServer, 'port' | 'token'>, options: UpgradeOptions = {}): string {
  const token = options.token === undefined ? server.token : options.token;
  return [
    `GET ${options.path ?? '/api'} HTTP/1.1`,
    `Host: ${options.host ?? `127.0.0.1:${server.port}`}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${options.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}`,
    `Sec-WebSocket-Version: ${options.version ?? '13'}`,
    `Origin: ${options.origin ?? `http://127.0.0.1:${server.port}`}`,
    `Sec-WebSocket-Protocol: ${offeredProtocols(token).join(', ')}`,
    ...(options.extra ?? []),
    '',
    '',
  ].join('\r\n');
}

export interface FrameOptions {
  readonly opcode: number;
  readonly payload?: Buffer;
  readonly fin?: boolean;
  /** The three reserved bits, 0 to 7 (RSV1 is 4). */
  readonly rsv?: number;
  /** A client must mask; false sends the payload in the clear. */
  readonly masked?: boolean;
  /** A length to announce other than the payload's own. */
  readonly announced?: number;
}

/** One WebSocket frame exactly as described, valid or not (RFC 6455 §5.2). */
export function frame(options: FrameOptions): Buffer {
  const payload = options.payload ?? Buffer.alloc(0);
  const length = options.announced ?? payload.length;
  const masked = options.masked ?? true;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (options.opcode & 0x0f);
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, (masked ? 0x80 : 0) | length]);
  else if (length < 65_536) {
    header = Buffer.from([first, (masked ? 0x80 : 0) | 126, 0, 0]);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  return Buffer.concat([header, mask, Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)))]);
}

export interface RawWebSocket {
  send(bytes: Buffer): void;
  /** The status code of the close frame the server sent (null: it closed without one), once the connection is gone. */
  readonly closed: Promise<number | null>;
  destroy(): void;
}

/** An accepted WebSocket on a bare TCP socket, for frames no WebSocket library would send. */
export function rawWebSocket(server: BrowserServer, options: UpgradeOptions = {}): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: server.port });
    let received = Buffer.alloc(0);
    let upgraded = false;
    let closeCode: number | null = null;
    const closed = new Promise<number | null>((done) => socket.on('close', () => done(closeCode)));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = received.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`the upgrade was refused: ${head.split('\r\n')[0] ?? ''}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        received = received.subarray(end + 4);
        resolve({ send: (bytes) => socket.write(bytes), closed, destroy: () => socket.destroy() });
      }
      closeCode ??= closeCodeIn(received);
    });
    socket.write(upgradeRequest(server, options));
  });
}

/** The code of the first close frame among the server's (unmasked) frames, if one has arrived. */
export function closeCodeIn(bytes: Buffer): number | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] as number) & 0x0f;
    let length = (bytes[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > bytes.length) return null;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > bytes.length) return null;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > bytes.length) return null;
    if (opcode === 0x8) return length >= 2 ? bytes.readUInt16BE(start) : null;
    at = start + length;
  }
  return null;
}
