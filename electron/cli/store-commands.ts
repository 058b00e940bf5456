// The store's subcommands: a thin shell over CheckpointStore. --json prints the same objects
// the app receives.
import { type Command, Option } from 'commander';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo, MetricMode, RetentionPlan, TrashEntry } from '../contract.js';
import { describeProblem } from '../core/checkpoint/reader.js';
import { RetentionPolicySchema, type RetentionPolicy } from '../core/checkpoint/run-files.js';
import { isPolicyEmpty } from '../core/checkpoint/retention.js';
import { readSafetensorsHeader } from '../core/checkpoint/safetensors.js';
import { CheckpointStore } from '../core/checkpoint/store.js';
import { MANIFEST_FILE } from '../core/checkpoint/layout.js';
import { readManifest } from '../core/checkpoint/manifest.js';
import { checkpointRows, formatBytes, parseBytes, parseDuration, plural, table } from './format.js';
import { type CommonOptions, type Output, intOption, stderr, storeAction, withCommon } from './common.js';

const CHECKPOINT_HEADERS = ['RUN', 'STEP', 'EPOCH', 'STATUS', 'SIZE', 'CREATED'];

function marksFor(store: CheckpointStore, best?: { metric: string; mode: MetricMode }): Map<string, string[]> {
  const marks = new Map<string, string[]>();
  const add = (c: CheckpointInfo | null, mark: string): void => {
    if (c) marks.set(c.id, [...(marks.get(c.id) ?? []), mark]);
  };
  add(store.catalog.latest(), 'latest');
  const runs = store.catalog.listRuns();
  if (runs.length > 1) for (const run of runs) add(store.catalog.latest(run.name), `latest(${run.name})`);
  if (best) add(store.catalog.best(best.metric, best.mode), `best ${best.metric}`);
  return marks;
}

function printCheckpoints(out: Output, checkpoints: readonly CheckpointInfo[], marks: ReadonlyMap<string, string[]>): void {
  const metrics = [...new Set(checkpoints.flatMap((c) => Object.keys(c.metrics)))].sort().slice(0, 4);
  out.line(table([...CHECKPOINT_HEADERS, ...metrics.map((m) => m.toUpperCase()), 'MARKS'], checkpointRows(checkpoints, marks, metrics)));
}

function printOne(out: Output, options: CommonOptions, checkpoint: CheckpointInfo): void {
  if (options.json) out.json(checkpoint);
  else out.line(`${checkpoint.id}  ${checkpoint.status}  ${checkpoint.path}`);
}

