// The messages between supervisor and trainer: what is valid, what is refused and how the
// refusal names the problem, sequencing, and errors as plain data.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  MessageReceiver,
  Sequencer,
  type TrainerCommand,
  TrainerCommandSchema,
  type TrainerMessage,
  TrainerMessageSchema,
  TrainerProtocolError,
  serializeError,
} from '../../electron/core/training/process/trainer-protocol.js';
import { TrainRequestSchema } from '../../electron/core/training/process/train-request.js';
import { TINY_CONFIG } from './helpers.js';

const request = TrainRequestSchema.parse({ workspace: '/tmp/ws', run: 'r', config: TINY_CONFIG, checkpoints: {} });

const COMMANDS: TrainerCommand[] = [
  { type: 'start', seq: 1, request },
  { type: 'pause', seq: 2 },
  { type: 'resume', seq: 3 },
  { type: 'save', seq: 4 },
  { type: 'stop', seq: 5 },
];

const MESSAGES: TrainerMessage[] = [
  { type: 'ready', seq: 1, pid: 123 },
  { type: 'event', seq: 2, event: { type: 'paused', step: 7 } },
  { type: 'log', seq: 3, level: 'warn', text: 'careful' },
  { type: 'error', seq: 4, error: { name: 'RangeError', message: 'out of range', stack: 'RangeError: out of range\n    at x' }, fatal: true },
  { type: 'error', seq: 5, error: { name: 'TrainerCommandRefused', message: 'no' }, fatal: false, inReplyTo: 2 },
  { type: 'exiting', seq: 6, code: 0 },
];

describe('trainer protocol schemas', () => {
  it('accept every kind of command and message, also after structured cloning', () => {
    for (const command of COMMANDS) expect(TrainerCommandSchema.parse(v8.deserialize(v8.serialize(command)))).toEqual(command);
    for (const message of MESSAGES) expect(TrainerMessageSchema.parse(v8.deserialize(v8.serialize(message)))).toEqual(message);
  });

  it.each([
    ['no seq', { type: 'pause' }, /seq/],
    ['a seq of 0', { type: 'pause', seq: 0 }, /seq/],
    ['an unknown type', { type: 'explode', seq: 1 }, /type/],
    ['a start without a request', { type: 'start', seq: 1 }, /request/],
    ['a start with an invalid request', { type: 'start', seq: 1, request: { workspace: '', checkpoints: {} } }, /request\.workspace/],
    ['a start with an unknown backend', { type: 'start', seq: 1, request: { workspace: 'w', checkpoints: {}, backend: 'gpu' } }, /request\.backend/],
  ])('refuse a command with %s', (_what, raw, problem) => {
    const result = TrainerCommandSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(new MessageReceiver(TrainerCommandSchema, 'the supervisor').receive(raw)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(problem) },
    });
  });

  it.each([
    ['a session event of an unknown type', { type: 'event', seq: 1, event: { type: 'exploded' } }, /event\.type/],
    ['a paused event at a fractional step', { type: 'event', seq: 1, event: { type: 'paused', step: 1.5 } }, /event\.step/],
    ['a log with an unknown level', { type: 'log', seq: 1, level: 'loud', text: 'x' }, /level/],
    ['an error without a message', { type: 'error', seq: 1, error: { name: 'E' }, fatal: true }, /error\.message/],
    ['an exit code that is text', { type: 'exiting', seq: 1, code: 'zero' }, /code/],
  ])('refuse a message with %s', (_what, raw, problem) => {
    expect(new MessageReceiver(TrainerMessageSchema, 'the trainer').receive(raw)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(problem) },
    });
  });
});

describe('MessageReceiver', () => {
  it('names the sender, the kind of message and what is wrong, and keeps the seq for a reply', () => {
    const receiver = new MessageReceiver(TrainerCommandSchema, 'the supervisor');
    const result = receiver.receive({ type: 'start', seq: 4, request: { workspace: 7 } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(TrainerProtocolError);
    expect(result.error.name).toBe('TrainerProtocolError');
    expect(result.error.message).toMatch(/^invalid "start" message from the supervisor, ignored: .*request\.workspace/);
    expect(result.seq).toBe(4);
    expect(receiver.receive('hello')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/invalid string from the supervisor/) } });
    expect(receiver.receive(null)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/invalid null/) } });
  });

  it('accepts only rising sequence numbers; a refused message does not move the sequence', () => {
    const receiver = new MessageReceiver(TrainerCommandSchema, 'the supervisor');
    expect(receiver.receive({ type: 'pause', seq: 1 }).ok).toBe(true);
    expect(receiver.receive({ type: 'pause', seq: 'two' }).ok).toBe(false);
    expect(receiver.receive({ type: 'resume', seq: 2 }).ok).toBe(true);
    const replay = receiver.receive({ type: 'resume', seq: 2 });
    expect(replay).toMatchObject({ ok: false, seq: 2, error: { message: expect.stringMatching(/out-of-sequence "resume" message .*seq 2 after 2/) } });
    expect(receiver.receive({ type: 'stop', seq: 1 }).ok).toBe(false);
    // Gaps are fine (a refused message in between is not resent).
    expect(receiver.receive({ type: 'stop', seq: 9 }).ok).toBe(true);
  });
});

describe('Sequencer', () => {
  it('numbers messages 1, 2, 3 …', () => {
    const sequencer = new Sequencer();
    expect([sequencer.next({ type: 'pause' }), sequencer.next({ type: 'stop' })]).toEqual([
      { type: 'pause', seq: 1 },
      { type: 'stop', seq: 2 },
    ]);
  });
});

describe('serializeError', () => {
  it('keeps the name, message and stack of an Error subclass', () => {
    class DiskFullError extends Error {
      override readonly name = 'DiskFullError';
    }
    const error = new DiskFullError('no space left on /data');
    const serialized = serializeError(error);
    expect(serialized).toEqual({ name: 'DiskFullError', message: 'no space left on /data', stack: error.stack });
    expect(serialized.stack).toContain('DiskFullError: no space left on /data');
  });

  it('turns anything else thrown into an Error-shaped record', () => {
    expect(serializeError('plain text')).toEqual({ name: 'Error', message: 'plain text' });
    expect(serializeError({ code: 3 })).toEqual({ name: 'Error', message: '{"code":3}' });
    expect(serializeError(undefined)).toEqual({ name: 'Error', message: 'undefined' });
  });
});
