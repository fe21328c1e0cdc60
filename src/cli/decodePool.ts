/**
 * The CLI's slice decode pool: worker threads (decodeWorker.ts) running core's decoders, so that
 * a slice folder decodes on every core while the main thread reads the files and copies each
 * decoded slice into the one preallocated volume (core stackSliceFiles with `concurrency`).
 *
 *   const pool = cliDecodePool();   // null with one thread (VB_DECODE_THREADS=1 or one CPU): decode in the main thread
 *   preset.inputs.read(src, files, params, { decodeImage: pool.decode, decodeConcurrency: pool.concurrency });
 *   pool.close();
 *
 * Threads: VB_DECODE_THREADS, else the number of CPUs (at most 8); started on first use, unref'd.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createDecodePool, type DecodePool, type DecodeReply } from '../core/motors/decodePool';

/** The worker's script next to this module: decodeWorker.mjs in the built CLI, decodeWorker.ts from source. */
function workerUrl(): URL {
  for (const ext of ['.mjs', '.ts']) {
    const u = new URL(`./decodeWorker${ext}`, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new Error(`the decode worker script is missing next to ${fileURLToPath(import.meta.url)}`);
}

/** The built worker as it is; from source (tsx: the tests) a thread that registers tsx's loader first. */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true });
}

export function decodeThreads(): number {
  const env = Number(process.env.VB_DECODE_THREADS);
  if (Number.isInteger(env) && env >= 1) return Math.min(env, 64);
  return Math.max(1, Math.min(8, availableParallelism()));
}

export function cliDecodePool(threads = decodeThreads()): DecodePool | null {
  if (threads <= 1) return null;
  let url: URL | null = null;
  return createDecodePool(threads, () => {
    url ??= workerUrl();
    const w = startWorker(url);
    w.unref();
    return {
      post: (req, transfer) => w.postMessage(req, transfer),
      listen: (onReply, onError) => {
        w.on('message', (r: DecodeReply) => onReply(r));
        w.on('error', onError);
      },
      terminate: () => void w.terminate(),
    };
  }, { readsPaths: true });
}
