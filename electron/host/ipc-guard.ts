// Every IPC call from the renderer passes here before anything touches the disk: the sender must
// be our own page in our own window's top frame, the method one of the contract's, and the
// parameters what its schema accepts. Pure, so it is tested without Electron.
import { type StudioApi, type StudioMethod, studioMethods } from '../contract.js';
import { errorData } from '../core/studio/errors.js';
import type { IpcReply } from './ipc-protocol.js';

/** The origin the app's pages are served from (a privileged custom scheme, never file://). */
export const APP_ORIGIN = 'app://studio';

export interface IpcSender {
  /** The URL of the frame that sent the call; null when the frame is gone. */
  readonly url: string | null;
  /** Whether it is the top frame of the window we opened. */
  readonly isOurMainFrame: boolean;
}

/**
 * Whether a URL is one of our pages. Compared by scheme and host: for a custom scheme Node's URL
 * says the origin is "null" (Chromium, where the scheme is registered as standard, says app://studio).
 */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}` === APP_ORIGIN && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

export function isTrustedSender(sender: IpcSender): boolean {
  return sender.isOurMainFrame && sender.url !== null && isAppUrl(sender.url);
}

/** Answers one call: refused, invalid, or the Studio's result or error, as plain data. */
export async function answerIpcCall(api: StudioApi, sender: IpcSender, method: string, params: unknown): Promise<IpcReply> {
  if (!isTrustedSender(sender))
    return {
      ok: false,
      error: { code: 'refused', message: `a call from ${sender.url ?? 'a frame that is gone'} was refused: only the app's own window may call it` },
    };
  if (!Object.hasOwn(studioMethods, method)) return { ok: false, error: { code: 'usage', message: `no such method: ${method}` } };
  const name = method as StudioMethod;
  const parsed = studioMethods[name].params.safeParse(params);
  if (!parsed.success) return { ok: false, error: errorData(parsed.error) };
  try {
    const invoke = api[name] as (params?: unknown) => Promise<unknown>;
    // The receiver validates the answer (the preload, in the page's process), not this main process.
    return { ok: true, result: await invoke(parsed.data) };
  } catch (error) {
    return { ok: false, error: errorData(error) };
  }
}
