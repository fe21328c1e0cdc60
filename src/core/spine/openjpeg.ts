/**
 * JPEG 2000 decoding with @cornerstonejs/codec-openjpeg (OpenJPEG compiled to WASM), loaded on first
 * use. In Node (CLI, tests) the Emscripten module finds its .wasm next to itself; in a browser page
 * or worker the .wasm address comes from a Vite `?url` import (openjpegBrowser.ts, imported
 * dynamically only there), unless configureOpenJpeg gave a URL or the bytes.
 */

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete?(): void;
}

interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

type OpenJpegFactory = (opts?: {
  locateFile?: (path: string, dir: string) => string;
  wasmBinary?: ArrayBuffer;
  print?: (s: string) => void;
  printErr?: (s: string) => void;
}) => Promise<OpenJpegModule>;

let config: { wasmUrl?: string; wasmBinary?: ArrayBuffer } = {};
let loading: Promise<OpenJpegModule> | null = null;

/** Where the decoder's .wasm is (browser: a URL from the bundler) or its bytes. Call before the first decode. */
export function configureOpenJpeg(c: { wasmUrl?: string; wasmBinary?: ArrayBuffer }): void {
  config = { ...c };
  loading = null;
}

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof proc?.versions === 'object' && typeof proc.versions.node === 'string';
}

async function load(): Promise<OpenJpegModule> {
  loading ??= (async () => {
    const mod = (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')) as unknown as { default: OpenJpegFactory | { default: OpenJpegFactory } };
    const d = mod.default;
    const factory: OpenJpegFactory = typeof d === 'function' ? d : d.default;
    const url = config.wasmUrl ?? (!config.wasmBinary && !isNode() ? (await import('./openjpegBrowser')).openJpegWasmUrl : undefined);
    return factory({
      // OpenJPEG logs every header it reads: keep the console quiet
      print: () => undefined,
      printErr: () => undefined,
      ...(url ? { locateFile: (path: string, dir: string) => (path.endsWith('.wasm') ? url : dir + path) } : {}),
      ...(config.wasmBinary ? { wasmBinary: config.wasmBinary } : {}),
    });
  })();
  try {
    return await loading;
  } catch (e) {
    loading = null;
    throw new Error(`the JPEG 2000 decoder (OpenJPEG WASM) could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export interface J2kImage {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  signed: boolean;
  /** Little-endian samples: 1 byte each up to 8 bits, 2 bytes above. */
  data: Uint8Array;
}

/** Decodes one JPEG 2000 codestream (or JP2 file). */
export async function decodeJpeg2000(bytes: Uint8Array): Promise<J2kImage> {
  const m = await load();
  const dec = new m.J2KDecoder();
  try {
    dec.getEncodedBuffer(bytes.length).set(bytes);
    try {
      dec.decode();
    } catch (e) {
      throw new Error(`JPEG 2000 decoding failed: ${e instanceof Error ? e.message : typeof e === 'number' ? `OpenJPEG error ${e}` : String(e)}`, { cause: e });
    }
    const info = dec.getFrameInfo();
    const data = dec.getDecodedBuffer().slice();
    return { width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount, signed: info.isSigned, data };
  } finally {
    dec.delete?.();
  }
}
