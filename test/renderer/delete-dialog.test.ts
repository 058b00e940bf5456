// The bulk-delete confirmation, rendered and used as a person would: what it says will move to the
// trash, each protected checkpoint refused with its reason, exactly the deletable ones sent to the
// Studio, a failure shown as its message, and Cancel and Escape that call nothing.
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { StudioError, type TrashEntry } from '../../renderer/src/lib/contract';
import { setStudio } from '../../renderer/src/lib/studio-context';
import { protectedCatalog, user } from './component-fixtures';
import { FakeStudio } from './fakes';
import DeleteFlow from './harness/delete-flow.svelte';

async function open(selected: (catalog: Awaited<ReturnType<typeof protectedCatalog>>) => readonly string[]) {
  const fake = new FakeStudio();
  const workspace = await protectedCatalog(fake);
  const Wrapper: typeof DeleteFlow = (...args) => {
    setStudio(fake.api);
    return DeleteFlow(...args);
  };
  render(Wrapper, { catalog: workspace.catalog, selected: selected(workspace) });
  const person = user();
  const opener = screen.getByRole('button', { name: 'Delete selected' });
  // What the catalog asked for while it loaded is not the dialog's doing.
  const before = fake.calls.length;
  await person.click(opener);
  return { fake, workspace, person, opener, callsSinceOpen: () => fake.calls.slice(before).map((c) => c.method) };
}

/** The dialog's list items as read aloud, spaces collapsed. */
function items(dialog: HTMLElement): string[] {
  return within(dialog)
    .getAllByRole('listitem')
    .map((li) => (li.textContent ?? '').replace(/\s+/g, ' ').trim());
}

function trashed(targets: readonly string[]): TrashEntry[] {
  return targets.map((id, i) => ({
    id: `e${i}`,
    batch: 'batch-1',
    originalPath: `/ws/${id}`,
    checkpointId: id,
    deletedAt: '2026-01-01T00:00:00.000Z',
    bytes: 200,
    reason: 'deleted by hand',
  }));
}

describe('the delete dialog', () => {
  it('says what moves to the trash, refuses each protected checkpoint with its reason, and deletes exactly the others', async () => {
    const { fake, workspace, person } = await open((w) => w.all);
    let answer: (entries: TrashEntry[]) => void = () => undefined;
    fake.handle('deleteCheckpoints', () => new Promise<TrashEntry[]>((resolve) => (answer = resolve)));

    const dialog = screen.getByRole('dialog', { name: 'Delete 2 checkpoints?' });
    expect(dialog).toHaveAccessibleDescription('2 checkpoints, 400 B, will move to the workspace trash. You can undo this.');
    // Focus is in the dialog, on the choice that loses nothing.
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    expect(within(dialog).getByRole('note')).toHaveTextContent('a/ckpt-000000004 — latest(a), best val_loss');
    expect(within(dialog).getByText('3 protected checkpoints left out:')).toBeInTheDocument();
    const listed = items(dialog);
    for (const [id, reason] of Object.entries(workspace.protectedReasons)) expect(listed).toContain(`${id} — ${reason}`);
    for (const id of workspace.deletable) expect(listed.some((item) => item.startsWith(`${id} `) && !item.includes('—'))).toBe(true);

    await person.click(within(dialog).getByRole('button', { name: 'Delete 2 checkpoints' }));
    expect(fake.callsOf('deleteCheckpoints')).toEqual([{ targets: workspace.deletable }]);
    // One call at a time: the button waits for the answer.
    expect(within(dialog).getByRole('button', { name: 'Deleting…' })).toBeDisabled();
    answer(trashed(workspace.deletable));
    expect(await screen.findByRole('status')).toHaveTextContent('Moved 2 checkpoints (400 B) to the trash.');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(fake.callsOf('deleteCheckpoints')).toHaveLength(1);
  });

  it('when every selected checkpoint is protected, says so, offers no Delete, and Cancel calls nothing', async () => {
    const { workspace, person, opener, callsSinceOpen } = await open((w) => Object.keys(w.protectedReasons));
    const dialog = screen.getByRole('dialog', { name: 'Nothing can be deleted' });
    expect(dialog).toHaveAccessibleDescription('Every selected checkpoint is protected.');
    expect(items(dialog)).toEqual(Object.entries(workspace.protectedReasons).map(([id, reason]) => `${id} — ${reason}`));
    expect(within(dialog).queryByRole('button', { name: /delete/i })).not.toBeInTheDocument();

    await person.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(callsSinceOpen()).toEqual([]);
    // Focus goes back to where it was before the dialog.
    expect(opener).toHaveFocus();
  });

  it('Escape closes it without deleting, and focus goes back to where it was', async () => {
    const { person, opener, callsSinceOpen } = await open((w) => w.all);
    expect(screen.getByRole('dialog', { name: 'Delete 2 checkpoints?' })).toBeInTheDocument();
    await person.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(callsSinceOpen()).toEqual([]);
    expect(opener).toHaveFocus();
  });

  it('a failed delete is shown as its message, the dialog stays, and Delete can be tried again', async () => {
    const { fake, workspace, person } = await open((w) => w.all);
    const message = '/ws/a/ckpt-000000001: permission denied (EACCES); nothing was moved';
    fake.handle('deleteCheckpoints', () => {
      throw new StudioError('io', message);
    });
    const dialog = screen.getByRole('dialog', { name: 'Delete 2 checkpoints?' });
    await person.click(within(dialog).getByRole('button', { name: 'Delete 2 checkpoints' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(message);
    expect(dialog).not.toHaveTextContent('[object Object]');
    expect(dialog).toBeInTheDocument();
    expect(screen.queryByRole('status')).not.toBeInTheDocument();

    fake.handle('deleteCheckpoints', (params) => trashed(params?.targets ?? []));
    await person.click(within(dialog).getByRole('button', { name: 'Delete 2 checkpoints' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Moved 2 checkpoints');
    expect(fake.callsOf('deleteCheckpoints')).toEqual([{ targets: workspace.deletable }, { targets: workspace.deletable }]);
  });

  // Electron's preload rejects with plain { code, message } objects (an Error would lose its code on
  // the context bridge); the page once showed them as "[object Object]".
  it('a failure that arrives as a plain { code, message } object is shown as its message', async () => {
    const { fake, person } = await open((w) => w.all);
    fake.handle('deleteCheckpoints', () => Promise.reject({ code: 'io', message: 'the trash is on another disk' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 2 checkpoints?' });
    await person.click(within(dialog).getByRole('button', { name: 'Delete 2 checkpoints' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('the trash is on another disk');
  });
});
