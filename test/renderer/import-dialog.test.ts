// The import dialog, rendered in the page's own wiring and used as a person would: a typed path is
// described before anything is imported, then copied or linked as chosen; what cannot be read is
// refused with the message that names the file; a failed call is shown as its message; Cancel and
// Escape at the start call nothing, and Escape during an import cancels it through the Studio.
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { type ImportReport, type SourceDescription, StudioError } from '../../renderer/src/lib/contract';
import { fakeHost, user } from './component-fixtures';
import { FakeStudio } from './fakes';
import ImportPage from './harness/import-page.svelte';

const SOURCE = '/data/tf/half-plus-two';

const readable = (source: string): SourceDescription => ({
  ok: true,
  source,
  format: 'tf-bundle',
  formatLabel: 'TensorFlow checkpoint',
  checkpoints: [{ name: 'variables', step: 123, stepSource: 'global_step', tensors: 4, bytes: 2048, metrics: {}, latest: true }],
  notes: [],
});

function imported(sources: readonly string[], importId: string): ImportReport {
  return {
    importId,
    cancelled: false,
    results: sources.map((source) => ({
      ok: true,
      source,
      format: 'tf-bundle',
      run: 'half-plus-two',
      newRun: true,
      checkpoints: ['half-plus-two/ckpt-000000123'],
      notes: [],
    })),
  };
}

async function openImport(fake: FakeStudio) {
  render(ImportPage, { host: fakeHost(fake) });
  const person = user();
  const opener = screen.getByRole('button', { name: 'Import…' });
  await person.click(opener);
  const dialog = screen.getByRole('dialog', { name: 'Import checkpoints' });
  return { dialog, opener, person };
}

async function look(person: ReturnType<typeof user>, dialog: HTMLElement, path: string): Promise<void> {
  await person.type(within(dialog).getByRole('textbox', { name: 'Import from a path on this computer' }), path);
  await person.click(within(dialog).getByRole('button', { name: 'Look' }));
}

