/**
 * A pool of decode workers, whatever runs them: the CLI's worker threads (src/cli/decodePool.ts)
 * and the page's dedicated workers (src/worker/decodePool.ts) both wrap their workers as
 * PoolWorkers and run `answerDecode` inside them. Each worker decodes one JPEG/PNG/TIFF slice per
 * message with core's decoders (decodeGrayImage: libjpeg-turbo WASM for JPEG) and transfers the
 * pixels back; the pool sends each request to the least busy worker, starting a new one (up to
 * `size`) while all are busy.
 */
import type { GrayTarget } from '../io/jpeg';
import { decodeGrayImage, type GrayImage } from './decode';
import type { SliceFile } from './tomogram';

export interface DecodeRequest {
  id: number;
  /** The file's bytes; or, with `path`, none: the worker reads the file itself (readPath). */
  bytes?: Uint8Array;
  /** A file on disk the worker reads (the CLI's threads: no slice bytes pass between threads). */
  path?: string;
  /** The file itself, which the worker reads (the page's workers: no slice bytes pass between workers). */
  blob?: Blob;
  name: string;
  /**
   * Write the pixels here when the image has this size: on shared memory (the CLI's volume), reply
   * with the size only; on an ArrayBuffer of its own (a spare slice buffer transferred with the
   * request), reply with that memory as `gray`.
   */
  into?: GrayTarget;
}

export type DecodeReply = { id: number; width: number; height: number; gray: Uint8Array } | { id: number; error: string; input: boolean };

/** A worker as the pool sees it. */
export interface PoolWorker {
  post(req: DecodeRequest, transfer: ArrayBuffer[]): void;
  /** Called once, right after the worker is made. */
  listen(onReply: (r: DecodeReply) => void, onError: (e: Error) => void): void;
  terminate(): void;
}

export interface DecodePool {
  /** Decodes one file's bytes to gray (the bytes are copied to the worker; the caller keeps its own). */
  decode: (bytes: Uint8Array, name: string) => Promise<GrayImage>;
  /**
   * Decodes straight into shared memory (`into.data` on a SharedArrayBuffer) when the image is
   * into.width x into.height; resolves to the image's size either way (stackSliceFiles' decodeInto).
   */
  decodeInto: (file: SliceFile, into: GrayTarget) => Promise<{ width: number; height: number }>;
  /**
   * Decodes a slice file (stackSliceFiles' decodeFile): its worker reads it (a `blob`, with
   * `readsBlobs`; else its bytes are read here and copied), and decodes into `spare` (transferred:
   * it comes back as `gray` when the image has its size).
   */
  decodeFile: (file: SliceFile, spare?: GrayTarget) => Promise<GrayImage>;
  /** Decodes worth keeping in flight: two per worker, so that none waits between slices. */
  concurrency: number;
  size: number;
  /**
   * Starts every worker now (each loads its decoder as it starts), so that their start-up runs
   * while the caller does other work (the CLI: while the models' sessions open) instead of in the
   * first decodes. Workers that could not start are dropped as in a decode.
   */
  warm(): void;
  /** Stops the workers; pending decodes are rejected. */
  close(): void;
}

/**
 * What a worker does with a request: the reply and what to transfer with it. `readPath` reads a
 * request's `path` (the CLI's threads; it may reuse one buffer: nothing returned points into it).
 */
export function answerDecode(req: DecodeRequest, readPath?: (path: string, name: string) => Uint8Array): { reply: DecodeReply; transfer: ArrayBuffer[] } {
  try {
    const into = req.into;
    const bytes = req.bytes ?? (req.path !== undefined && readPath ? readPath(req.path, req.name) : null);
    if (!bytes) throw new Error(`${baseOf(req.name)}: the decode request carries no bytes`);
    const decoded = decodeGrayImage(bytes, req.name, into);
    // a decoder may hand back a view of its input (not when `bytes` is a reused buffer)
    const img = decoded.gray.buffer === bytes.buffer ? { ...decoded, gray: decoded.gray.slice() } : decoded;
    if (into && img.width === into.width && img.height === into.height) {
      if (img.gray.length) into.data.set(img.gray, into.offset); // PNG and TIFF come back as arrays
      if (!(into.data.buffer instanceof SharedArrayBuffer)) {
        // a spare: its memory goes back with the pixels in it
        const gray = into.data.subarray(into.offset, into.offset + img.width * img.height);
        return { reply: { id: req.id, width: img.width, height: img.height, gray }, transfer: [into.data.buffer as ArrayBuffer] };
      }
      return { reply: { id: req.id, width: img.width, height: img.height, gray: new Uint8Array(0) }, transfer: [] };
    }
    return { reply: { id: req.id, width: img.width, height: img.height, gray: img.gray }, transfer: [img.gray.buffer as ArrayBuffer] };
  } catch (e) {
    return { reply: { id: req.id, error: (e as Error).message ?? String(e), input: (e as Error).name === 'InputError' }, transfer: [] };
  }
}

