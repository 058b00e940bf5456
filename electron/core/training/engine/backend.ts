// Which TensorFlow.js backend trains, and, when it is not the native one, why not.
//
// One tfjs instance serves the whole process: '@tensorflow/tfjs' resolves (no "exports" map,
// so through "main") to its CommonJS Node build, and so do '@tensorflow/tfjs-node' (which
// depends on exactly '@tensorflow/tfjs' 4.22 and re-exports it) and
// '@tensorflow/tfjs-backend-wasm' (whose peer is the same '@tensorflow/tfjs-core'). Even a
// second copy of tfjs-core would share the engine and kernel registry, which it keeps on
// globalThis, but npm dedupes them to one anyway.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-conv2d-backprop-filter.js';

export { BACKEND_PREFERENCES, type BackendName, type BackendPreference } from '../../../contract.js';
import type { BackendName, BackendPreference } from '../../../contract.js';

export interface BackendSelection {
  readonly name: BackendName;
  /** True only for tfjs-node's TensorFlow C library. */
  readonly native: boolean;
  /** Why the native backend is not in use; null when it is. */
  readonly reason: string | null;
}

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`the '${backend}' backend is not available: ${reason}`);
  }
}

export interface SelectBackendOptions {
  /** Loads @tensorflow/tfjs-node; tests replace it to act out machines where it works or breaks. */
  readonly importNative?: () => Promise<unknown>;
}

const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const require = createRequire(import.meta.url);

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]?.trim() ?? '';
}

async function importNativePackage(): Promise<unknown> {
  // A specifier in a variable: the package is optional, so its types may be absent at build time.
  const specifier: string = NATIVE_PACKAGE;
  return import(specifier);
}

function isPackageMissing(error: unknown): boolean {
  // Node's wording for the package itself, as opposed to a file inside it (its .node binding).
  const message = error instanceof Error ? error.message : '';
  return [`Cannot find package '${NATIVE_PACKAGE}'`, `Cannot find module '${NATIVE_PACKAGE}'`].some((text) => message.includes(text));
}

async function activate(name: BackendName): Promise<boolean> {
  // setBackend reports a failed initialisation by returning false (and logging the error).
  if (!(await tf.setBackend(name))) return false;
  await tf.ready();
  return tf.getBackend() === name;
}

/** Returns null once 'tensorflow' is the active backend, or why it cannot be. */
async function tryNative(importNative: () => Promise<unknown>): Promise<string | null> {
  try {
    await importNative();
  } catch (error) {
    return isPackageMissing(error)
      ? `${NATIVE_PACKAGE} is not installed (it is optional, and npm leaves it out when its native TensorFlow library cannot be downloaded at install time): ${firstLine(error).replace(/ imported from .*$/, '')}`
      : `${NATIVE_PACKAGE} is installed but its native TensorFlow library failed to load: ${firstLine(error)}`;
  }
  if (!tf.findBackendFactory('tensorflow')) {
    return `${NATIVE_PACKAGE} loaded but registered no 'tensorflow' backend (is it a different tfjs version from @tensorflow/tfjs ${tf.version.tfjs}?)`;
  }
  if (await activate('tensorflow')) return null;
  // A broken registration would otherwise win tfjs's own default choice later on.
  tf.removeBackend('tensorflow');
  return `${NATIVE_PACKAGE} loaded but its 'tensorflow' backend failed to initialise (the error is logged above)`;
}

let wasmPrepared: Promise<string> | undefined;

/** Loads the wasm backend once and points it at its .wasm files; returns their folder. */
function prepareWasm(): Promise<string> {
  wasmPrepared ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The Node build reads the binary with fs from this prefix (a plain path, not a URL). Its
    // default is its own __dirname, which is wrong once a bundler moves the JavaScript.
    const folder = join(dirname(require.resolve(`${WASM_PACKAGE}/package.json`)), 'dist');
    wasm.setWasmPaths(folder + sep);
    registerWasmTrainingKernels();
    return folder;
  })().catch((error: unknown) => {
    wasmPrepared = undefined;
    throw error;
  });
  return wasmPrepared;
}

/** Returns null once 'wasm' is the active backend, or why it cannot be. */
async function tryWasm(): Promise<string | null> {
  let folder: string;
  try {
    folder = await prepareWasm();
  } catch (error) {
    return `${WASM_PACKAGE} cannot be loaded: ${firstLine(error)}`;
  }
  // In Node tfjs never picks the threaded binary (WASM_HAS_MULTITHREAD_SUPPORT is false there).
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const binary = join(folder, simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm');
  if (!existsSync(binary)) return `the WebAssembly binary ${binary} is missing`;
  if (await activate('wasm')) return null;
  return `the WebAssembly backend failed to initialise from ${binary} (the error is logged above)`;
}

/**
 * Makes the chosen backend tfjs's active one. 'auto' prefers tfjs-node, then WebAssembly, then
 * plain JavaScript; an explicit choice that cannot be honoured throws BackendUnavailableError.
 */
export async function selectBackend(preference: BackendPreference, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  // Production mode drops tfjs's per-op debug checks and its "install tfjs-node" console banner:
  // we say ourselves, once, why the native backend is not in use.
  tf.enableProdMode();
  const importNative = options.importNative ?? importNativePackage;
  const requested = (name: BackendName): string => `the '${name}' backend was requested explicitly`;
  switch (preference) {
    case 'tensorflow': {
      const failure = await tryNative(importNative);
      if (failure !== null) throw new BackendUnavailableError('tensorflow', failure);
      return { name: 'tensorflow', native: true, reason: null };
    }
    case 'wasm': {
      const failure = await tryWasm();
      if (failure !== null) throw new BackendUnavailableError('wasm', failure);
      return { name: 'wasm', native: false, reason: requested('wasm') };
    }
    case 'cpu':
      if (!(await activate('cpu'))) throw new BackendUnavailableError('cpu', 'the JavaScript backend failed to initialise');
      return { name: 'cpu', native: false, reason: requested('cpu') };
    case 'auto': {
      const nativeFailure = await tryNative(importNative);
      if (nativeFailure === null) return { name: 'tensorflow', native: true, reason: null };
      const wasmFailure = await tryWasm();
      if (wasmFailure === null) return { name: 'wasm', native: false, reason: nativeFailure };
      const reason = `${nativeFailure}; and ${wasmFailure}`;
      if (!(await activate('cpu'))) throw new BackendUnavailableError('cpu', `${reason}; and the JavaScript backend failed to initialise`);
      return { name: 'cpu', native: false, reason };
    }
  }
}
