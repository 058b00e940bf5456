// Keeps test/durations.json (what duration-sequencer.ts orders the files by) up to date:
// npm run test:durations. Each file that ran gets its time from start to end, imports included,
// to the tenth of a second (finer would change the file on every run for nothing); files that did
// not run keep theirs, and files that are gone are dropped.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter, TestModule } from 'vitest/node';
import { z } from 'zod';

const DURATIONS_FILE = new URL('./durations.json', import.meta.url);

export default class DurationsReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const kept = existsSync(DURATIONS_FILE) ? z.record(z.string(), z.number()).parse(JSON.parse(readFileSync(DURATIONS_FILE, 'utf8'))) : {};
    const durations = new Map(Object.entries(kept).filter(([file]) => existsSync(path.join(root, file))));
    for (const module of testModules) {
      const d = module.diagnostic();
      const total = d.environmentSetupDuration + d.prepareDuration + d.setupDuration + d.collectDuration + d.duration;
      durations.set(path.relative(root, module.moduleId), Math.round(total / 100) * 100);
    }
    const sorted = [...durations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    writeFileSync(DURATIONS_FILE, `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
  }
}
