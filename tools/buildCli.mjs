#!/usr/bin/env node
/**
 * npm run build:cli: bundles the command line (src/cli/main.ts) and its decode worker thread
 * (src/cli/decodeWorker.ts) with esbuild into dist-cli/main.mjs and dist-cli/decodeWorker.mjs, so
 * that `voxelbench` (bin/voxelbench.mjs) starts as plain JavaScript instead of compiling
 * TypeScript at every call. Dependencies stay in node_modules (onnxruntime-node is native; the
 * WASM codecs find their .wasm there). Plain JavaScript itself, so it runs before anything is built.
 *   node tools/buildCli.mjs [--out DIR]
 */
/* global process */
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const i = process.argv.indexOf('--out');
const outdir = resolve(ROOT, i > 0 ? process.argv[i + 1] : 'dist-cli');

/** Vite `?url` imports live in browser-only modules that Node never runs (openjpegBrowser.ts): an empty URL. */
const browserUrlStub = {
  name: 'browser-url-stub',
  setup(b) {
    b.onResolve({ filter: /\?url$/ }, (a) => ({ path: a.path, namespace: 'browser-url' }));
    b.onLoad({ filter: /.*/, namespace: 'browser-url' }, () => ({ contents: "export default '';", loader: 'js' }));
  },
};

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/cli/main.ts', decodeWorker: 'src/cli/decodeWorker.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // commands are imported when called (src/cli/main.ts): `infer` loads neither the presets nor the readers
  splitting: true,
  chunkNames: '[name]-[hash]', // next to main.mjs and decodeWorker.mjs (the decode pool finds its worker script next to itself)
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // everything but the native runtime and the WASM codecs (which find their .wasm next to themselves) in one file: one read and parse at start-up
  external: ['onnxruntime-node', '@cornerstonejs/*', '@cwasm/*'],
  plugins: [browserUrlStub],
  // CommonJS dependencies that require() Node built-ins (dicom-parser: zlib) get a real require
  banner: { js: "import { createRequire as __vbRequire } from 'node:module'; const require = __vbRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
  metafile: true,
});

// chunks are named by their hash: a rebuild leaves the last build's chunks behind unless they go
const built = new Set(Object.keys(result.metafile.outputs).map((f) => relative(outdir, resolve(ROOT, f))));
for (const f of readdirSync(outdir)) if (!built.has(f)) rmSync(join(outdir, f), { recursive: true, force: true });
