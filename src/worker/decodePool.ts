/**
 * The page's slice decode pool: a few dedicated workers (decodeSlice.worker.ts) that decode
 * JPEG/PNG/TIFF slices with core's decoders (JPEG: libjpeg-turbo WASM, the same build, and so the
 * same voxels, as the CLI and PIL), so that a slice folder decodes on several cores while the
 * caller reads the files and copies each slice into its one preallocated volume. Usable from the
 * inference worker (nested workers) and from the page.
 *
 * Entry point, where a slice folder is read (e.g. the inference worker's read of a motors source):
 *
 *   const pool = pageDecodePool();          // hardwareConcurrency - 1 workers (1 to 4), started on first use
 *   const read = await preset.inputs.read(source, files, params, {
 *     decodeImage: pool.decode,             // (bytes, name) => Promise<{ width, height, gray }>
 *     decodeConcurrency: pool.concurrency,  // decodes kept in flight (two per worker)
 *     signal, onProgress,
 *   });
 *   pool.close();                           // or keep it for the next source
 *
 * `decode` copies the bytes it is given (the caller keeps them); an undecodable file rejects with
 * the decoder's message (an InputError keeps its name), which stackSliceFiles prefixes with the
 * tomogram and file name.
 */
import { createDecodePool, type DecodePool, type DecodeReply } from '../core/motors/decodePool';

export type { DecodePool };

export function defaultPoolSize(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, Math.min(4, cores - 1));
}

export function pageDecodePool(size = defaultPoolSize()): DecodePool {
  return createDecodePool(size, () => {
    const w = new Worker(new URL('./decodeSlice.worker.ts', import.meta.url), { type: 'module', name: 'voxelbench-decode' });
    return {
      post: (req, transfer) => w.postMessage(req, transfer),
      listen: (onReply, onError) => {
        w.onmessage = (e: MessageEvent<DecodeReply>) => onReply(e.data);
        w.onerror = (e) => onError(new Error(`a decode worker failed: ${e.message || 'it could not start'}`));
      },
      terminate: () => w.terminate(),
    };
  });
}
