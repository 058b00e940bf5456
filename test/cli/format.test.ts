// The size and duration parsers behind --max-size and --older-than.
import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration } from '../../electron/cli/format.js';
import { StudioError } from '../../electron/contract.js';

describe('sizes', () => {
  it.each([
    ['500', 500],
    ['1.5KB', 1500],
    ['20GB', 20e9],
    ['20 gb', 20e9],
    ['1MiB', 1024 ** 2],
    ['1.5TiB', 1.5 * 1024 ** 4],
    ['3b', 3],
  ])('%s is %d bytes', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each(['', 'lots', '-5GB', '5XB', '1e3', 'GB', '5 G B'])('"%s" is a usage error naming what a size looks like', (text) => {
    const error = (() => {
      try {
        parseBytes(text);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('usage');
    expect((error as StudioError).message).toContain('is not a size (examples: 500MB, 20GB, 1.5TiB)');
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
    ['7 D', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '7', 'd', '-1d', '5x', '1 day'])('"%s" is a usage error', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration \(examples: 30m, 12h, 7d\)/);
  });
});
