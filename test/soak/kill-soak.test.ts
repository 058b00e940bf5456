// The short kill soak: a few SIGKILLs of a real trainer that saves every step, each followed by
// the soak's checks (npm run soak:kill runs the long one, whose figure the README quotes). It
// drives the built command, so it needs `npm run build` first, as `npm test` does.
//
//   SOAK_KILLS=<n>   how many kills (default 4; 200 at full size, as npm run soak:kill)
import { describe, expect, it } from 'vitest';
import { sized } from '../test-size.js';
import { formatReport, runKillSoak } from './kill-soak-core.js';

const KILLS = Number(process.env['SOAK_KILLS'] ?? sized(4, 200));

describe('kill soak', () => {
  // About 9 s a kill alone; up to four times that while the rest of the suite shares the machine.
  it(
    `after each of ${KILLS} SIGKILLs, listed checkpoints verify, none is lost, retries and latest work`,
    async () => {
      const lines: string[] = [];
      const report = await runKillSoak({ count: KILLS, seed: 1, log: (line) => lines.push(line) });
      // On failure, the whole log says where each kill landed and what broke.
      const story = `${lines.join('\n')}\n${formatReport(report)}`;
      expect(report.kills, story).toBe(KILLS);
      expect(report.violations, story).toEqual([]);
    },
    30_000 + KILLS * 30_000,
  );
});
