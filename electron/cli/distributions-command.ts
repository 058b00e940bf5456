// checkpoint-studio distributions: a run's tensors, or one tensor's distribution at each of the
// run's checkpoints, read from the files (the Distributions view's figures, as a table or JSON).
// The workspace is opened to write so the figures can be cached in its `.studio/`; another
// program's folder read in place is left as it is (issue 16).
import type { Command } from 'commander';
import type { RunTensors, TensorDistributions } from '../contract.js';
import { type ActionContext, type CommonOptions, type Output, positiveInt, stderr, studioAction, withCommon } from './common.js';
import { formatMetric, plural, table } from './format.js';

function printTensors(out: Output, answer: RunTensors): void {
  out.line(
    table(
      ['TENSOR', 'ROLE', 'DTYPE', 'SHAPE', 'CHECKPOINTS'],
      answer.tensors.map((t) => [t.name, t.role, t.numeric ? t.dtype : `${t.dtype} (not numeric)`, `[${t.shape.join(', ')}]`, String(t.checkpoints)]),
    ),
  );
  out.line(`\n${plural(answer.tensors.length, 'tensor')} in the checkpoints of ${answer.run}`);
}

function printDistributions(out: Output, answer: TensorDistributions): void {
  const at = (q: number, quantiles: number[] | null): string => formatMetric(quantiles?.[answer.quantileLevels.indexOf(q)] ?? null);
  out.line(
    table(
      ['STEP', 'COUNT', 'MIN', 'P16', 'MEDIAN', 'P84', 'MAX', 'MEAN', 'STD', 'NAN', 'INF'],
      answer.points.map((p) => [
        String(p.step),
        String(p.count),
        formatMetric(p.min),
        at(0.16, p.quantiles),
        at(0.5, p.quantiles),
        at(0.84, p.quantiles),
        formatMetric(p.max),
        formatMetric(p.mean),
        formatMetric(p.std),
        String(p.nan),
        String(p.inf),
      ]),
    ),
  );
  const approximate = answer.points.filter((p) => p.quantileMethod === 'histogram');
  if (approximate.length > 0)
    out.line(`\nquantiles of ${plural(approximate.length, 'checkpoint')} from a fine histogram, each within ${formatMetric(approximate[0]?.quantileError)}`);
  const cached = answer.points.filter((p) => p.cached).length;
  out.line(`\n${plural(answer.points.length, 'checkpoint')}, ${cached} from the cache`);
  if (answer.missing.length > 0) out.line(`${plural(answer.missing.length, 'checkpoint')} without ${answer.tensor}: ${answer.missing.join(', ')}`);
}

export function registerDistributionsCommand(program: Command, out: Output): void {
  withCommon(
    program
      .command('distributions')
      .description(
        "a run's tensors, or one tensor's distribution (quantiles, mean, std, NaN and Inf counts) at each of the run's checkpoints, read from the files",
      ),
  )
    .argument('<run>', 'the run')
    .argument('[tensor]', 'a tensor name, as listed without it')
    .option('--bins <n>', 'histogram bins shared by the checkpoints (in --json)', positiveInt, 30)
    .action(
      studioAction('write', async (run: string, tensor: string | undefined, options: CommonOptions & { bins: number }, { api }: ActionContext) => {
        if (tensor === undefined) {
          const answer = await api.tensorNames({ run });
          if (options.json) out.json(answer);
          else printTensors(out, answer);
          for (const problem of answer.problems) stderr.line(`${problem.id}: ${problem.message}`);
          return answer.problems.length > 0 ? 1 : 0;
        }
        const answer = await api.tensorDistributions({ run, tensor, bins: options.bins });
        if (options.json) out.json(answer);
        else if (answer.points.length > 0) printDistributions(out, answer);
        if (answer.points.length === 0 && answer.problems.length === 0)
          stderr.line(`no checkpoint of ${run} holds a tensor named ${JSON.stringify(tensor)} (checkpoint-studio distributions ${run} lists them)`);
        for (const note of answer.notes) stderr.line(`note: ${note}`);
        for (const problem of answer.problems) stderr.line(`${problem.id}: ${problem.message}`);
        return answer.problems.length > 0 || answer.points.length === 0 ? 1 : 0;
      }),
    );
}
