// The renderer's build: `vite build renderer` makes this folder the root, so the config needs no
// Node path helpers (the renderer's lint rules forbid them) and writes to renderer/dist, which
// browser mode serves and Electron loads.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs: Electron loads the page from a file:// URL, browser mode from /.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small app: a warning at 500 kB would only be noise about uPlot and zod.
    chunkSizeWarningLimit: 1000,
  },
});
