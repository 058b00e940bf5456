// What crosses between the Studio and a comparison's worker thread, both ways, checked by zod on
// arrival: the two sides to read (already resolved from what the user typed), progress, and the
// result or the error that ended it.
import { z } from 'zod';
import { CompareResultSchema, ErrorCodeSchema } from '../../contract.js';
import { StoredCheckpointSchema } from '../checkpoint/stored-at.js';
import { FOREIGN_FORMATS } from '../formats/foreign.js';

/**
 * One side, as the worker opens it: a checkpoint folder of ours (ours or imported), another
 * program's, read in place, or one of ours in a bucket (read by ranged GETs, issue 18).
 */
export const SideSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ours'), dir: z.string().min(1) }),
  z.object({ kind: z.literal('foreign'), format: z.enum(FOREIGN_FORMATS), path: z.string().min(1) }),
  StoredCheckpointSchema.extend({ kind: z.literal('stored') }),
]);
export type SideSpec = z.infer<typeof SideSpecSchema>;

/** What the user named, and how it was resolved, for the result's `a` and `b`. */
const SideLabelSchema = z.object({ target: z.string(), label: z.string() });

export const CompareJobSchema = z.object({
  a: SideSpecSchema.and(SideLabelSchema),
  b: SideSpecSchema.and(SideLabelSchema),
  stoppedBelow: z.number().positive(),
});
export type CompareJob = z.infer<typeof CompareJobSchema>;

export const WorkerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.int().nonnegative(), total: z.int().nonnegative(), tensor: z.string().nullable() }),
  z.object({ type: z.literal('result'), result: CompareResultSchema }),
  z.object({ type: z.literal('error'), code: ErrorCodeSchema, message: z.string() }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;
