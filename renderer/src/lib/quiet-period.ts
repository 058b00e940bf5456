// The quiet period: how long a folder another program writes must have had no change before the
// Studio deletes from it or rewrites its state file (a setting; 0 turns it off). The page offers
// it where it is set and beside the refusal it causes.
import { QuietSecondsSchema } from './contract';

/**
 * The core's refusal while a folder is not quiet yet. It comes as a refusal whose sentence says
 * "busy: <file> changed N s ago…" (checkpoint/in-place-trash.ts), so that is what is looked for.
 */
export function isBusyRefusal(message: string | null): boolean {
  return message !== null && /(^|: )busy: /.test(message);
}

/** The typed number of seconds, or why it cannot be the setting. */
export function parseQuietSeconds(text: string): { ok: true; seconds: number } | { ok: false; error: string } {
  const typed = text.trim();
  const seconds = Number(typed);
  const parsed = QuietSecondsSchema.safeParse(seconds);
  if (typed === '' || !parsed.success)
    return {
      ok: false,
      error: `The quiet period is a number of seconds from ${QuietSecondsSchema.minValue ?? 0} to ${QuietSecondsSchema.maxValue ?? ''} (not "${typed}").`,
    };
  return { ok: true, seconds: parsed.data };
}
