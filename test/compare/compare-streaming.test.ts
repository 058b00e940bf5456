// The comparison streams A's tensors in file order and reads the B tensors they pair with a batch
// at a time: small tensors share one read of B; tensors as large as a batch go one by one, so no
// more than a batch of A and one read of B are held. A tensor whose bytes fall short of its dtype
// and shape is an error naming its file and name.
import { describe, expect, it } from 'vitest';
import type { Side, SideTensor, TensorBytes } from '../../electron/core/compare/compare-side.js';
import { compareSides } from '../../electron/core/compare/compare-sides.js';
import { f32 } from '../store/helpers.js';

/** A side of `count` F32 tensors of 4 values, logging every request and every tensor handed out. */
function loggedSide(label: string, count: number, log: string[], shortTensor?: string): Side {
  const tensors: SideTensor[] = Array.from({ length: count }, (_, i) => ({ name: `t${i}`, dtype: 'F32', shape: [4], role: 'model', file: `/${label}/f` }));
  return {
    path: `/${label}`,
    format: 'safetensors',
    step: null,
    foreignNames: false,
    tensors,
    notes: [],
    read: async function* (names): AsyncGenerator<TensorBytes> {
      log.push(`${label} read ${[...names].join(',')}`);
      for (const tensor of tensors) {
        if (!names.has(tensor.name)) continue;
        log.push(`${label} gives ${tensor.name}`);
        const values = f32([1, 2, 3, label === 'A' ? 4 : 5]);
        yield { tensor, data: tensor.name === shortTensor ? values.subarray(0, 12) : values };
      }
    },
  };
}

const labels = { a: { target: 'a', label: 'a' }, b: { target: 'b', label: 'b' } };

describe('the comparison reads', () => {
  it('small tensors of A, then the ones of B they pair with in one read', async () => {
    const log: string[] = [];
    const progress: string[] = [];
    const result = await compareSides(loggedSide('A', 3, log), loggedSide('B', 3, log), labels, {
      stoppedBelow: 1e-6,
      onProgress: (done, total, tensor) => progress.push(`${done}/${total} ${tensor ?? ''}`),
    });
    expect(result.tensors.map((t) => t.name)).toEqual(['t0', 't1', 't2']);
    expect(log).toEqual(['A read t0,t1,t2', 'A gives t0', 'A gives t1', 'A gives t2', 'B read t0,t1,t2', 'B gives t0', 'B gives t1', 'B gives t2']);
    expect(progress).toEqual(['0/3 ', '1/3 t0', '2/3 t1', '3/3 t2']);
  });

  it('one tensor of A, then the one of B it pairs with, in turn, when each fills a batch', async () => {
    const log: string[] = [];
    const result = await compareSides(loggedSide('A', 3, log), loggedSide('B', 3, log), labels, { stoppedBelow: 1e-6, batchBytes: 16 });
    expect(result.tensors).toHaveLength(3);
    expect(log).toEqual([
      'A read t0,t1,t2',
      'A gives t0',
      'B read t0',
      'B gives t0',
      'A gives t1',
      'B read t1',
      'B gives t1',
      'A gives t2',
      'B read t2',
      'B gives t2',
    ]);
  });

  it('refuses a tensor whose bytes are short, naming its file and name', async () => {
    const log: string[] = [];
    await expect(compareSides(loggedSide('A', 3, log), loggedSide('B', 3, log, 't1'), labels, { stoppedBelow: 1e-6 })).rejects.toThrow(
      '/B/f: tensor "t1": holds 12 bytes, but F32 [4] takes 16',
    );
  });
});
