// Browser mode's upload: a page cannot hand us a dropped folder's path, so it sends the folder's
// files, one PUT /upload/<uploadId>/<folder>/<relative path> each, and then imports the staged
// folder by the path the server answered. Files are staged outside the workspace, under the OS
// temporary folder, and removed when the page says it is done (DELETE /upload/<uploadId>) or when
// the server closes. The server's own checks (token, Host) come first; this adds the Origin, a
// plain name for every path segment, and one cap on what all of a session's uploads hold.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { plainNameProblem } from '../core/checkpoint/names.js';

/** What a session's uploads (all of them, until each is imported and discarded) may hold: checkpoints are large, the disk is not endless. */
export const MAX_UPLOAD_BYTES = 8 * 1024 ** 3;
/** Folders deep enough for a run (run, checkpoint, file) and the foreign formats' trees, not for a bomb. */
const MAX_DEPTH = 16;
const UPLOAD_ID = /^[A-Za-z0-9-]{8,64}$/;
export const UPLOAD_PREFIX = '/upload/';

class UploadRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The bytes staged (or on their way) per upload id, against one cap for all of them. Taking is
 * synchronous, so of requests running in parallel only those that fit get their bytes: none can
 * see room another has already taken.
 */
class StagingBudget {
  private used = 0;
  private readonly byUpload = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Takes `bytes` for `uploadId`; false (and nothing taken) when they do not fit. */
  take(uploadId: string, bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    this.byUpload.set(uploadId, (this.byUpload.get(uploadId) ?? 0) + bytes);
    return true;
  }

  /** Gives back bytes a failed request had taken (no more than the upload still holds: a DELETE may have freed them). */
  give(uploadId: string, bytes: number): void {
    const held = this.byUpload.get(uploadId) ?? 0;
    const back = Math.min(bytes, held);
    this.used -= back;
    if (held - back > 0) this.byUpload.set(uploadId, held - back);
    else this.byUpload.delete(uploadId);
  }

  /** Frees everything an upload holds (its files are being removed). */
  release(uploadId: string): void {
    this.give(uploadId, this.byUpload.get(uploadId) ?? 0);
  }
}

export interface UploadEndpoint {
  /** Answers a request under /upload/ whose token and Host the server has checked; never rejects. */
  handle(request: IncomingMessage, response: ServerResponse, allowedOrigins: readonly string[]): Promise<void>;
  /** Refuses new requests, waits for those being answered, and removes everything staged. */
  close(): Promise<void>;
}

export function uploadEndpoint(options: { maxUploadBytes?: number } = {}): UploadEndpoint {
  const maxBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  let root: Promise<string> | null = null;
  const stagingRoot = (): Promise<string> => (root ??= mkdtemp(path.join(os.tmpdir(), 'checkpoint-studio-uploads-')));
  const budget = new StagingBudget(maxBytes);
  const overBudget = (): UploadRefused => new UploadRefused(413, `uploads hold at most ${maxBytes} bytes in all until they are imported and discarded`);

  const answer = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(JSON.stringify(body));
  };

  /** The upload id and the checked path segments after it. */
  const parse = (request: IncomingMessage): { uploadId: string; segments: string[] } => {
    // The raw path, not a URL's: URL parsing would resolve a `..` before we could refuse it.
    const pathname = (request.url ?? '/').split('?')[0] ?? '/';
    const parts = pathname.slice(UPLOAD_PREFIX.length).split('/');
    const uploadId = parts.shift() ?? '';
    if (!UPLOAD_ID.test(uploadId)) throw new UploadRefused(400, 'the upload id must be 8 to 64 letters, digits or dashes');
    if (parts.length > MAX_DEPTH) throw new UploadRefused(400, `a path deeper than ${MAX_DEPTH} folders`);
    const segments = parts.map((raw) => {
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        throw new UploadRefused(400, `a path segment is not valid percent-encoding: ${JSON.stringify(raw)}`);
      }
      const problem = plainNameProblem(segment);
      if (problem) throw new UploadRefused(400, `the path segment ${JSON.stringify(segment)} is refused: ${problem}`);
      return segment;
    });
    return { uploadId, segments };
  };

  const put = async (request: IncomingMessage, response: ServerResponse, uploadId: string, segments: string[]): Promise<void> => {
    if (segments.length < 2) throw new UploadRefused(400, 'name a folder and a file in it: /upload/<id>/<folder>/<file>');
    // Reserved before the first await: a parallel request must see these bytes as taken. Without
    // a length (a chunked body) each chunk is reserved as it arrives.
    const announced = request.headers['content-length'] === undefined ? 0 : Number(request.headers['content-length']);
    if (!Number.isSafeInteger(announced) || announced < 0) throw new UploadRefused(400, 'a Content-Length that is not a byte count');
    if (!budget.take(uploadId, announced)) throw overBudget();
    let reserved = announced;
    let total = 0;
    let file: string | null = null;
    try {
      file = path.join(await stagingRoot(), uploadId, ...segments);
      await mkdir(path.dirname(file), { recursive: true });
      await pipeline(
        request,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            total += chunk.length;
            if (total > reserved) {
              if (!budget.take(uploadId, total - reserved)) throw overBudget();
              reserved = total;
            }
            yield chunk;
          }
        },
        createWriteStream(file, { flags: 'wx' }),
      );
    } catch (error) {
      budget.give(uploadId, reserved);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UploadRefused(409, `${segments.join('/')} was already uploaded`);
      if (file) await rm(file, { force: true });
      throw error;
    }
    answer(response, 201, { folder: path.join(await stagingRoot(), uploadId, segments[0] as string), bytes: total });
  };

  /** Requests being answered: close waits for them, so nothing is written into the staging folder after it goes. */
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const serve = async (request: IncomingMessage, response: ServerResponse, allowedOrigins: readonly string[]): Promise<void> => {
    try {
      if (closed) throw new UploadRefused(503, 'the server is closing');
      // A browser sends Origin with every PUT and DELETE; a page elsewhere must not upload here.
      if (!allowedOrigins.includes(request.headers.origin ?? '')) throw new UploadRefused(403, 'foreign or missing Origin');
      const { uploadId, segments } = parse(request);
      if (request.method === 'PUT') await put(request, response, uploadId, segments);
      else if (request.method === 'DELETE' && segments.length === 0) {
        budget.release(uploadId);
        if (root) await rm(path.join(await root, uploadId), { recursive: true, force: true });
        answer(response, 200, { removed: uploadId });
      } else throw new UploadRefused(405, 'PUT a file, or DELETE an upload');
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status = error instanceof UploadRefused ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      // A refused request may still be sending its body: close rather than read it.
      response.setHeader('connection', 'close');
      answer(response, status, { error: message });
      if (!request.complete) request.resume();
    }
  };

  return {
    handle(request, response, allowedOrigins) {
      const done = serve(request, response, allowedOrigins);
      inFlight.add(done);
      return done.finally(() => inFlight.delete(done));
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      if (root) await rm(await root, { recursive: true, force: true });
    },
  };
}
