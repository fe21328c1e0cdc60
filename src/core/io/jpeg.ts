/**
 * JPEG decoding with libjpeg-turbo: the TurboJPEG API of @cwasm/jpeg-turbo's WebAssembly build
 * (libjpeg-turbo 2.0, 139 kB), one build for the CLI, the tests, the worker and the page's decode
 * pool. PIL, OpenCV and browsers decode with libjpeg-turbo too, and with the same defaults (the
 * accurate integer IDCT, fancy upsampling), so slices come out bit-identical to PIL's
 * `Image.open(f).convert('L')` (tests/jpegDecode.test.ts checks it on the bundled and real folders).
 *
 * - gray JPEGs are decoded straight to one byte per pixel;
 * - YCbCr/RGB JPEGs are decoded to RGB and converted with PIL's luma (decode.ts `luma`), as PIL's
 *   convert('L') does after its RGB decode; CMYK/YCCK JPEGs are refused;
 * - a warning from libjpeg (data cut short, corrupt entropy data) is an error, as in PIL.
 *
 * Loading: in Node the .wasm is read from node_modules synchronously on first use (no init call
 * needed). In a browser page or worker call `loadJpegDecoder({ wasmUrl })` once (jpegBrowser.ts
 * gives the URL Vite emits) before decoding; decodeJpegGray is synchronous after that.
 */

/** The TurboJPEG exports of the build (C ABI, 32-bit pointers). */
interface TurboExports {
  memory: { buffer: ArrayBuffer };
  malloc(n: number): number;
  free(p: number): void;
  tjInitDecompress(): number;
  tjDecompressHeader3(handle: number, src: number, size: number, width: number, height: number, subsamp: number, colorspace: number): number;
  tjDecompress2(handle: number, src: number, size: number, dst: number, width: number, pitch: number, height: number, pixelFormat: number, flags: number): number;
  tjDestroy(handle: number): number;
}

/** TJPF_RGB, TJPF_GRAY; TJCS_GRAY, TJCS_CMYK, TJCS_YCCK. */
const TJPF_RGB = 0;
const TJPF_GRAY = 6;
const TJCS_GRAY = 2;
const TJCS_CMYK = 3;
const TJCS_YCCK = 4;

/** A decoding failure (corrupt or truncated data); decode.ts turns it into an InputError naming the file. */
export class JpegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JpegError';
  }
}

interface WasmLike {
  Module: new (bytes: Uint8Array | ArrayBuffer) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  compile(bytes: Uint8Array | ArrayBuffer): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: unknown }>;
}

const wasm = (): WasmLike => {
  const w = (globalThis as { WebAssembly?: WasmLike }).WebAssembly;
  if (!w) throw new Error('this JavaScript runtime has no WebAssembly');
  return w;
};

/** libjpeg's error exit longjmps: the build imports setjmp/longjmp, longjmp throws out of the decode. */
const imports = () => ({
  env: {
    setjmp: () => 0,
    longjmp: () => {
      throw new JpegError('corrupt JPEG data (libjpeg-turbo stopped decoding)');
    },
  },
  wasi_snapshot_preview1: {
    environ_sizes_get: () => 0,
    environ_get: () => 0,
    proc_exit: () => {
      throw new JpegError('libjpeg-turbo exited');
    },
    fd_close: () => 0,
    fd_seek: () => 0,
    fd_write: () => 0,
  },
});

let module: object | null = null;
let turbo: TurboExports | null = null;

function instantiateSync(): TurboExports {
  if (!module) module = new (wasm().Module)(nodeWasmBytes());
  return new (wasm().Instance)(module, imports()).exports as TurboExports;
}

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
  versions?: { node?: string };
}

