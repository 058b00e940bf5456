// compareCheckpoints through both transports (browser mode's WebSocket, the desktop's preload and
// IPC guard): the same result as the Studio's own, its compare:progress events under the
// client's id, cancelCompare of no such comparison, and a refusal with the Studio's message.
// Needs `npm run build` (the preload bundle).
import { describe, expect, it } from 'vitest';
import { type StudioEventPayload, StudioError } from '../../electron/contract.js';
import { useTempWorkspaces } from '../store/helpers.js';
import { PAGE_TRANSPORTS, studioWithRun } from './transport-setup.js';

useTempWorkspaces();

describe.each(PAGE_TRANSPORTS)('compareCheckpoints through $name', ({ connect }) => {
  it('answers what the Studio answers, with progress under the id the page gave', async () => {
    const studio = await studioWithRun([1, 2]);
    const page = await connect(studio);
    const progress: StudioEventPayload<'compare:progress'>[] = [];
    page.api.on('compare:progress', (p) => progress.push(p));
    const through = await page.api.compareCheckpoints({ a: 'alpha/ckpt-000000001', b: 'latest', compareId: 'page-1' });
    const seen = [...progress];
    expect(through).toEqual(await studio.api.compareCheckpoints({ a: 'alpha/ckpt-000000001', b: 'latest' }));
    expect(through.tensors.map((t) => t.name).sort()).toEqual(['adam/iterations', 'adam/m/dense/kernel', 'adam/v/dense/kernel', 'dense/bias', 'dense/kernel']);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.compareId === 'page-1')).toBe(true);
    expect(seen.at(-1)).toMatchObject({ done: 5, total: 5 });
    expect(await page.api.cancelCompare({ compareId: 'page-1' })).toEqual({ cancelled: false });
  });

  it("refuses a checkpoint that is not there with the Studio's message", async () => {
    const studio = await studioWithRun([1, 2]);
    const page = await connect(studio);
    const error = await page.api.compareCheckpoints({ a: 'alpha/ckpt-000000009', b: 'latest' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).message).toContain('alpha/ckpt-000000009');
  });
});
