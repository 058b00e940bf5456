// A seeded fuzz test of browser mode's server while a real training runs through its API: a few
// thousand malformed HTTP requests, upgrade requests and WebSocket frames, all to 127.0.0.1. It
// proves that nothing reaches the process's uncaught handlers, every answer is a 2xx/3xx/4xx with
// the security headers (never a 5xx), the API never lets in a request without the token, our
// Origin and our Host, a framing fault ends only its own socket with the code that names it, and
// afterwards a valid call is answered, the training is still running and stops normally with its
// checkpoints, and the staging folder is gone once the server closes.
//
//   SERVER_FUZZ_SEED=<n>      the run's seed (printed on failure; default fixed, so CI is reproducible)
//   SERVER_FUZZ_CASES=<n>     how many cases (default 4,000 in npm test, 40,000 under `npm run fuzz:server`)
//   SERVER_FUZZ_ONLY=<i,j,…>  replay just these cases of the seed
import { sized } from '../test-size.js';
import fs from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionEvent, TrainingStatus } from '../../electron/contract.js';
import { TOKEN_HEADER } from '../../electron/contract.js';
import { SECURITY_HEADERS } from '../../electron/host/security-headers.js';
import { caseSeed } from '../fuzz/prng.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { miniMnistDir } from '../trainer/helpers.js';
import { type FramesCase, type FuzzTarget, type HttpCase, makeCase } from './server-fuzz-cases.js';
import { callOver, closeCodeIn, connectWs, failOnEscapes, frame, httpRequest, parseRaw, serveWorkspace, upgradeRequest } from './server-helpers.js';

useTempWorkspaces();
failOnEscapes();

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

const SEED = envInt('SERVER_FUZZ_SEED', 20261215);
const CASES = envInt('SERVER_FUZZ_CASES', sized(4_000, 40_000));
const ONLY = process.env['SERVER_FUZZ_ONLY']?.split(',').map((part) => Number(part.trim())) ?? null;
/** Connections in flight at once: enough to overlap, few enough for a machine shared with others. */
const PARALLEL = 12;
/** A connection the server neither answers nor closes in this long is a hang, and a failure. */
const HANG_MS = 10_000;
/** Close codes a framing fault (or our own clean close) may end a socket with (RFC 6455 §7.4.1); 1011 would be the server's own failure. */
const CLOSE_CODES = new Set([1000, 1002, 1005, 1007, 1009]);

const TRAINING = {
  model: { kind: 'mlp' as const, width: 16 },
  optimizer: { name: 'adam' as const, learningRate: 0.01 },
  batchSize: 16,
  // Far more than the fuzz takes: the training must still be running when it ends.
  epochs: 10_000,
  seed: 3,
  validationCount: 100,
  trainLimit: 320,
};

/**
 * What came back on one connection: until the server closed it, or, with `untilAnswer`, until a
 * final answer's head arrived (a kept-alive connection stays open after answering).
 */
function exchange(port: number, write: (socket: Socket) => void, untilAnswer = false): Promise<{ bytes: Buffer; hung: boolean }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, HANG_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (untilAnswer && FINAL_HEAD.test(Buffer.concat(chunks).toString('latin1'))) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(watchdog);
      resolve({ bytes: Buffer.concat(chunks), hung });
    });
    socket.on('connect', () => write(socket));
  });
}

/** A whole response head that is not an interim 100 Continue. */
const FINAL_HEAD = /^(HTTP\/1\.1 100 Continue\r\n\r\n)?HTTP\/1\.[01] (?!100 )\d{3}[^]*?\r\n\r\n/;

