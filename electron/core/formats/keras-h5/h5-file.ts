// An HDF5 file opened in a worker (see h5-worker.ts): one request at a time, each with a time
// limit, and every failure of the library — an error, a trap, a hang, the worker dying — turned
// into a CheckpointFormatError naming the file. A worker that served a file without a failure
// waits (unreferenced: it never keeps the process alive) for the next file; one that failed in
// any way is ended, so a damaged file's effect on the library never reaches another file.
import type { Worker } from 'node:worker_threads';
import { CheckpointFormatError } from '../../base/errors.js';
import { startModuleWorker } from '../../base/module-worker.js';
import { openRegular } from '../../base/regular-file.js';
import { isStoragePath, readWhole } from '../../storage/file-access.js';
import { type H5Listing, type H5Request, type H5Response, H5ResponseSchema, type H5WorkerStart } from './h5-protocol.js';

/** Longer than listing any real file or reading a dataset of a few GB takes. */
export const DEFAULT_H5_TIMEOUT_MS = 120_000;
/**
 * A listing reports progress every 250 ms while it walks the file (h5-worker.ts); one silent this
 * long is stuck in the library on a damaged file (a loop in its group structures), not slow.
 */
export const LIST_STALL_MS = 4_000;

type Source = H5WorkerStart['source'];

/**
 * For each kind of worker (files on disk, files in memory: two builds of the library), one whose
 * last file was read and closed cleanly, ready for another, and what forgets it should it die idle.
 */
const idle = new Map<Source, { readonly worker: Worker; readonly onExit: () => void }>();

/** The idle worker of `source`, taken for a file: it is no longer watched as an idle one. */
function takeIdle(source: Source): Worker | null {
  const taken = idle.get(source);
  idle.delete(source);
  taken?.worker.off('exit', taken.onExit);
  return taken?.worker ?? null;
}

/** A Keras weights file larger than this is not read from an object store into memory (import it instead). */
const MAX_STORED_H5_BYTES = 1 << 30;

