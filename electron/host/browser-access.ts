// Who may use browser mode's server. Every request must name this server in its Host (no DNS
// rebinding). The pages are public code and need nothing more; the API does: the WebSocket and
// uploads carry the token (the WebSocket as a subprotocol, an upload in a header; compared in
// constant time) and come from a page of this server's own origin. The token is never taken from
// a URL or a cookie: a browser sends cookies to every port of 127.0.0.1, and URLs end up in
// histories, logs and Referer headers. Reads only headers and the raw request target, so no input
// can make a check throw.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_HEADER, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../contract.js';
import type { Refusal } from './refusals.js';

/** The path of a request's target, as sent: no parsing that could throw, no `..` resolved. */
export function requestPath(request: IncomingMessage): string {
  const target = request.url ?? '';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** What the server answers a WebSocket that offered its subprotocols: ours alone, never the one carrying the token. */
export function chooseProtocol(offered: Set<string>): string | false {
  return offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
}

function sameSecret(given: string, expected: string): boolean {
  const x = Buffer.from(given);
  const y = Buffer.from(expected);
  return x.length === y.length && timingSafeEqual(x, y);
}

function offeredToken(request: IncomingMessage): string | null {
  for (const offered of (request.headers['sec-websocket-protocol'] ?? '').split(',')) {
    const protocol = offered.trim();
    if (protocol.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return protocol.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return null;
}

function headerToken(request: IncomingMessage): string | null {
  const value = request.headers[TOKEN_HEADER];
  return typeof value === 'string' ? value : null;
}

const FOREIGN_HOST: Refusal = { status: 403, message: 'Forbidden (unknown Host)' };
const FOREIGN_ORIGIN: Refusal = { status: 403, message: 'Forbidden (foreign Origin)' };
const NO_TOKEN: Refusal = { status: 403, message: 'Forbidden (missing or wrong token): open the address checkpoint-studio printed' };

export class BrowserAccess {
  private hosts: readonly string[] = [];

  constructor(private readonly token: string) {}

  /** Once the port is known: the Host values (and origins) that name this server. */
  listeningOn(host: string, port: number): void {
    this.hosts = [`${host}:${port}`, `localhost:${port}`];
  }

  origins(): string[] {
    return this.hosts.map((host) => `http://${host}`);
  }

  /** Any request: its Host names this server. */
  hostProblem(request: IncomingMessage): Refusal | null {
    return this.hosts.includes(request.headers.host ?? '') ? null : FOREIGN_HOST;
  }

  /** The WebSocket to /api: our Host, our Origin, and the token among the offered subprotocols. */
  upgradeProblem(request: IncomingMessage): Refusal | null {
    return this.hostProblem(request) ?? this.originProblem(request) ?? this.tokenProblem(offeredToken(request));
  }

  /** An upload: our Host and the token in its header (the upload endpoint checks the Origin). */
  uploadProblem(request: IncomingMessage): Refusal | null {
    return this.hostProblem(request) ?? this.tokenProblem(headerToken(request));
  }

  private originProblem(request: IncomingMessage): Refusal | null {
    return this.origins().includes(request.headers.origin ?? '') ? null : FOREIGN_ORIGIN;
  }

  private tokenProblem(given: string | null): Refusal | null {
    return given !== null && sameSecret(given, this.token) ? null : NO_TOKEN;
  }
}
