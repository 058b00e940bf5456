// One found source as the "found" step shows it, before anything is imported: how many
// checkpoints and which steps (first to last, the one the source calls latest), tensors and size.
import type { SourceDescription } from './contract';
import { formatBytes, formatInteger, plural } from './format';

type Found = Extract<SourceDescription, { ok: true }>;

export interface FoundSummary {
  /** "3 checkpoints · steps 100–300, latest 300" */
  readonly checkpoints: string;
  /** "12 tensors · 4.1 KB", tensors left out when the reader does not count them (our own folders). */
  readonly contents: string;
  /** Each checkpoint's step (or name when it has none), the latest marked; at most `max`, then "…". */
  readonly steps: readonly { readonly label: string; readonly latest: boolean }[];
  readonly more: number;
}

const stepText = (step: number | null): string => (step === null ? 'no step' : formatInteger(step));

export function summariseFound(found: Found, max = 12): FoundSummary {
  const list = found.checkpoints;
  const steps = list.map((c) => c.step).filter((s): s is number => s !== null);
  const latest = list.find((c) => c.latest);
  let range = '';
  if (steps.length > 0) {
    const low = Math.min(...steps);
    const high = Math.max(...steps);
    range = low === high ? `step ${stepText(low)}` : `steps ${stepText(low)}–${stepText(high)}`;
    if (latest && list.length > 1) range += `, latest ${latest.step === null ? latest.name : stepText(latest.step)}`;
  } else if (list.length > 0) range = 'no step recorded';
  const tensors = list.reduce((sum, c) => sum + c.tensors, 0);
  const bytes = list.reduce((sum, c) => sum + c.bytes, 0);
  return {
    checkpoints: [plural(list.length, 'checkpoint'), range].filter(Boolean).join(' · '),
    contents: [tensors > 0 ? plural(tensors, 'tensor') : '', formatBytes(bytes)].filter(Boolean).join(' · '),
    steps: list.length > 1 ? list.slice(0, max).map((c) => ({ label: c.step === null ? c.name : stepText(c.step), latest: c.latest })) : [],
    more: Math.max(0, list.length - max),
  };
}
