// "Restore and continue", rendered and used as a person would: the parent's settings read first,
// what the new run will use said before it starts, only what was changed sent to the Studio, a bad
// field or a refused start shown as its message, and Cancel that calls nothing.
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ContinueForm from '../../renderer/src/components/continue-form.svelte';
import { type ContinueTraining, type RunMeta, StudioError, type TrainingStarted } from '../../renderer/src/lib/contract';
import { setStudio } from '../../renderer/src/lib/studio-context';
import { AppState, setApp } from '../../renderer/src/state/app-state';
import { fakeHost, user } from './component-fixtures';
import { FakeStudio, checkpoint } from './fakes';

const PARENT: RunMeta = {
  formatVersion: 1,
  name: 'a',
  createdAt: '2026-01-01T00:00:00.000Z',
  parent: null,
  config: {
    training: { epochs: 3, batchSize: 64, optimizer: { name: 'adam', learningRate: 0.001 } },
    checkpoints: { everySteps: 50, onStop: true },
    retention: { keepLast: 2 },
  },
};

const FROM = checkpoint('a', 400);

async function showForm(fake: FakeStudio) {
  const onStarted = vi.fn();
  const onCancel = vi.fn();
  const app = new AppState(fakeHost(fake));
  const Wrapper: typeof ContinueForm = (...args) => {
    setStudio(fake.api);
    setApp(app);
    return ContinueForm(...args);
  };
  render(Wrapper, { checkpoint: FROM, chosenAs: 'latest', onStarted, onCancel });
  const form = screen.getByRole('form', { name: 'Restore and continue' });
  // The parent's settings arrive: the plan is said in their terms.
  await within(form).findByText("epochs 3 (the parent's)");
  return { form, onStarted, onCancel, person: user() };
}

function started(request: ContinueTraining | undefined): TrainingStarted {
  return { run: request?.run ?? 'a-from-400', resumedFrom: { run: 'a', step: 400 }, notes: [] };
}

describe('the restore-and-continue form', () => {
  it('says what the new run will use, and sends the checkpoint, the name and only what was changed', async () => {
    const fake = new FakeStudio().handle('runConfig', () => PARENT).handle('continueTraining', started);
    const { form, onStarted, person } = await showForm(fake);
    expect(fake.callsOf('runConfig')).toEqual([{ run: 'a' }]);
    expect(form).toHaveTextContent(`A new run continues from ${FROM.id} (the latest)`);
    expect(within(form).getByRole('textbox', { name: 'Epochs' })).toHaveAttribute('placeholder', '3');

    await person.type(within(form).getByRole('textbox', { name: 'New run name' }), ' a-longer ');
    await person.type(within(form).getByRole('textbox', { name: 'Epochs' }), '5');
    const plan = within(form).getByLabelText('The new run will use');
    expect(within(plan).getByText('epochs 5 (changed; the parent had 3)')).toBeInTheDocument();
    expect(within(plan).getByText("learning rate 0.001 (the parent's)")).toBeInTheDocument();

    await person.click(within(form).getByRole('button', { name: 'Continue training' }));
    expect(fake.callsOf('continueTraining')).toEqual([{ from: FROM.id, run: 'a-longer', overrides: { epochs: 5 } }]);
    expect(onStarted).toHaveBeenCalledTimes(1);
  });

  it('Enter in a field starts it, as a form does', async () => {
    const fake = new FakeStudio().handle('runConfig', () => PARENT).handle('continueTraining', started);
    const { form, onStarted, person } = await showForm(fake);
    await person.type(within(form).getByRole('textbox', { name: 'Learning rate' }), '0.0005{Enter}');
    expect(fake.callsOf('continueTraining')).toEqual([{ from: FROM.id, overrides: { learningRate: 0.0005 } }]);
    expect(onStarted).toHaveBeenCalledTimes(1);
  });

  it('refuses a bad field with what is wrong with it, and sends nothing', async () => {
    const fake = new FakeStudio().handle('runConfig', () => PARENT).handle('continueTraining', started);
    const { form, onStarted, person } = await showForm(fake);
    await person.type(within(form).getByRole('textbox', { name: 'Keep last N' }), '1.5');
    await person.click(within(form).getByRole('button', { name: 'Continue training' }));
    expect(within(form).getByRole('alert')).toHaveTextContent('Keep last N must be a whole number above 0 (not "1.5").');
    expect(fake.callsOf('continueTraining')).toEqual([]);
    expect(onStarted).not.toHaveBeenCalled();
  });

  it("shows the Studio's refusal as its message, stays open, and can be tried again", async () => {
    const fake = new FakeStudio().handle('runConfig', () => PARENT);
    fake.handle('continueTraining', () => {
      throw new StudioError('busy', 'a training is already running (run b); stop it before continuing another');
    });
    const { form, onStarted, person } = await showForm(fake);
    const start = within(form).getByRole('button', { name: 'Continue training' });
    await person.click(start);
    expect(await within(form).findByRole('alert')).toHaveTextContent('a training is already running (run b); stop it before continuing another');
    expect(form).not.toHaveTextContent('[object Object]');
    expect(onStarted).not.toHaveBeenCalled();
    expect(start).toBeEnabled();

    fake.handle('continueTraining', started);
    await person.click(start);
    expect(fake.callsOf('continueTraining')).toHaveLength(2);
    expect(onStarted).toHaveBeenCalledTimes(1);
    expect(within(form).queryByRole('alert')).not.toBeInTheDocument();
  });

  it("still offers to continue when the parent's settings cannot be read, and says so", async () => {
    const fake = new FakeStudio().handle('runConfig', () => {
      throw new StudioError('damaged', '/ws/a/run.json: not valid JSON (line 1)');
    });
    const onStarted = vi.fn();
    const Wrapper: typeof ContinueForm = (...args) => {
      setStudio(fake.api);
      setApp(new AppState(fakeHost(fake)));
      return ContinueForm(...args);
    };
    render(Wrapper, { checkpoint: FROM, onStarted, onCancel: vi.fn() });
    const form = screen.getByRole('form', { name: 'Restore and continue' });
    expect(await within(form).findByText(/could not be read \(\/ws\/a\/run\.json: not valid JSON \(line 1\)\)/)).toBeInTheDocument();
    expect(form).not.toHaveTextContent('[object Object]');
    expect(within(form).getByRole('button', { name: 'Continue training' })).toBeEnabled();
  });

  it('Cancel calls nothing but its handler', async () => {
    const fake = new FakeStudio().handle('runConfig', () => PARENT).handle('continueTraining', started);
    const { form, onCancel, onStarted, person } = await showForm(fake);
    await person.type(within(form).getByRole('textbox', { name: 'Epochs' }), '9');
    await person.click(within(form).getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onStarted).not.toHaveBeenCalled();
    expect(fake.calls.map((c) => c.method)).toEqual(['runConfig']);
  });
});
