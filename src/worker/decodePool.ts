/**
 * The page's slice decode pool: a few dedicated workers (decodeSlice.worker.ts) that decode
 * JPEG/PNG/TIFF slices with core's decoders (JPEG: libjpeg-turbo WASM, the same build, and so the
 * same voxels, as the CLI and PIL), so that a slice folder decodes on several cores while the
 * caller reads the files and copies each slice into its one preallocated volume. Started from the
 * inference worker (nested workers: readInputs, through `sliceDecoding`) and from the page (the e2e harness).
 *
 *   const dec = await sliceDecoding(files.length, signal);  // the pool for folders of POOL_MIN_FILES or more, else (or when it cannot start) null
 *   const read = await preset.inputs.read(source, files, params, { ...dec?.opts, signal, onProgress });
 *   dec?.close();
 *
 * Each worker reads its slice file itself (the File is posted, not its bytes) and decodes it into a
 * spare slice buffer handed to it (decodeFile); slices come back transferred (no copy), are copied
 * into the volume by core's stackSliceFiles, and their buffers go back out as the next spares, so
 * that a folder read makes no slice-sized garbage per slice;
 * the pool never writes into shared memory, even on a cross-origin isolated page: a volume on a
 * SharedArrayBuffer cannot be transferred to the page, nor handed to Blob or WebGL as it is, and
 * the copy of one slice costs well under a millisecond. `decode` copies the bytes it is given (the
 * caller keeps them); an undecodable file rejects with the decoder's message (an InputError keeps
 * its name), which stackSliceFiles prefixes with the tomogram and file name; a worker that dies
 * rejects what it had in flight with an error naming the file.
 */
import type { ReadOptions } from '../core/preset/types';
import { createDecodePool, POOL_MIN_FILES, type DecodePool, type DecodeReply, type PoolWorker } from '../core/motors/decodePool';

export type { DecodePool };

/** What a decode worker posts once, when its decoder has loaded (or could not). */
export type DecoderReady = { ready: true } | { ready: false; error: string };

/** How long a decode worker may take to load its decoder before the read decodes without the pool. */
const START_MS = 30_000;

/**
 * Decode workers for a folder read: one per core up to two cores (with one, a two-core laptop reads
 * at half speed while its second core idles: the inference worker only stacks the decoded slices
 * and the page's main thread only shows progress), else one core left for the page, at most four.
 */
export function defaultPoolSize(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, Math.min(4, cores <= 2 ? cores : cores - 1));
}

const newDecodeWorker = (): Worker => new Worker(new URL('./decodeSlice.worker.ts', import.meta.url), { type: 'module', name: 'voxelbench-decode' });

/** A pool of `size` decode workers started on first use; `first`, when given, is its first worker. */
export function pageDecodePool(size = defaultPoolSize(), first?: Worker): DecodePool {
  let given = first;
  const spawn = (): PoolWorker => {
    const w = given ?? newDecodeWorker();
    given = undefined;
    return {
      post: (req, transfer) => w.postMessage(req, transfer),
      listen: (onReply, onError) => {
        w.onmessage = (e: MessageEvent<DecodeReply | DecoderReady>) => {
          const m = e.data;
          if ('ready' in m) {
            if (!m.ready) onError(new Error(`its decoder did not load: ${m.error}`));
          } else onReply(m);
        };
        w.onerror = (e) => {
          e.preventDefault();
          onError(new Error(e.message || 'the worker failed (it could not start, or its script threw)'));
        };
        w.onmessageerror = () => onError(new Error('a message from the worker could not be read'));
      },
      terminate: () => w.terminate(),
    };
  };
  // each worker reads its slice files itself (decodeFile sends the File)
  const pool = createDecodePool(size, spawn, { readsBlobs: true });
  return {
    ...pool,
    close: () => {
      given?.terminate(); // started but never used
      given = undefined;
      pool.close();
    },
  };
}

/** One decode worker with its decoder loaded, or why none could start. */
function startDecodeWorker(signal?: AbortSignal): Promise<Worker | string> {
  let w: Worker;
  try {
    if (typeof Worker !== 'function') return Promise.resolve('this browser cannot start a worker from a worker');
    w = newDecodeWorker();
  } catch (e) {
    return Promise.resolve((e as Error).message ?? String(e));
  }
  return new Promise<Worker | string>((resolve) => {
    const done = (r: Worker | string) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      w.onmessage = w.onerror = null;
      if (typeof r === 'string') w.terminate();
      resolve(r);
    };
    const onAbort = () => done('the read was cancelled');
    const timer = setTimeout(() => done(`its decoder did not load within ${START_MS / 1000} s`), START_MS);
    signal?.addEventListener('abort', onAbort);
    w.onmessage = (e: MessageEvent<DecoderReady>) => done(e.data.ready ? w : `its decoder did not load: ${e.data.error}`);
    w.onerror = (e) => {
      e.preventDefault();
      done(e.message || 'the worker script could not be loaded');
    };
  });
}

/** The read options that decode a source's image slices on the pool, and how to stop it. */
export interface SliceDecoding {
  opts: Pick<ReadOptions, 'decodeImage' | 'decodeFile' | 'decodeConcurrency'>;
  workers: number;
  close(): void;
}

/**
 * The page decode pool for a source of `files` files: null for fewer than POOL_MIN_FILES (decoded
 * where the read runs), or when no decode worker could start (`onFallback` says why; the read then
 * decodes where it runs). The pool closes itself when `signal` aborts (its decodes in flight reject).
 */
export async function sliceDecoding(files: number, signal?: AbortSignal, onFallback?: (why: string) => void): Promise<SliceDecoding | null> {
  if (files < POOL_MIN_FILES) return null;
  const first = await startDecodeWorker(signal);
  if (typeof first === 'string') {
    if (!signal?.aborted) onFallback?.(first);
    return null;
  }
  const pool = pageDecodePool(defaultPoolSize(), first);
  const close = () => {
    signal?.removeEventListener('abort', close);
    pool.close();
  };
  signal?.addEventListener('abort', close);
  return { opts: { decodeImage: pool.decode, decodeFile: pool.decodeFile, decodeConcurrency: pool.concurrency }, workers: pool.size, close };
}
