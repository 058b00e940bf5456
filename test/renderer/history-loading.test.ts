// The page reads metric histories only for charts on screen: nothing while the Checkpoints tab
// shows (with a workspace of runs listed), each shown run's overview once Charts is opened.
import { render, screen } from '@testing-library/svelte';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import App from '../../renderer/src/app.svelte';
import { fakeHost, user } from './component-fixtures';
import { FakeStudio, settle } from './fakes';
import { boardRun, servePage, tutorialSnapshot } from './in-place-fixtures';

// happy-dom lays nothing out: the checkpoint list's viewport gets a window's height, as in a browser.
const measured = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 800 });
});
afterAll(() => {
  if (measured) Object.defineProperty(HTMLElement.prototype, 'clientHeight', measured);
});

describe('loading histories', () => {
  it('asks for no history while the Checkpoints tab shows, and for the shown runs once Charts does', async () => {
    const fake = new FakeStudio();
    const snapshot = tutorialSnapshot('model-10000', [boardRun('logs/a'), boardRun('logs/b')]);
    servePage(fake, () => snapshot);
    render(App, { host: fakeHost(fake) });
    expect(await screen.findByTestId('workspace-summary')).toHaveTextContent('TensorBoard');
    // The list drawn: the catalog is in, and every view has asked for what it wants.
    await screen.findByRole('option', { name: /^model-10000,/ });
    await settle();
    expect(fake.calls.filter((c) => c.method === 'metricSeries' || c.method === 'metricHistory')).toEqual([]);
    await user().click(screen.getByRole('tab', { name: 'Charts' }));
    await expect
      .poll(() =>
        fake
          .callsOf('metricSeries')
          .map((p) => (p as { run: string }).run)
          .sort(),
      )
      .toEqual(expect.arrayContaining(['logs/a', 'logs/b']));
    expect(fake.callsOf('metricHistory')).toEqual([]);
  });
});
