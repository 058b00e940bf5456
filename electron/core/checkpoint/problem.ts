import { quoted } from '../base/describe-value.js';

/** One thing wrong with a checkpoint: the file, the tensor when it is about one, and what. */
export interface Problem {
  readonly file: string;
  readonly tensor?: string;
  readonly problem: string;
}

export function describeProblem(p: Problem): string {
  return `${p.file}${p.tensor === undefined ? '' : `: tensor ${quoted(p.tensor)}`}: ${p.problem}`;
}
