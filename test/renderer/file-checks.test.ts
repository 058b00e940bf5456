// FileChecks (issue 17): the checkpoints in view are sent to checkFiles in one request, not asked
// about again for a while, asked again after that or after a failed request, and all again after
// another workspace opens.
import { describe, expect, it } from 'vitest';
import { FileChecks } from '../../renderer/src/state/file-checks';
import { FakeStudio } from './fakes';

describe('FileChecks', () => {
  it('checks the rows in view once, in one request, and again once the check is stale', async () => {
    const clock = { now: 0 };
    let fail = false;
    const fake = new FakeStudio().handle('checkFiles', () => {
      if (fail) throw new Error('offline');
      return [];
    });
    const checks = new FileChecks(fake.api, () => clock.now);
    checks.inView(['a', 'b']);
    checks.inView(['b', 'c']);
    await checks.flush();
    expect(fake.callsOf('checkFiles')).toEqual([{ ids: ['a', 'b', 'c'] }]);

    checks.inView(['a', 'b', 'c']);
    await checks.flush();
    expect(fake.callsOf('checkFiles')).toHaveLength(1);

    clock.now += 10_001;
    fail = true;
    checks.inView(['a']);
    await checks.flush();
    fail = false;
    checks.inView(['a']);
    await checks.flush();
    expect(fake.callsOf('checkFiles').slice(1)).toEqual([{ ids: ['a'] }, { ids: ['a'] }]);

    checks.forget();
    checks.inView(['a', 'b']);
    await checks.flush();
    expect(fake.callsOf('checkFiles').at(-1)).toEqual({ ids: ['a', 'b'] });
    checks.dispose();
  });
});
