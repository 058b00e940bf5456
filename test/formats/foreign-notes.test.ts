// Notes of a source with many checkpoints: a note every checkpoint repeats, up to its own name and
// numbers, is said once with the names of the others; a note of one checkpoint alone stays as it is.
import { describe, expect, it } from 'vitest';
import { checkpointNotes } from '../../electron/core/formats/foreign.js';

describe('checkpointNotes', () => {
  it('says a repeated note once, naming the other checkpoints, and keeps the rest as they are', () => {
    const notes = checkpointNotes([
      { name: 'ckpt-17', notes: ['In ckpt-17, 17 counts saves; the counter says 116 steps', 'a slot is unused'] },
      { name: 'ckpt-18', notes: ['In ckpt-18, 18 counts saves; the counter says 216 steps'] },
      { name: 'ckpt-19', notes: ['In ckpt-19, 19 counts saves; the counter says 316 steps', 'its data shard was rewritten'] },
    ]);
    expect(notes).toEqual([
      'In ckpt-17, 17 counts saves; the counter says 116 steps (likewise for ckpt-18, ckpt-19)',
      'ckpt-17: a slot is unused',
      'ckpt-19: its data shard was rewritten',
    ]);
  });
});
