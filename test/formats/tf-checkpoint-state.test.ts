// The `checkpoint` state file: the two real ones, and the text-format details TensorFlow's own
// writer and parser use (C escapes, single quotes, numbers), with clear errors for anything else.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { formatCheckpointState, parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import { sharedFixture } from '../fixtures.js';

const mnist = sharedFixture('tf1-saver', 'mnist-softmax-10steps', 'checkpoint');
const tictactoe = sharedFixture('tf2-checkpoint', 'tictactoe-manager', 'checkpoint');

describe('checkpoint state files', () => {
  it.skipIf(mnist === null)('TF1 Saver: 10 relative paths, model-10000 latest, no timestamps', async () => {
    const state = parseCheckpointState(await readFile(mnist as string, 'utf8'), 'checkpoint');
    expect(state).toEqual({
      modelCheckpointPath: 'model-10000',
      allModelCheckpointPaths: Array.from({ length: 10 }, (_, i) => `model-${(i + 1) * 1000}`),
      allModelCheckpointTimestamps: [],
      lastPreservedTimestamp: null,
    });
  });

  it.skipIf(tictactoe === null)('TF2 CheckpointManager: 3 paths with timestamps, ckpt-19 latest; written back byte for byte', async () => {
    const text = await readFile(tictactoe as string, 'utf8');
    const state = parseCheckpointState(text, 'checkpoint');
    expect(state).toEqual({
      modelCheckpointPath: 'ckpt-19',
      allModelCheckpointPaths: ['ckpt-17', 'ckpt-18', 'ckpt-19'],
      allModelCheckpointTimestamps: [1673735799.685766, 1673735913.342593, 1673736140.596798],
      lastPreservedTimestamp: 1673735591.495455,
    });
    expect(formatCheckpointState(state)).toBe(text);
  });

  it('reads C escapes, octal and hex bytes, and single quotes', () => {
    const state = parseCheckpointState(
      ["model_checkpoint_path: 'a\\'b'", 'all_model_checkpoint_paths: "x\\\\y\\"z"', 'all_model_checkpoint_paths: "\\303\\251\\x41\\n"', ''].join('\n'),
      'checkpoint',
    );
    expect(state.modelCheckpointPath).toBe("a'b");
    expect(state.allModelCheckpointPaths).toEqual(['x\\y"z', 'éA\n']);
  });

  it('names the file and the line offset of what it cannot read', () => {
    const cases: [string, RegExp, number][] = [
      ['model_checkpoint_path: "a"\nnot a field line\n', /line 2: not "field: value"$/, 27],
      ['model_checkpoint_path: "a"\nsomething_else: 1\n', /line 2: a field that a CheckpointState does not have \(it has model_checkpoint_path, /, 27],
      ['all_model_checkpoint_timestamps: soon\n', /line 1: all_model_checkpoint_timestamps is not a number$/, 0],
      ['model_checkpoint_path: unquoted\n', /line 1: model_checkpoint_path is not a quoted string$/, 0],
      ['model_checkpoint_path: "\\q"\n', /line 1: model_checkpoint_path has an unknown escape$/, 0],
      ['model_checkpoint_path: "\\377"\n', /line 1: model_checkpoint_path is not valid UTF-8$/, 0],
    ];
    for (const [text, problem, offset] of cases) {
      let error: unknown = null;
      try {
        parseCheckpointState(text, '/runs/a/checkpoint');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as CheckpointFormatError).file).toBe('/runs/a/checkpoint');
      expect((error as CheckpointFormatError).problem).toMatch(problem);
      expect((error as CheckpointFormatError).byteOffset).toBe(offset);
    }
  });
});
