/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ORT_FILES } from './src/worker/ortFiles';

/** Cross-origin isolation: lets onnxruntime-web's WASM backend run multi-threaded. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Content-Security-Policy (README, Security): scripts, workers and WASM only from the app's own
 * origin; images also from data: and blob: (Niivue's font atlas and decoded images); fetches from
 * the app and, for link files the user agreed to load (src/ui/share/consent.ts), any https site.
 * index.html and e2e/harness.html carry it as a meta tag; the deploy files (deploy/*,
 * public/_headers) and `vite preview` send it as a header with frame-ancestors (which a meta tag
 * cannot set). tests/csp.test.ts checks that they all agree.
 */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' https:; media-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'";
export const CSP_HEADER = `${CSP}; frame-ancestors 'self'`;

/** The dev server's hot reload needs inline scripts and styles: its index.html goes without the meta tag. */
function cspDev(): Plugin {
  return {
    name: 'voxelbench-csp-dev',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, ''),
  };
}

/** The onnxruntime-web runtime files, served from the app's own origin under ort/ (never a CDN). */
const ORT_DIR = resolve(import.meta.dirname, 'node_modules/onnxruntime-web/dist');

function ortRuntime(): Plugin {
  let outDir = 'dist';
  const serve = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void): void => {
    const m = /\/ort\/([^/?#]+)/.exec(req.url ?? '');
    if (!m || !(ORT_FILES as readonly string[]).includes(m[1])) return next();
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
    // onnxruntime-web's bundle names its WebAssembly with `new URL(…, import.meta.url)` as a fallback
    // for when env.wasm.wasmPaths is unset; Vite emits hashed copies of it (42 MB) that nothing loads,
    // since the worker and the harness always set wasmPaths to ort/. The service worker would cache them.
    generateBundle(_options, bundle) {
      for (const [name, chunk] of Object.entries(bundle)) if (chunk.type === 'asset' && /^(assets\/)?ort-wasm-simd-threaded[\w.-]*\.wasm$/.test(name)) delete bundle[name];
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
  plugins: [react(), ortRuntime(), cspDev()],
  server: { headers: isolation },
  preview: { headers: { ...isolation, 'Content-Security-Policy': CSP_HEADER } },
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
    // one test file per core (vitest's default leaves one core to its main process): most files wait
    // on CLI processes or run single-threaded, and on 2 cores `npm run test:unit` took 192 s instead of 250
    maxWorkers: availableParallelism(),
    // the CLI tests' processes run one build of the CLI made here per run (tests/cliRunner.ts)
    globalSetup: ['tests/cliBuild.setup.ts'],
  },
});
