import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, selectBackend } from '../../electron/core/training/engine/backend.js';

const require = createRequire(import.meta.url);
const nativeInstalled = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

async function matmulOnActiveBackend(): Promise<number[]> {
  const product = tf.tidy(() =>
    tf.matMul(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([
        [5, 6],
        [7, 8],
      ]),
    ),
  );
  const values = Array.from(await product.data());
  product.dispose();
  return values;
}

async function selectionError(run: Promise<unknown>): Promise<BackendUnavailableError> {
  const error: unknown = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendUnavailableError);
  return error as BackendUnavailableError;
}

describe('selectBackend', () => {
  it('selects the JavaScript backend and multiplies matrices on it', async () => {
    const selection = await selectBackend('cpu');
    expect(selection).toEqual({ name: 'cpu', native: false, reason: "the 'cpu' backend was requested explicitly" });
    expect(tf.getBackend()).toBe('cpu');
    expect(await matmulOnActiveBackend()).toEqual([19, 22, 43, 50]);
  });

  it('selects WebAssembly, with the training kernels it lacks, and multiplies matrices on it', async () => {
    const selection = await selectBackend('wasm');
    expect(selection).toEqual({ name: 'wasm', native: false, reason: "the 'wasm' backend was requested explicitly" });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(await matmulOnActiveBackend()).toEqual([19, 22, 43, 50]);
  });

  it.skipIf(nativeInstalled)('falls back from tfjs-node to WebAssembly on auto, and says why', async () => {
    const selection = await selectBackend('auto');
    expect(selection.name).toBe('wasm');
    expect(selection.native).toBe(false);
    expect(selection.reason).toMatch(/^@tensorflow\/tfjs-node is not installed \(.*\): Cannot find package '@tensorflow\/tfjs-node'/);
    expect(tf.getBackend()).toBe('wasm');
    expect(await matmulOnActiveBackend()).toEqual([19, 22, 43, 50]);
  });

  it.skipIf(nativeInstalled)('refuses an explicit tensorflow request when tfjs-node is absent', async () => {
    await selectBackend('cpu');
    const error = await selectionError(selectBackend('tensorflow'));
    expect(error.backend).toBe('tensorflow');
    expect(error.message).toMatch(/^the 'tensorflow' backend is not available: @tensorflow\/tfjs-node is not installed/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('tells an installed tfjs-node whose native library fails to load from a missing one', async () => {
    const importNative = () =>
      Promise.reject(new Error("Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'\nRequire stack:\n- x"));
    const selection = await selectBackend('auto', { importNative });
    expect(selection.name).toBe('wasm');
    expect(selection.reason).toBe(
      "@tensorflow/tfjs-node is installed but its native TensorFlow library failed to load: Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'",
    );
    const error = await selectionError(selectBackend('tensorflow', { importNative }));
    expect(error.reason).toBe(selection.reason);
  });

  it('reports a tfjs-node that loads without registering its backend', async () => {
    const selection = await selectBackend('auto', { importNative: () => Promise.resolve({}) });
    expect(selection.name).toBe('wasm');
    expect(selection.reason).toMatch(/^@tensorflow\/tfjs-node loaded but registered no 'tensorflow' backend/);
  });

  it('uses the native backend when tfjs-node registers it, with no reason given', async () => {
    // Stands in for tfjs-node, which registers 'tensorflow' with the shared engine as it loads.
    const importNative = () => {
      tf.registerBackend('tensorflow', tf.findBackendFactory('cpu'));
      return Promise.resolve({});
    };
    try {
      expect(await selectBackend('auto', { importNative })).toEqual({ name: 'tensorflow', native: true, reason: null });
      expect(tf.getBackend()).toBe('tensorflow');
    } finally {
      await selectBackend('cpu');
      tf.removeBackend('tensorflow');
    }
  });

  it('shares one tfjs-core between @tensorflow/tfjs and the wasm backend', () => {
    const coreFrom = (pkg: string) => createRequire(require.resolve(pkg)).resolve('@tensorflow/tfjs-core');
    expect(coreFrom('@tensorflow/tfjs-backend-wasm')).toBe(coreFrom('@tensorflow/tfjs'));
  });
});
