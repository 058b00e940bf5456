// The training step a Keras weights file records: its optimizer's iteration counter, the tensor
// keras-layout marks with the role `step` (Keras 2's `optimizer_weights/…/iter:0`, Keras 3's
// `optimizer/vars/0`, which BaseOptimizer creates first, as `iteration`). One scalar read.
import { shown } from '../../base/describe-value.js';
import type { ForeignTensor } from '../foreign.js';
import type { H5File } from './h5-file.js';

const INTEGER_BYTES: Readonly<Record<string, number>> = { I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8 };

/** The counter's value and where it came from, or null when the file has no such counter (or it holds no count). */
export async function readKerasStep(h5: H5File, tensors: readonly ForeignTensor[]): Promise<{ step: number; stepSource: string } | null> {
  const counter = tensors.find((t) => t.role === 'step' && t.shape.length === 0 && INTEGER_BYTES[t.dtype] !== undefined);
  if (counter === undefined) return null;
  const bytes = await h5.read(counter.name);
  if (bytes.byteLength !== INTEGER_BYTES[counter.dtype]) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signed = counter.dtype.startsWith('I');
  const value =
    bytes.byteLength === 8
      ? Number(signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true))
      : bytes.byteLength === 4
        ? signed
          ? view.getInt32(0, true)
          : view.getUint32(0, true)
        : bytes.byteLength === 2
          ? signed
            ? view.getInt16(0, true)
            : view.getUint16(0, true)
          : signed
            ? view.getInt8(0)
            : view.getUint8(0);
  if (!Number.isSafeInteger(value) || value < 0) return null;
  return { step: value, stepSource: `the optimizer's iteration counter ${shown(counter.name)}` };
}
