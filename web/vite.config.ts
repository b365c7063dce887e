/**
 * The web app's build (`npm run build:web`): web/ → web/dist, served by the daemon at `/`.
 * Preact with the automatic JSX runtime; the graph is drawn by flowreg's own renderer
 * (src/core/renderSvg.ts), bundled from the sources.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
