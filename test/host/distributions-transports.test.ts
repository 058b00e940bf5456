// tensorNames and tensorDistributions through both hosts (browser mode's WebSocket, the desktop's
// preload and IPC guard): the same answers as the Studio's own, the progress event delivered and
// checked against the contract, bad parameters refused by the contract's schema before the Studio
// sees them, cancelDistributions of no such request. Needs `npm run build` (the preload bundle).
import { describe, expect, it } from 'vitest';
import { type DistributionProgress, StudioError, studioEvents } from '../../electron/contract.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { PAGE_TRANSPORTS, studioWithRun } from './transport-setup.js';

useTempWorkspaces();

describe.each(PAGE_TRANSPORTS)('distributions through $name', ({ connect }) => {
  it('answers as the Studio does, with its progress as events', async () => {
    const studio = await studioWithRun([1, 2, 3]);
    const page = await connect(studio);
    const names = await page.api.tensorNames({ run: 'alpha' });
    expect(names).toEqual(await studio.api.tensorNames({ run: 'alpha' }));
    expect(names.tensors.map((t) => t.name)).toContain('adam/m/dense/kernel');

    const progress: DistributionProgress[] = [];
    const off = page.api.on('distributions:progress', (p) => progress.push(p));
    const through = await page.api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel', bins: 8 });
    off();
    expect(through.points.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(through.range?.bins).toBe(8);
    const direct = await studio.api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel', bins: 8 });
    // The second time the figures come from the cache: the same, but for saying so.
    expect(direct.points).toEqual(through.points.map((p) => ({ ...p, cached: true })));
    expect(progress.at(-1)).toEqual({ run: 'alpha', tensor: 'dense/kernel', done: 6, total: 6 });
    for (const p of progress) expect(studioEvents['distributions:progress'].parse(p)).toEqual(p);

    const refused = await page.api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel', bins: 0 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StudioError);
    expect((refused as StudioError).code).toBe('usage');
    // Cancelling a request that is not running says so, through either transport.
    expect(await page.api.cancelDistributions({ distributionsId: 'page-1' })).toEqual({ cancelled: false });
  });
});
