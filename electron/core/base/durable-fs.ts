// The one way user data is written into a workspace: a temporary name, fsync, rename, then
// fsync of the directory, so that a crash leaves either the old state or the new one.
import { link, lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from './errors.js';
import { exists } from './path-state.js';
import { temporaryName } from './temporaries.js';

export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file whose bytes are written but not yet known to be on disk. */
export interface UnsyncedFile {
  readonly bytes: number;
  /** fsyncs and closes the file; call exactly once. */
  sync(): Promise<void>;
  /** Closes without syncing, after a failure. */
  abandon(): Promise<void>;
}

/**
 * Writes buffers to a new file without copying them, leaving the fsync to the caller so that
 * several files' fsyncs can overlap. One write per buffer: measured here, writev of large
 * tensors ran about 25% slower than plain sequential writes.
 */
export async function writeFileUnsynced(file: string, chunks: readonly Uint8Array[], flag = 'wx'): Promise<UnsyncedFile> {
  const handle = await open(file, flag, 0o644);
  let written = 0;
  try {
    for (const chunk of coalesceSmall(chunks)) {
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done);
        if (bytesWritten === 0) throw new Error(`${file}: write made no progress`);
        done += bytesWritten;
      }
      written += chunk.byteLength;
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    bytes: written,
    sync: async () => {
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    abandon: () => handle.close().catch(() => undefined),
  };
}

/** Writes buffers to a new file and fsyncs it. */
export async function writeFileDurably(file: string, chunks: readonly Uint8Array[], flag = 'wx'): Promise<number> {
  const unsynced = await writeFileUnsynced(file, chunks, flag);
  await unsynced.sync();
  return unsynced.bytes;
}

/** Below this size a write costs more in syscall overhead than copying the bytes once. */
const SMALL_CHUNK = 64 * 1024;

/** Joins runs of small chunks (copying only those) so a model of many tiny tensors is not a syscall each. */
function coalesceSmall(chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pending.length === 1) out.push(pending[0] as Uint8Array);
    else if (pending.length > 1) out.push(Buffer.concat(pending));
    pending = [];
  };
  for (const chunk of chunks) {
    if (chunk.byteLength >= SMALL_CHUNK) {
      flush();
      out.push(chunk);
    } else pending.push(chunk);
  }
  flush();
  return out;
}

/** Replaces `file` atomically with `content`. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, temporaryName(path.basename(file)));
  try {
    await writeFileDurably(tmp, [typeof content === 'string' ? Buffer.from(content, 'utf8') : content]);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await fsyncPath(dir);
}

/** Appends one line and fsyncs; a torn last line is tolerated by the reader. */
export async function appendLineDurably(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a', 0o644);
  try {
    await handle.write(line.endsWith('\n') ? line : `${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface PlaceOptions {
  /** Looks at the finished stage just before it is placed (a verification, say); throwing stops the placement. */
  readonly check?: (stage: string) => void | Promise<void>;
  /** The stage's folders are fsynced already (the checkpoint writer syncs them alongside its files). */
  readonly synced?: boolean;
  /** Why an existing target is not replaced, as the refusal says it. */
  readonly taken?: string;
  /** Runs right after the rename, before the target's folder is fsynced: the checkpoint writer's crash seam. */
  readonly afterRename?: () => void | Promise<void>;
}

const TAKEN = 'already exists; nothing is ever written over it';

/**
 * Puts a finished stage (a folder or a file, under a temporary name) at `target` in one step,
 * never replacing what is there. In order: the stage's folders are fsynced (its files were
 * written durably by whoever wrote them), `check` runs, the target is refused if it exists, the
 * stage is renamed, and the folders on both sides are fsynced. A failure before the rename removes
 * the stage and leaves the target as it was; after it, the target is whole, and a failing fsync is
 * reported with the target left in place (removing it would lose a complete copy).
 */
export async function placeAtomically(stage: string, target: string, options: PlaceOptions = {}): Promise<void> {
  try {
    if (!options.synced) await syncFolders(stage);
    await options.check?.(stage);
    await refuseTaken(target, options.taken);
    await moveWithoutReplacing(stage, target, options.taken);
  } catch (error) {
    await rm(stage, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  await options.afterRename?.();
  await fsyncPath(path.dirname(target));
  if (path.dirname(stage) !== path.dirname(target)) await fsyncPath(path.dirname(stage));
}

/**
 * Builds something at `stage` (a temporary name; `build` creates it, as a file or a folder) and
 * places it at `target` (placeAtomically). An existing target is refused before any work; on any
 * failure the stage is removed.
 */
export async function writeAtomically<T>(stage: string, target: string, build: (stage: string) => Promise<T>, options: PlaceOptions = {}): Promise<T> {
  await refuseTaken(target, options.taken);
  let result: T;
  try {
    result = await build(stage);
  } catch (error) {
    await rm(stage, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  await placeAtomically(stage, target, options);
  return result;
}

async function refuseTaken(target: string, taken = TAKEN): Promise<void> {
  if (await exists(target)) throw new RefusedError(target, taken);
}

/** Link errors that mean "this file system has no hard links", where a checked rename must do. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * rename() replaces an existing file silently, and an empty folder too. A file is therefore
 * hard-linked into place (link() fails if the name is taken, atomically) and its temporary name
 * removed; a folder (which cannot be linked) is renamed right after the check, where only an
 * empty folder made in between could be replaced: nothing of anyone's is lost then.
 */
async function moveWithoutReplacing(stage: string, target: string, taken = TAKEN): Promise<void> {
  if (!(await lstat(stage)).isDirectory()) {
    try {
      await link(stage, target);
      await unlink(stage);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new RefusedError(target, taken);
      if (!NO_HARD_LINKS.has(code)) throw error;
    }
    await refuseTaken(target, taken);
  }
  await rename(stage, target);
}

/** fsyncs every folder of a staged tree (a file on its own has nothing to sync here). */
async function syncFolders(stage: string): Promise<void> {
  if (!(await lstat(stage)).isDirectory()) return;
  for (const entry of await readdir(stage, { withFileTypes: true })) {
    if (entry.isDirectory()) await syncFolders(path.join(stage, entry.name));
  }
  await fsyncPath(stage);
}