export function registerStoreCommands(program: Command, out: Output): void {
  withCommon(program.command('ls').description('list runs and checkpoints'))
    .option('--run <name>', 'only this run')
    .option('--metric <name>', 'mark the best checkpoint by this metric')
    .addOption(new Option('--mode <mode>', 'min or max, for --metric').choices(['min', 'max']).default('min'))
    .action(storeAction('read', async (options: CommonOptions & { run?: string; metric?: string; mode: MetricMode }, store: CheckpointStore) => {
      for (const skipped of store.catalog.skipped()) stderr.line(`warning: ${path.join(store.root, skipped.name)}: not listed: ${skipped.reason}`);
      const checkpoints = store.catalog.list(options.run);
      if (options.json) {
        out.json({ ...store.catalog.snapshot(), checkpoints });
        return 0;
      }
      if (checkpoints.length === 0) {
        out.line(`No checkpoints in ${store.root}${options.run ? ` for run "${options.run}"` : ''}.`);
        if (!options.run) out.line(`Train a first model with: checkpoint-studio train --workspace ${options.workspace} --epochs 1 --save-every-epochs 1`);
        return 0;
      }
      printCheckpoints(out, checkpoints, marksFor(store, options.metric ? { metric: options.metric, mode: options.mode } : undefined));
      const trash = await listTrashWarning(store);
      const total = checkpoints.reduce((s, c) => s + c.bytes, 0);
      out.line(`\n${plural(checkpoints.length, 'checkpoint')} in ${plural(store.catalog.listRuns().length, 'run')}, ${formatBytes(total)}; trash: ${trash.length} (${formatBytes(trash.reduce((s, e) => s + e.bytes, 0))})`);
      return 0;
    }));

  withCommon(program.command('latest').description('the latest complete checkpoint'))
    .option('--run <name>', 'within this run')
    .action(storeAction('read', async (options: CommonOptions & { run?: string }, store: CheckpointStore) => {
      printOne(out, options, store.resolve('latest', { run: options.run }));
      return 0;
    }));

  withCommon(program.command('best').description('the best complete checkpoint by a metric'))
    .requiredOption('--metric <name>', 'metric recorded in the checkpoints, e.g. val_loss')
    .addOption(new Option('--mode <mode>', 'min or max').choices(['min', 'max']).default('min'))
    .option('--run <name>', 'within this run')
    .action(storeAction('read', async (options: CommonOptions & { metric: string; mode: MetricMode; run?: string }, store: CheckpointStore) => {
      printOne(out, options, store.resolve('best', { metric: options.metric, mode: options.mode, run: options.run }));
      return 0;
    }));

  withCommon(program.command('verify').description('verify every byte of checkpoints (all when no path is given)'))
    .argument('[paths...]', 'checkpoint folders or ids')
    .action(storeAction('read', async (paths: string[], options: CommonOptions, store: CheckpointStore) => {
      const ids = paths.length > 0 ? paths.map((p) => store.resolve(p).id) : store.catalog.list().map((c) => c.id);
      const { results, warnings } = await store.verify(ids);
      for (const warning of warnings) stderr.line(`warning: ${warning}`);
      const bad = results.filter((r) => !r.ok);
      if (options.json) out.json(results.map((r) => ({ path: r.dir, ok: r.ok, problems: r.problems })));
      else {
        for (const result of results) {
          out.line(`${result.ok ? 'ok      ' : 'DAMAGED '} ${result.dir}`);
          for (const problem of result.problems) out.line(`         ${describeProblem(problem)}`);
        }
        out.line(`${results.length - bad.length} verified, ${bad.length} damaged`);
      }
      return bad.length > 0 ? 1 : 0;
    }));

  withCommon(program.command('prune').description("apply retention: the flags given, or each run's saved policy"))
    .option('--run <name>', 'only this run (a policy never touches other runs)')
    .option('--keep-last <n>', 'keep the N most recent', intOption)
    .option('--keep-best <k>', 'keep the K best by --metric', intOption)
    .option('--metric <name>', 'metric for --keep-best')
    .addOption(new Option('--mode <mode>', 'min or max, for --keep-best').choices(['min', 'max']).default('min'))
    .option('--keep-every-steps <n>', 'keep every checkpoint whose step is a multiple of N', intOption)
    .option('--keep-every-hours <h>', 'keep one checkpoint per H hours', Number)
    .option('--max-size <size>', 'disk budget per run, e.g. 20GB')
    .option('--save-policy', 'store these flags as the run policy')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .action(storeAction((options) => ((options as PruneOptions).dryRun ? 'read' : 'write'), async (options: PruneOptions, store: CheckpointStore) => {
      const flags = policyFromFlags(options);
      const runs = options.run ? [options.run] : store.catalog.listRuns().map((r) => r.name);
      const plans: RetentionPlan[] = [];
      for (const run of runs) {
        if (flags && options.savePolicy && !options.dryRun) await store.setPolicy(run, flags);
        const plan = await store.planRetention(run, flags ? { policy: flags } : {});
        plans.push(plan);
      }
      const deleted = [];
      if (!options.dryRun) for (const plan of plans) if (plan.delete.length > 0) deleted.push(...(await store.applyRetention(plan)));
      const trashedIds = new Set(deleted.map((e) => e.checkpointId));
      if (options.json) {
        out.json({ dryRun: Boolean(options.dryRun), plans, trashed: deleted });
        return 0;
      }
      for (const plan of plans) {
        const policy = flags ?? (await store.getPolicy(plan.run));
        if (isPolicyEmpty(policy)) {
          out.line(`${plan.run}: no retention policy (give --keep-last, --keep-best, … or save one with --save-policy)`);
          continue;
        }
        out.line(`${plan.run}: keep ${plan.keep.length}, ${options.dryRun ? 'would delete' : 'deleted'} ${plan.delete.length}, frees ${formatBytes(plan.bytesFreed)}`);
        for (const d of plan.delete) {
          const skipped = !options.dryRun && !trashedIds.has(d.id);
          out.line(`  - ${d.id}  ${d.reasons.join('; ')}${skipped ? '  (kept after all: it became protected)' : ''}`);
        }
        for (const k of plan.keep) out.line(`  + ${k.id}  ${k.reasons.join('; ')}`);
        for (const w of plan.warnings) out.line(`  ! ${w}`);
      }
      if (!options.dryRun && deleted.length > 0) out.line(`Moved ${deleted.length} to the trash; undo with: checkpoint-studio trash restore --last`);
      return 0;
    }));

  withCommon(program.command('rm').description('move checkpoints to the workspace trash'))
    .argument('<paths...>', 'checkpoint folders or ids')
    .action(storeAction('write', async (paths: string[], options: CommonOptions, store: CheckpointStore) => {
      const entries = await store.delete(paths);
      if (options.json) out.json(entries);
      else {
        for (const e of entries) out.line(`trashed ${e.checkpointId} (${formatBytes(e.bytes)})`);
        out.line('Undo with: checkpoint-studio trash restore --last');
      }
      return 0;
    }));

  withCommon(program.command('pin').description('protect checkpoints from deletion'))
    .argument('<ids...>')
    .action(storeAction('write', async (ids: string[], _options: CommonOptions, store: CheckpointStore) => {
      for (const id of ids) await store.setPinned(id, true);
      return 0;
    }));

  withCommon(program.command('unpin').description('remove the protection of pinned checkpoints'))
    .argument('<ids...>')
    .action(storeAction('write', async (ids: string[], _options: CommonOptions, store: CheckpointStore) => {
      for (const id of ids) await store.setPinned(id, false);
      return 0;
    }));

  const trash = program.command('trash').description('list, restore or purge deleted checkpoints');
  withCommon(trash.command('ls').description('what the trash holds')).action(storeAction('read', async (options: CommonOptions, store: CheckpointStore) => {
    const entries = await listTrashWarning(store);
    if (options.json) out.json(entries);
    else if (entries.length === 0) out.line('The trash is empty.');
    else {
      out.line(table(['ID', 'CHECKPOINT', 'DELETED', 'SIZE', 'REASON'], entries.map((e) => [e.id, e.checkpointId, e.deletedAt.replace('T', ' ').slice(0, 19), formatBytes(e.bytes), e.reason])));
      out.line(`\n${entries.length} entries, ${formatBytes(entries.reduce((s, e) => s + e.bytes, 0))}`);
    }
    return 0;
  }));
  withCommon(trash.command('restore').description('put checkpoints back where they were'))
    .argument('[ids...]', 'trash entry ids')
    .option('--last', 'restore the most recent deletion (undo)')
    .action(storeAction('write', async (ids: string[], options: CommonOptions & { last?: boolean }, store: CheckpointStore) => {
      if (ids.length === 0 && !options.last) throw new UsageError('name trash entries to restore, or give --last');
      const restored = options.last ? await store.undo() : await store.restoreFromTrash(ids);
      if (options.json) out.json(restored);
      else if (restored.length === 0) out.line('Nothing to restore.');
      else for (const e of restored) out.line(`restored ${e.checkpointId}`);
      return 0;
    }));
  withCommon(trash.command('purge').description('delete the trash for good (all, or older than an age)'))
    .option('--older-than <age>', 'only entries deleted before this age, e.g. 7d')
    .action(storeAction('write', async (options: CommonOptions & { olderThan?: string }, store: CheckpointStore) => {
      const result = await store.purgeTrash(options.olderThan ? { olderThanMs: parseDuration(options.olderThan) } : {});
      for (const problem of result.problems) stderr.line(`warning: ${path.join(store.root, '.trash', problem.name)}: ${problem.problem}`);
      if (options.json) out.json(result);
      else out.line(`Purged ${result.purged.length} entries, ${formatBytes(result.bytes)}.`);
      return 0;
    }));

  withCommon(program.command('inspect').description('tensors of a checkpoint or a .safetensors file'))
    .argument('<path>', 'checkpoint folder, id, or .safetensors file')
    .action(storeAction('read', async (target: string, options: CommonOptions, store: CheckpointStore) => {
      const rows = await inspectTensors(store, target);
      if (options.json) out.json(rows);
      else {
        out.line(table(['FILE', 'TENSOR', 'DTYPE', 'SHAPE', 'BYTES'], rows.map((r) => [r.file, r.name, r.dtype, `[${r.shape.join(', ')}]`, String(r.bytes)])));
        out.line(`\n${rows.length} tensors, ${formatBytes(rows.reduce((s, r) => s + r.bytes, 0))}`);
      }
      return 0;
    }));
}

