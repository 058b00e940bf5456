// Runs the longest test files first, so that on two workers no long file starts last and keeps
// the run going alone. Vitest orders by the durations of its own last run when it has them, but
// a fresh clone (CI) has none and falls back to file size, which says little here (a short file
// that trains or starts a gateway is among the slowest). The durations of a whole run are kept
// in test/durations.json (refresh: npm run test:durations); vitest's own, where it has them, win.
import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { z } from 'zod';

const DurationsSchema = z.record(z.string(), z.number().nonnegative());
const DURATIONS_FILE = new URL('./durations.json', import.meta.url);

function committedDurations(): Record<string, number> {
  try {
    return DurationsSchema.parse(JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')));
  } catch (error) {
    // Only the order suffers: say so, and run in vitest's own.
    console.warn(`test/durations.json: ${error instanceof Error ? error.message : String(error)}; test files run in vitest's default order`);
    return {};
  }
}

export default class DurationSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const durations = committedDurations();
    const root = this.ctx.config.root;
    const estimate = (spec: TestSpecification): number => {
      const relative = spec.moduleId.startsWith(`${root}/`) ? spec.moduleId.slice(root.length + 1) : spec.moduleId;
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative}`);
      // A file not yet timed goes first: it may be a slow one.
      return cached?.duration ?? durations[relative] ?? Number.POSITIVE_INFINITY;
    };
    const ordered = await super.sort(files);
    const rank = new Map(ordered.map((spec, index) => [spec, index]));
    // Longest first across both projects (they run in one pool); ties keep vitest's order.
    return [...ordered].sort((a, b) => estimate(b) - estimate(a) || (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  }
}
