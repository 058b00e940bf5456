// Imported first by main.ts, before any module that may read navigator.language at load time
// (uPlot builds an Intl.NumberFormat from it when its module is evaluated). When the browser's
// own tag is one Intl refuses, navigator.language and .languages are replaced, on this page only,
// by the nearest tag it accepts; otherwise nothing changes.
import { safeLocale } from './locale';

export function guardNavigatorLanguage(nav: Navigator): void {
  const safe = safeLocale(nav.language);
  if (safe === nav.language) return;
  const languages = Object.freeze([safe, ...nav.languages.filter((tag) => safeLocale(tag) === tag && tag !== safe)]);
  Object.defineProperty(nav, 'language', { configurable: true, get: () => safe });
  Object.defineProperty(nav, 'languages', { configurable: true, get: () => languages });
}

if (typeof navigator !== 'undefined') guardNavigatorLanguage(navigator);
