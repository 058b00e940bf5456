// checkpoint-studio import: folders in, one importFolders call, a line per source out (or the
// report as JSON). Progress goes to stderr on a terminal; Ctrl-C cancels, leaving nothing behind.
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ImportProgress, ImportSourceResult } from '../contract.js';
import { type ActionContext, type CommonOptions, type Output, stderr, studioAction, withCommon } from './common.js';
import { formatBytes } from './format.js';

const EXIT_INTERRUPTED = 130;

function describeResult(result: ImportSourceResult): string {
  if (!result.ok) return `refused  ${result.source}\n         ${result.error.message}`;
  const what = result.checkpoints.length === 1 ? `${result.checkpoints[0]}` : `${result.checkpoints.length} checkpoints into run ${result.run}`;
  return `imported ${result.source} -> ${what}${result.newRun ? ' (new run)' : ''}${result.notes.map((note) => `\n         ${note}`).join('')}`;
}

function progressLine(progress: ImportProgress): string {
  const share = progress.bytesTotal > 0 ? ` ${Math.floor((progress.bytesDone / progress.bytesTotal) * 100)}%` : '';
  return `\r\x1b[2K${progress.phase} ${path.basename(progress.source)}: ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}${share}`;
}

export function registerImportCommand(program: Command, out: Output): void {
  withCommon(program.command('import').description('import checkpoint or run folders (copied, verified, then added; the source is never changed)'))
    .argument('<folders...>', 'checkpoint folders (manifest.json) or run folders (run.json, ckpt-*)')
    .option('--into <run>', 'the run checkpoint folders go into (default "imported"); for a run folder, the new run\'s name')
    .action(studioAction('create', async (folders: string[], options: CommonOptions & { into?: string }, { api }: ActionContext) => {
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
        const report = await api.importFolders({ sources: folders.map((f) => path.resolve(f)), importId, ...(options.into !== undefined ? { into: options.into } : {}) });
        if (live) stderr.write('\r\x1b[2K');
        if (options.json) out.json(report);
        else for (const result of report.results) out.line(describeResult(result));
        if (interrupted) return EXIT_INTERRUPTED;
        return report.results.every((r) => r.ok) ? 0 : 1;
      } finally {
        off();
        process.off('SIGINT', onInterrupt);
      }
    }));
}
