// Browser mode's token, on the page's side. The printed address carries it in its fragment
// (#token=…), which browsers never send to any server; the page moves it into this tab's
// sessionStorage (kept across reloads, private to this origin, which unlike a cookie includes the
// port) and takes it out of the address bar, so it is not in the history, a bookmark or a
// screenshot. The page then presents it to the API itself: as a WebSocket subprotocol and in an
// upload's header.

const KEY = 'checkpoint-studio.token';

/** What this module needs of a window: the browser's, or a stand-in in tests. */
export interface TokenWindow {
  readonly location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  readonly history: Pick<History, 'replaceState' | 'state'>;
  readonly sessionStorage: Pick<Storage, 'getItem' | 'setItem'>;
}

/** Kept here too: a browser that refuses sessionStorage (a privacy setting) still works until the tab reloads. */
let held: string | null = null;

function fragmentToken(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token !== null && token !== '' ? token : null;
}

/**
 * Moves a token in the address's fragment into this tab's storage and out of the address bar;
 * returns this tab's token (null: the page was opened without one, and the API will refuse it).
 */
export function adoptToken(win: TokenWindow): string | null {
  const fromAddress = fragmentToken(win.location.hash);
  if (fromAddress !== null) {
    held = fromAddress;
    try {
      win.sessionStorage.setItem(KEY, fromAddress);
    } catch {
      // Storage refused: the token lives in this page only.
    }
    win.history.replaceState(win.history.state, '', `${win.location.pathname}${win.location.search}`);
  }
  return tabToken(win);
}

/** This tab's token, as adoptToken left it. */
export function tabToken(win: Pick<TokenWindow, 'sessionStorage'> = window): string | null {
  if (held !== null) return held;
  try {
    held = win.sessionStorage.getItem(KEY);
  } catch {
    held = null;
  }
  return held;
}

/** Forgets the token held in memory (tests: each starts as a fresh page). */
export function forgetHeldToken(): void {
  held = null;
}
