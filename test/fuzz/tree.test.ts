// The fuzz watchdog's judgement of a FIFO's holder: a descriptor opened O_NONBLOCK (how the product
// looks at a file's kind) is a look, not a hang; a blocking descriptor is not excused.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempWorkspace, useTempWorkspaces } from '../store/helpers.js';
import { holdsWithoutBlocking } from './tree.js';

useTempWorkspaces();

describe.runIf(process.platform === 'linux')('holdsWithoutBlocking', () => {
  it('tells a non-blocking descriptor of the FIFO from a blocking one and from none', () => {
    const dir = makeTempWorkspace().root;
    fs.mkdirSync(dir, { recursive: true });
    const fifo = path.join(dir, 'retention.json');
    execFileSync('mkfifo', [fifo]);
    expect(holdsWithoutBlocking(process.pid, fifo)).toBe(false);
    const looking = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    expect(holdsWithoutBlocking(process.pid, fifo)).toBe(true);
    fs.closeSync(looking);
    // O_RDWR opens a FIFO at once on Linux, but reads from it would block: not excused.
    const blocking = fs.openSync(fifo, fs.constants.O_RDWR);
    expect(holdsWithoutBlocking(process.pid, fifo)).toBe(false);
    fs.closeSync(blocking);
  });
});