/** Sources with at least this many files are decoded by a pool (starting its workers costs about one slice's decode). */
export const POOL_MIN_FILES = 16;

const baseOf = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/**
 * A pool of up to `size` workers made by `spawn` on demand. A worker that fails (its error event:
 * it could not start, or it died) is terminated and dropped: each decode it had in flight rejects
 * with an error naming its file, and later decodes go to the others (or to a new one), so that no
 * promise is left hanging. `readsPaths`: the workers answer requests by path (answerDecode's
 * readPath), so decodeInto sends a slice file's `localPath` instead of its bytes; `readsBlobs`: the
 * workers read a request's `blob` themselves, so decodeFile sends a slice file's `blob`.
 */
export function createDecodePool(size: number, spawn: () => PoolWorker, opts: { readsPaths?: boolean; readsBlobs?: boolean } = {}): DecodePool {
  interface Slot {
    w: PoolWorker;
    busy: number;
    dead: boolean;
  }
  interface Pending {
    slot: Slot;
    name: string;
    resolve: (g: GrayImage) => void;
    reject: (e: Error) => void;
  }
  const slots: Slot[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 1;

  const fail = (slot: Slot, e: Error) => {
    if (slot.dead) return;
    slot.dead = true;
    slots.splice(slots.indexOf(slot), 1);
    try {
      slot.w.terminate();
    } catch {
      /* already gone */
    }
    for (const [id, p] of pending) {
      if (p.slot !== slot) continue;
      pending.delete(id);
      p.reject(new Error(`${baseOf(p.name)}: the decode worker stopped while decoding it (${e.message || 'no reason given'})`, { cause: e }));
    }
  };

  const start = (): Slot => {
    const slot: Slot = { w: spawn(), busy: 0, dead: false };
    slots.push(slot);
    slot.w.listen(
      (r) => {
        slot.busy--;
        const p = pending.get(r.id);
        pending.delete(r.id);
        if (!p) return;
        if ('error' in r) {
          const err = new Error(r.error);
          if (r.input) err.name = 'InputError';
          p.reject(err);
        } else p.resolve({ width: r.width, height: r.height, gray: r.gray });
      },
      (e) => fail(slot, e),
    );
    return slot;
  };
  const pick = (): Slot => {
    let best = slots[0];
    for (const s of slots) if (s.busy < best.busy) best = s;
    return best && (best.busy === 0 || slots.length >= size) ? best : start();
  };

  const send = (source: Uint8Array | { path: string } | { blob: Blob }, name: string, into?: DecodeRequest['into']): Promise<GrayImage> =>
    new Promise<GrayImage>((resolve, reject) => {
      let slot: Slot;
      try {
        slot = pick();
      } catch (e) {
        reject(new Error(`${baseOf(name)}: no decode worker could start (${(e as Error).message ?? e})`, { cause: e }));
        return;
      }
      const id = nextId++;
      const copy = source instanceof Uint8Array ? source.slice() : null;
      slot.busy++;
      pending.set(id, { slot, name, resolve, reject });
      try {
        const req: DecodeRequest = copy ? { id, bytes: copy, name } : { id, ...(source as { path: string } | { blob: Blob }), name };
        // a spare slice buffer (not shared memory) is handed over with the request
        const spare = into && !(into.data.buffer instanceof SharedArrayBuffer) ? [into.data.buffer as ArrayBuffer] : [];
        slot.w.post(into ? { ...req, into } : req, [...(copy ? [copy.buffer as ArrayBuffer] : []), ...spare]);
      } catch (e) {
        fail(slot, e instanceof Error ? e : new Error(String(e)));
      }
    });

  // what a worker is sent for a slice file: what it reads itself (its path or its blob), else its bytes read here
  const sourceOf = async (file: SliceFile): Promise<Uint8Array | { path: string } | { blob: Blob }> =>
    opts.readsPaths && file.localPath !== undefined ? { path: file.localPath } : opts.readsBlobs && file.blob ? { blob: file.blob } : await file.read();

  return {
    size,
    concurrency: 2 * size,
    decode: (bytes, name) => send(bytes, name),
    decodeInto: async (file, into) => {
      if (!(into.data.buffer instanceof SharedArrayBuffer)) throw new Error('decodeInto needs a volume on a SharedArrayBuffer');
      // workers that read files themselves get the path: no slice's bytes are read or copied here
      const r = await send(await sourceOf(file), file.name, into);
      return { width: r.width, height: r.height };
    },
    decodeFile: async (file, spare) => send(await sourceOf(file), file.name, spare),
    warm: () => {
      try {
        while (slots.length < size) start();
      } catch {
        // the first decode says why (send: 'no decode worker could start')
      }
    },
    close: () => {
      for (const s of slots) {
        s.dead = true;
        s.w.terminate();
      }
      slots.length = 0;
      for (const [, p] of pending) p.reject(new Error('the decode pool was closed'));
      pending.clear();
    },
  };
}
