// How big the long randomized tests run. `npm test` runs them short, so the whole suite stays within
// minutes on a 2-core machine; `npm run fuzz:workspace` and `npm run fuzz:formats` run the same test
// files at full size (vitest --mode full sets TEST_SIZE=full, see vitest.config.ts). Each test's own
// knob, an environment variable it names, overrides both.
export const FULL_SIZE = process.env['TEST_SIZE'] === 'full';

/** `short` in npm test, `full` in the full-size runs. */
export function sized(short: number, full: number): number {
  return FULL_SIZE ? full : short;
}
