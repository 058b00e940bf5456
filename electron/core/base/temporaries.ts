// The names of what our writers leave while they work: `.tmp-studio.<host>.<pid>.<random>.<label>`.
// The marker says it is ours; the host and pid say whose, so clean-up removes only what a dead
// writer of this machine left, never a user's `.tmp-notes` nor a live process's file in flight.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from './process-alive.js';

const MARKER = '.tmp-studio';
const TEMPORARY_PATTERN = /^\.tmp-studio\.([0-9a-f]{8})\.([1-9][0-9]{0,9})\.([0-9a-f]{8})\.(.+)$/;

/** A host name can hold any character; its hash is a fixed, path-safe stand-in. */
export function hostTag(host = os.hostname()): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 8);
}

export function temporaryName(label: string, pid = process.pid): string {
  return `${MARKER}.${hostTag()}.${pid}.${randomBytes(4).toString('hex')}.${label}`;
}

export interface OwnTemporary {
  readonly host: string;
  readonly pid: number;
  readonly label: string;
}

/** The writer a temporary name belongs to, or null when the name is not one of ours. */
export function parseTemporaryName(name: string): OwnTemporary | null {
  const match = TEMPORARY_PATTERN.exec(name);
  if (!match) return null;
  return { host: match[1] as string, pid: Number(match[2]), label: match[4] as string };
}

/** True for any name in our writers' temporary form, whoever wrote it: never listed or watched. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith(`${MARKER}.`);
}

/** Ours, of this machine, and its writer is gone: the only temporaries anyone may remove. */
export function isDeadTemporary(name: string): boolean {
  const owner = parseTemporaryName(name);
  return owner !== null && owner.host === hostTag() && owner.pid !== process.pid && !isProcessAlive(owner.pid);
}

/** Removes, in `folder` only (not below it), what dead writers of ours left there. */
export async function removeDeadTemporaries(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isDeadTemporary(name)) continue;
    const target = path.join(folder, name);
    await rm(target, { recursive: true, force: true });
    removed.push(target);
  }
  return removed;
}