/** The trash's entries; what in it cannot be used is said once, on stderr. */
async function listTrashWarning(store: CheckpointStore): Promise<readonly TrashEntry[]> {
  const listing = await store.inspectTrash();
  for (const problem of listing.problems) stderr.line(`warning: ${path.join(store.root, '.trash', problem.name)}: ${problem.problem}`);
  return listing.entries;
}

interface TensorRow {
  file: string;
  name: string;
  dtype: string;
  shape: readonly number[];
  bytes: number;
}

async function inspectTensors(store: CheckpointStore, target: string): Promise<TensorRow[]> {
  const fileStat = await stat(target).catch(() => null);
  // Anything but a folder is read as a safetensors file, which names what it is if it is not one.
  if (fileStat && !fileStat.isDirectory()) {
    const header = await readSafetensorsHeader(target);
    return header.tensors.map((t) => ({ file: path.basename(target), name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin }));
  }
  const checkpoint = store.resolve(target);
  const manifest = await readManifest(path.join(checkpoint.path, MANIFEST_FILE));
  const rows: TensorRow[] = [];
  for (const file of Object.keys(manifest.files)) {
    const header = await readSafetensorsHeader(path.join(checkpoint.path, file));
    rows.push(...header.tensors.map((t) => ({ file, name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin })));
  }
  return rows;
}

interface PruneOptions extends CommonOptions {
  run?: string;
  keepLast?: number;
  keepBest?: number;
  metric?: string;
  mode: MetricMode;
  keepEverySteps?: number;
  keepEveryHours?: number;
  maxSize?: string;
  savePolicy?: boolean;
  dryRun?: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function policyFromFlags(options: PruneOptions): RetentionPolicy | null {
  if (options.keepBest !== undefined && !options.metric) throw new UsageError('--keep-best needs --metric NAME');
  const policy: RetentionPolicy = {
    ...(options.keepLast !== undefined ? { keepLast: options.keepLast } : {}),
    ...(options.keepBest !== undefined && options.metric ? { keepBest: { k: options.keepBest, metric: options.metric, mode: options.mode } } : {}),
    ...(options.keepEverySteps !== undefined ? { keepEverySteps: options.keepEverySteps } : {}),
    ...(options.keepEveryHours !== undefined ? { keepEveryHours: options.keepEveryHours } : {}),
    ...(options.maxSize !== undefined ? { maxBytes: parseBytes(options.maxSize) } : {}),
  };
  return isPolicyEmpty(policy) ? null : RetentionPolicySchema.parse(policy);
}
