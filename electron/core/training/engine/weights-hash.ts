// The weights hash logged at every save and compared by verify-resume. Kept apart from the
// training loop so the writer worker can compute it without loading TensorFlow.js.
import { createHash } from 'node:crypto';
import type { Tensor } from '../../checkpoint/safetensors.js';

/** SHA-256 over the model's tensors in order: name, dtype and shape, then the bytes. */
export function weightsHash(model: readonly Tensor[]): string {
  const hash = createHash('sha256');
  for (const tensor of model) {
    hash.update(`${tensor.name}:${tensor.dtype}:${tensor.shape.join('x')};`);
    hash.update(tensor.data);
  }
  return hash.digest('hex');
}
