#!/usr/bin/env node
// The command is compiled TypeScript; say how to build it rather than failing obscurely.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/electron/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('checkpoint-studio: not built yet; run `npm run build` in the project folder first.');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
