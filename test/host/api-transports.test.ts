// The StudioApi the page talks to, through both transports: browser mode's WebSocket client
// against the real server, and the desktop's shipped preload against the IPC host and its guard
// (Electron stood in, the trainer a utility process stood in by a Node child). The same cases
// run in each: what succeeds, what fails (a StudioError with the Studio's own message and code),
// an event, a malformed event, and a kill of a trainer that ignores SIGTERM. Needs `npm run build`
// (the preload bundle).
import { describe, expect, it } from 'vitest';
import { type SessionEvent, type StudioApi, type StudioEventName, type StudioEventPayload, StudioError, studioEvents } from '../../electron/contract.js';
import { UtilityProcessLauncher } from '../../electron/app/utility-launcher.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio, type StudioOptions } from '../../electron/core/studio/studio.js';
import { errorMessage } from '../../renderer/src/lib/errors.js';
import { STUBBORN_TRAINER } from '../electron/children/specs.js';
import { standInUtilityProcess } from '../electron/utility-process-stand-in.js';
import { onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { TINY_CONFIG, miniMnistDir } from '../trainer/helpers.js';
import { type ForgeableApi, type Transport, connectBrowser, connectDesktop, withForgedEvents } from './transports.js';

const makeWorkspace = useTempWorkspaces();

/** A workspace with one run, alpha, of three checkpoints, open in a Studio whose trainer is the stubborn one. */
async function openStudio(options: StudioOptions = {}): Promise<Studio> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root, { access: 'create' });
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  for (const step of [1, 2, 3]) await writer.save(trainingState(step));
  await writer.close();
  const studio = new Studio({ trainerModule: STUBBORN_TRAINER, ...options });
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return studio;
}

interface World {
  readonly studio: Studio;
  readonly forged: ForgeableApi;
  readonly page: Transport;
}

const TRANSPORTS: { name: string; open: () => Promise<World> }[] = [
  {
    name: 'browser mode (WebSocket client and server)',
    open: async () => {
      const studio = await openStudio();
      const forged = withForgedEvents(studio.api);
      const page = await connectBrowser(studio, forged.api);
      onCleanup(() => page.close());
      return { studio, forged, page };
    },
  },
  {
    name: 'the desktop app (preload, context bridge, IPC guard; a utility process trainer)',
    open: async () => {
      const studio = await openStudio({ launcher: new UtilityProcessLauncher(standInUtilityProcess()) });
      const forged = withForgedEvents(studio.api);
      const page = connectDesktop(forged.api);
      onCleanup(() => page.close());
      return { studio, forged, page };
    },
  },
];

/** Resolves with the first payload of `event` that `matches`. */
function next<E extends StudioEventName>(
  api: StudioApi,
  event: E,
  matches: (payload: StudioEventPayload<E>) => boolean = () => true,
): Promise<StudioEventPayload<E>> {
  return new Promise((resolve) => {
    const off = api.on(event, (payload) => {
      if (!matches(payload)) return;
      off();
      resolve(payload);
    });
  });
}

/** Everything `event` delivers from now on. */
function record<E extends StudioEventName>(api: StudioApi, event: E): StudioEventPayload<E>[] {
  const seen: StudioEventPayload<E>[] = [];
  api.on(event, (payload) => seen.push(payload));
  return seen;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: unknown) => error,
  );
}

