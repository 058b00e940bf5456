// What the component tests share: a page host around the fake StudioApi, the catalog the delete
// dialog is shown over (with checkpoints the core protects, and why), and the user's hands.
import userEvent from '@testing-library/user-event';
import type { Host } from '../../renderer/src/lib/host';
import { CatalogState } from '../../renderer/src/state/catalog-state.svelte';
import { type FakeStudio, checkpoint, run, settle } from './fakes';

/** Browser mode's host, its connection always open, its StudioApi the fake. */
export function fakeHost(fake: FakeStudio): Host {
  return {
    kind: 'browser',
    api: fake.api,
    connection: {
      connection: { status: 'open', failures: 0, retryAt: null },
      onConnection: () => () => undefined,
      missingToken: false,
      onReconnect: () => () => undefined,
    },
    pathForFile: null,
    chooseFolder: null,
  };
}

export interface ProtectedCatalog {
  readonly catalog: CatalogState;
  /** Every checkpoint of the workspace, in the order a "select all" gives them. */
  readonly all: readonly string[];
  readonly deletable: readonly string[];
  /** The protected ones, with the reason the delete dialog must give for each. */
  readonly protectedReasons: Readonly<Record<string, string>>;
}

/**
 * Run a: 1 and 4 deletable (4 is the latest and best), 2 the parent of run b, 3 pinned; run w is
 * being written by process 42. What is protected, and why, is built here alone, so the tests do not
 * change when that information moves (today the page derives it from runs and pins).
 */
export async function protectedCatalog(fake: FakeStudio): Promise<ProtectedCatalog> {
  fake
    .handle('snapshot', () => ({
      workspace: '/ws',
      runs: [run('a'), run('b', { parent: { run: 'a', step: 2 } }), run('w', { writer: { pid: 42, host: 'h', since: '2026-01-01T00:00:00.000Z' } })],
      checkpoints: [
        checkpoint('a', 1, { bytes: 100 }),
        checkpoint('a', 2, { protectedBy: [{ kind: 'parent', reason: 'parent of run "b"' }] }),
        checkpoint('a', 3, { pinned: true, protectedBy: [{ kind: 'pinned', reason: 'pinned' }] }),
        checkpoint('a', 4, { bytes: 300 }),
        checkpoint('w', 1, { protectedBy: [{ kind: 'writer', reason: 'run "w" is being written by process 42 on h' }] }),
      ],
      skipped: [],
    }))
    .handle('marks', () => ({ 'a/ckpt-000000004': ['latest(a)', 'best val_loss'] }));
  const catalog = new CatalogState(fake.api, { schedule: (flush) => flush() });
  await catalog.start();
  await settle();
  return {
    catalog,
    all: ['a/ckpt-000000001', 'a/ckpt-000000002', 'a/ckpt-000000003', 'a/ckpt-000000004', 'w/ckpt-000000001'],
    deletable: ['a/ckpt-000000001', 'a/ckpt-000000004'],
    protectedReasons: {
      'a/ckpt-000000002': 'parent of run "b"',
      'a/ckpt-000000003': 'pinned',
      'w/ckpt-000000001': 'run "w" is being written by process 42 on h',
    },
  };
}

/** A person at the keyboard and mouse (user-event), acting on what the page shows. */
export function user(): ReturnType<typeof userEvent.setup> {
  return userEvent.setup();
}
