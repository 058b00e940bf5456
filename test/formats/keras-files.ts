// Keras 3 `.keras` files made here, as Keras lays them out, for tests (no such file is among the
// shared fixtures). The layout follows keras/src/saving/saving_lib.py: _save_model_to_fileobj writes
// metadata.json, then config.json, then model.weights.h5 into a zip with Python's zipfile (stored,
// not compressed); the weights file is H5IOStore's, in which _save_state gives each saveable an
// H5Entry `<inner path>/vars` and save_own_variables stores its variables as `0`, `1`, …: the model
// itself (`vars`, empty), its layers by class name (`layers/dense/vars`, `layers/dense_1/vars`:
// kernel then bias), then the optimizer (`optimizer/vars`: 0 the int64 iteration counter, 1 the
// learning rate, then the slots). The zip is written with yazl, the HDF5 file with h5wasm.
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import h5wasm from 'h5wasm/node';
import yazl from 'yazl';

export const KERNEL = Float32Array.from([0.5, -1.25, 2, 3.5, -4, 5.75]);
export const BIAS = Float32Array.from([0.125, -0.25, 0.375]);
export const KERNEL_1 = Float32Array.from([1, 2, 3]);
export const ITERATIONS = 120n;

export const METADATA = { keras_version: '3.3.3', date_saved: '2024-05-01@10:20:30' };
export const CONFIG = {
  module: 'keras',
  class_name: 'Sequential',
  config: { name: 'sequential', trainable: true, layers: [{ module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units: 3 } }] },
  registered_name: null,
  build_config: { input_shape: [null, 2] },
  compile_config: { optimizer: 'adam', loss: 'mse' },
};

/** A model.weights.h5 as H5IOStore writes one for a Sequential of two Dense layers trained with Adam. */
export async function kerasWeightsH5(scratchFile: string): Promise<Buffer> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(scratchFile, 'w');
  try {
    h5.create_group('vars');
    const layers = h5.create_group('layers');
    const dense = layers.create_group('dense').create_group('vars');
    dense.create_dataset({ name: '0', data: KERNEL, shape: [2, 3] });
    dense.create_dataset({ name: '1', data: BIAS, shape: [3] });
    layers
      .create_group('dense_1')
      .create_group('vars')
      .create_dataset({ name: '0', data: KERNEL_1, shape: [3, 1] });
    const optimizer = h5.create_group('optimizer').create_group('vars');
    optimizer.create_dataset({ name: '0', data: BigInt64Array.from([ITERATIONS]), shape: [] });
    optimizer.create_dataset({ name: '1', data: Float32Array.from([0.001]), shape: [] });
    optimizer.create_dataset({ name: '2', data: new Float32Array(6), shape: [2, 3] });
  } finally {
    h5.close();
  }
  const bytes = await readFile(scratchFile);
  await rm(scratchFile);
  return bytes;
}

export interface ZipEntrySpec {
  readonly name: string;
  readonly data: Buffer;
  readonly compress?: boolean;
}

/** A zip archive of `entries`, in order, as yazl writes it. */
export async function zipOf(entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) zip.addBuffer(entry.data, entry.name, { compress: entry.compress ?? false, mtime: new Date(2024, 4, 1) });
  zip.end();
  const chunks: Buffer[] = [];
  zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(zip.outputStream, 'end');
  return Buffer.concat(chunks);
}

/** The three entries of a .keras file, as saving_lib writes them. */
export function kerasEntries(weights: Buffer, options: { compress?: boolean } = {}): ZipEntrySpec[] {
  return [
    { name: 'metadata.json', data: Buffer.from(JSON.stringify(METADATA)) },
    { name: 'config.json', data: Buffer.from(JSON.stringify(CONFIG)) },
    { name: 'model.weights.h5', data: weights, compress: options.compress ?? false },
  ];
}

/** Central directory file headers (APPNOTE.TXT 4.3.12): where each begins, by entry name. */
export function centralHeaders(zip: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  for (let at = zip.indexOf('PK\x01\x02'); at >= 0; at = zip.indexOf('PK\x01\x02', at + 4)) {
    const nameLength = zip.readUInt16LE(at + 28);
    out.set(zip.toString('latin1', at + 46, at + 46 + nameLength), at);
  }
  return out;
}
