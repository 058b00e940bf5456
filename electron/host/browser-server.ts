// Browser mode: the built renderer and the StudioApi (over one WebSocket) on 127.0.0.1 only.
// A page on the same machine must not be able to drive it: every request needs the random token
// of the URL this server printed (kept afterwards in a strict same-site cookie), the Host header
// must name this server (no DNS rebinding), and a WebSocket's Origin must be this server's.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { WebSocket, WebSocketServer } from 'ws';
import { type StudioApi, type StudioEventName, WsCallSchema, type WsReply, studioEvents } from '../contract.js';
import { errorData } from '../core/studio/errors.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { UPLOAD_PREFIX, uploadEndpoint } from './upload-endpoint.js';

export interface BrowserServerOptions {
  /** What the page drives; the caller owns its lifecycle (the serve command closes the Studio after this server). */
  readonly api: StudioApi;
  /** The built renderer (renderer/dist). */
  readonly rendererDir: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** For tests; a fresh random one otherwise. */
  readonly token?: string;
  /** For tests; MAX_UPLOAD_BYTES otherwise. */
  readonly maxUploadBytes?: number;
}

export interface BrowserServer {
  /** What to open: carries the token. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const COOKIE = 'studio_token';
/** A call or a result is small; anything bigger is not one of ours. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const HOST = '127.0.0.1';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(request: IncomingMessage): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return null;
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const assets = existsSync(options.rendererDir) ? sirv(options.rendererDir, { etag: true, single: true }) : null;
  const uploads = uploadEndpoint(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {});
  let port = 0;
  const allowedHosts = (): string[] => [`${HOST}:${port}`, `localhost:${port}`];

  /** Why a request is refused, or null. Also says whether its token came in the query (to set the cookie). */
  const check = (request: IncomingMessage): { refused: string | null; fromQuery: boolean } => {
    if (!allowedHosts().includes(request.headers.host ?? '')) return { refused: 'unknown Host', fromQuery: false };
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    const query = url.searchParams.get('token');
    const given = query ?? cookieToken(request);
    if (given === null || !same(given, token)) return { refused: 'missing or wrong token', fromQuery: false };
    return { refused: null, fromQuery: query !== null };
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const { refused, fromQuery } = check(request);
    if (refused) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`Forbidden (${refused}). Open the address checkpoint-studio serve printed.\n`);
      return;
    }
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };
    if (fromQuery) headers['set-cookie'] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    if (request.url?.startsWith(UPLOAD_PREFIX)) {
      uploads.handle(
        request,
        response,
        allowedHosts().map((h) => `http://${h}`),
      );
      return;
    }
    if (!assets) {
      response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`The app's pages are not built here (${options.rendererDir} is missing): run npm run build.\n`);
      return;
    }
    assets(request, response, () => {
      response.writeHead(404);
      response.end();
    });
  };

  const server: Server = createServer(handle);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    const origin = request.headers.origin ?? '';
    const refused =
      url.pathname !== '/api' ? 'not found' : (check(request).refused ?? (allowedHosts().some((h) => origin === `http://${h}`) ? null : 'foreign Origin'));
    if (refused) {
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${refused}\n`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.api));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await uploads.close();
    },
  };
}

/** One connected page: its calls answered in any order, every Studio event sent to it. */
function serveSocket(ws: WebSocket, api: StudioApi): void {
  const send = (reply: WsReply): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(reply));
  };
  const unsubscribe = (Object.keys(studioEvents) as StudioEventName[]).map((event) => api.on(event, (payload) => send({ type: 'event', event, payload })));
  ws.on('close', () => unsubscribe.forEach((off) => off()));
  ws.on('message', (data, isBinary) => {
    let raw: unknown;
    try {
      raw = isBinary ? null : JSON.parse(data.toString());
    } catch {
      raw = null;
    }
    const call = WsCallSchema.safeParse(raw);
    if (!call.success) {
      const id = typeof (raw as { id?: unknown } | null)?.id === 'number' ? Math.max(0, Math.trunc((raw as { id: number }).id)) : 0;
      send({ type: 'error', id, error: { code: 'usage', message: `not a call this host understands: ${call.error.issues[0]?.message ?? 'invalid'}` } });
      return;
    }
    const { id, method, params } = call.data;
    const invoke = api[method] as (params?: unknown) => Promise<unknown>;
    void (async () => {
      try {
        // The receiver validates: the page checks every answer against the contract. Checking the
        // Studio's own typed output here too cost this process ~30 ms per 10,000 metric records,
        // time in which the watcher's events wait.
        send({ type: 'result', id, result: await invoke(params) });
      } catch (error) {
        send({ type: 'error', id, error: errorData(error) });
      }
    })();
  });
}
