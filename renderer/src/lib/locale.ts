// Chromium started under LANG=C.UTF-8 (common on Linux servers and containers) reports its
// language as `en-US@posix`, a POSIX locale name that is not a BCP 47 tag: `Intl` throws on it,
// and so does any library that passes navigator.language to Intl (uPlot does, when its module
// loads). Everything here falls back to a tag Intl accepts.

const FALLBACK = 'en-US';

function accepted(tag: string): boolean {
  try {
    new Intl.DateTimeFormat(tag);
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

/**
 * A locale Intl accepts, as close to `reported` as possible: the tag itself, else its POSIX form
 * cleaned up (`en_US.UTF-8@posix` → `en-US`), else its language alone, else en-US.
 */
export function safeLocale(reported: string | null | undefined): string {
  // `C` and `POSIX` name no language, though `posix` is a well-formed tag Intl would take.
  if (!reported || /^(c|posix)([._@].*)?$/i.test(reported)) return FALLBACK;
  if (accepted(reported)) return reported;
  const cleaned = reported.split(/[.@]/)[0]?.replace(/_/g, '-') ?? '';
  if (cleaned && accepted(cleaned)) return cleaned;
  const language = cleaned.split('-')[0] ?? '';
  if (language && accepted(language)) return language;
  return FALLBACK;
}

/** The locale every formatter of the renderer uses. */
export const locale: string = safeLocale(typeof navigator === 'undefined' ? undefined : navigator.language);
