// The short kill soak: a few SIGKILLs of a real trainer that saves every step, each followed by
// the soak's checks (npm run soak:kill runs the long one, whose figure the README quotes). It
// drives the built command, so it needs `npm run build` first, as `npm test` does.
import { describe, expect, it } from 'vitest';
import { formatReport, runKillSoak } from './kill-soak-core.js';

describe('kill soak', () => {
  // About 35 s alone; more while the rest of the suite shares the machine.
  it('after each of a few SIGKILLs, listed checkpoints verify, none is lost, retries and latest work', async () => {
    const lines: string[] = [];
    const report = await runKillSoak({ count: 4, seed: 1, log: (line) => lines.push(line) });
    // On failure, the whole log says where each kill landed and what broke.
    const story = `${lines.join('\n')}\n${formatReport(report)}`;
    expect(report.kills, story).toBe(4);
    expect(report.violations, story).toEqual([]);
  }, 150_000);
});
