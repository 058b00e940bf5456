// Browser mode: the built renderer and the StudioApi (over one WebSocket) on 127.0.0.1 only.
// The printed address carries a random token in its fragment (#token=…), which a browser never
// sends in a request or a Referer; the page keeps it in its tab's sessionStorage and presents it
// to the API (browser-access.ts says who may do what). Whoever reaches the port may load the
// pages, which are public code; only the token's holder drives the Studio.
//
// Nothing a client sends may stop the server (and with it a training): both handlers run inside
// one guard, read the request's target as a plain string (never a URL parse that throws), and
// every socket, raw or upgraded, has an 'error' listener; what fails anyway is answered 500 and
// reported, never thrown to the process.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import type { StudioApi } from '../contract.js';
import { errorMessage } from '../core/base/errors.js';
import { BrowserAccess, chooseProtocol, requestPath } from './browser-access.js';
import { parseFailureRefusal, refuseResponse, refuseSocket } from './refusals.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { UPLOAD_PREFIX, uploadEndpoint } from './upload-endpoint.js';
import { serveSocket } from './ws-session.js';

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
  /** Where a failure of the server's own code goes, one line each (never a client's fault); stderr by default. */
  readonly report?: (line: string) => void;
}

export interface BrowserServer {
  /** What to open: carries the token in its fragment. Print it to the user, never put it in a process's arguments. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** A call or a result is small; anything bigger is not one of ours. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const HOST = '127.0.0.1';
const API_PATH = '/api';

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const report = options.report ?? ((line: string) => void process.stderr.write(`checkpoint-studio: ${line}\n`));
  const assets = existsSync(options.rendererDir) ? sirv(options.rendererDir, { etag: true }) : null;
  const uploads = uploadEndpoint(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {});
  const access = new BrowserAccess(token);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: chooseProtocol });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    response.setHeader('cache-control', 'no-store');
    const pathname = requestPath(request);
    if (pathname.startsWith(UPLOAD_PREFIX)) {
      const refusal = access.uploadProblem(request);
      return refusal ? refuseResponse(response, refusal) : uploads.handle(request, response, access.origins());
    }
    const refusal = access.hostProblem(request);
    if (refusal) return refuseResponse(response, refusal);
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuseResponse(response, { status: 405, message: 'Only GET and HEAD here' });
    if (!assets)
      return refuseResponse(response, { status: 503, message: `The app's pages are not built here (${options.rendererDir} is missing): run npm run build.` });
    // A Range the file cannot satisfy makes sirv open a read stream that throws; our pages are small, so send them whole.
    delete request.headers.range;
    assets(request, response, () => refuseResponse(response, { status: 404, message: 'Not found' }));
  };

  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refusal = requestPath(request) !== API_PATH ? { status: 404, message: 'Not found' } : access.upgradeProblem(request);
    if (refusal) return refuseSocket(socket, refusal);
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.api, report));
  };

  // Without a Host, Node would answer 400 itself, without our headers; browser-access refuses it instead.
  const server: Server = createServer({ requireHostHeader: false }, (request, response) => {
    // The client's own stream errors (a reset mid-body) are its business; pipeline sees them where it matters.
    request.on('error', () => undefined);
    response.on('error', () => undefined);
    guard(
      report,
      `${request.method ?? '?'} request`,
      () => handle(request, response),
      () => refuseResponse(response, INTERNAL),
    );
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    guard(
      report,
      'WebSocket upgrade',
      () => upgrade(request, socket, head),
      () => refuseSocket(socket, INTERNAL),
    );
  });
  answerWhatNodeAndWsWouldRefuse(server, sockets);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  server.on('error', (error) => report(`browser mode's server: ${errorMessage(error)}`));
  const port = (server.address() as AddressInfo).port;
  access.listeningOn(HOST, port);
  return {
    url: `http://${HOST}:${port}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await uploads.close();
    },
  };
}

const INTERNAL = { status: 500, message: 'Internal error (reported where the server runs)' };

/**
 * Requests that never reach our handlers, which Node or ws would answer (without our headers) or
 * drop without a word: answered here, with the security headers, like every other refusal.
 */
function answerWhatNodeAndWsWouldRefuse(server: Server, sockets: WebSocketServer): void {
  // We are no proxy; with nobody listening, Node would close a CONNECT silently.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    refuseSocket(socket, { status: 405, message: 'Not a proxy' });
  });
  // Bytes the HTTP parser cannot read.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') socket.destroy();
    else refuseSocket(socket, parseFailureRefusal(error));
  });
  // A handshake ws itself refuses (a malformed key, an unknown version, a bad subprotocol list).
  sockets.on('wsClientError', (error: Error, socket: Duplex) => refuseSocket(socket, { status: 400, message: error.message }));
}

/** Runs one handler so that nothing it throws or rejects with reaches the process: reported, then answered by `fail`. */
function guard(report: (line: string) => void, what: string, run: () => void | Promise<void>, fail: () => void): void {
  const failed = (error: unknown): void => {
    report(`browser mode failed to answer a ${what}: ${error instanceof Error && error.stack ? error.stack : errorMessage(error)}`);
    try {
      fail();
    } catch {
      // The connection is beyond answering; the client sees it close.
    }
  };
  try {
    void Promise.resolve(run()).catch(failed);
  } catch (error) {
    failed(error);
  }
}
