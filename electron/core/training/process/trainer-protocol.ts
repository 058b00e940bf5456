// Every message between the supervisor (main side) and the trainer process. Each side numbers
// the messages it sends 1, 2, 3, … in `seq`; each side validates every message it receives
// against these schemas and checks that `seq` only goes up. A message that fails either check
// is reported as an error naming what was wrong and is never acted upon.
//
// The messages are plain data: they cross child_process IPC ('advanced' serialization) or
// Electron's utilityProcess port (structured clone) unchanged.
import { z } from 'zod';
import { ErrorCodeSchema, SessionEventSchema, VerifyResumeReportSchema } from '../../../contract.js';
import { TrainRequestSchema } from './train-request.js';
import { VerifyResumeRequestSchema } from './verify-resume-request.js';

const seq = z.int().positive();

/** An error as it crosses the boundary: an Error's identity does not survive serialization. */
export const SerializedErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  /** The error's stable code, when it has one: what the user is told depends on it. */
  code: ErrorCodeSchema.optional(),
  stack: z.string().optional(),
});
export type SerializedError = Readonly<z.infer<typeof SerializedErrorSchema>>;

// Parent → child.
export const TrainerCommandSchema = z.discriminatedUnion('type', [
  /** Begin training. Sent once; a second start is refused. */
  z.object({ type: z.literal('start'), seq, request: TrainRequestSchema }),
  /** Instead of training: replay after a checkpoint, answer `verified`, and exit. A process does one or the other, once. */
  z.object({ type: z.literal('verify-resume'), seq, request: VerifyResumeRequestSchema }),
  z.object({ type: z.literal('pause'), seq }),
  z.object({ type: z.literal('resume'), seq }),
  /** Save a checkpoint after the current step (reason 'requested'). */
  z.object({ type: z.literal('save'), seq }),
  /** Graceful stop: a checkpoint at the current step (unless the policy's onStop is off), then exit 0. */
  z.object({ type: z.literal('stop'), seq }),
]);
export type TrainerCommand = Readonly<z.infer<typeof TrainerCommandSchema>>;
export type TrainerCommandType = TrainerCommand['type'];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TrainerLogSchema = z.object({ level: z.enum(LOG_LEVELS), text: z.string() });
export type TrainerLog = Readonly<z.infer<typeof TrainerLogSchema>>;

// Child → parent.
export const TrainerMessageSchema = z.discriminatedUnion('type', [
  /** The trainer listens for commands; the supervisor holds its commands back until then. */
  z.object({ type: z.literal('ready'), seq, pid: z.int() }),
  z.object({ type: z.literal('event'), seq, event: SessionEventSchema }),
  z.object({ type: z.literal('log'), seq, ...TrainerLogSchema.shape }),
  z.object({
    type: z.literal('error'),
    seq,
    error: SerializedErrorSchema,
    /** True when the trainer is going down because of it. */
    fatal: z.boolean(),
    /** The command this answers (a refused or invalid one), when there is one. */
    inReplyTo: seq.optional(),
  }),
  /** The answer to `verify-resume`, sent just before `exiting`. */
  z.object({ type: z.literal('verified'), seq, report: VerifyResumeReportSchema }),
  /** Sent last, just before the process exits with `code`. */
  z.object({ type: z.literal('exiting'), seq, code: z.int() }),
]);
export type TrainerMessage = Readonly<z.infer<typeof TrainerMessageSchema>>;
export type TrainerMessageType = TrainerMessage['type'];

/** What is sent before a sequence number is assigned. */
export type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

export const PROTOCOL_ERROR_NAME = 'TrainerProtocolError';

/** A message that failed validation or arrived out of sequence. */
export class TrainerProtocolError extends Error {
  override readonly name = PROTOCOL_ERROR_NAME;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = ErrorCodeSchema.safeParse((error as { code?: unknown }).code);
    return {
      name: error.name || 'Error',
      message: error.message,
      ...(code.success ? { code: code.data } : {}),
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
    };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function describeKind(raw: unknown): string {
  if (raw === null || typeof raw !== 'object') return raw === null ? 'null' : typeof raw;
  const type = (raw as { type?: unknown }).type;
  return typeof type === 'string' ? `"${type}" message` : 'message without a type';
}

export type Received<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly error: TrainerProtocolError; readonly seq?: number };

/**
 * Validates what one side received and checks it continues the sender's sequence. Keeps the
 * last accepted `seq`, so one instance per direction per process.
 */
export class MessageReceiver<T extends { readonly seq: number }> {
  private lastSeq = 0;

  constructor(
    private readonly schema: z.ZodType<T>,
    /** Who sent it, for error messages: "the trainer", "the supervisor". */
    private readonly sender: string,
  ) {}

  receive(raw: unknown): Received<T> {
    const parsed = this.schema.safeParse(raw);
    const rawSeq = typeof raw === 'object' && raw !== null ? (raw as { seq?: unknown }).seq : undefined;
    const seqOf = typeof rawSeq === 'number' && Number.isInteger(rawSeq) && rawSeq > 0 ? { seq: rawSeq } : {};
    if (!parsed.success) {
      const problems = z.prettifyError(parsed.error).replaceAll('\n', '; ');
      return { ok: false, error: new TrainerProtocolError(`invalid ${describeKind(raw)} from ${this.sender}, ignored: ${problems}`), ...seqOf };
    }
    const message = parsed.data;
    if (message.seq <= this.lastSeq) {
      return {
        ok: false,
        error: new TrainerProtocolError(`out-of-sequence ${describeKind(raw)} from ${this.sender}, ignored: seq ${message.seq} after ${this.lastSeq}`),
        seq: message.seq,
      };
    }
    this.lastSeq = message.seq;
    return { ok: true, message };
  }
}

/** Numbers outgoing messages. */
export class Sequencer {
  private last = 0;

  next<T extends object>(message: T): T & { readonly seq: number } {
    this.last += 1;
    return { ...message, seq: this.last };
  }
}
