// The cases of the browser-mode server fuzz test, each made from its own seed: malformed HTTP
// requests over raw TCP, WebSocket upgrade requests, and raw frames on an accepted socket. Each
// case knows what it may get back: never a 5xx, never an answer without the security headers,
// never the API without the token, our Origin and our Host; a framing fault ends only its socket,
// with the close code that names it.
import { Rng } from '../fuzz/prng.js';
import { TOKEN_HEADER, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../electron/contract.js';
import { frame } from './server-helpers.js';

export interface FuzzTarget {
  readonly port: number;
  readonly token: string;
}

/** Bytes to write on one connection, and what the answer may be. */
export interface HttpCase {
  readonly kind: 'http' | 'upgrade';
  readonly label: string;
  readonly bytes: Buffer;
  /** False when the request is cut short: the server may then close without a word. */
  readonly complete: boolean;
  /** It asks for the API (an upload, or the WebSocket), not a page. */
  readonly api: boolean;
  /** It carries the token, our Origin and our Host (as the server reads them); an API request without all three must not get in. */
  readonly authorized: boolean;
}

/** An accepted WebSocket, then these frames. */
export interface FramesCase {
  readonly kind: 'frames';
  readonly label: string;
  readonly frames: Buffer[];
}

export type FuzzCase = HttpCase | FramesCase;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'G\tET', 'PRI', 'M'.repeat(300)];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'FOO', ''];
const EVIL_ORIGIN = 'http://evil.example';
/** Methods the fuzz may call with valid envelopes: they change nothing, so the training is left alone. */
const READ_ONLY = ['listRuns', 'listCheckpoints', 'snapshot', 'trainingStatus', 'settings', 'listTrash', 'latest', 'inspect'];

function randomText(rng: Rng, length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-._~%/?#[]@!$&()*+,;=:'): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[rng.int(0, alphabet.length)];
  return out;
}

function uploadPath(rng: Rng): string {
  return rng.pick([
    `/upload/fuzz-${rng.int(0, 1e6)}/f/${randomText(rng, rng.int(1, 12), 'abcdef0123456789')}.bin`,
    '/upload/',
    '/upload//[',
    '/upload/%/a/b',
    '/upload/short/a/b',
    '/upload/abcdefgh/../x',
    '/upload/abcdefgh/a/%2e%2e/b',
    '/upload/abcdefgh/a/x%2Fy',
    '/upload/abcdefgh/a/x%00y',
    '/upload/abcdefgh',
    `/upload/abcdefgh/${'a/'.repeat(40)}f`,
    `/upload/${randomText(rng, rng.int(0, 80))}`,
  ]);
}

function target(rng: Rng, token: string): string {
  return rng.pick([
    '/',
    '/index.html',
    '//[',
    '%',
    '/%',
    '/%zz',
    '/%E0%A4%A',
    'http://[',
    'http://127.0.0.1/',
    '*',
    '/api',
    '/api?x=%',
    `/?token=${token}`,
    '/assets/../../../etc/passwd',
    '/..%2f..%2fetc%2fpasswd',
    `/${'a'.repeat(rng.int(1000, 9000))}`,
    `/${randomText(rng, rng.int(0, 40))}`,
    uploadPath(rng),
    uploadPath(rng),
  ]);
}

function hostLine(rng: Rng, port: number): { line: string | null; ours: boolean } {
  return rng.pick([
    { line: `Host: 127.0.0.1:${port}`, ours: true },
    { line: `Host: 127.0.0.1:${port}`, ours: true },
    { line: `Host: localhost:${port}`, ours: true },
    { line: `Host: evil.example:${port}`, ours: false },
    { line: 'Host: 127.0.0.1', ours: false },
    { line: 'Host: ', ours: false },
    { line: null, ours: false },
    // Node keeps the first of two Host lines: that is the one the checks see.
    { line: `Host: 127.0.0.1:${port}\r\nHost: evil.example`, ours: true },
    { line: `Host: ${'h'.repeat(5000)}`, ours: false },
  ]);
}

function originLine(rng: Rng, port: number): { line: string | null; ours: boolean } {
  return rng.pick([
    { line: `Origin: http://127.0.0.1:${port}`, ours: true },
    { line: `Origin: http://127.0.0.1:${port}`, ours: true },
    { line: `Origin: ${EVIL_ORIGIN}`, ours: false },
    { line: 'Origin: null', ours: false },
    { line: null, ours: false },
  ]);
}

/** Header lines a parser may choke on, or that ask the server for odd things. */
function oddLines(rng: Rng): string[] {
  const pool = [
    'Range: bytes=5-2',
    'Range: bytes=999999999-',
    'Range: bytes=-',
    'If-None-Match: *',
    'Expect: 100-continue',
    'Connection: upgrade',
    'Upgrade: h2c',
    'Transfer-Encoding: gzip',
    'Content-Type: multipart/form-data; boundary=',
    `X-Junk: ${randomText(rng, rng.int(0, 200))}`,
    'no colon here',
    ' folded: continuation',
    'Bad Name: x',
    'X-Nul: a\u0000b',
    `X-Huge: ${'x'.repeat(rng.int(8000, 20000))}`,
    `Cookie: studio_token=${randomText(rng, 32)}`,
  ];
  return Array.from({ length: rng.int(0, 3) }, () => rng.pick(pool));
}

