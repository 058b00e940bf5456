// The `checkpoint` state file: the two real ones, and the text-format details TensorFlow's own
// writer and parser use (C escapes, single quotes, numbers), with clear errors for anything else.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { formatCheckpointState, parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import { pythonFloatRepr, quoteString } from '../../electron/core/formats/tf/text-format.js';
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

describe("the text format's numbers and strings, as Python's protobuf prints them", () => {
  it('prints doubles as Python repr does: shortest round trip, .0 on whole numbers, exponents past 1e16 and under 1e-4', () => {
    // Each right-hand side is what CPython's repr(float) prints for the value.
    const cases: [number, string][] = [
      [1673735799.685766, '1673735799.685766'],
      [1784015299.2607172, '1784015299.2607172'],
      [1673735799, '1673735799.0'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [0.0001, '0.0001'],
      [0.000015, '1.5e-05'],
      [1e16, '1e+16'],
      [9999999999999998, '9999999999999998.0'],
      [123456789012345680, '1.2345678901234568e+17'],
      [-2.5, '-2.5'],
      [0, '0.0'],
      [-0, '-0.0'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [value, repr] of cases) expect(pythonFloatRepr(value)).toBe(repr);
  });

  it('writes back, byte for byte, a CheckpointManager file whose timestamp has 17 significant digits', () => {
    // A state file printed by TensorFlow (quoted in a public repository's notes on checkpoint files).
    const text = [
      'model_checkpoint_path: "ckpt-4"',
      'all_model_checkpoint_paths: "ckpt-2"',
      'all_model_checkpoint_paths: "ckpt-3"',
      'all_model_checkpoint_paths: "ckpt-4"',
      'all_model_checkpoint_timestamps: 1784015298.994252',
      'all_model_checkpoint_timestamps: 1784015299.2607172',
      'all_model_checkpoint_timestamps: 1784015299.510666',
      'last_preserved_timestamp: 1784015297.175224',
      '',
    ].join('\n');
    expect(formatCheckpointState(parseCheckpointState(text, 'checkpoint'))).toBe(text);
  });

  it('escapes strings as CEscape does, with non-ASCII in octal or as it is', () => {
    expect(quoteString('a"b\'c\\d\ne\tf\u0001\u007fé', false)).toBe('"a\\"b\\\'c\\\\d\\ne\\tf\\001\\177\\303\\251"');
    expect(quoteString('a"é', true)).toBe('"a\\"é"');
  });

  it('reads what Python reads: comments after values, a trailing separator, adjacent strings, numbers with exponents', () => {
    const state = parseCheckpointState(
      ['model_checkpoint_path: "mo" \'del\' # the latest', 'all_model_checkpoint_timestamps: 1.5e9;', 'last_preserved_timestamp: 12f', ''].join('\n'),
      'checkpoint',
    );
    expect(state).toEqual({ modelCheckpointPath: 'model', allModelCheckpointPaths: [], allModelCheckpointTimestamps: [1.5e9], lastPreservedTimestamp: 12 });
  });
});
