// The session's rule for warning about checkpoint overhead. The events themselves are defined
// in the contract (SessionEventSchema): the trainer sends them, the CLI and the app show them.

/** Above this share of training time spent blocked by saves, the user is warned. */
export const OVERHEAD_WARNING_SHARE = 0.035;
/** Too few steps say nothing about the share: the first save can be the slowest. */
const OVERHEAD_MIN_STEPS = 10;

/** The warning for saves that block too much of training, or null. */
export function overheadWarning(share: number, stepsThisSession: number): string | null {
  if (stepsThisSession <= OVERHEAD_MIN_STEPS || !(share > OVERHEAD_WARNING_SHARE)) return null;
  return `checkpointing has blocked training ${(share * 100).toFixed(1)}% of the time (over ${(OVERHEAD_WARNING_SHARE * 100).toFixed(1)}%): save less often`;
}
