// What crosses Electron IPC between the preload (in the page's process) and the main process: the
// channel names, written once for both sides, and the envelopes each side checks on receipt. It
// imports nothing but zod and the contract: the sandboxed preload bundles it.
import { z } from 'zod';
import { type StudioEventName, StudioErrorDataSchema, studioEvents } from '../contract.js';

/** Page → main, invoke: one StudioApi call (method, params), answered with an IpcReply. */
export const CALL_CHANNEL = 'studio:call';
/** Main → page: one Studio event, as an IpcEvent. */
export const EVENT_CHANNEL = 'studio:event';
/** Page → main: the page listens now, so the events held back until then may come. */
export const READY_CHANNEL = 'studio:ready';
/** Page → main, invoke: the native folder dialog ("Open workspace…"), a host capability outside the StudioApi. */
export const CHOOSE_FOLDER_CHANNEL = 'studio:choose-folder';

/** A call's answer: the Studio's result (checked against the contract by the preload), or its error as data. */
export const IpcReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: StudioErrorDataSchema }),
]);
export type IpcReply = z.infer<typeof IpcReplySchema>;

const EVENT_NAMES = Object.keys(studioEvents) as [StudioEventName, ...StudioEventName[]];

/** One event; its payload is checked against the contract's schema for that event by the preload. */
export const IpcEventSchema = z.object({ event: z.enum(EVENT_NAMES), payload: z.unknown() });
export type IpcEvent = z.infer<typeof IpcEventSchema>;
