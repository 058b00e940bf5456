// How browser mode's server says no, on either kind of connection it holds: a request with its
// response object, or a bare socket (an upgrade it refuses, bytes its HTTP parser could not read).
// Every refusal carries the security headers and closes the connection, since a client that sent
// something we refuse may still be sending.
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { SECURITY_HEADERS } from './security-headers.js';

/** Why a request is refused: the status and one line for whoever sent it. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

const TEXT = 'text/plain; charset=utf-8';

/** Answers a request with the refusal, unless an answer has already begun (then the connection is cut). */
export function refuseResponse(response: ServerResponse, refusal: Refusal): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = `${refusal.message}\n`;
  response.writeHead(refusal.status, { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': TEXT, connection: 'close' });
  response.end(body);
}

/** Writes the refusal as a whole HTTP response on a bare socket, then closes it. */
export function refuseSocket(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(`${refusal.message}\n`);
  const headers = { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': TEXT, 'content-length': String(body.length), connection: 'close' };
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Refused'}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

/** The refusal for bytes the HTTP parser gave up on (its error codes are llhttp's). */
export function parseFailureRefusal(error: NodeJS.ErrnoException): Refusal {
  if (error.code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'Request header fields too large' };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'Request timeout' };
  return { status: 400, message: 'Bad request' };
}
