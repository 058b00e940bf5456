// Shared helpers for the checkpoint-store tests: temporary workspaces, small training states,
// an independent safetensors/CRC32C reading of the bytes, and processes to stand for other writers.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import type { TrainingState } from '../../electron/core/checkpoint/writer.js';

export interface TempWorkspace {
  /** A private folder (the workspace's parent), removed after the test. */
  readonly base: string;
  /** `<base>/ws`: not created; CheckpointStore.open creates it. */
  readonly root: string;
}

const created: string[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

/** Registers the afterEach that removes every temp folder and runs every registered cleanup. */
export function useTempWorkspaces(): () => TempWorkspace {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return makeTempWorkspace;
}

export function makeTempWorkspace(): TempWorkspace {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-store-test-'));
  created.push(base);
  return { base, root: path.join(base, 'ws') };
}

/** Runs `fn` after the current test, before its temp folders are removed (close watchers, stores, children). */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

export function f32(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function f32Values(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Deterministic, step-dependent values, so two checkpoints never share bytes by accident. */
function series(count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.fround(Math.sin(seed * 7.31 + i) * 0.5));
}

export interface StateOptions extends Partial<Omit<TrainingState, 'step'>> {
  readonly loss?: number | null;
}

/** A small TrainingState: two model tensors, three optimizer tensors, loss/val_loss/accuracy. */
export function trainingState(step: number, overrides: StateOptions = {}): TrainingState {
  const { loss, ...rest } = overrides;
  const model: Tensor[] = [
    { name: 'dense/kernel', dtype: 'F32', shape: [4, 3], data: f32(series(12, step)) },
    { name: 'dense/bias', dtype: 'F32', shape: [3], data: f32(series(3, step + 0.5)) },
  ];
  const optimizer: Tensor[] = [
    { name: 'adam/m/dense/kernel', dtype: 'F32', shape: [4, 3], data: f32(series(12, step + 1)) },
    { name: 'adam/v/dense/kernel', dtype: 'F32', shape: [4, 3], data: f32(series(12, step + 2).map(Math.abs)) },
    { name: 'adam/iterations', dtype: 'F32', shape: [], data: f32([step]) },
  ];
  const defaultLoss = 1 / (1 + step / 100);
  return {
    step,
    epoch: Math.floor(step / 1000),
    batchInEpoch: step % 1000,
    trainingTimeMs: step * 10,
    metrics: { loss: loss === undefined ? defaultLoss : loss, val_loss: defaultLoss * 1.1, accuracy: 1 - defaultLoss },
    rng: { seed: 42, counter: [step, 7] },
    backend: 'cpu',
    parent: null,
    model,
    optimizer,
    ...rest,
  };
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven: independent of @node-rs/crc32. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface RawEntry {
  readonly dtype: string;
  readonly shape: number[];
  readonly data_offsets: [number, number];
}

export interface RawSafetensors {
  readonly headerLength: number;
  readonly header: Record<string, unknown>;
  readonly entries: Record<string, RawEntry>;
  /** Absolute offset of the data section. */
  readonly dataStart: number;
  readonly bytes: Buffer;
}

/** Reads a safetensors file the way the spec describes it, without the store's parser. */
export function parseRaw(file: string): RawSafetensors {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const entries: Record<string, RawEntry> = {};
  for (const [name, value] of Object.entries(header)) if (name !== '__metadata__') entries[name] = value as RawEntry;
  return { headerLength, header, entries, dataStart: 8 + headerLength, bytes };
}

/** The bytes of one tensor, located by the raw header. */
export function rawTensorBytes(raw: RawSafetensors, name: string): Buffer {
  const entry = raw.entries[name];
  if (!entry) throw new Error(`no tensor ${name}`);
  return raw.bytes.subarray(raw.dataStart + entry.data_offsets[0], raw.dataStart + entry.data_offsets[1]);
}

/** Flips every bit of one byte of a tensor's data, in place (same size). Returns the absolute offset. */
export function flipTensorByte(file: string, tensor: string, indexInTensor = 0): number {
  const raw = parseRaw(file);
  const entry = raw.entries[tensor];
  if (!entry) throw new Error(`no tensor ${tensor} in ${file}`);
  const offset = raw.dataStart + entry.data_offsets[0] + indexInTensor;
  const fd = fs.openSync(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, offset);
    one[0] = (one[0] as number) ^ 0xff;
    fs.writeSync(fd, one, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
  return offset;
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Rewrites a checkpoint's manifest.json through `edit` (which may mutate and/or return). */
export function rewriteManifest(dir: string, edit: (manifest: Record<string, unknown>) => Record<string, unknown> | void): void {
  const file = path.join(dir, 'manifest.json');
  const manifest = readJson(file);
  const next = edit(manifest) ?? manifest;
  fs.writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
}

/** Every file and folder under `dir`: kind, size, mtime and a content digest, for before/after comparisons. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      const rel = path.relative(dir, full);
      const info = fs.lstatSync(full);
      if (entry.isSymbolicLink()) out[rel] = `link -> ${fs.readlinkSync(full)}`;
      else if (entry.isDirectory()) {
        out[rel] = `dir ${info.mtimeMs}`;
        walk(full);
      } else out[rel] = `file ${info.size} ${info.mtimeMs} ${crc32cReference(fs.readFileSync(full))}`;
    }
  };
  walk(dir);
  return out;
}

/** The pid of a process that has exited (so a lock naming it is stale on this host). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn node');
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return pid;
}

/** A live process standing for another program; killed after the test. */
export function liveProcess(): ChildProcess & { pid: number } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not spawn node');
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    }
  });
  return child as ChildProcess & { pid: number };
}

/** Writes a run lock file naming `pid` on this host, as another writer would. */
export function writeLockFile(runDir: string, pid: number, host = os.hostname()): void {
  fs.writeFileSync(path.join(runDir, '.lock'), JSON.stringify({ pid, host, since: '2024-01-01T00:00:00.000Z', token: `other-${pid}` }));
}

/** Awaits a rejection and checks its class; returns it for further assertions. */
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

export function thrownBy<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E): E {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  return error as E;
}

/** Names directly inside a folder, sorted; [] when it does not exist. */
export function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}
