// One writer per run. The lock file names its holder's process and host; a lock whose process
// is gone (same host) is stale and taken over, so a crashed trainer never blocks its run forever.
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { fsyncPath, temporaryName, writeFileDurably } from './durable-fs.js';
import { RunLockedError } from './errors.js';
import { LOCK_FILE } from './layout.js';

const LockHolderSchema = z.object({
  pid: z.int().positive(),
  host: z.string(),
  since: z.string(),
  token: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A holder on another host cannot be probed, so it is presumed alive. */
export function isHolderAlive(holder: LockHolder): boolean {
  return holder.host !== os.hostname() || isProcessAlive(holder.pid);
}

async function readHolder(file: string): Promise<LockHolder | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
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
  if (holder === 'missing' || holder === 'unreadable') return null;
  return isHolderAlive(holder) ? holder : null;
}

export class RunLock {
  private released = false;
  constructor(
    readonly runDir: string,
    readonly holder: LockHolder,
  ) {}

  get token(): string {
    return this.holder.token;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const file = path.join(this.runDir, LOCK_FILE);
    const current = await readHolder(file);
    if (typeof current === 'object' && current.token === this.holder.token) await unlink(file);
  }
}

export async function acquireRunLock(runDir: string): Promise<RunLock> {
  const file = path.join(runDir, LOCK_FILE);
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
        return new RunLock(runDir, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existing = await readHolder(file);
      if (existing === 'missing') continue;
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
  const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
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
