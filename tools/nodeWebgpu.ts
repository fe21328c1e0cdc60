/**
 * WebGPU in Node: Dawn's `navigator.gpu` (npm package `webgpu`) under onnxruntime-web's WebGPU
 * build, so that the worker's GPU code (src/worker/gpu) runs without a browser — on a machine with
 * a GPU and no browser (tools/device-bench.sh), or here on a CPU adapter (SwiftShader).
 *
 * What it sets up, and why:
 * - Vulkan: Dawn loads libvulkan.so.1. Where the system has none, Chromium's copy and its
 *   SwiftShader driver (/usr/lib/chromium) are used: the loader path must be set before the
 *   process starts, so `ensureVulkan()` runs the script again with LD_LIBRARY_PATH and
 *   VK_ICD_FILENAMES set (VB_VULKAN=system|swiftshader forces one).
 * - `navigator.gpu` and the WebGPU globals (GPUBufferUsage, ...) from Dawn.
 * - onnxruntime-web's JSEP build (dist/ort.mjs, the one the page uses), imported by file: the
 *   package's "node" export is the WASM-only build.
 * - Dawn's writeBuffer does not take a SharedArrayBuffer, which onnxruntime-web's threaded WASM
 *   memory is: such uploads (weights at session creation) are copied first.
 * - a keep-alive timer: with nothing else pending, Node waits for V8's background WASM compile of
 *   onnxruntime (tens of seconds) before it runs Dawn's callbacks.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Ort } from '../src/worker/gpu';

const CHROMIUM_LIB = '/usr/lib/chromium';

function systemVulkan(): boolean {
  const r = spawnSync('sh', ['-c', 'ldconfig -p 2>/dev/null | grep -q "libvulkan.so.1"']);
  return r.status === 0;
}

/**
 * Makes sure Dawn can find a Vulkan driver: re-runs this process in a child with Chromium's Vulkan
 * loader and SwiftShader when the system has no libvulkan, or as is (returns only in the child).
 * The parent never loads Dawn and exits with the child's code: Dawn's teardown can hang in
 * process.exit (seen here on SwiftShader), so the child ends with `exitNow`.
 */
export function ensureVulkan(): void {
  if (process.env.VB_VULKAN_SET) return;
  const want = process.env.VB_VULKAN ?? (systemVulkan() ? 'system' : 'swiftshader');
  const env: NodeJS.ProcessEnv = { ...process.env, VB_VULKAN_SET: '1' };
  if (want !== 'system') {
    if (!existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`)) {
      console.error(`no libvulkan.so.1 on this system and none under ${CHROMIUM_LIB}: install libvulkan1 and a driver (mesa-vulkan-drivers for a CPU one)`);
      return;
    }
    env.LD_LIBRARY_PATH = [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    env.VK_ICD_FILENAMES = `${CHROMIUM_LIB}/vk_swiftshader_icd.json`;
  }
  const dir = mkdtempSync(resolve(tmpdir(), 'vb-exit-'));
  env.VB_EXIT_FILE = resolve(dir, 'code');
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
  const code = existsSync(env.VB_EXIT_FILE) ? Number(readFileSync(env.VB_EXIT_FILE, 'utf8')) : (r.status ?? 1);
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

/** Ends the process now with `code` (told to the parent of ensureVulkan, then SIGKILL: Dawn's teardown can hang). */
export function exitNow(code: number): never {
  const file = process.env.VB_EXIT_FILE;
  if (!file) process.exit(code);
  writeFileSync(file, String(code));
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

export interface NodeWebgpu {
  ort: Ort;
  adapter: GPUAdapter;
  /** "vendor architecture description" of the adapter. */
  adapterName: string;
  shaderF16: boolean;
  /** Bytes written to GPU buffers with queue.writeBuffer so far (the GPU-resident path's uploads all go through it). */
  writtenBytes(): number;
  /** Stops the keep-alive timer (call before exiting). */
  close(): void;
}

/** Sets up Dawn's WebGPU and onnxruntime-web's WebGPU build in this Node process. */
export async function nodeWebgpu(opts: { threads?: number } = {}): Promise<NodeWebgpu> {
  const keep = setInterval(() => undefined, 1000);
  const require = createRequire(import.meta.url);
  const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const queue = (dawn.globals.GPUQueue as { prototype: GPUQueue }).prototype;
  const writeBuffer = queue.writeBuffer;
  let written = 0;
  queue.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) {
    const el = ArrayBuffer.isView(data) ? ((data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
    written += size !== undefined ? size * el : data.byteLength - (dataOffset ?? 0) * el;
    if (typeof SharedArrayBuffer !== 'undefined') {
      if (data instanceof SharedArrayBuffer) {
        const n = size ?? data.byteLength - (dataOffset ?? 0);
        return writeBuffer.call(this, buffer, offset, new Uint8Array(data, dataOffset ?? 0, n).slice(), 0, n);
      }
      if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
        const el = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
        const from = (dataOffset ?? 0) * el;
        const n = size !== undefined ? size * el : bytes.byteLength - from;
        return writeBuffer.call(this, buffer, offset, bytes, from, n);
      }
    }
    return size === undefined ? writeBuffer.call(this, buffer, offset, data as BufferSource, dataOffset) : writeBuffer.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: 1, userAgent: 'node' }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (no Vulkan driver?)');
  // the JSEP build's files sit together in dist/ (resolved through a file the harness loads, so
  // that a pruned copy of the package, as tools/pack-device-bench.sh carries, resolves too)
  const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
  const ort = (await import(pathToFileURL(resolve(ortDist, 'ort.mjs')).href)) as Ort;
  ort.env.wasm.numThreads = opts.threads ?? 1;
  ort.env.logLevel = 'error';
  ort.env.webgpu.adapter = adapter as unknown as typeof ort.env.webgpu.adapter;
  const info = adapter.info;
  return {
    ort,
    adapter,
    adapterName: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown adapter',
    shaderF16: adapter.features.has('shader-f16'),
    writtenBytes: () => written,
    close: () => clearInterval(keep),
  };
}
