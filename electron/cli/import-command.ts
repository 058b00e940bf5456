// checkpoint-studio import: folders in, one importFolders call, a line per source out (or the
// report as JSON). Progress goes to stderr on a terminal; Ctrl-C cancels, leaving nothing behind.
import { type Command, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ImportProgress, ImportSourceResult, SourceDescription } from '../contract.js';
import { isS3Address } from '../core/storage/s3-address.js';
import { type ActionContext, type CommonOptions, type Output, s3Connection, stderr, studioAction, withCommon } from './common.js';
import { formatBytes } from './format.js';

const EXIT_INTERRUPTED = 130;

function describeResult(result: ImportSourceResult): string {
  if (!result.ok) return `refused  ${result.source}\n         ${result.error.message}`;
  const what = result.checkpoints.length === 1 ? `${result.checkpoints[0]}` : `${result.checkpoints.length} checkpoints into run ${result.run}`;
  return `imported ${result.source} -> ${what}${result.newRun ? ' (new run)' : ''}${result.notes.map((note) => `\n         ${note}`).join('')}`;
}

function describeFound(found: SourceDescription): string {
  if (!found.ok) return `found    ${found.source}: nothing importable`;
  const steps = found.checkpoints.map((c) => c.step).filter((step): step is number => step !== null);
  const latest = found.checkpoints.find((c) => c.latest);
  const span = steps.length === 0 ? 'no steps recorded' : steps.length === 1 ? `step ${steps[0]}` : `steps ${Math.min(...steps)}…${Math.max(...steps)}`;
  const tensors = Math.max(0, ...found.checkpoints.map((c) => c.tensors));
  const bytes = found.checkpoints.reduce((sum, c) => sum + c.bytes, 0);
  const count = found.checkpoints.length === 1 ? '1 checkpoint' : `${found.checkpoints.length} checkpoints`;
  const head = `found    ${found.source}: ${found.formatLabel}, ${count} (${span}${latest ? `, latest ${latest.name}` : ''})${tensors > 0 ? `, ${tensors} tensors each` : ''}, ${formatBytes(bytes)}`;
  return [head, ...found.notes.map((note) => `         ${note}`)].join('\n');
}

function progressLine(progress: ImportProgress): string {
  const share = progress.bytesTotal > 0 ? ` ${Math.floor((progress.bytesDone / progress.bytesTotal) * 100)}%` : '';
  return `\r\x1b[2K${progress.phase} ${path.basename(progress.source)}: ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}${share}`;
}

export function registerImportCommand(program: Command, out: Output): void {
  withCommon(
    program
      .command('import')
      .description(
        'import checkpoints: ours, TensorFlow, TF.js, safetensors, Hugging Face, Keras HDF5 (copied or linked, verified, then added; the source is never changed)',
      ),
  )
    .argument(
      '<paths...>',
      "our checkpoint or run folders, or another program's checkpoints: a TensorFlow checkpoint folder, .index file or prefix (model.ckpt-1000), a TF.js model.json, safetensors files or Hugging Face checkpoint folders, Keras .h5 weights",
    )
    .option('--run <name>', 'the new run\'s name (default: the source\'s name); for our checkpoint folders, the run they go into (default "imported")')
    .option('--into <run>', 'the same as --run (kept for scripts written before --run)')
    .addOption(new Option('--copy', "copy the source's files into the workspace, unchanged, beside a manifest (the default)").conflicts('link'))
    .option('--link', "record another program's checkpoint where it is, without copying; its folder is only ever read, never written or deleted")
    .action(
      studioAction(
        'create',
        async (folders: string[], options: CommonOptions & { into?: string; run?: string; copy?: boolean; link?: boolean }, { api }: ActionContext) => {
          // An s3:// source is an address, not a path of this machine: it is copied down by the Studio.
          const sources = folders.map((f) => (isS3Address(f) ? f : path.resolve(f)));
          const into = options.run ?? options.into;
          const local = sources.filter((s) => !isS3Address(s));
          if (!options.json && local.length > 0) for (const found of await api.describeSources({ sources: local })) out.line(describeFound(found));
          const importId = randomUUID();
          const tty = Boolean(process.stderr.isTTY) && !options.json;
          let live = false;
          const off = api.on('import:progress', (progress) => {
            if (!tty || progress.importId !== importId) return;
            stderr.write(progressLine(progress));
            live = true;
          });
          let interrupted = false;
          const onInterrupt = (): void => {
            interrupted = true;
            void api.cancelImport({ importId });
          };
          process.on('SIGINT', onInterrupt);
          try {
            const s3 = s3Connection(options);
            const report = await api.importFolders({
              sources,
              importId,
              mode: options.link ? 'link' : 'copy',
              ...(into !== undefined ? { into } : {}),
              ...(s3 ? { s3 } : {}),
            });
            if (live) stderr.write('\r\x1b[2K');
            if (options.json) out.json(report);
            else for (const result of report.results) out.line(describeResult(result));
            if (interrupted) return EXIT_INTERRUPTED;
            return report.results.every((r) => r.ok) ? 0 : 1;
          } finally {
            off();
            process.off('SIGINT', onInterrupt);
          }
        },
      ),
    );
}
