// checkpoint-studio diff: two checkpoints compared tensor by tensor (norms, their difference,
// relative change, largest difference, cosine, NaN and Inf), through one Studio call. The table
// puts the tensors that moved most first and marks those that stopped moving.
import { type Command, Option } from 'commander';
import type { CompareResult, MetricMode, TensorComparison } from '../contract.js';
import { type ActionContext, type CommonOptions, type Output, positiveNumber, stderr, studioAction, withCommon } from './common.js';
import { plural, table } from './format.js';

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Four significant digits; exponents for the very small and very large, so 1e-9 does not read as 0.000. */
export function figure(value: number | null): string {
  if (value === null) return '-';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs < 1e-3 || abs >= 1e5 ? value.toExponential(3) : value.toPrecision(4);
}

/** The stopped-moving threshold as a person would write it: 1e-6, 0.05. */
const threshold = (value: number): string => (value < 1e-3 ? value.toExponential() : String(value));

/** Largest relative change first; a change away from all zeros (no ratio) is the largest of all. */
export function byRelChange(a: TensorComparison, b: TensorComparison): number {
  return (b.relChange ?? Infinity) - (a.relChange ?? Infinity) || a.name.localeCompare(b.name);
}

function tensorTable(result: CompareResult): string {
  const rows = [...result.tensors]
    .sort(byRelChange)
    .map((t) => [
      t.name === t.nameB ? t.name : `${t.name} ~ ${t.nameB}`,
      shapeText(t.shape),
      t.dtype === t.dtypeB ? t.dtype : `${t.dtype}/${t.dtypeB}`,
      figure(t.l2A),
      figure(t.l2B),
      figure(t.l2Diff),
      t.relChange === null && t.l2Diff !== 0 ? 'from 0' : figure(t.relChange),
      figure(t.maxAbsDiff),
      figure(t.cosine),
      t.nanCount === 0 ? '' : String(t.nanCount),
      t.infCount === 0 ? '' : String(t.infCount),
      t.stoppedMoving ? 'stopped' : '',
    ]);
  return table(['TENSOR', 'SHAPE', 'DTYPE', 'L2 A', 'L2 B', 'L2 DIFF', 'REL CHANGE', 'MAX |DIFF|', 'COSINE', 'NAN', 'INF', ''], rows);
}

function printReport(out: Output, result: CompareResult): void {
  const side = (name: string, s: CompareResult['a']): string =>
    `${name}: ${s.label}${s.step === null ? '' : ` (step ${s.step})`}${s.format === 'checkpoint-studio' ? '' : `, ${s.format}`}`;
  out.line(side('A', result.a));
  out.line(side('B', result.b));
  for (const note of result.notes) out.line(`note: ${note}`);
  out.line('');
  if (result.tensors.length > 0) out.line(tensorTable(result));
  for (const t of result.notCompared) out.line(`not compared: ${t.name}${t.name === t.nameB ? '' : ` ~ ${t.nameB}`}: ${t.reason}`);
  for (const t of result.onlyInA) out.line(`only in A: ${t.name} ${shapeText(t.shape)} ${t.dtype}`);
  for (const t of result.onlyInB) out.line(`only in B: ${t.name} ${shapeText(t.shape)} ${t.dtype}`);
  const nonFinite = result.tensors.filter((t) => t.nanCount + t.infCount > 0);
  out.line('');
  out.line(
    `${plural(result.tensors.length, 'tensor')} compared; ${result.stoppedMoving.length} stopped moving (relative change below ${threshold(result.stoppedMovingBelow)})` +
      (nonFinite.length > 0 ? `; ${nonFinite.length} hold NaN or Inf (left out of their figures)` : ''),
  );
}

export function registerDiffCommand(program: Command, out: Output): void {
  withCommon(
    program
      .command('diff')
      .description('compare two checkpoints tensor by tensor: L2 norms, their difference, relative change, largest difference, cosine, NaN and Inf'),
  )
    .argument(
      '<a>',
      "a checkpoint id, latest, best (with --metric), a checkpoint folder, or another program's checkpoint (a TensorFlow prefix, model.json, .safetensors, .h5…)",
    )
    .argument('<b>', 'the checkpoint to compare it with, named the same ways')
    .option('--stopped-below <ratio>', 'a relative change below this counts as stopped moving (default 1e-6)', positiveNumber)
    .option('--metric <name>', 'what `best` is judged by, e.g. val_loss')
    .addOption(new Option('--mode <mode>', 'min or max, for --metric').choices(['min', 'max']).default('min'))
    .action(
      studioAction(
        'read',
        async (a: string, b: string, options: CommonOptions & { stoppedBelow?: number; metric?: string; mode: MetricMode }, { api }: ActionContext) => {
          const result = await api.compareCheckpoints({
            a,
            b,
            mode: options.mode,
            ...(options.stoppedBelow !== undefined ? { stoppedBelow: options.stoppedBelow } : {}),
            ...(options.metric !== undefined ? { metric: options.metric } : {}),
          });
          if (options.json) out.json(result);
          else printReport(out, result);
          if (result.tensors.length === 0) stderr.line('warning: no tensor of A pairs with one of B');
          return 0;
        },
        { optional: () => true },
      ),
    );
}