function tokenLine(rng: Rng, token: string): { line: string | null; right: boolean } {
  return rng.pick([
    { line: `${TOKEN_HEADER}: ${token}`, right: true },
    { line: `${TOKEN_HEADER}: ${token}`, right: true },
    { line: `${TOKEN_HEADER}: ${token.slice(1)}`, right: false },
    { line: `${TOKEN_HEADER}: ${token}x`, right: false },
    { line: `${TOKEN_HEADER}: `, right: false },
    { line: `${TOKEN_HEADER}: ${token}\r\n${TOKEN_HEADER}: ${token}`, right: false },
    { line: `Cookie: studio_token=${token}`, right: false },
    { line: null, right: false },
  ]);
}

function httpCase(rng: Rng, server: FuzzTarget): HttpCase {
  const method = rng.pick(METHODS);
  const path = target(rng, server.token);
  const host = hostLine(rng, server.port);
  const origin = originLine(rng, server.port);
  const token = tokenLine(rng, server.token);
  const lines = [host.line, origin.line, token.line, ...oddLines(rng)].filter((line): line is string => line !== null);
  const bodyLength = rng.pick([0, 0, 1, 100, 900, 5000]);
  const body = rng.bytes(bodyLength);
  const framing = rng.pick(['length', 'length', 'chunked', 'none', 'lying', 'both', 'bad-length']);
  let sentBody = body;
  let complete = true;
  if (framing === 'length') lines.push(`Content-Length: ${bodyLength}`);
  else if (framing === 'lying') {
    lines.push(`Content-Length: ${bodyLength + rng.int(1, 5000)}`);
    complete = false;
  } else if (framing === 'both') lines.push(`Content-Length: ${bodyLength}`, 'Transfer-Encoding: chunked');
  else if (framing === 'bad-length')
    lines.push(rng.pick(['Content-Length: -1', 'Content-Length: abc', 'Content-Length: 1e3', `Content-Length: 1\r\nContent-Length: 2`]));
  else if (framing === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const size = rng.chance(0.8) ? bodyLength.toString(16) : rng.pick(['zz', '-1', 'ffffffffffffffff', '']);
    complete = rng.chance(0.8);
    sentBody = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from(complete ? '\r\n0\r\n\r\n' : '\r\n')]);
  }
  const version = rng.pick(VERSIONS);
  const ending = rng.chance(0.9) ? '\r\n' : '\n';
  const head = [`${method} ${path}${version ? ` ${version}` : ''}`, ...lines].join(ending) + ending + ending;
  const isUpload = path.startsWith('/upload/') && (method === 'PUT' || method === 'DELETE');
  return {
    kind: 'http',
    label: `${method.slice(0, 12)} ${path.slice(0, 40)} ${version} [${framing}]`,
    bytes: Buffer.concat([Buffer.from(head, 'latin1'), sentBody]),
    complete,
    api: isUpload,
    authorized: host.ours && origin.ours && token.right,
  };
}