/** The .wasm bytes from node_modules, in Node (>= 20.16: process.getBuiltinModule). */
function nodeWasmBytes(): Uint8Array {
  const proc = (globalThis as { process?: NodeProcess }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as { readFileSync(p: string): Uint8Array } | undefined;
  const nodeModule = proc?.getBuiltinModule?.('node:module') as { createRequire(from: string): { resolve(id: string): string } } | undefined;
  if (!fs || !nodeModule) {
    throw new Error('the JPEG decoder (libjpeg-turbo WASM) is not loaded: call loadJpegDecoder({ wasmUrl }) before decoding in a page or worker');
  }
  const from = (import.meta as { url?: string }).url ?? 'file:///';
  return fs.readFileSync(nodeModule.createRequire(from).resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm'));
}

/**
 * Loads the decoder (once): from `wasmBinary`, from `wasmUrl` (a page or worker: the URL of the
 * .wasm Vite emits, jpegBrowser.ts), or in Node from node_modules. Decoding is synchronous after it.
 */
export async function loadJpegDecoder(opts: { wasmUrl?: string; wasmBinary?: Uint8Array | ArrayBuffer } = {}): Promise<void> {
  if (turbo) return;
  if (!module) {
    let bytes = opts.wasmBinary;
    if (!bytes && opts.wasmUrl) {
      const f = (globalThis as { fetch?: (u: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }> }).fetch;
      if (!f) throw new Error('no fetch() to load the JPEG decoder');
      const r = await f(opts.wasmUrl);
      if (!r.ok) throw new Error(`the JPEG decoder (${opts.wasmUrl}) could not be loaded: HTTP ${r.status}`);
      bytes = await r.arrayBuffer();
    }
    module = await wasm().compile(bytes ?? nodeWasmBytes());
  }
  turbo = (await wasm().instantiate(module, imports())).exports as TurboExports;
}

export interface JpegGray {
  width: number;
  height: number;
  gray: Uint8Array;
}

/** PIL's RGB -> L on packed RGB. */
function rgbToGray(rgb: Uint8Array, n: number, out: Uint8Array): void {
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (rgb[j] * 19595 + rgb[j + 1] * 38470 + rgb[j + 2] * 7471 + 0x8000) >>> 16;
}

/** Where a decoded slice may go instead of a new array: `data` at `offset`, when the image is width x height. */
export interface GrayTarget {
  data: Uint8Array;
  offset: number;
  width: number;
  height: number;
}

/**
 * Decodes one JPEG to 8-bit gray, bit-identical to PIL's `Image.open(f).convert('L')`.
 * With `into`, an image of that size is written there straight from the decoder's memory and
 * `gray` is empty (no slice-sized array per decode); other sizes come back as usual.
 * Throws a JpegError for data libjpeg-turbo refuses or warns about.
 */
export function decodeJpegGray(bytes: Uint8Array, into?: GrayTarget): JpegGray {
  const t = (turbo ??= instantiateSync());
  let handle = 0;
  let src = 0;
  let meta = 0;
  let dst = 0;
  try {
    src = t.malloc(bytes.length);
    meta = t.malloc(16);
    handle = t.tjInitDecompress();
    if (!src || !meta || !handle) throw new JpegError('out of memory');
    new Uint8Array(t.memory.buffer, src, bytes.length).set(bytes);
    if (t.tjDecompressHeader3(handle, src, bytes.length, meta, meta + 4, meta + 8, meta + 12) !== 0) throw new JpegError('not a readable JPEG header');
    const [width, height, , colorspace] = new Int32Array(t.memory.buffer, meta, 4);
    if (colorspace === TJCS_CMYK || colorspace === TJCS_YCCK) throw new JpegError('CMYK JPEGs are not supported; save the slices as gray or RGB');
    const gray = colorspace === TJCS_GRAY;
    const channels = gray ? 1 : 3;
    const n = width * height;
    dst = t.malloc(n * channels);
    if (!dst) throw new JpegError(`out of memory for a ${width} x ${height} image`);
    if (t.tjDecompress2(handle, src, bytes.length, dst, width, width * channels, height, gray ? TJPF_GRAY : TJPF_RGB, 0) !== 0) {
      throw new JpegError('corrupt or truncated JPEG data');
    }
    const pixels = new Uint8Array(t.memory.buffer, dst, n * channels);
    const target = into && into.width === width && into.height === height ? into.data.subarray(into.offset, into.offset + n) : null;
    if (target && target.length !== n) throw new JpegError(`no room for a ${width} x ${height} slice at ${into!.offset}`);
    const out = target ?? (gray ? pixels.slice() : new Uint8Array(n));
    if (!gray) rgbToGray(pixels, n, out);
    else if (target) target.set(pixels);
    return { width, height, gray: target ? new Uint8Array(0) : out };
  } catch (e) {
    // libjpeg longjmp'd out of the decoder: its state (and what it allocated) is lost, start a new instance
    if (!(e instanceof JpegError) || /stopped decoding|exited/.test(e.message)) turbo = null;
    throw e instanceof JpegError ? e : new JpegError((e as Error).message ?? String(e));
  } finally {
    if (turbo === t) {
      if (handle) t.tjDestroy(handle);
      if (src) t.free(src);
      if (meta) t.free(meta);
      if (dst) t.free(dst);
    }
  }
}
