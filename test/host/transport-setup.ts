// What the tests of one method through both transports share: a Studio on a fresh workspace
// holding run `alpha`, and the two ways a page reaches it (browser mode's WebSocket, the desktop's
// preload and IPC guard). A test file calls useTempWorkspaces() for the cleanup.
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { makeTempWorkspace, onCleanup, trainingState } from '../store/helpers.js';
import { type Transport, connectBrowser, connectDesktop } from './transports.js';

/** A Studio open on a new workspace whose run `alpha` has a checkpoint at each of `steps`; closed after the test. */
export async function studioWithRun(steps: readonly number[]): Promise<Studio> {
  const { root } = makeTempWorkspace();
  const store = await CheckpointStore.open(root, { access: 'create' });
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  for (const step of steps) await writer.save(trainingState(step));
  await writer.close();
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return studio;
}

type Connect = (studio: Studio) => Promise<Transport>;

/** The page closed after the test. */
const closedAfter =
  (connect: Connect): Connect =>
  async (studio) => {
    const page = await connect(studio);
    onCleanup(() => page.close());
    return page;
  };

/** Each transport, connecting a page to a Studio. */
export const PAGE_TRANSPORTS: { name: string; connect: Connect }[] = [
  { name: 'browser mode', connect: closedAfter((studio) => connectBrowser(studio)) },
  { name: 'the desktop app', connect: closedAfter(async (studio) => connectDesktop(studio.api)) },
];
