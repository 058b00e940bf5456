// One writer per run. The lock file names its holder's process and host; a lock whose process
// is gone (same host) is stale and taken over, so a crashed trainer never blocks its run forever.
import { randomBytes } from 'node:crypto';
import { link, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { fsyncPath, writeFileDurably } from '../base/durable-fs.js';
import { CheckpointFormatError, RunLockedError } from '../base/errors.js';
import { isProcessAlive } from '../base/process-alive.js';
import { isMissing, readRegularText } from '../base/regular-file.js';
import { temporaryName } from '../base/temporaries.js';
import { LOCK_FILE } from './layout.js';

const LockHolderSchema = z.object({
  pid: z.int().positive(),
  host: z.string(),
  since: z.string(),
  token: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

export { isProcessAlive };

/** A holder on another host cannot be probed, so it is presumed alive. */
export function isHolderAlive(holder: LockHolder): boolean {
  return holder.host !== os.hostname() || isProcessAlive(holder.pid);
}

/** A lock file is a few hundred bytes; anything larger is not one of ours. */
const MAX_LOCK_BYTES = 64 * 1024;

/**
 * The lock's holder. 'unreadable' is a regular file that is not a lock we wrote (a torn or
 * garbled one is stale); 'odd' is something that is not a regular file at all (a pipe, a
 * folder), which nobody should take over or delete.
 */
async function readHolder(file: string): Promise<LockHolder | 'missing' | 'unreadable' | 'odd'> {
  let text: string;
  try {
    text = await readRegularText(file, MAX_LOCK_BYTES);
  } catch (error) {
    if (isMissing(error)) return 'missing';
    if (error instanceof CheckpointFormatError) return error.problem.includes('not a regular file') ? 'odd' : 'unreadable';
    throw error;
  }
  try {
    return LockHolderSchema.parse(JSON.parse(text));
  } catch {
    return 'unreadable';
  }
}

/** The live holder of a run's lock, or null when the run is free (no lock, or a stale one). */
export async function liveLockHolder(runDir: string): Promise<LockHolder | null> {
  const holder = await readHolder(path.join(runDir, LOCK_FILE));
  if (typeof holder !== 'object') return null;
  return isHolderAlive(holder) ? holder : null;
}

export class RunLock {
  private released = false;
  constructor(
    /** The lock file itself. */
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /** The folder the lock guards (a run folder, for a run's lock). */
  get runDir(): string {
    return path.dirname(this.file);
  }

  get token(): string {
    return this.holder.token;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const current = await readHolder(this.file);
    if (typeof current === 'object' && current.token === this.holder.token) await unlink(this.file);
  }
}

export function acquireRunLock(runDir: string): Promise<RunLock> {
  return acquireLockFile(path.join(runDir, LOCK_FILE));
}

/** Takes the lock file `file` (in a folder of ours), or throws RunLockedError naming its live holder. */
export async function acquireLockFile(file: string): Promise<RunLock> {
  const runDir = path.dirname(file);
  const holder: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    since: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  // Written whole under a temporary name, then hard-linked into place: link() fails if the lock
  // exists, and a lock never appears half-written.
  const tmp = path.join(runDir, temporaryName('lock'));
  await writeFileDurably(tmp, [Buffer.from(JSON.stringify(holder))]);
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await link(tmp, file);
        await fsyncPath(runDir);
        return new RunLock(file, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existing = await readHolder(file);
      if (existing === 'missing') continue;
      if (existing === 'odd') throw new CheckpointFormatError(file, 'is not a regular file, so it is not a lock this program wrote; remove it by hand');
      if (existing !== 'unreadable' && isHolderAlive(existing)) throw new RunLockedError(runDir, existing);
      await takeOverStaleLock(file, existing);
    }
    throw new Error(`${file}: could not take the lock (contended)`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Moves a stale lock aside; if another process replaced it in the meantime, puts theirs back. */
async function takeOverStaleLock(file: string, stale: LockHolder | 'unreadable'): Promise<void> {
  const aside = path.join(path.dirname(file), temporaryName('lock-stale'));
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readHolder(aside);
  const sameStale = stale === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.token === stale.token;
  if (!sameStale) {
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
