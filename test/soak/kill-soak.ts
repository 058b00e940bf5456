// npm run soak:kill -- --count N [--seed S] [--keep]
// SIGKILLs a trainer that saves every step at N random moments and checks, after each kill, that
// the workspace keeps its promises (see kill-soak-core.ts). Exit 0 when no invariant failed,
// 1 when one did, 2 for a usage error, 130 when interrupted.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatReport, runKillSoak } from './kill-soak-core.js';

const USAGE =
  'usage: npm run soak:kill -- [--count N] [--seed S] [--keep]\n  --count N  kills to land (default 200)\n  --seed S   seed of the kill moments (default 1)\n  --keep     keep the workspace for inspection (its path is printed)';

interface Flags {
  readonly count: number;
  readonly seed: number;
  readonly keep: boolean;
}

function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isSafeInteger(parsed) || parsed < min) throw new Error(`${flag} takes a whole number ≥ ${min}, not ${value ?? 'nothing'}`);
  return parsed;
}

function parseFlags(argv: readonly string[]): Flags | 'help' {
  let count = 200;
  let seed = 1;
  let keep = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    // --flag=value as well as --flag value, as npm users type both.
    const [name, inline] = arg?.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (name === '--count') count = wholeNumber('--count', value(), 1);
    else if (name === '--seed') seed = wholeNumber('--seed', value(), 0);
    else if (name === '--keep') keep = true;
    else if (name === '--help' || name === '-h') return 'help';
    else throw new Error(`unknown argument: ${arg}`);
  }
  return { count, seed, keep };
}

async function main(): Promise<number> {
  let flags: Flags | 'help';
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`kill soak: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // With --keep the workspace is ours to name, so the core leaves it in place.
  const workspace = flags.keep ? path.join(mkdtempSync(path.join(os.tmpdir(), 'kill-soak-kept-')), 'workspace') : undefined;
  const abort = new AbortController();
  // Ctrl-C must not orphan a trainer: it runs in its own process group, out of the terminal's reach.
  const onSigint = (): void => abort.abort();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const report = await runKillSoak({
      count: flags.count,
      seed: flags.seed,
      ...(workspace ? { workspace } : {}),
      signal: abort.signal,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`\n${formatReport(report)}\n`);
    if (flags.keep) process.stdout.write(`workspace kept: ${report.workspace}\n`);
    if (report.aborted) return 130;
    return report.violations.length > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`kill soak: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
});