/** A reason the answer to this HTTP case is wrong, or null. */
async function runHttp(server: FuzzTarget, c: HttpCase): Promise<string | null> {
  // A request cut short is followed by the end of our side, so the server sees it end there; a
  // whole one is not (Node drops the answer to a request whose client half-closed before it).
  const { bytes, hung } = await exchange(server.port, (socket) => (c.complete ? socket.write(c.bytes) : socket.end(c.bytes)), true);
  if (hung) return 'no answer and no close';
  // `Expect: 100-continue` gets an interim answer first; the final one is what counts.
  const answer = parseRaw(bytes.toString('latin1').replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
  if (answer.status === null) return c.complete ? `closed without an answer: ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}` : null;
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.text.slice(0, 200)}`;
  if (c.api && !c.authorized && (answer.status === 101 || (answer.status >= 200 && answer.status < 300))) return `let in without credentials: ${answer.status}`;
  if (c.kind === 'http' || answer.status !== 101) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (answer.headers[name] !== value) return `answered ${answer.status} without ${name}`;
  }
  return null;
}

/** A reason the way this socket ended is wrong, or null. */
async function runFrames(server: FuzzTarget, c: FramesCase): Promise<string | null> {
  let upgraded = false;
  const { bytes, hung } = await exchange(server.port, (socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      upgraded = head.toString('latin1').startsWith('HTTP/1.1 101');
      if (!upgraded) return void socket.end();
      for (const bytes of c.frames) socket.write(bytes);
      // Then a clean close and the end of our side: whatever state the frames left, the server must finish.
      socket.end(frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }));
    };
    socket.on('data', onData);
    socket.write(upgradeRequest(server));
  });
  if (hung) return 'the socket neither answered nor closed';
  if (!upgraded) return `a valid upgrade was refused: ${bytes.subarray(0, 80).toString('latin1')}`;
  const code = closeCodeIn(bytes.subarray(bytes.indexOf('\r\n\r\n') + 4));
  return code === null || CLOSE_CODES.has(code) ? null : `closed with ${code}`;
}

/** Runs `count` cases of the seed, PARALLEL at a time; returns each failure with its case number, to replay. */
async function fuzz(server: FuzzTarget, indices: number[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < indices.length) {
      const index = indices[next++] as number;
      const c = makeCase(caseSeed(SEED, index), server);
      const problem = c.kind === 'frames' ? await runFrames(server, c) : await runHttp(server, c);
      if (problem) failures.push(`case ${index} (${c.label}): ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return failures;
}

function waitForEvent<T>(subscribe: (listener: (payload: T) => void) => () => void, found: (payload: T) => boolean, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, 60_000);
    const off = subscribe((payload) => {
      if (!found(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

describe("browser mode's server under fuzzing", () => {
  it(
    `survives ${ONLY ? ONLY.length : CASES} malformed requests, upgrades and frames while a training runs (seed ${SEED})`,
    { timeout: 60_000 + CASES * 10 },
    async () => {
      const { server, studio, reports, origin } = await serveWorkspace();
      const target: FuzzTarget = { port: server.port, token: server.token };

      // A staged upload, so there is a staging folder to see removed.
      const staged = await httpRequest(server.port, 'PUT', '/upload/fuzz-staging/f/weights.bin', { [TOKEN_HEADER]: server.token, origin }, Buffer.alloc(64));
      expect(staged.status).toBe(201);
      const stagingRoot = path.dirname(path.dirname((JSON.parse(staged.body) as { folder: string }).folder));

      // The training is started through the API, as the page starts it.
      const started = waitForEvent<SessionEvent>(
        (l) => studio.api.on('training:event', l),
        (e) => e.type === 'started',
        'the training to start',
      );
      const page = await connectWs(server);
      const start = await callOver(page, 1, 'startTraining', { run: 'fuzzed', config: { ...TRAINING, dataDir: miniMnistDir() }, backend: 'cpu', logEvery: 5 });
      expect(start).toMatchObject({ type: 'result', id: 1 });
      await started;

      const indices = ONLY ?? Array.from({ length: CASES }, (_, i) => i);
      const began = Date.now();
      const failures = await fuzz(target, indices);
      const tookMs = Date.now() - began;
      expect(failures.slice(0, 20), `seed ${SEED}: ${failures.length} failures in ${tookMs} ms`).toEqual([]);
      expect(reports).toEqual([]);

      // A valid call on the page's socket, which the fuzz never touched, and on a new one.
      expect(await callOver(page, 2, 'trainingStatus')).toMatchObject({ type: 'result', id: 2, result: { state: 'running', run: 'fuzzed' } });
      const another = await connectWs(server);
      expect(await callOver(another, 1, 'listRuns')).toMatchObject({ type: 'result', result: [{ name: 'fuzzed' }] });

      // The training goes on until asked to stop, then stops as it should: saved, exit code 0.
      const exited = waitForEvent<TrainingStatus>(
        (l) => studio.api.on('training:state', l),
        (s) => s.state === 'exited',
        'the training to exit',
      );
      await callOver(another, 2, 'stopTraining');
      expect((await exited).lastExit).toEqual({ code: 0, signal: null });
      const checkpoints = await studio.api.listCheckpoints({ run: 'fuzzed' });
      expect(checkpoints.length).toBeGreaterThan(0);
      page.close();
      another.close();

      expect(fs.existsSync(stagingRoot)).toBe(true);
      await server.close();
      expect(fs.existsSync(stagingRoot)).toBe(false);
    },
  );
});