describe('the import dialog', () => {
  it('describes a typed path before importing anything, then links it in place as chosen', async () => {
    const fake = new FakeStudio()
      .handle('describeSources', (params) => (params?.sources ?? []).map(readable))
      .handle('importFolders', (params) => imported(params?.sources ?? [], params?.importId ?? ''));
    const { dialog, opener, person } = await openImport(fake);
    // Focus is in the dialog, on its first control.
    expect(within(dialog).getByRole('button', { name: 'Choose a folder…' })).toHaveFocus();

    await look(person, dialog, SOURCE);
    expect(fake.callsOf('describeSources')).toEqual([{ sources: [SOURCE] }]);
    expect(await within(dialog).findByRole('heading', { name: 'Found 1 source to import' })).toBeInTheDocument();
    expect(within(dialog).getByRole('list', { name: 'Found' })).toHaveTextContent(`TensorFlow checkpoint ${SOURCE}`);
    expect(fake.callsOf('importFolders')).toEqual([]);

    await person.click(within(dialog).getByRole('radio', { name: /Link in place/ }));
    await person.click(within(dialog).getByRole('button', { name: 'Link in place' }));
    const [call] = fake.callsOf('importFolders') as { importId: string }[];
    expect(call).toEqual({ sources: [SOURCE], importId: expect.stringMatching(/^[A-Za-z0-9-]{1,64}$/), mode: 'link' });
    expect(await within(dialog).findByRole('heading', { name: 'Imported 1 source' })).toBeInTheDocument();
    expect(within(dialog).getByRole('list', { name: 'Import results' })).toHaveTextContent(`${SOURCE} → run half-plus-two (new), 1 checkpoint`);

    await person.click(within(dialog).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('copies by default', async () => {
    const fake = new FakeStudio()
      .handle('describeSources', (params) => (params?.sources ?? []).map(readable))
      .handle('importFolders', (params) => imported(params?.sources ?? [], params?.importId ?? ''));
    const { dialog, person } = await openImport(fake);
    await look(person, dialog, SOURCE);
    await person.click(await within(dialog).findByRole('button', { name: 'Import' }));
    expect(fake.callsOf('importFolders')).toEqual([{ sources: [SOURCE], importId: expect.any(String) }]);
  });

  it('refuses what cannot be read with the message that names the file, and offers no Import', async () => {
    const message = `${SOURCE}/variables.index: not a TensorFlow bundle index (its footer's magic number is wrong)`;
    const fake = new FakeStudio().handle('describeSources', (params) =>
      (params?.sources ?? []).map((source) => ({ ok: false as const, source, error: { code: 'damaged' as const, message } })),
    );
    const { dialog, person } = await openImport(fake);
    await look(person, dialog, SOURCE);
    expect(await within(dialog).findByRole('heading', { name: 'Nothing can be imported' })).toBeInTheDocument();
    expect(within(dialog).getByRole('list', { name: 'Found' })).toHaveTextContent(`${SOURCE} cannot be imported ${message}`);
    expect(within(dialog).queryByRole('button', { name: /^(Import|Link in place)$/ })).not.toBeInTheDocument();
    await person.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(fake.calls.map((c) => c.method)).toEqual(['describeSources']);
  });

  it('shows a failed call as its message, never "[object Object]"', async () => {
    const fake = new FakeStudio().handle('describeSources', () => {
      throw new StudioError('not-found', '/data/tf/gone: no such file or folder');
    });
    const { dialog, opener, person } = await openImport(fake);
    await look(person, dialog, '/data/tf/gone');
    expect(await within(dialog).findByRole('heading', { name: 'Nothing was imported' })).toBeInTheDocument();
    expect(dialog).toHaveTextContent('/data/tf/gone: no such file or folder');
    expect(dialog).not.toHaveTextContent('[object Object]');
    await person.click(within(dialog).getByRole('button', { name: 'Close' }));

    fake.handle('describeSources', (params) => (params?.sources ?? []).map(readable));
    fake.handle('importFolders', () => {
      throw new StudioError('io', '/ws: no space left on device; nothing was added');
    });
    await person.click(opener);
    const again = screen.getByRole('dialog', { name: 'Import checkpoints' });
    await look(person, again, SOURCE);
    await person.click(await within(again).findByRole('button', { name: 'Import' }));
    expect(await within(again).findByRole('heading', { name: 'Nothing was imported' })).toBeInTheDocument();
    expect(again).toHaveTextContent('/ws: no space left on device; nothing was added');
    expect(again).not.toHaveTextContent('[object Object]');
  });

  it('refuses a relative path under the field, before any call', async () => {
    const fake = new FakeStudio();
    const { dialog, person } = await openImport(fake);
    await look(person, dialog, 'runs/alpha');
    const field = within(dialog).getByRole('textbox', { name: 'Import from a path on this computer' });
    expect(field).toBeInvalid();
    expect(field).toHaveAccessibleDescription(/runs\/alpha: not an absolute path/);
    expect(fake.calls).toEqual([]);
  });

  it('Cancel and Escape at the start close it and call nothing', async () => {
    const fake = new FakeStudio();
    const first = await openImport(fake);
    await first.person.click(within(first.dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await first.person.click(first.opener);
    expect(screen.getByRole('dialog', { name: 'Import checkpoints' })).toBeInTheDocument();
    await first.person.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(first.opener).toHaveFocus();
    expect(fake.calls).toEqual([]);
  });

  it('Escape during an import cancels it through the Studio, and says it was cancelled', async () => {
    let finish: (report: ImportReport) => void = () => undefined;
    const fake = new FakeStudio()
      .handle('describeSources', (params) => (params?.sources ?? []).map(readable))
      .handle('importFolders', () => new Promise<ImportReport>((resolve) => (finish = resolve)))
      .handle('cancelImport', () => ({ cancelled: true }));
    const { dialog, person } = await openImport(fake);
    await look(person, dialog, SOURCE);
    await person.click(await within(dialog).findByRole('button', { name: 'Import' }));
    expect(within(dialog).getByRole('heading', { name: 'Importing…' })).toBeInTheDocument();
    const [{ importId }] = fake.callsOf('importFolders') as [{ importId: string }];
    fake.emit('import:progress', { importId, source: SOURCE, phase: 'copying', bytesDone: 512, bytesTotal: 2048 });
    expect(await within(dialog).findByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('value', '512');

    await person.keyboard('{Escape}');
    expect(fake.callsOf('cancelImport')).toEqual([{ importId }]);
    // The import is still ending: the dialog stays until the Studio says what became of it.
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    finish({ importId, cancelled: true, results: [] });
    expect(await within(dialog).findByRole('heading', { name: 'Import cancelled' })).toBeInTheDocument();
    expect(dialog).toHaveTextContent('nothing was added to the workspace');
  });
});
