// The whole page on a folder another program wrote, opened in place (the tutorial's TensorFlow
// Saver folder and a TensorBoard run beside it), used as a person would: what the header says was
// found, each checkpoint by its own name with the folder's own latest, its format and files, Make
// latest and its refusal with the quiet period beside it, Restore and continue offered, a
// TensorBoard run as metrics only, an empty folder that lists what was looked for, the settings,
// and a folder dropped on the desktop app opened in place or imported.
import { render, screen, within } from '@testing-library/svelte';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import App from '../../renderer/src/app.svelte';
import { type CatalogSnapshot, RUN_LAYOUT_KINDS, StudioError } from '../../renderer/src/lib/contract';
import type { Host } from '../../renderer/src/lib/host';
import { fakeHost, user } from './component-fixtures';
import { FakeStudio, checkpoint, run } from './fakes';
import { STEPS, TUTORIAL, boardRun, servePage, tfCheckpoint, tutorialRun, tutorialSnapshot } from './in-place-fixtures';

const BUSY = `${TUTORIAL}: refused: busy: model-9000.index changed 3 s ago, so another program may be writing here; nothing was changed (try again once it has been quiet for 10 s)`;

function openPage(snapshot: () => CatalogSnapshot, host: (fake: FakeStudio) => Host = fakeHost) {
  const fake = new FakeStudio();
  const served = servePage(fake, snapshot);
  render(App, { host: host(fake) });
  return { fake, served, person: user() };
}

// happy-dom lays nothing out, so the checkpoint list's viewport would measure 0 px and render only
// its first rows: give elements a window's height, as a browser would.
const measured = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 800 });
});
afterAll(() => {
  if (measured) Object.defineProperty(HTMLElement.prototype, 'clientHeight', measured);
});

const list = (): HTMLElement => screen.getByRole('listbox', { name: 'Checkpoints' });
const details = (): HTMLElement => screen.getByRole('complementary', { name: 'Checkpoint details' });
const option = (name: string): Promise<HTMLElement> => within(list()).findByRole('option', { name: new RegExp(`^${name.replace(/[.]/g, '\\.')},`) });
const lane = (run: string): HTMLElement => {
  const found = list().querySelector<HTMLElement>(`.lane[data-run="${run}"]`);
  if (!found) throw new Error(`no lane for run ${run}`);
  return found;
};
const text = (el: HTMLElement): string => (el.textContent ?? '').replace(/\s+/g, ' ').trim();