async function storedBytes(file: string): Promise<ArrayBuffer> {
  const bytes = await readWhole(file, MAX_STORED_H5_BYTES);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export class H5File {
  private pending: { resolve: (r: H5Response) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;
  /** What a progress message does while a request waits: re-arms its stall timer. */
  private onProgress: (() => void) | null = null;
  private readonly listeners: { message: (message: unknown) => void; error: (error: Error) => void; exit: (code: number) => void };

  private constructor(
    readonly file: string,
    private readonly worker: Worker,
    private readonly timeoutMs: number,
    private readonly source: Source,
    /** What of `file` is HDF5, when not the whole of it: `the entry model.weights.h5`. */
    private readonly part: string | null,
  ) {
    this.listeners = {
      message: (message: unknown) => {
        const parsed = H5ResponseSchema.safeParse(message);
        if (parsed.success && parsed.data.ok && parsed.data.kind === 'progress') this.onProgress?.();
        else this.settle(parsed.success ? parsed.data : this.error('the HDF5 worker sent a reply we do not understand'));
      },
      error: (error: Error) => this.settle(this.error(`the HDF5 library failed (${error.message})`)),
      exit: (code: number) => this.settle(this.error(`the HDF5 worker stopped (exit code ${code})`)),
    };
    worker.on('message', this.listeners.message);
    worker.on('error', this.listeners.error);
    worker.on('exit', this.listeners.exit);
    worker.ref();
  }

  /** Opens `file` (a regular file, checked here first so a pipe never reaches the library). */
  static async open(file: string, timeoutMs = DEFAULT_H5_TIMEOUT_MS): Promise<H5File> {
    // In an object store (issue 18) HDF5 cannot seek by itself: the file is read whole into the worker's memory.
    if (isStoragePath(file)) return H5File.openBytes(file, null, await storedBytes(file), timeoutMs);
    const { handle } = await openRegular(file);
    await handle.close();
    const reused = takeIdle('disk');
    const start: H5WorkerStart = { source: 'disk', file };
    const h5 = new H5File(file, reused ?? startModuleWorker('h5-worker', import.meta.url, start), timeoutMs, 'disk', null);
    try {
      await h5.reply(reused ? { op: 'open', file } : null);
    } catch (error) {
      await h5.close();
      throw error;
    }
    return h5;
  }

  /**
   * Opens an HDF5 file held in memory, `part` of `file` (`the entry model.weights.h5` of a .keras
   * zip), in a worker of its own kind. `bytes` is handed over to the worker: the caller's copy is
   * emptied (transferred), so the file is never held twice here.
   */
  static async openBytes(file: string, part: string | null, bytes: ArrayBuffer, timeoutMs = DEFAULT_H5_TIMEOUT_MS): Promise<H5File> {
    const reused = takeIdle('memory');
    const start: H5WorkerStart = { source: 'memory' };
    const h5 = new H5File(file, reused ?? startModuleWorker('h5-worker', import.meta.url, start), timeoutMs, 'memory', part);
    try {
      if (!reused) await h5.reply(null);
      await h5.reply({ op: 'open-bytes', bytes }, [bytes]);
    } catch (error) {
      await h5.close();
      throw error;
    }
    return h5;
  }

  async list(): Promise<H5Listing> {
    const response = await this.reply({ op: 'list' }, [], LIST_STALL_MS);
    if (response.ok && response.kind === 'list') return response.listing;
    throw this.error('the HDF5 worker answered a listing with something else');
  }

  /** A dataset's bytes as HDF5 reads them (its stored type, in the file's byte order). */
  async read(path: string): Promise<Uint8Array> {
    const response = await this.reply({ op: 'read', path });
    if (response.ok && response.kind === 'data' && response.path === path) return new Uint8Array(response.bytes);
    throw this.error(`the HDF5 worker answered a read of /${path} with something else`);
  }

  async close(): Promise<void> {
    if (this.failed === null && !idle.has(this.source)) {
      try {
        const response = await this.reply({ op: 'close' });
        if (response.ok && response.kind === 'closed') {
          this.failed = this.error('closed');
          this.release();
          return;
        }
      } catch {
        // Closing failed: this worker is not to be trusted with another file.
      }
    }
    this.failed ??= this.error('closed');
    this.detach();
    await this.worker.terminate();
  }

  /** Hands the worker on for the next file, without keeping the process alive for it. */
  private release(): void {
    this.detach();
    this.worker.unref();
    // A worker that dies while idle (it should not) is simply forgotten.
    const onExit = (): void => {
      if (idle.get(this.source)?.worker === this.worker) idle.delete(this.source);
    };
    idle.set(this.source, { worker: this.worker, onExit });
    this.worker.once('exit', onExit);
  }

  private detach(): void {
    this.worker.off('message', this.listeners.message);
    this.worker.off('error', this.listeners.error);
    this.worker.off('exit', this.listeners.exit);
  }

  private error(problem: string): CheckpointFormatError {
    return new CheckpointFormatError(this.file, `${this.part === null ? '' : `${this.part} `}could not be read as HDF5: ${problem}`);
  }

  private settle(response: H5Response | Error): void {
    const pending = this.pending;
    this.pending = null;
    if (response instanceof Error) this.failed ??= response;
    if (!pending) return;
    if (response instanceof Error) pending.reject(response);
    else pending.resolve(response);
  }

  /**
   * Sends `request` (null: waits for the worker's first message) and waits for its answer, at most
   * the file's time limit, and with `stallMs`, at most that long without a progress message.
   */
  private async reply(request: H5Request | null, transfer: ArrayBuffer[] = [], stallMs?: number): Promise<H5Response> {
    if (this.failed) throw this.failed;
    if (this.pending) throw new Error('H5File: one request at a time');
    const response = await new Promise<H5Response>((resolve, reject) => {
      const giveUp = (problem: string): void => {
        this.settle(this.error(problem));
        void this.worker.terminate();
      };
      const timer = setTimeout(() => giveUp(`the HDF5 library did not answer within ${Math.round(this.timeoutMs / 1000)} s`), this.timeoutMs);
      const stallAfter = stallMs === undefined || stallMs >= this.timeoutMs ? null : stallMs;
      const stalled = (): void => giveUp(`the HDF5 library made no progress for ${Math.round((stallAfter ?? 0) / 1000)} s (a damaged file it loops on)`);
      let stall = stallAfter === null ? null : setTimeout(stalled, stallAfter);
      this.onProgress = () => {
        if (stall === null) return;
        clearTimeout(stall);
        stall = setTimeout(stalled, stallAfter as number);
      };
      const done = (): void => {
        clearTimeout(timer);
        if (stall !== null) clearTimeout(stall);
        this.onProgress = null;
      };
      this.pending = {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (request) this.worker.postMessage(request, transfer);
    });
    if (!response.ok) {
      const error = this.error(response.message);
      // A trap or an abort, and the worker serves no other file; HDF5's own clean refusal leaves it usable.
      if (!response.recoverable) this.failed ??= error;
      throw error;
    }
    return response;
  }
}
