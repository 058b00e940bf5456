// What a training session reports. The trainer process forwards these to the supervisor, the
// CLI prints them, and the app's dashboard draws them: one definition for all three.
import { z } from 'zod';

export const SessionEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    run: z.string(),
    backend: z.string(),
    /** Why the native backend is not in use; null when it is. */
    backendReason: z.string().nullable(),
    parameters: z.int(),
    batchesPerEpoch: z.int(),
    totalSteps: z.int(),
    step: z.int(),
    resumedFrom: z.object({ run: z.string(), step: z.int() }).nullable(),
  }),
  z.object({
    type: z.literal('progress'),
    step: z.int(),
    epoch: z.int(),
    batchInEpoch: z.int(),
    loss: z.number().nullable(),
    accuracy: z.number().nullable(),
    samplesPerSecond: z.number(),
    etaMs: z.number().nullable(),
    elapsedMs: z.number(),
    totalSteps: z.int(),
  }),
  z.object({ type: z.literal('validation'), step: z.int(), epoch: z.int(), loss: z.number().nullable(), accuracy: z.number().nullable() }),
  z.object({
    type: z.literal('checkpoint'),
    id: z.string(),
    step: z.int(),
    path: z.string(),
    reason: z.string(),
    blockedMs: z.number(),
    writeMs: z.number(),
    bytes: z.int(),
    /** Time the loop was blocked by saves so far, as a share of training time. */
    overheadShare: z.number(),
  }),
  z.object({ type: z.literal('paused'), step: z.int() }),
  z.object({ type: z.literal('resumed'), step: z.int() }),
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    run: z.string(),
    step: z.int(),
    epoch: z.int(),
    reason: z.enum(['completed', 'max-steps', 'stopped']),
    overheadShare: z.number(),
    lastCheckpoint: z.string().nullable(),
  }),
]);
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** Above this share of training time spent blocked by saves, the user is warned. */
export const OVERHEAD_WARNING_SHARE = 0.035;
/** Too few steps say nothing about the share: the first save can be the slowest. */
const OVERHEAD_MIN_STEPS = 10;

/** The warning for saves that block too much of training, or null. */
export function overheadWarning(share: number, stepsThisSession: number): string | null {
  if (stepsThisSession <= OVERHEAD_MIN_STEPS || !(share > OVERHEAD_WARNING_SHARE)) return null;
  return `checkpointing has blocked training ${(share * 100).toFixed(1)}% of the time (over ${(OVERHEAD_WARNING_SHARE * 100).toFixed(1)}%): save less often`;
}
