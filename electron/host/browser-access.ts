// Who may use browser mode's server: a request must name this server in its Host (no DNS
// rebinding), carry the token (compared in constant time), and, for what changes state (the
// WebSocket, uploads), come from a page of this server's own origin. Reads only headers and the
// raw request target, so no input can make a check throw.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Refusal } from './refusals.js';

const COOKIE = 'studio_token';

/** The path of a request's target, as sent: no parsing that could throw, no `..` resolved. */
export function requestPath(request: IncomingMessage): string {
  const target = request.url ?? '';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

function sameSecret(given: string, expected: string): boolean {
  const x = Buffer.from(given);
  const y = Buffer.from(expected);
  return x.length === y.length && timingSafeEqual(x, y);
}

function queryToken(request: IncomingMessage): string | null {
  const target = request.url ?? '';
  const query = target.indexOf('?');
  // URLSearchParams reads any string without throwing (a broken escape stays as it is).
  return query < 0 ? null : new URLSearchParams(target.slice(query + 1)).get('token');
}

function cookieToken(request: IncomingMessage): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return null;
}

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

  /** The Host and the token; says whether the token came in the query (to set the cookie). */
  check(request: IncomingMessage): { refusal: Refusal | null; tokenFromQuery: boolean } {
    if (!this.hosts.includes(request.headers.host ?? '')) return { refusal: { status: 403, message: 'Forbidden (unknown Host)' }, tokenFromQuery: false };
    const query = queryToken(request);
    const given = query ?? cookieToken(request);
    if (given === null || !sameSecret(given, this.token))
      return { refusal: { status: 403, message: 'Forbidden (missing or wrong token)' }, tokenFromQuery: false };
    return { refusal: null, tokenFromQuery: query !== null };
  }

  originProblem(request: IncomingMessage): Refusal | null {
    return this.origins().includes(request.headers.origin ?? '') ? null : { status: 403, message: 'Forbidden (foreign Origin)' };
  }

  cookie(): string {
    return `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}
