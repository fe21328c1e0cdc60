/**
 * The onnxruntime-web runtime files the inference worker loads from the app's own origin (ort/,
 * env.wasm.wasmPaths): the JSEP build for WebGPU sessions and the WASM-only build for WASM sessions.
 * vite.config.ts serves and copies them; src/ui/share/offline.ts asks the service worker to keep
 * them. public/sw.js (plain JavaScript, no build step) lists them again, and
 * tests/ortFiles.test.ts checks that its list is this one.
 */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'] as const;
