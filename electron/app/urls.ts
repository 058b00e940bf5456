// Which URLs the window may show, and which may be handed to the user's browser. Pure, so the
// rules are tested without Electron.
import { isAppUrl } from '../host/ipc-guard.js';

/** Our own pages: the window may navigate among these and nothing else. */
export function isOwnUrl(url: string): boolean {
  return isAppUrl(url);
}

/** Links the user's browser may open (never file:, javascript:, a custom scheme, …). */
export function isExternalWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
