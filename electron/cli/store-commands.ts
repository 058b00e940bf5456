// The workspace's subcommands: flags in, one StudioApi call, text or JSON out. --json prints the
// same objects the app receives.
import { StudioError } from '../contract.js';
import { type Command, Option } from 'commander';
import path from 'node:path';
import type { CheckpointInfo, MetricMode, RetentionPolicy, StudioApi, TrashEntry } from '../contract.js';
import {
  type ActionContext,
  type CommonOptions,
  type Output,
  durationArgument,
  positiveInt,
  positiveNumber,
  sizeArgument,
  stderr,
  studioAction,
  withCommon,
} from './common.js';
import { checkpointRows, formatBytes, plural, table } from './format.js';

const CHECKPOINT_HEADERS = ['RUN', 'CHECKPOINT', 'STEP', 'EPOCH', 'STATUS', 'SIZE', 'CREATED'];

function printCheckpoints(out: Output, checkpoints: readonly CheckpointInfo[], marks: Readonly<Record<string, readonly string[]>>): void {
  const metrics = [...new Set(checkpoints.flatMap((c) => Object.keys(c.metrics)))].sort().slice(0, 4);
  out.line(table([...CHECKPOINT_HEADERS, ...metrics.map((m) => m.toUpperCase()), 'MARKS'], checkpointRows(checkpoints, marks, metrics)));
}

function printOne(out: Output, options: CommonOptions, checkpoint: CheckpointInfo): void {
  if (options.json) out.json(checkpoint);
  // Another program's TensorFlow checkpoint: its prefix path alone, as tf.train.latest_checkpoint returns it.
  else if (checkpoint.files !== null && checkpoint.source?.format === 'tf-bundle') out.line(checkpoint.path);
  else out.line(`${checkpoint.id}  ${checkpoint.status}  ${checkpoint.path}`);
}

/** The trash's entries; what in it cannot be used is said once, on stderr. */
async function trashEntries(api: StudioApi, workspace: string | null): Promise<TrashEntry[]> {
  const listing = await api.listTrash();
  for (const problem of listing.problems) stderr.line(`warning: ${path.join(workspace ?? '', '.trash', problem.name)}: ${problem.problem}`);
  return listing.entries;
}

/** Commands that name folders may work on a checkpoint outside any workspace. */
const pathsGiven = (args: unknown[]): boolean => (Array.isArray(args[0]) ? args[0].length > 0 : typeof args[0] === 'string');

