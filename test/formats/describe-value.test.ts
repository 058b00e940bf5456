// The one rule for text read from a file in a message (base/describe-value.ts) and the one parser
// of a file's JSON (base/parse-json.ts): what is shown, what is only described, and where a syntax
// error is said to be, without V8's snippet of the text.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeJson, fieldPath, isShowableName, quoted, quotedValue, shown } from '../../electron/core/base/describe-value.js';
import { CheckpointFormatError } from '../../electron/core/base/errors.js';
import { jsonSyntaxProblem, parseJsonAs, parseJsonText, schemaProblem } from '../../electron/core/base/parse-json.js';
import { pythonJsonToJson } from '../../electron/core/formats/safetensors/python-json.js';

function thrown(fn: () => unknown): CheckpointFormatError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointFormatError);
    return error as CheckpointFormatError;
  }
  throw new Error('nothing was thrown');
}

describe('which text read from a file a message may show', () => {
  it('shows the names formats use and free text of plain words', () => {
    for (const name of [
      'w',
      'dense/kernel:0',
      'model.layers.31.self_attn.q_proj.weight',
      'model/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE',
      'F32',
      'model-00001-of-00002.safetensors',
      'keras v2.4.0',
      'TensorFlow.js Converter v1.7.0',
    ]) {
      expect(isShowableName(name), name).toBe(true);
      expect(shown(name)).toBe(name);
      expect(quoted(name)).toBe(`"${name}"`);
    }
  });

  it('describes by its length what could be a secret or could mislead', () => {
    for (const text of [
      'root:*:19953:0:99999:7:::',
      '$6$salt$hash',
      'a\nb',
      '\u001b[2J',
      'say "hi"',
      'back\\slash',
      ' lead',
      'trail ',
      'two  spaces',
      'x'.repeat(129),
    ]) {
      expect(isShowableName(text), JSON.stringify(text)).toBe(false);
      expect(shown(text)).toBe(`(${text.length} characters, not shown)`);
      expect(quoted(text)).toBe(`(${text.length} characters, not shown)`);
    }
    expect(shown('\u0007')).toBe('(1 character, not shown)');
    expect(quoted('')).toBe('""');
  });

  it('describes a JSON value by its kind, a string through the same rule', () => {
    expect([null, undefined, [1], {}, 5, true].map(describeJson)).toEqual(['null', 'nothing', 'an array', 'an object', 'a number', 'a boolean']);
    expect(describeJson('F128')).toBe('a string "F128"');
    expect(describeJson('root:*:1')).toBe('a string (8 characters, not shown)');
    expect(quotedValue('F128')).toBe('"F128"');
    expect(quotedValue(7)).toBe('(a number)');
  });

  it('names a field by its path, keys read from the file through the rule', () => {
    expect(fieldPath(['tensors', 3, 'name'])).toBe('tensors.3.name');
    expect(fieldPath(['metrics', 'val/loss'])).toBe('metrics.val/loss');
    expect(fieldPath(['metrics', 'root:$6$x'])).toBe('metrics.(9 characters, not shown)');
    expect(fieldPath([])).toBe('');
  });
});

describe("a file's JSON", () => {
  it('parses what JSON.parse parses', () => {
    expect(parseJsonText('f.json', '{"a": [1, null, "x"]}')).toEqual({ a: [1, null, 'x'] });
  });

  it('says where the syntax breaks and what it expected, never quoting the text', () => {
    const cases: [string, string][] = [
      ['{"a": root:*:2}', 'not valid JSON: a character that cannot stand there at line 1, column 7'],
      ['', 'not valid JSON: a value was expected at line 1, column 1'],
      ['{\n  "a": 1,\n}', 'not valid JSON: a property name in double quotes was expected at line 3, column 1'],
      ['[1 2]', 'not valid JSON: a comma was expected at line 1, column 4'],
      ['{"a" 1}', 'not valid JSON: a colon was expected at line 1, column 6'],
      ['{"a": "x', 'not valid JSON: a string that does not end at line 1, column 7'],
      ['{"a": 1} trailing', 'not valid JSON: a character that cannot stand there at line 1, column 10'],
      ['// comment\n{}', 'not valid JSON: a comment (JSON has none) at line 1, column 1'],
    ];
    for (const [text, problem] of cases) {
      const error = thrown(() => parseJsonText('/d/f.json', text));
      expect(error.problem, text).toBe(problem);
      expect(error.message).toBe(`/d/f.json: ${problem}`);
    }
  });

  it('locates an error in the file as written when the text was converted first (Python NaN)', () => {
    const text = '{"a": NaN, "b": -Infinity, "c": Infinity, "d": oops}';
    const { json, originalOffset } = pythonJsonToJson(text);
    expect(json).toBe('{"a": null, "b": null, "c": null, "d": oops}');
    expect(originalOffset(json.indexOf('oops'))).toBe(text.indexOf('oops'));
    expect(originalOffset(json.indexOf('"b"'))).toBe(text.indexOf('"b"'));
    expect(jsonSyntaxProblem(json, (offset) => `offset ${originalOffset(offset)}`)).toBe(
      `not valid JSON: a character that cannot stand there at offset ${text.indexOf('oops')}`,
    );
  });

  it('checks against a schema, naming the field and never a value or an unexpected key', () => {
    const schema = z.strictObject({ step: z.int(), metrics: z.record(z.string(), z.number()) });
    expect(parseJsonAs('m.json', '{"step": 3, "metrics": {"loss": 1}}', schema)).toEqual({ step: 3, metrics: { loss: 1 } });
    expect(thrown(() => parseJsonAs('m.json', '{"step": "root:*:2", "metrics": {}}', schema)).problem).toBe(
      'step: Invalid input: expected number, received string',
    );
    expect(thrown(() => parseJsonAs('m.json', '{"step": 1, "metrics": {"root:$6$x": "y"}}', schema)).problem).toBe(
      'metrics.(9 characters, not shown): Invalid input: expected number, received string',
    );
    expect(thrown(() => parseJsonAs('m.json', '{"step": 1, "metrics": {}, "root:*:2": 1, "extra": 2}', schema)).problem).toBe(
      'file: unexpected keys (8 characters, not shown), "extra"',
    );
    const error = schema.safeParse([]).error;
    expect(error && schemaProblem(error, 'manifest')).toBe('manifest: Invalid input: expected object, received array');
  });
});
