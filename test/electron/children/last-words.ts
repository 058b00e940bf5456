// A child that ends by itself right after writing to stderr, for the launcher's exit report:
//   crash        writes numbered lines to stderr, the last one just before it exits with code 3;
//   grandchild   starts a grandchild that inherits its stdout and stderr (and so holds the pipes
//                open), names it on stderr, and exits with code 0.
// Writes to a pipe are synchronous on POSIX, so each line is in the pipe before the exit.
import { spawn } from 'node:child_process';
import { CRASH_CODE, CRASH_LINES } from './specs.js';

const mode = process.argv[2];
if (mode === 'crash') {
  for (let line = 1; line <= CRASH_LINES; line += 1) process.stderr.write(`last words, line ${line}\n`);
  process.exit(CRASH_CODE);
} else if (mode === 'grandchild') {
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
  process.stderr.write(`grandchild ${grandchild.pid}\n`);
  process.exit(0);
} else {
  process.stderr.write(`last-words: unknown mode ${String(mode)}\n`);
  process.exit(2);
}
