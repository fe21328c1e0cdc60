/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Cross-origin isolation: lets onnxruntime-web's WASM backend run multi-threaded. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The onnxruntime-web runtime files, served from the app's own origin under ort/ (never a CDN). */
const ORT_DIR = resolve(import.meta.dirname, 'node_modules/onnxruntime-web/dist');
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'];

function ortRuntime(): Plugin {
  let outDir = 'dist';
  const serve = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void): void => {
    const m = /\/ort\/([^/?#]+)/.exec(req.url ?? '');
    if (!m || !ORT_FILES.includes(m[1])) return next();
    res.setHeader('Content-Type', m[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
    createReadStream(resolve(ORT_DIR, m[1])).pipe(res);
  };
  return {
    name: 'voxelbench-ort-runtime',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(serve);
    },
    configurePreviewServer(server) {
      server.middlewares.use(serve);
    },
    closeBundle() {
      if (!existsSync(outDir)) return;
      mkdirSync(resolve(outDir, 'ort'), { recursive: true });
      for (const f of ORT_FILES) copyFileSync(resolve(ORT_DIR, f), resolve(outDir, 'ort', f));
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [react(), ortRuntime()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // VB_DIST: a separate build folder, so parallel e2e runs do not overwrite each other's (see playwright.config.ts)
    outDir: process.env.VB_DIST ?? 'dist',
    chunkSizeWarningLimit: 4096,
    // the app, plus a UI-less harness page that e2e tests and `npm run bench` drive
    rolldownOptions: { input: { main: resolve(import.meta.dirname, 'index.html'), harness: resolve(import.meta.dirname, 'e2e/harness.html') } },
  },
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
