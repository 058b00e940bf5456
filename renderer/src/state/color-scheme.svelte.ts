// Whether the system asks for dark colours, followed live: the charts draw on a canvas, which
// CSS variables alone cannot recolour.
class ColorScheme {
  dark = $state(false);

  constructor() {
    if (typeof matchMedia !== 'function') return;
    const query = matchMedia('(prefers-color-scheme: dark)');
    this.dark = query.matches;
    query.addEventListener('change', () => {
      this.dark = query.matches;
    });
  }
}

export const colorScheme = new ColorScheme();