describe.each(TRANSPORTS)('the StudioApi through $name', ({ open }) => {
  it('answers a call with what the Studio answers', async () => {
    const { studio, page } = await open();
    const listed = await page.api.listCheckpoints({ run: 'alpha' });
    expect(listed.map((c) => c.step)).toEqual([1, 2, 3]);
    expect(listed).toEqual(await studio.api.listCheckpoints({ run: 'alpha' }));
  });

  it("rejects a failing call with a StudioError carrying the Studio's own message and code", async () => {
    const { studio, page } = await open();
    for (const failing of [
      (api: StudioApi) => api.metricHistory({ run: 'no-such-run' }),
      (api: StudioApi) => api.deleteCheckpoints({ targets: [] }),
      (api: StudioApi) => api.latest({ run: 'no-such-run' }),
    ]) {
      const direct = (await rejectionOf(failing(studio.api))) as StudioError;
      const through = await rejectionOf(failing(page.api));
      expect(through).toBeInstanceOf(StudioError);
      expect({ code: (through as StudioError).code, message: (through as StudioError).message }).toEqual({ code: direct.code, message: direct.message });
      expect(errorMessage(through)).toBe(direct.message.split('\n')[0]);
    }
  });

  it('delivers an event, checked against the contract', async () => {
    const { page } = await open();
    const changed = next(page.api, 'catalog:changed', (c) => c.id === 'alpha/ckpt-000000002' && c.pinned);
    const [pinned] = await page.api.pin({ ids: ['alpha/ckpt-000000002'] });
    const payload = await changed;
    expect(payload).toEqual(pinned);
    expect(studioEvents['catalog:changed'].parse(payload)).toEqual(payload);
  });

  it('drops a malformed event, and says so as a warning', async () => {
    const { forged, page } = await open();
    const removed = record(page.api, 'catalog:removed');
    const warning = next(page.api, 'warning', (w) => w.message.includes('malformed'));
    const valid = { id: 'alpha/ckpt-000000009', run: 'alpha', step: 9 };
    const arrived = next(page.api, 'catalog:removed', (r) => r.id === valid.id);
    // The page says it is ready a turn after its first subscription: events wait for that, in order.
    forged.forge('catalog:removed', { id: 42, run: 'alpha', step: 9 });
    forged.forge('catalog:removed', valid);
    await arrived;
    expect(removed).toEqual([valid]);
    expect((await warning).message).toBe('the Studio sent a malformed catalog:removed event: Invalid input: expected string, received number');
  });

  it('kills a trainer that ignores SIGTERM at once, without a save', async () => {
    const { page } = await open();
    const events: SessionEvent[] = record(page.api, 'training:event');
    const crashes = record(page.api, 'training:crashed');
    const started = next(page.api, 'training:event', (e) => e.type === 'started');
    const said = next(page.api, 'training:log', (l) => l.text.startsWith('stubborn trainer'));
    await page.api.startTraining({ run: 'stuck', config: { ...TINY_CONFIG, dataDir: miniMnistDir() }, backend: 'cpu' });
    await started;
    const pid = Number(/stubborn trainer (\d+) started/.exec((await said).text)?.[1]);
    const before = await page.api.listCheckpoints();

    const status = await page.api.killTraining();

    expect(status).toMatchObject({ state: 'exited', run: 'stuck', lastExit: { code: null, signal: 'SIGKILL' } });
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(crashes).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['started']);
    expect(await page.api.listCheckpoints()).toEqual(before);
  });
});

describe('the two transports over one Studio', () => {
  it('fail a call in words the page cannot tell apart', async () => {
    const studio = await openStudio();
    const browser = await connectBrowser(studio);
    onCleanup(() => browser.close());
    const desktop = connectDesktop(studio.api);
    onCleanup(() => desktop.close());
    const fromBrowser = await rejectionOf(browser.api.runConfig({ run: 'no-such-run' }));
    const fromDesktop = await rejectionOf(desktop.api.runConfig({ run: 'no-such-run' }));
    expect(fromDesktop).toBeInstanceOf(StudioError);
    expect(fromBrowser).toBeInstanceOf(StudioError);
    const read = (error: unknown): unknown => ({ ...(error as StudioError), message: (error as StudioError).message, shown: errorMessage(error) });
    expect(read(fromDesktop)).toEqual(read(fromBrowser));
    expect(read(fromDesktop)).toMatchObject({ code: 'not-found', shown: expect.stringContaining('no-such-run') });
  });
});