export function registerStoreCommands(program: Command, out: Output): void {
  withCommon(program.command('ls').description('list runs and checkpoints'))
    .option('--run <name>', 'only this run')
    .option('--metric <name>', 'mark the best checkpoint by this metric')
    .addOption(new Option('--mode <mode>', 'min or max, for --metric').choices(['min', 'max']).default('min'))
    .action(
      studioAction(
        'read',
        async (options: CommonOptions & { run?: string; metric?: string; mode: MetricMode }, { api, workspace }: ActionContext) => {
          const snapshot = await api.snapshot();
          for (const skipped of snapshot.skipped) stderr.line(`warning: ${path.join(snapshot.workspace, skipped.name)}: not listed: ${skipped.reason}`);
          const checkpoints = await api.listCheckpoints(options.run !== undefined ? { run: options.run } : {});
          const marks = await api.marks(options.metric !== undefined ? { metric: options.metric, mode: options.mode } : {});
          if (options.json) {
            out.json({ ...snapshot, checkpoints, marks });
            return 0;
          }
          const metricsOnly = snapshot.runs.filter(
            (r) => r.checkpointCount === 0 && r.layout !== 'studio' && (options.run === undefined || r.name === options.run),
          );
          if (checkpoints.length === 0 && metricsOnly.length > 0) {
            // A TensorBoard log folder: runs with charts and no checkpoint; nothing to train here.
            out.line(`No checkpoints in ${workspace}; ${plural(metricsOnly.length, 'run')} with metrics only (open them in the app to chart them):`);
            for (const run of metricsOnly) out.line(`  ${run.name}  ${run.label}`);
            return 0;
          }
          if (checkpoints.length === 0) {
            out.line(`No checkpoints in ${workspace}${options.run ? ` for run "${options.run}"` : ''}.`);
            if (!options.run) out.line(`Train a first model with: checkpoint-studio train --workspace ${options.workspace} --epochs 1 --save-every-epochs 1`);
            return 0;
          }
          printCheckpoints(out, checkpoints, marks);
          const trash = await trashEntries(api, workspace);
          const total = checkpoints.reduce((s, c) => s + c.bytes, 0);
          out.line(
            `\n${plural(checkpoints.length, 'checkpoint')} in ${plural(snapshot.runs.length, 'run')}, ${formatBytes(total)}; trash: ${trash.length} (${formatBytes(trash.reduce((s, e) => s + e.bytes, 0))})`,
          );
          return 0;
        },
        {
          // A first start: nothing trained yet is not an error, and reading creates nothing.
          noDefaultWorkspace: (options) => {
            if (options.json) out.json({ workspace: null, runs: [], checkpoints: [], skipped: [], marks: {} });
            else {
              out.line(`No workspace at ${options.workspace} yet.`);
              out.line(`Train a first model with: checkpoint-studio train --epochs 1 --save-every-epochs 1   (it creates ${options.workspace})`);
            }
            return 0;
          },
        },
      ),
    );

  withCommon(program.command('latest').description('the latest complete checkpoint'))
    .option('--run <name>', 'within this run')
    .action(
      studioAction('read', async (options: CommonOptions & { run?: string }, { api }: ActionContext) => {
        printOne(out, options, await api.latest(options.run !== undefined ? { run: options.run } : {}));
        return 0;
      }),
    );

  withCommon(program.command('best').description('the best complete checkpoint by a metric'))
    .requiredOption('--metric <name>', 'metric recorded in the checkpoints, e.g. val_loss')
    .addOption(new Option('--mode <mode>', 'min or max').choices(['min', 'max']).default('min'))
    .option('--run <name>', 'within this run')
    .action(
      studioAction('read', async (options: CommonOptions & { metric: string; mode: MetricMode; run?: string }, { api }: ActionContext) => {
        printOne(out, options, await api.best({ metric: options.metric, mode: options.mode, ...(options.run !== undefined ? { run: options.run } : {}) }));
        return 0;
      }),
    );

  withCommon(program.command('verify').description('verify every byte of checkpoints (all of the workspace when none is named)'))
    .argument('[paths...]', 'checkpoint ids, or checkpoint folders anywhere')
    .action(
      studioAction(
        'read',
        async (paths: string[], options: CommonOptions, { api }: ActionContext) => {
          const { results, warnings } = await api.verify({ targets: paths });
          for (const warning of warnings) stderr.line(`warning: ${warning}`);
          const bad = results.filter((r) => !r.ok);
          if (options.json) out.json(results);
          else {
            for (const verified of results) {
              out.line(`${verified.ok ? 'ok      ' : verified.status === 'incomplete' ? 'INCOMPLETE' : 'DAMAGED '} ${verified.path}`);
              for (const problem of verified.problems)
                out.line(`         ${problem.file}${problem.tensor === undefined ? '' : `: tensor "${problem.tensor}"`}: ${problem.problem}`);
            }
            out.line(
              `${results.length - bad.length} verified, ${bad.length} ${bad.length > 0 && bad.every((r) => r.status === 'incomplete') ? 'incomplete' : 'damaged'}`,
            );
          }
          return bad.length > 0 ? 1 : 0;
        },
        { optional: pathsGiven },
      ),
    );

  withCommon(program.command('prune').description("apply retention: the flags given, or each run's saved policy"))
    .option('--run <name>', 'only this run (a policy never touches other runs)')
    .option('--all-runs', 'with --save-policy: save the policy in every run')
    .option('--keep-last <n>', 'keep the N most recent', positiveInt)
    .option('--keep-best <k>', 'keep the K best by --metric', positiveInt)
    .option('--metric <name>', 'metric for --keep-best')
    .addOption(new Option('--mode <mode>', 'min or max, for --keep-best').choices(['min', 'max']).default('min'))
    .option('--keep-every-steps <n>', 'keep every checkpoint whose step is a multiple of N', positiveInt)
    .option('--keep-every-hours <h>', 'keep one checkpoint per H hours', positiveNumber)
    .option('--max-size <size>', 'disk budget per run, e.g. 20GB', sizeArgument)
    .option('--save-policy', "store these flags as the run's policy (needs --run or --all-runs)")
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .action(
      studioAction(
        (options) => ((options as PruneOptions).dryRun ? 'read' : 'write'),
        async (options: PruneOptions, { api }: ActionContext) => {
          const flags = policyFromFlags(options);
          if (options.savePolicy && !flags)
            throw new StudioError('usage', '--save-policy needs the policy: --keep-last, --keep-best, --keep-every-steps, --keep-every-hours or --max-size');
          if (options.savePolicy && options.run === undefined && !options.allRuns)
            throw new StudioError('usage', '--save-policy needs --run NAME, or --all-runs to save it in every run');
          if (options.savePolicy && options.dryRun) stderr.line('--dry-run: the policy was not saved');
          else if (options.savePolicy && flags)
            await api.setRetentionPolicy({ policy: flags, ...(options.run !== undefined ? { run: options.run } : { allRuns: true }) });
          const plans = await api.planRetention({ ...(options.run !== undefined ? { run: options.run } : {}), ...(flags ? { policy: flags } : {}) });
          const deleted = options.dryRun ? [] : await api.applyRetention({ plans });
          const trashedIds = new Set(deleted.map((e) => e.checkpointId));
          if (options.json) {
            out.json({ dryRun: Boolean(options.dryRun), plans, trashed: deleted });
            return 0;
          }
          for (const plan of plans) {
            if (Object.keys(plan.policy).length === 0) {
              out.line(`${plan.run}: no retention policy (give --keep-last, --keep-best, … or save one with --save-policy)`);
              continue;
            }
            out.line(
              `${plan.run}: keep ${plan.keep.length}, ${options.dryRun ? 'would delete' : 'deleted'} ${plan.delete.length}, frees ${formatBytes(plan.bytesFreed)}`,
            );
            for (const d of plan.delete) {
              const skipped = !options.dryRun && !trashedIds.has(d.id);
              out.line(`  - ${d.id}  ${d.reasons.join('; ')}${skipped ? '  (kept after all: it became protected)' : ''}`);
            }
            for (const k of plan.keep) out.line(`  + ${k.id}  ${k.reasons.join('; ')}`);
            for (const w of plan.warnings) out.line(`  ! ${w}`);
          }
          if (!options.dryRun && deleted.length > 0) out.line(`Moved ${deleted.length} to the trash; undo with: checkpoint-studio trash restore --last`);
          return 0;
        },
      ),
    );

  withCommon(program.command('rm').description('move checkpoints to the workspace trash'))
    .argument('<paths...>', 'checkpoint folders or ids')
    .action(
      studioAction('write', async (paths: string[], options: CommonOptions, { api }: ActionContext) => {
        const entries = await api.deleteCheckpoints({ targets: paths });
        if (options.json) out.json(entries);
        else {
          for (const e of entries) out.line(`trashed ${e.checkpointId} (${formatBytes(e.bytes)})`);
          out.line('Undo with: checkpoint-studio trash restore --last');
        }
        return 0;
      }),
    );

  withCommon(program.command('set-latest').description("make a checkpoint of another program's folder its latest (TensorFlow's checkpoint file)"))
    .argument('<checkpoint>', 'a checkpoint id or path')
    .action(
      studioAction('write', async (target: string, options: CommonOptions, { api }: ActionContext) => {
        const { checkpoint, undo } = await api.makeLatest({ target });
        if (options.json) out.json({ checkpoint, undo });
        else {
          out.line(`${checkpoint.id} is ${undo ? 'now' : 'already'} the latest of ${checkpoint.run === '.' ? 'the folder' : checkpoint.run}`);
          if (undo) out.line(`Undo with: checkpoint-studio trash restore ${undo.id}`);
        }
        return 0;
      }),
    );

  for (const [name, pinned] of [
    ['pin', true],
    ['unpin', false],
  ] as const) {
    withCommon(program.command(name).description(pinned ? 'protect checkpoints from deletion' : 'remove the protection of pinned checkpoints'))
      .argument('<ids...>')
      .action(
        studioAction('write', async (ids: string[], options: CommonOptions, { api }: ActionContext) => {
          const done = pinned ? await api.pin({ ids }) : await api.unpin({ ids });
          if (options.json) out.json(done);
          else for (const c of done) out.line(`${pinned ? 'pinned' : 'unpinned'} ${c.id}`);
          return 0;
        }),
      );
  }

  const trash = program.command('trash').description('list, restore or purge deleted checkpoints');
  withCommon(trash.command('ls').description('what the trash holds')).action(
    studioAction('read', async (options: CommonOptions, { api, workspace }: ActionContext) => {
      const entries = await trashEntries(api, workspace);
      if (options.json) out.json(entries);
      else if (entries.length === 0) out.line('The trash is empty.');
      else {
        out.line(
          table(
            ['ID', 'CHECKPOINT', 'DELETED', 'SIZE', 'REASON'],
            entries.map((e) => [e.id, e.checkpointId, e.deletedAt.replace('T', ' ').slice(0, 19), formatBytes(e.bytes), e.reason]),
          ),
        );
        out.line(`\n${entries.length} entries, ${formatBytes(entries.reduce((s, e) => s + e.bytes, 0))}`);
      }
      return 0;
    }),
  );
  withCommon(trash.command('restore').description('put checkpoints back where they were'))
    .argument('[ids...]', 'trash entry ids')
    .option('--last', 'restore the most recent deletion (undo)')
    .action(
      studioAction('write', async (ids: string[], options: CommonOptions & { last?: boolean }, { api }: ActionContext) => {
        if (ids.length === 0 && !options.last) throw new StudioError('usage', 'name trash entries to restore, or give --last');
        if (ids.length > 0 && options.last) throw new StudioError('usage', 'give either trash entry ids or --last, not both');
        const restored = options.last ? await api.undoDelete() : await api.restoreFromTrash({ ids });
        if (options.json) out.json(restored);
        else if (restored.length === 0) out.line('Nothing to restore.');
        else for (const e of restored) out.line(`restored ${e.checkpointId}`);
        return 0;
      }),
    );
  withCommon(trash.command('purge').description('delete the trash for good (all, older than an age, or given batches)'))
    .option('--older-than <age>', 'only entries deleted before this age, e.g. 7d', durationArgument)
    .option('--batch <id...>', 'only these deletion batches (an entry id up to its dash, as trash ls shows)')
    .action(
      studioAction('write', async (options: CommonOptions & { olderThan?: number; batch?: string[] }, { api, workspace }: ActionContext) => {
        const purged = await api.purgeTrash({
          ...(options.olderThan !== undefined ? { olderThanMs: options.olderThan } : {}),
          ...(options.batch ? { batches: options.batch } : {}),
        });
        for (const problem of purged.problems) stderr.line(`warning: ${path.join(workspace ?? '', '.trash', problem.name)}: ${problem.problem}`);
        if (options.json) out.json(purged);
        else out.line(`Purged ${purged.purged.length} entries, ${formatBytes(purged.bytes)}.`);
        return 0;
      }),
    );

  withCommon(
    program
      .command('inspect')
      .description("tensors of a checkpoint: an id, a folder anywhere, or another program's (TensorFlow, TF.js, safetensors, Keras .h5), read in place"),
  )
    .argument('<path>', 'checkpoint id or folder, a .safetensors file, a TensorFlow .index file, prefix (model.ckpt-1000) or folder, a model.json, an .h5 file')
    .action(
      studioAction(
        'read',
        async (target: string, options: CommonOptions, { api }: ActionContext) => {
          const rows = await api.inspect({ target });
          if (options.json) out.json(rows);
          else {
            // Another program's checkpoint: say what it is first (format, steps, latest, notes).
            if (rows.some((r) => r.role !== undefined)) {
              const [found] = await api.describeSources({ sources: [target] });
              if (found?.ok) {
                const latest = found.checkpoints.find((c) => c.latest) ?? found.checkpoints.at(-1);
                out.line(`${found.formatLabel}: ${found.checkpoints.map((c) => `${c.name}${c.step === null ? '' : ` (step ${c.step})`}`).join(', ')}`);
                if (found.checkpoints.length > 1 && latest) out.line(`showing ${latest.name}${latest.latest ? ', the latest' : ''}`);
                for (const note of found.notes) out.line(`note: ${note}`);
                out.line('');
              }
            }
            const role = (r: (typeof rows)[number]): string => (r.role === undefined ? '' : r.slotOf !== undefined ? `slot of ${r.slotOf}` : r.role);
            const withRoles = rows.some((r) => r.role !== undefined);
            const header = ['FILE', 'TENSOR', 'DTYPE', 'SHAPE', 'BYTES', ...(withRoles ? ['ROLE'] : [])];
            out.line(
              table(
                header,
                rows.map((r) => [r.file, r.name, r.dtype, `[${r.shape.join(', ')}]`, String(r.bytes), ...(withRoles ? [role(r)] : [])]),
              ),
            );
            out.line(`\n${rows.length} tensors, ${formatBytes(rows.reduce((s, r) => s + r.bytes, 0))}`);
          }
          return 0;
        },
        { optional: pathsGiven },
      ),
    );
}

interface PruneOptions extends CommonOptions {
  run?: string;
  allRuns?: boolean;
  keepLast?: number;
  keepBest?: number;
  metric?: string;
  mode: MetricMode;
  keepEverySteps?: number;
  keepEveryHours?: number;
  maxSize?: number;
  savePolicy?: boolean;
  dryRun?: boolean;
}

function policyFromFlags(options: PruneOptions): RetentionPolicy | null {
  if (options.keepBest !== undefined && !options.metric) throw new StudioError('usage', '--keep-best needs --metric NAME');
  const policy: RetentionPolicy = {
    ...(options.keepLast !== undefined ? { keepLast: options.keepLast } : {}),
    ...(options.keepBest !== undefined && options.metric ? { keepBest: { k: options.keepBest, metric: options.metric, mode: options.mode } } : {}),
    ...(options.keepEverySteps !== undefined ? { keepEverySteps: options.keepEverySteps } : {}),
    ...(options.keepEveryHours !== undefined ? { keepEveryHours: options.keepEveryHours } : {}),
    ...(options.maxSize !== undefined ? { maxBytes: options.maxSize } : {}),
  };
  return Object.keys(policy).length === 0 ? null : policy;
}