function upgradeCase(rng: Rng, server: FuzzTarget): HttpCase {
  const path = rng.pick(['/api', '/api', '/api', '//[', '/api/', '/API', '/', `/api?token=${server.token}`, 'http://[', '/%']);
  const host = hostLine(rng, server.port);
  const origin = originLine(rng, server.port);
  const protocols = rng.pick([
    { line: `Sec-WebSocket-Protocol: ${WS_PROTOCOL}, ${WS_TOKEN_PROTOCOL_PREFIX}${server.token}`, right: true },
    { line: `Sec-WebSocket-Protocol: ${WS_PROTOCOL}, ${WS_TOKEN_PROTOCOL_PREFIX}${server.token}`, right: true },
    { line: `Sec-WebSocket-Protocol: ${WS_TOKEN_PROTOCOL_PREFIX}${server.token}`, right: true },
    { line: `Sec-WebSocket-Protocol: ${WS_PROTOCOL}, ${WS_TOKEN_PROTOCOL_PREFIX}${server.token.slice(2)}`, right: false },
    { line: `Sec-WebSocket-Protocol: ${WS_PROTOCOL}`, right: false },
    { line: `Sec-WebSocket-Protocol: ${WS_PROTOCOL},,${WS_TOKEN_PROTOCOL_PREFIX}${server.token}`, right: true },
    { line: `Sec-WebSocket-Protocol: ${randomText(rng, 30, ' ,;"abc')}`, right: false },
    { line: `Cookie: studio_token=${server.token}`, right: false },
    { line: null, right: false },
  ]);
  const lines = [
    rng.chance(0.9) ? `Upgrade: ${rng.pick(['websocket', 'websocket', 'WebSocket', 'h2c', ''])}` : null,
    rng.chance(0.9) ? `Connection: ${rng.pick(['Upgrade', 'upgrade', 'keep-alive, Upgrade', 'close'])}` : null,
    rng.chance(0.9) ? `Sec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'short', '', randomText(rng, 24)])}` : null,
    rng.chance(0.9) ? `Sec-WebSocket-Version: ${rng.pick(['13', '13', '8', '7', 'x', ''])}` : null,
    rng.chance(0.2) ? `Sec-WebSocket-Extensions: ${rng.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits=99', '"', 'x; y="'])}` : null,
    host.line,
    origin.line,
    protocols.line,
    ...(rng.chance(0.2) ? oddLines(rng) : []),
  ].filter((line): line is string => line !== null);
  const method = rng.chance(0.9) ? 'GET' : rng.pick(METHODS);
  const head = `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  const cut = rng.chance(0.05);
  const bytes = Buffer.from(head, 'latin1');
  return {
    kind: 'upgrade',
    label: `upgrade ${method.slice(0, 8)} ${path.slice(0, 30)}`,
    bytes: cut ? bytes.subarray(0, rng.int(1, bytes.length)) : bytes,
    complete: !cut,
    // Elsewhere, a request Node does not take for an upgrade (an empty Upgrade, say) is a page request: public.
    api: path.split('?')[0] === '/api',
    authorized: host.ours && origin.ours && protocols.right,
  };
}

function call(rng: Rng): Buffer {
  const envelope = rng.pick([
    () => ({
      type: 'call',
      id: rng.int(1, 1e6),
      method: rng.pick(READ_ONLY),
      params: rng.pick([{}, { run: 'nope' }, { target: '../../etc/passwd' }, null, 7, 'x', []]),
    }),
    () => ({ type: 'call', id: rng.int(1, 1e6), method: rng.pick(READ_ONLY) }),
    () => ({ type: 'call', id: rng.pick([0, -1, 1.5, 1e300, '1', null]), method: 'listRuns', params: {} }),
    () => ({ type: 'call', id: 1, method: rng.pick(['constructor', '__proto__', 'toString', 'formatDisk', '']), params: {} }),
    () => ({ type: rng.pick(['result', 'event', 'error', '']), id: 1 }),
    () => JSON.parse('{"__proto__": {"polluted": true}, "type": "call", "id": 2, "method": "listRuns"}') as unknown,
  ])();
  return Buffer.from(rng.chance(0.1) ? JSON.stringify(envelope).slice(0, rng.int(0, 20)) : JSON.stringify(envelope));
}

/** One frame: valid (a call, a ping) or broken in one of the ways RFC 6455 forbids. */
function someFrame(rng: Rng): Buffer {
  const payload = call(rng);
  return rng.pick([
    () => frame({ opcode: 0x1, payload }),
    () => frame({ opcode: 0x1, payload }),
    () => frame({ opcode: 0x2, payload }),
    () => frame({ opcode: 0x9, payload: rng.bytes(rng.int(0, 20)) }),
    () => frame({ opcode: 0xa, payload: rng.bytes(rng.int(0, 20)) }),
    () => frame({ opcode: 0x1, announced: 4 * 1024 * 1024 + rng.int(1, 1e6) }),
    () => frame({ opcode: 0x1, announced: Number.MAX_SAFE_INTEGER }),
    () => frame({ opcode: 0x1, payload: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]) }),
    () => frame({ opcode: rng.pick([0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload }),
    () => frame({ opcode: 0x1, rsv: rng.int(1, 8), payload }),
    () => frame({ opcode: 0x1, masked: false, payload }),
    () => frame({ opcode: 0x0, payload }),
    () => Buffer.concat([frame({ opcode: 0x1, fin: false, payload: payload.subarray(0, 3) }), frame({ opcode: 0x1, payload })]),
    () => Buffer.concat([frame({ opcode: 0x1, fin: false, payload: payload.subarray(0, 3) }), frame({ opcode: 0x0, payload: payload.subarray(3) })]),
    () => frame({ opcode: 0x9, fin: false, payload: Buffer.from('x') }),
    () => frame({ opcode: 0x9, payload: rng.bytes(126) }),
    () => frame({ opcode: 0x8, payload: Buffer.from([rng.int(0, 256)]) }),
    () => {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(rng.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535]));
      return frame({ opcode: 0x8, payload: code });
    },
    () => frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8, 0xff, 0xfe]) }),
    () => frame({ opcode: 0x1, payload }).subarray(0, rng.int(1, 6)),
    () => rng.bytes(rng.int(1, 64)),
  ])();
}

function framesCase(rng: Rng): FramesCase {
  const frames = Array.from({ length: rng.int(1, 5) }, () => someFrame(rng));
  return { kind: 'frames', label: `${frames.length} frames`, frames };
}

/** The case of this seed: half HTTP requests, a quarter upgrades, a quarter frames. */
export function makeCase(seed: number, server: FuzzTarget): FuzzCase {
  const rng = new Rng(seed);
  const roll = rng.float();
  if (roll < 0.5) return httpCase(rng, server);
  if (roll < 0.75) return upgradeCase(rng, server);
  return framesCase(rng);
}
