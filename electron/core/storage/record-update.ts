// A small record in a store without locks (a run's pins and policy, the pins of runs read in place)
// changed by read, change, write-if-unchanged (storage.ts `ifMatch`): two people pinning at once
// both keep their pin, where writing the record whole would keep only the last one.
import { setTimeout as sleep } from 'node:timers/promises';
import { RefusedError } from '../base/errors.js';
import type { Storage } from './storage.js';

const ATTEMPTS = 8;

/**
 * Writes `next(current)` to `key`, where `current` is `parse` of what is there (null: nothing),
 * only if no other writer replaced it in between; read again and tried again if one did.
 */
export async function updateRecord<T>(storage: Storage, key: string, parse: (bytes: Uint8Array | null) => T, next: (current: T) => string): Promise<T> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const found = await storage.stat(key);
    const current = parse(found === null ? null : await storage.read(key));
    const condition = found === null ? { exclusive: true } : found.tag !== null ? { ifMatch: found.tag } : {};
    if (await storage.write(key, next(current), condition)) return current;
    // Another writer got there first: a short random wait keeps two from colliding again in step.
    await sleep(10 + Math.random() * 40 * attempt);
  }
  throw new RefusedError(
    storage.locate(key),
    `was changed by other writers ${ATTEMPTS} times while this change was being made; nothing was written, try again`,
  );
}
