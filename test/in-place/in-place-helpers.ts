// Shared helpers for the tests of folders opened in place (issue 16): copies of the shared
// fixtures that a test may change, made old enough that the quiet period lets them be changed (or
// left fresh, to see it refuse), a record of a whole folder to prove that something changed
// nothing, and a Studio opened on such a folder.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { StudioApi, StudioEventName, StudioEventPayload } from '../../electron/contract.js';
import { StudioError } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { sharedFixture } from '../fixtures.js';
import { makeTempWorkspace, onCleanup } from '../store/helpers.js';

export const HOUR_MS = 3600_000;

/** Sets the times of `target` and everything below it `ageMs` into the past (folders last, so their own times stay). */
export function age(target: string, ageMs = HOUR_MS): void {
  const when = new Date(Date.now() - ageMs);
  const info = fs.lstatSync(target);
  if (info.isDirectory()) for (const name of fs.readdirSync(target)) age(path.join(target, name), ageMs);
  if (!info.isSymbolicLink()) fs.utimesSync(target, when, when);
}

/** Makes a copy writable (the shared fixtures are read-only, and so are their copies). */
function makeWritable(target: string): void {
  const info = fs.lstatSync(target);
  if (info.isSymbolicLink()) return;
  fs.chmodSync(target, info.isDirectory() ? 0o755 : 0o644);
  if (info.isDirectory()) for (const name of fs.readdirSync(target)) makeWritable(path.join(target, name));
}

/**
 * A writable copy of a shared fixture at `dest` (created), its times an hour back unless `ageMs`
 * says otherwise (0: as fresh as a file another program just wrote). Null when the shared
 * fixtures are not beside this checkout (the caller skips).
 */
export function copyFixture(dest: string, fixture: readonly string[], ageMs = HOUR_MS): string | null {
  const source = sharedFixture(...fixture);
  if (source === null) return null;
  fs.cpSync(source, dest, { recursive: true });
  makeWritable(dest);
  if (ageMs > 0) age(dest, ageMs);
  return dest;
}

/** A fresh temporary folder for a test (removed after it), and the path `<base>/ws` in it, not created. */
export function scratchFolder(): { base: string; root: string } {
  return makeTempWorkspace();
}

/** The tutorial's folder (ten TF1 Saver groups with `.meta`, and the state file) copied to a new workspace path. */
export function tutorialFolder(ageMs = HOUR_MS): string | null {
  return copyFixture(scratchFolder().root, ['tf1-saver', 'mnist-softmax-10steps'], ageMs);
}

export const TUTORIAL_STEPS = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000];

/** The state file as TensorFlow 1's Saver writes it (text_format.MessageToString of CheckpointState, no timestamps). */
export function saverStateText(latest: string, kept: readonly string[]): string {
  return [`model_checkpoint_path: "${latest}"`, ...kept.map((p) => `all_model_checkpoint_paths: "${p}"`), ''].join('\n');
}

/**
 * Every entry below `root` (hidden ones too), by relative path: its kind, size, mtime and, for a
 * file, a hash of its bytes. Equal records: nothing was created, removed, written or touched.
 */
export function folderRecord(root: string, options: { skip?: readonly string[] } = {}): Map<string, string> {
  const record = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relative = path.relative(root, full);
      if (options.skip?.includes(relative)) continue;
      const info = fs.lstatSync(full);
      if (info.isSymbolicLink()) record.set(relative, `link -> ${fs.readlinkSync(full)}`);
      else if (info.isDirectory()) {
        record.set(relative, `folder ${info.mtimeMs}`);
        walk(full);
      } else record.set(relative, `file ${info.size} ${info.mtimeMs} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`);
    }
  };
  walk(root);
  return record;
}

/** A Studio with `root` opened (a quiet period of `quietSeconds`, the setting's 10 s by default), closed after the test. */
export async function openStudio(
  root: string,
  options: { quietSeconds?: number; readOnly?: boolean; watch?: boolean } = {},
): Promise<{ api: StudioApi; studio: Studio }> {
  const studio = new Studio({ watch: options.watch ?? false });
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({
    path: root,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.quietSeconds !== undefined ? { quietSeconds: options.quietSeconds } : {}),
  });
  return { api: studio.api, studio };
}

/** The StudioError a call fails with (the test fails if it succeeds). */
export async function failureOf(promise: Promise<unknown>): Promise<StudioError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

/** The names in a folder (not below), sorted. */
export function namesIn(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** The files of one TensorFlow group in the tutorial's folder. */
export function groupFiles(prefix: string): string[] {
  return [`${prefix}.data-00000-of-00001`, `${prefix}.index`, `${prefix}.meta`];
}

/** Resolves with the first payload of `event` that `accept` takes; rejects after `ms` (a bound on a failing wait, never a pause). */
export function nextEvent<E extends StudioEventName>(
  api: StudioApi,
  event: E,
  accept: (payload: StudioEventPayload<E>) => boolean,
  ms = 15_000,
): Promise<StudioEventPayload<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event came within ${ms} ms`));
    }, ms);
    const off = api.on(event, (payload) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}
