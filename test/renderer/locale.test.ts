// The locale trap: Chromium under LANG=C.UTF-8 reports `en-US@posix`, which Intl refuses (and so
// does uPlot, at import). The renderer falls back to the nearest tag Intl accepts.
import { describe, expect, it } from 'vitest';
import { safeLocale } from '../../renderer/src/lib/locale';
import { guardNavigatorLanguage } from '../../renderer/src/lib/locale-guard';

describe('safeLocale', () => {
  it('keeps a tag Intl accepts', () => {
    expect(safeLocale('fr-FR')).toBe('fr-FR');
    expect(safeLocale('en-US')).toBe('en-US');
  });

  it('turns POSIX locale names into the tag they mean', () => {
    expect(() => new Intl.DateTimeFormat('en-US@posix')).toThrow(RangeError);
    expect(safeLocale('en-US@posix')).toBe('en-US');
    expect(safeLocale('de_DE.UTF-8')).toBe('de-DE');
    expect(safeLocale('pt_BR.UTF-8@euro')).toBe('pt-BR');
  });

  it('falls back to en-US for what names no language', () => {
    for (const reported of ['C', 'POSIX', 'C.UTF-8', '', null, undefined, '@@']) expect(safeLocale(reported)).toBe('en-US');
  });

  it('is always a tag both date and number formatting accept', () => {
    for (const reported of ['en-US@posix', 'zz_ZZ@x', '*', 'de_DE.UTF-8']) {
      const tag = safeLocale(reported);
      expect(() => new Intl.DateTimeFormat(tag).format(0)).not.toThrow();
      expect(() => new Intl.NumberFormat(tag).format(1)).not.toThrow();
    }
  });
});

describe('the navigator guard', () => {
  function fakeNavigator(language: string, languages: string[]): Navigator {
    // Only the two properties the guard reads and replaces.
    return { language, languages } as unknown as Navigator;
  }

  it('replaces a language Intl refuses, so libraries that read it at load time work', () => {
    const nav = fakeNavigator('en-US@posix', ['en-US@posix', 'fr-FR']);
    guardNavigatorLanguage(nav);
    expect(nav.language).toBe('en-US');
    expect(nav.languages).toEqual(['en-US', 'fr-FR']);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });

  it('leaves a valid language alone', () => {
    const nav = fakeNavigator('fr-FR', ['fr-FR', 'en']);
    guardNavigatorLanguage(nav);
    expect(nav.language).toBe('fr-FR');
    expect(nav.languages).toEqual(['fr-FR', 'en']);
  });
});
