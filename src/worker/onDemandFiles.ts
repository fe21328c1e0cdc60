/**
 * Files the page hands the worker unread (a preset with `inputs.readsOnDemand`: motors), as
 * InputFiles read here when the preset asks: `bytes` with FileReaderSync (each access reads the file
 * again; such presets take it once), `load` with Blob.arrayBuffer, `range` with Blob.slice (MRC
 * slabs through BYOB stream readers into reused buffers, two in flight; with Blob.arrayBuffer, one
 * buffer per slab, once a read stalls or fails, or where the browser has no BYOB reader). A slice
 * folder is then read one slice at a time and an MRC tomogram one slab at a time, instead of every
 * byte first (a 500-slice folder held 235 MB of JPEG bytes in the worker for the whole read; a
 * float32 MRC, four times the volume).
 */
import type { InputFile } from '../core/preset/types';
import { InputError } from '../core/volume';
import type { WorkerInputFile } from './protocol';

const unreadable = (path: string, e: unknown): InputError =>
  new InputError(`${path}: the file could not be read (${(e as Error).message ?? e}); was it moved or changed after it was dropped?`);

/** A BYOB read that brings nothing for this long is given up for Blob.arrayBuffer. */
export const BYOB_STALL_MS = 10_000;

/** A BYOB read brought nothing for `stallMs` (Chromium's reads of 2 GB files did, now and then). */
export class StalledRead extends Error {}

/** The browser's Blob streams take no BYOB reader. */
class NoByobReader extends Error {}

/** A blob's bytes with Blob.arrayBuffer (an ArrayBuffer of their own); an error names the file. */
async function arrayBufferOf(blob: Blob, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.arrayBuffer());
  } catch (e) {
    throw unreadable(path, e);
  }
}

/** BYOB reads until one stalls or fails, or the browser has none (byobUntilFailure). */
interface ByobReads {
  /** readBlobInto; null for the read that failed and every later one (read with Blob.arrayBuffer instead). */
  into(blob: Blob, into: Uint8Array, path: string): Promise<Uint8Array | null>;
  /** Whether reads still go through BYOB. */
  readonly on: boolean;
}

/** BYOB reads until one stalls or fails (then one console warning `${path}: <why>; ${then}`), or the browser has none. */
function byobUntilFailure(stallMs: number, then: string): ByobReads {
  let on = true;
  return {
    get on() {
      return on;
    },
    async into(blob, into, path) {
      if (!on) return null;
      try {
        return await readBlobInto(blob, into, stallMs);
      } catch (e) {
        on = false;
        const why = e instanceof StalledRead || e instanceof NoByobReader ? e.message : `a BYOB read failed (${(e as Error).message ?? e})`;
        console.warn(`${path}: ${why}; ${then}`);
        return null;
      }
    },
  };
}

export function onDemandInputFile(path: string, file: Blob, stallMs = BYOB_STALL_MS): InputFile {
  const read = (offset: number, length: number): Promise<Uint8Array> => arrayBufferOf(file.slice(offset, offset + length), path);
  // from a failed read on, each slab is its own ArrayBuffer (more garbage, never a hung read); a file
  // that cannot be read fails there too, with the error that names it
  const byob = byobUntilFailure(stallMs, 'the rest of the file is read with Blob.arrayBuffer');
  return {
    path,
    get bytes(): Uint8Array {
      try {
        return new Uint8Array(new FileReaderSync().readAsArrayBuffer(file));
      } catch (e) {
        throw unreadable(path, e);
      }
    },
    load: () => read(0, file.size),
    blob: file,
    range: {
      size: file.size,
      read,
      readAhead: 2,
      // a BYOB read costs more per call than a Blob.arrayBuffer: a 2 GB float32 MRC read in 3.5-4.4 s
      // with 16 MiB slabs, 4.8-5.4 s with 4 MiB (both peaking at 1.24x the tomogram above the page's baseline)
      slabBytes: 16 << 20,
      readInto: async (offset, into) => {
        const { length } = into; // 0 once a BYOB read has detached its buffer
        return (await byob.into(file.slice(offset, offset + length), into, path)) ?? read(offset, length);
      },
    },
  };
}

/** Whole small files (a slice folder's slices) read into memory that is handed back and reused. */
export interface ReusingBlobReader {
  /** The file's bytes; a file that cannot be read rejects with the error that names it. */
  read(blob: Blob, path: string): Promise<Uint8Array>;
  /** Gives a read's memory back for a later read (nothing may point into it any more). */
  release(bytes: Uint8Array): void;
}

/**
 * A reader of whole small files (a decode worker's slices) through BYOB stream readers into
 * buffers that are released and reused (a slice file's ArrayBuffer each is garbage V8 frees late: a
 * 300 x 959 x 928 JPEG folder on the page peaked 0.15x the tomogram higher that way). After a read
 * that stalls or fails, or without BYOB readers, it reads with Blob.arrayBuffer from then on (one
 * console warning).
 */
export function reusingBlobReader(stallMs = BYOB_STALL_MS): ReusingBlobReader {
  const free: Uint8Array[] = [];
  const byob = byobUntilFailure(stallMs, 'this worker reads its files with Blob.arrayBuffer from now on');
  return {
    async read(blob, path) {
      if (byob.on) {
        const spare = free.pop();
        // a quarter more than this file: slices of one folder differ a little in size
        const buf = spare && spare.length >= blob.size ? spare : new Uint8Array(blob.size + (blob.size >> 2));
        const got = await byob.into(blob, buf.subarray(0, blob.size), path);
        if (got) return got;
      }
      return arrayBufferOf(blob, path);
    },
    // kept only for BYOB reads (Blob.arrayBuffer makes its own), and a few at most (one per read in flight)
    release: (bytes) => {
      if (byob.on && free.length < 4) free.push(new Uint8Array(bytes.buffer));
    },
  };
}

/**
 * `blob`'s bytes into `into`'s memory through a BYOB stream reader: each read detaches the buffer
 * and hands the same memory back, so the slabs of a file need no ArrayBuffer each (V8 frees those
 * late: a 2 GB float32 MRC read with one per slab peaked at about 2x the tomogram's size). Resolves to
 * the bytes read, in the memory handed back (fewer than `into.length` where the blob is shorter).
 */
export async function readBlobInto(blob: Blob, into: Uint8Array, stallMs = BYOB_STALL_MS): Promise<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch (e) {
    throw new NoByobReader(`no BYOB stream reader in this browser (${(e as Error).message})`);
  }
  const { byteOffset, length } = into;
  let buffer = into.buffer as ArrayBuffer;
  let filled = 0;
  try {
    while (filled < length) {
      const { value, done } = await withinMs(reader.read(new Uint8Array(buffer, byteOffset + filled, length - filled)), stallMs, () => new StalledRead(`a read brought nothing for ${stallMs / 1000} s at byte ${filled} of ${length}`));
      if (value) buffer = value.buffer as ArrayBuffer; // the same memory, handed back (also when done)
      if (done || !value) break;
      filled += value.length;
    }
  } finally {
    // not awaited: a stalled stream may never settle
    reader.cancel().catch(() => undefined);
  }
  return new Uint8Array(buffer, byteOffset, filled);
}

/** `p`, or `error()` when it has not settled within `ms`. */
function withinMs<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** readInputs' files as the preset reads them. */
export const workerInputFiles = (files: readonly WorkerInputFile[]): InputFile[] => files.map((f) => ('file' in f ? onDemandInputFile(f.path, f.file) : f));
