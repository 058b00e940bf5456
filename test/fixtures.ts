// Where test data lives. The repository's own copies (test/data, see ATTRIBUTION.md there) always
// exist; the shared fixtures beside the repository (../shared/fixtures) may not, and a test that
// needs them says so and skips rather than failing in a checkout without them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A file or folder under test/data. */
export function testData(...parts: string[]): string {
  return path.join(REPOSITORY_ROOT, 'test', 'data', ...parts);
}

const SHARED_FIXTURES = path.resolve(REPOSITORY_ROOT, '..', 'shared', 'fixtures');

/**
 * A file or folder under ../shared/fixtures, or null (with the reason printed once) when that
 * folder is not beside this checkout.
 */
export function sharedFixture(...parts: string[]): string | null {
  const target = path.join(SHARED_FIXTURES, ...parts);
  if (fs.existsSync(target)) return target;
  if (!warned) {
    warned = true;
    console.warn(`skipping tests of the shared fixtures: ${SHARED_FIXTURES} is not here (it sits beside the repository on the project's machines)`);
  }
  return null;
}
let warned = false;