describe('a folder read in place, in the page', () => {
  it('says what was found and that it is read in place, and lists each checkpoint by its own name', async () => {
    openPage(() => tutorialSnapshot());
    expect(await screen.findByTestId('workspace-summary')).toHaveTextContent('10 TensorFlow checkpoints, 1 TensorBoard run · 503.0 KB');
    expect(screen.getByText('read in place')).toHaveAttribute('title', expect.stringMatching(/nothing is copied/));

    const model5000 = await option('model-5000');
    expect(model5000).toHaveAccessibleName('model-5000, step 5000, TensorFlow checkpoint, unverified, 50.3 KB');
    expect(within(list()).getAllByRole('option')).toHaveLength(STEPS.length);
    // The run is the workspace folder itself (`.`): shown by the folder's name, its path on hover, with its kind.
    const folder = lane('.');
    expect(text(folder)).toMatch(/^mnist-softmax TensorFlow checkpoint folder 10 checkpoints · 503\.0 KB latest: model-10000$/);
    expect(within(folder).getByTitle(TUTORIAL)).toBeInTheDocument();
    // A TensorBoard run holds metrics, no checkpoints: not an empty run.
    expect(text(lane('logs/fit/mnist/train'))).toBe('logs/fit/mnist/train TensorBoard run metrics only: see Charts');
  });

  it("marks the folder's own latest where it is not the highest step", async () => {
    openPage(() => tutorialSnapshot('model-5000'));
    const model5000 = await option('model-5000');
    expect(within(model5000).getByText("checkpoint file's latest")).toBeInTheDocument();
    expect(within(model5000).getByText('latest')).toBeInTheDocument();
    expect(within(await option('model-10000')).queryByText("checkpoint file's latest")).not.toBeInTheDocument();
    expect(text(lane('.'))).toMatch(/latest: model-5000 \(not the highest step\)$/);
  });

  it('shows a checkpoint’s format, the files of its group with sizes, its notes, and where it is read from', async () => {
    const { person } = openPage(() => tutorialSnapshot());
    await person.click(await option('model-5000'));
    const panel = details();
    expect(within(panel).getByRole('heading', { name: 'model-5000' })).toBeInTheDocument();
    expect(panel).toHaveTextContent('step 5000 · in mnist-softmax (TensorFlow checkpoint folder)');
    expect(panel).toHaveTextContent('Format TensorFlow checkpoint');
    expect(panel).toHaveTextContent(`Read from ${TUTORIAL} · in place, where the other program wrote it: nothing was copied`);
    const files = within(within(panel).getByRole('list', { name: 'Files of this checkpoint' })).getAllByRole('listitem');
    expect(files.map(text)).toEqual(['model-5000.index 176 B', 'model-5000.data-00000-of-00001 31.4 KB', 'model-5000.meta 18.7 KB']);
    expect(within(within(panel).getByRole('list', { name: 'Notes' })).getByRole('listitem')).toHaveTextContent('step 5000 from the name model-5000');
    // What only our own training records is left out rather than shown empty.
    expect(panel).not.toHaveTextContent('Save cost');
  });

  it('says "—" for a step its files do not record, and offers Make latest only in a TensorFlow folder', async () => {
    const encoder = run('models/encoder.h5', { path: `${TUTORIAL}/models/encoder.h5`, layout: 'keras-files', label: 'Keras weight files' });
    const h5 = checkpoint('models/encoder.h5', 0, {
      id: 'models/encoder.h5',
      stepKnown: false,
      epoch: null,
      origin: 'foreign',
      source: { format: 'keras-h5', label: 'Keras HDF5 weights (.h5)', name: 'encoder.h5', linkedFrom: null },
      files: [{ name: 'encoder.h5', bytes: 13_864 }],
      notes: ['encoder.h5 records no step'],
      metrics: {},
    });
    const { person } = openPage(() => ({ ...tutorialSnapshot('model-10000', [encoder]), checkpoints: [...tutorialSnapshot().checkpoints, h5] }));
    const row = await option('models/encoder.h5');
    expect(row).toHaveAccessibleName(/^models\/encoder\.h5, no step recorded, Keras HDF5 weights \(\.h5\),/);
    expect(within(row).getByTitle('its files record no step')).toHaveTextContent('—');
    expect(text(lane('models/encoder.h5'))).toMatch(/^models\/encoder\.h5 Keras weight files 1 checkpoint/);

    await person.click(row);
    const panel = details();
    expect(within(panel).getByRole('heading', { name: 'encoder.h5' })).toBeInTheDocument();
    expect(panel).toHaveTextContent('Step — (its files record no step)');
    expect(within(panel).queryByRole('button', { name: 'Make latest' })).not.toBeInTheDocument();

    // The folder's own latest is said, not offered again.
    await person.click(await option('model-10000'));
    expect(within(details()).queryByRole('button', { name: 'Make latest' })).not.toBeInTheDocument();
    expect(details()).toHaveTextContent("The folder's latest: its checkpoint file names this one");
  });

  it('makes a checkpoint the folder’s latest, and the mark moves', async () => {
    let latest = 'model-10000';
    const { fake, person } = openPage(() => tutorialSnapshot(latest));
    fake.handle('makeLatest', (params) => {
      latest = params?.target ?? latest;
      return {
        checkpoint: tfCheckpoint(5000),
        undo: {
          id: '000000000001-0000',
          batch: '000000000001',
          originalPath: 'model-5000',
          checkpointId: 'model-5000',
          deletedAt: '2026-01-01T00:00:00.000Z',
          bytes: 0,
          reason: 'made latest (before: model-10000)',
        },
      };
    });
    fake.handle('undoDelete', () => {
      latest = 'model-10000';
      return [];
    });
    await person.click(await option('model-5000'));
    await person.click(within(details()).getByRole('button', { name: 'Make latest' }));
    expect(fake.callsOf('makeLatest')).toEqual([{ target: 'model-5000' }]);
    expect(await within(details()).findByText(/The folder's latest: its checkpoint file names this one/)).toBeInTheDocument();
    expect(within(details()).queryByRole('button', { name: 'Make latest' })).not.toBeInTheDocument();
    expect(await within(await option('model-5000')).findByText("checkpoint file's latest")).toBeInTheDocument();
    expect(text(lane('.'))).toMatch(/latest: model-5000 \(not the highest step\)$/);
    // Undone: the checkpoint file is put back, and the folder's latest with it.
    await person.click(within(details()).getByRole('button', { name: 'Undo' }));
    expect(fake.callsOf('undoDelete')).toEqual([{ batch: '000000000001' }]);
    expect(await within(details()).findByRole('button', { name: 'Make latest' })).toBeInTheDocument();
  });

  it('shows a busy refusal where the button is, with the quiet period beside it', async () => {
    const { fake, served, person } = openPage(() => tutorialSnapshot());
    fake.handle('makeLatest', () => {
      throw new StudioError('refused', BUSY);
    });
    await person.click(await option('model-5000'));
    const panel = details();
    await person.click(within(panel).getByRole('button', { name: 'Make latest' }));
    expect(await within(panel).findByRole('alert')).toHaveTextContent(BUSY);
    await person.click(within(panel).getByRole('button', { name: 'Change the quiet period…' }));
    const form = within(panel).getByRole('form', { name: 'Quiet period' });
    const field = within(form).getByRole('textbox', { name: 'Quiet period' });
    expect(await within(form).findByDisplayValue('10')).toBe(field);
    await person.clear(field);
    await person.type(field, '0');
    await person.click(within(form).getByRole('button', { name: 'Save' }));
    expect(fake.callsOf('updateSettings')).toEqual([{ quietSeconds: 0 }]);
    expect(served.settings.quietSeconds).toBe(0);
    expect(await within(form).findByRole('status')).toHaveTextContent('Saved: folders are changed at once');

    // Any other refusal is only said: the quiet period has nothing to do with it.
    fake.handle('makeLatest', () => {
      throw new StudioError('refused', `${TUTORIAL}: refused: read-only here: its checkpoints can be listed, verified, exported and continued from`);
    });
    await person.click(await option('model-4000'));
    await person.click(within(details()).getByRole('button', { name: 'Make latest' }));
    expect(await within(details()).findByRole('alert')).toHaveTextContent('read-only here');
    expect(within(details()).queryByRole('button', { name: 'Change the quiet period…' })).not.toBeInTheDocument();
  });

  it('says what deleting one of them changes, and offers the quiet period beside a busy refusal', async () => {
    const { fake, person } = openPage(() => tutorialSnapshot());
    fake.handle('deleteCheckpoints', () => {
      throw new StudioError('refused', BUSY);
    });
    await person.click(await option('model-1000'));
    await person.click(screen.getByRole('button', { name: 'Delete selected' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 1 checkpoint?' });
    expect(dialog).toHaveTextContent(
      "1 checkpoint of another program's folder: each moves whole (every file of its group) into this workspace's trash, and a TensorFlow checkpoint file that names it is rewritten as TensorFlow would. Undo puts both back.",
    );
    await person.click(within(dialog).getByRole('button', { name: 'Delete 1 checkpoint' }));
    expect(fake.callsOf('deleteCheckpoints')).toEqual([{ targets: ['model-1000'] }]);
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(BUSY);
    await person.click(within(dialog).getByRole('button', { name: 'Change the quiet period…' }));
    expect(await within(within(dialog).getByRole('form', { name: 'Quiet period' })).findByDisplayValue('10')).toBeInTheDocument();
  });

  it('offers Restore and continue from a checkpoint read in place, and sends it by its id', async () => {
    const { fake, person } = openPage(() => tutorialSnapshot());
    fake.handle('continueTraining', () => ({ run: '.-from-5000', resumedFrom: { run: '.', step: 5000 }, notes: [] }));
    await person.click(await option('model-5000'));
    await person.click(within(details()).getByRole('button', { name: 'Restore and continue…' }));
    const form = within(details()).getByRole('form', { name: 'Restore and continue' });
    expect(form).toHaveTextContent('A new run continues from model-5000, read in place from TensorFlow checkpoint; the new run is ours, written beside it');
    await person.click(within(form).getByRole('button', { name: 'Continue training' }));
    expect(fake.callsOf('continueTraining')).toEqual([{ from: 'model-5000', overrides: {} }]);
  });

  it('lists a TensorBoard run among the charts’ runs by its kind, its name shortened and whole on hover', async () => {
    const { person } = openPage(() => tutorialSnapshot());
    await screen.findByTestId('workspace-summary');
    await person.click(screen.getByRole('tab', { name: 'Charts' }));
    const runs = screen.getByRole('region', { name: 'Runs' });
    const board = within(runs).getByRole('checkbox', { name: 'logs/fit/mnist/train' }).closest('li') as HTMLElement;
    expect(text(board)).toBe('logs/fit/mnist/train solo TensorBoard');
    expect(within(board).getByTitle('logs/fit/mnist/train · TensorBoard run')).toBeInTheDocument();
    expect(within(runs).queryByText('finished')).not.toBeInTheDocument();
    expect(text(within(runs).getByRole('checkbox', { name: '.' }).closest('li') as HTMLElement)).toBe('mnist-softmax solo TensorFlow');
  });

  it('names an empty folder and lists what was looked for', async () => {
    openPage(() => ({ workspace: '/data/empty', runs: [], checkpoints: [], skipped: [] }));
    const note = await screen.findByRole('note', { name: 'Nothing found' });
    expect(note).toHaveTextContent('Nothing found in /data/empty.');
    const looked = within(within(note).getByRole('list', { name: 'Looked for' })).getAllByRole('listitem');
    expect(looked.map(text)).toEqual(Object.values(RUN_LAYOUT_KINDS).map((kind) => `${kind.many}: ${kind.files}`));
    expect(looked.map(text)).toContain('TensorBoard runs: folders of events.out.tfevents.* files (metrics only)');
  });

  it('keeps the quiet period in the settings, refusing what is not a number of seconds', async () => {
    const { fake, person } = openPage(() => tutorialSnapshot());
    await person.click(screen.getByRole('button', { name: 'Settings…' }));
    const settings = screen.getByRole('region', { name: 'Settings' });
    const field = within(settings).getByRole('textbox', { name: 'Quiet period' });
    await within(settings).findByDisplayValue('10');
    await person.clear(field);
    await person.type(field, 'soon');
    await person.click(within(settings).getByRole('button', { name: 'Save' }));
    expect(within(settings).getByRole('alert')).toHaveTextContent('The quiet period is a number of seconds from 0 to 3600 (not "soon").');
    expect(fake.callsOf('updateSettings')).toEqual([]);
    await person.clear(field);
    await person.type(field, '30{Enter}');
    expect(fake.callsOf('updateSettings')).toEqual([{ quietSeconds: 30 }]);
    expect(await within(settings).findByRole('status')).toHaveTextContent('Saved: a folder must be quiet for 30 s before it is changed.');
  });
});

/** A drag event carrying one folder, as Chromium gives it (its entry is a directory; the File is the folder). */
function folderEvent(type: 'dragenter' | 'drop', name: string): Event {
  const entry = { isDirectory: true, isFile: false, name, createReader: () => ({ readEntries: (done: (entries: never[]) => void) => done([]) }) };
  const file = new File([], name);
  const transfer = { types: ['Files'], dropEffect: 'none', items: [{ kind: 'file', webkitGetAsEntry: () => entry, getAsFile: () => file }] };
  const event = new Event(type, { bubbles: true, cancelable: true });
  Object.defineProperty(event, 'dataTransfer', { value: transfer });
  return event;
}

const desktop = (fake: FakeStudio): Host => ({ ...fakeHost(fake), kind: 'desktop', pathForFile: (file) => `/data/dropped/${file.name}` });

describe('a folder dropped on the window', () => {
  it('in the desktop app, opens in place as the workspace when asked', async () => {
    let snapshot: CatalogSnapshot = { workspace: '/data/ours', runs: [], checkpoints: [], skipped: [] };
    const { fake, person } = openPage(() => snapshot, desktop);
    fake.handle('openWorkspace', (params) => {
      snapshot = { ...tutorialSnapshot(), workspace: params?.path ?? '' };
      return snapshot;
    });
    await screen.findByRole('note', { name: 'Nothing found' });
    screen.getByTestId('drop-zone').dispatchEvent(folderEvent('drop', 'mnist-softmax'));
    const dialog = await screen.findByRole('dialog', { name: 'Open this folder, or import it?' });
    expect(dialog).toHaveAccessibleDescription('/data/dropped/mnist-softmax');
    expect(dialog).toHaveTextContent('Copies its checkpoints into /data/ours');
    await person.click(within(dialog).getByRole('button', { name: 'Open in place' }));
    expect(fake.callsOf('openWorkspace')).toEqual([{ path: '/data/dropped/mnist-softmax' }]);
    expect(screen.queryByRole('dialog', { name: 'Open this folder, or import it?' })).not.toBeInTheDocument();
    expect(screen.getByTestId('workspace-path')).toHaveTextContent('/data/dropped/mnist-softmax');
    expect(screen.getByTestId('workspace-summary')).toHaveTextContent('10 TensorFlow checkpoints, 1 TensorBoard run');
    expect(fake.callsOf('describeSources')).toEqual([]);
  });

  it('in the desktop app, says why a folder cannot be opened, in the dialog, and imports it (copy) when asked', async () => {
    const { fake, person } = openPage(() => tutorialSnapshot(), desktop);
    fake
      .handle('openWorkspace', () => {
        throw new StudioError('refused', '/data/dropped/locked: cannot be read (permission denied)');
      })
      .handle('describeSources', (params) => (params?.sources ?? []).map((source) => ({ ok: false, source, error: { code: 'refused', message: 'nothing' } })));
    await screen.findByTestId('workspace-summary');
    screen.getByTestId('drop-zone').dispatchEvent(folderEvent('drop', 'locked'));
    const dialog = await screen.findByRole('dialog', { name: 'Open this folder, or import it?' });
    await person.click(within(dialog).getByRole('button', { name: 'Open in place' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('/data/dropped/locked: cannot be read (permission denied)');
    expect(screen.getByTestId('workspace-path')).toHaveTextContent(TUTORIAL);

    await person.click(within(dialog).getByRole('button', { name: 'Import (copy)…' }));
    expect(await screen.findByRole('dialog', { name: 'Nothing can be imported' })).toBeInTheDocument();
    expect(fake.callsOf('describeSources')).toEqual([{ sources: ['/data/dropped/locked'] }]);
    expect(fake.callsOf('openWorkspace')).toHaveLength(1);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('in browser mode, has no path to open in place: the drop imports, and the page says opening in place takes a typed path', async () => {
    // The upload that follows has no server here: it fails, as the import dialog then says.
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('no server in this test')));
    openPage(() => tutorialSnapshot());
    await screen.findByTestId('workspace-summary');
    screen.getByTestId('drop-zone').dispatchEvent(folderEvent('dragenter', 'mnist-softmax'));
    expect(await screen.findByTestId('drop-overlay')).toHaveTextContent('To open a folder in place instead, type its path under Open workspace…');
    screen.getByTestId('drop-zone').dispatchEvent(folderEvent('drop', 'mnist-softmax'));
    expect(await screen.findByRole('dialog', { name: /import/i })).toBeInTheDocument();
    expect(screen.queryByRole('dialog', { name: 'Open this folder, or import it?' })).not.toBeInTheDocument();
  });
});

describe('the run lists of a folder with runs of every kind', () => {
  it('counts ours by checkpoints and runs, another program’s by kind', async () => {
    const ours = run('alpha');
    openPage(() => ({
      workspace: '/data/mixed',
      runs: [ours, tutorialRun(), boardRun('logs/a'), boardRun('logs/b')],
      checkpoints: [checkpoint('alpha', 1), checkpoint('alpha', 2), ...STEPS.slice(0, 3).map((s) => tfCheckpoint(s))],
      skipped: [],
    }));
    expect(await screen.findByTestId('workspace-summary')).toHaveTextContent(
      /^2 Checkpoint Studio checkpoints, 3 TensorFlow checkpoints, 2 TensorBoard runs · /,
    );
  });
});
