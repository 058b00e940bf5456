// Which datasets of an HDF5 file are a Keras model's weights, from the layouts Keras writes:
//  - `save_weights` to .h5 (Keras 2, keras/src/legacy/saving/legacy_h5_format.py): root attributes
//    `layer_names`, `backend`, `keras_version`; each layer's group lists `weight_names`, whose
//    datasets lie under it (`dense/dense/kernel:0`);
//  - `model.save` to .h5: the same under `model_weights/`, the optimizer's under `optimizer_weights/`;
//  - Keras 3 `.weights.h5`, and `model.weights.h5` inside a `.keras` zip (keras/src/saving/
//    saving_lib.py: _save_state walks the model, each object's save_own_variables writing an
//    H5Entry `<path>/vars/<i>`): `layers/<name>/vars/<i>`, `optimizer/vars/<i>` (0 is the iteration
//    counter, which the optimizer creates first), `metrics/…`, a root `vars`; no `layer_names`.
import type { ForeignTensor, TensorRole } from '../foreign.js';
import { type Dtype, isDtype } from '../../base/dtypes.js';
import { quoted, shown } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import type { H5DatasetInfo, H5Listing } from './h5-protocol.js';

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_ENUM = 8;

export interface KerasLayout {
  readonly label: string;
  readonly tensors: ForeignTensor[];
  readonly notes: string[];
}

/** Our dtype for a dataset's HDF5 type, or why it is not a tensor we read. */
function dtypeOf(info: H5DatasetInfo): Dtype | string {
  if (!info.littleEndian && info.size > 1) return 'it is big-endian; only little-endian datasets are read';
  if (info.type === H5T_FLOAT) {
    if (info.size === 2) return 'F16';
    if (info.size === 4) return 'F32';
    if (info.size === 8) return 'F64';
  }
  if (info.type === H5T_INTEGER && [1, 2, 4, 8].includes(info.size)) return `${info.signed ? 'I' : 'U'}${info.size * 8}` as Dtype;
  // h5py stores numpy bools as an enum of int8 with members FALSE and TRUE.
  if (info.type === H5T_ENUM && info.size === 1 && info.enumMembers?.includes('TRUE')) return 'BOOL';
  return `its HDF5 type (class ${info.type}, ${info.size} bytes) is not a number type we read`;
}

/** A dataset's path, as HDF5 names it from the root. */
function datasetName(info: H5DatasetInfo): string {
  return shown(`/${info.path}`);
}

function byteLength(file: string, info: H5DatasetInfo): number {
  let count = info.size;
  for (const dim of info.shape) count *= dim;
  if (!Number.isSafeInteger(count))
    throw new CheckpointFormatError(file, `dataset ${datasetName(info)}: shape [${info.shape.join(', ')}] is too large to address`);
  return count;
}

function tensorOf(file: string, fileName: string, info: H5DatasetInfo, displayName: string, role: TensorRole): ForeignTensor {
  const dtype = dtypeOf(info);
  if (!isDtype(dtype)) throw new CheckpointFormatError(file, `dataset ${datasetName(info)}: ${dtype}`);
  return {
    name: info.path,
    displayName,
    dtype,
    shape: info.shape,
    // HDF5 decides where a dataset's bytes lie (contiguous, chunked, compressed): no byte range to give.
    file: fileName,
    offset: 0,
    bytes: byteLength(file, info),
    role,
  };
}

/** Keras 3's optimizer variables: the first, an integer scalar, is its iteration counter. */
function keras3OptimizerRole(info: H5DatasetInfo): TensorRole {
  return info.path === 'optimizer/vars/0' && info.shape.length === 0 && info.type === H5T_INTEGER ? 'step' : 'optimizer';
}

function optimizerRole(name: string): TensorRole {
  return /(^|\/)iter(ations)?(:0)?$/.test(name) ? 'step' : 'optimizer';
}

/** The Keras weights in `listing`; `file` is named in errors, `fileName` is the tensors' file. */
export function kerasLayout(file: string, fileName: string, listing: H5Listing): KerasLayout {
  const groups = new Map(listing.groups.map((g) => [g.path, g.attributes]));
  const datasets = new Map(listing.datasets.map((d) => [d.path, d]));
  const root = groups.get('') ?? {};
  const notes: string[] = [];
  if (listing.skipped.length > 0)
    notes.push(
      `links not followed (external, broken or soft): ${listing.skipped
        .slice(0, 5)
        .map((s) => shown(`/${s}`))
        .join(', ')}${listing.skipped.length > 5 ? ', …' : ''}`,
    );

  const base = root['layer_names'] ? '' : groups.get('model_weights')?.['layer_names'] ? 'model_weights' : null;
  if (base !== null) {
    const attrs = groups.get(base) ?? {};
    const tensors: ForeignTensor[] = [];
    for (const layer of attrs['layer_names'] ?? []) {
      const layerPath = base === '' ? layer : `${base}/${layer}`;
      const layerAttrs = groups.get(layerPath);
      if (!layerAttrs) throw new CheckpointFormatError(file, `layer_names lists ${quoted(layer)}, but there is no such group`);
      for (const weight of layerAttrs['weight_names'] ?? []) {
        const info = datasets.get(`${layerPath}/${weight}`);
        if (!info) throw new CheckpointFormatError(file, `layer ${quoted(layer)} lists weight ${quoted(weight)}, but there is no such dataset`);
        tensors.push(tensorOf(file, fileName, info, weight, 'model'));
      }
    }
    const optimizer = groups.get('optimizer_weights');
    for (const weight of optimizer?.['weight_names'] ?? []) {
      const info = datasets.get(`optimizer_weights/${weight}`);
      if (!info) throw new CheckpointFormatError(file, `optimizer_weights lists ${quoted(weight)}, but there is no such dataset`);
      tensors.push(tensorOf(file, fileName, info, weight, optimizerRole(weight)));
    }
    const keras = attrs['keras_version']?.[0] ?? root['keras_version']?.[0];
    const backend = attrs['backend']?.[0] ?? root['backend']?.[0];
    const about = [keras && `Keras ${shown(keras)}`, backend && `${shown(backend)} backend`].filter(Boolean).join(', ');
    const what = base === '' ? 'Keras HDF5 weights (save_weights)' : 'Keras HDF5 model (model.save)';
    return { label: `${what}${about ? ` (${about})` : ''}`, tensors, notes };
  }

  if (groups.has('layers')) {
    const tensors: ForeignTensor[] = [];
    for (const info of listing.datasets) {
      const role: TensorRole | null = info.path.startsWith('layers/') ? 'model' : info.path.startsWith('optimizer/') ? keras3OptimizerRole(info) : null;
      if (role === null) continue;
      const dtype = dtypeOf(info);
      if (!isDtype(dtype)) {
        notes.push(`dataset ${datasetName(info)} is left out: ${dtype}`);
        continue;
      }
      tensors.push(tensorOf(file, fileName, info, info.path.replace(/^layers\//, ''), role));
    }
    return { label: 'Keras 3 weights (.weights.h5)', tensors, notes };
  }
  throw new CheckpointFormatError(file, 'is an HDF5 file but not Keras weights: it has neither a layer_names attribute nor a layers group');
}
