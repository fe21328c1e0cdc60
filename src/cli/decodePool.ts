/**
 * The CLI's slice decode pool: worker threads that decode JPEG/PNG/TIFF slices with core's
 * decoders (decodeWorker.ts), so that a slice folder decodes on every core while the main thread
 * only reads files and copies each decoded slice into the one preallocated volume
 * (core stackSliceFiles with `concurrency`).
 *
 *   const pool = cliDecodePool();           // null: one core (or VB_DECODE_THREADS=1): decode in the main thread
 *   stackSliceFiles(id, files, pool.decode, { concurrency: pool.concurrency });
 *   await pool.close();
 *
 * Threads: VB_DECODE_THREADS, else the number of CPUs (at most 8). They start on first use and are
 * unref'd, so an idle pool never keeps the process alive.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GrayImage } from '../core/motors/decode';
import { InputError } from '../core/volume';
import type { DecodeReply, DecodeRequest } from './decodeWorker';

export interface DecodePool {
  /** Decodes one file's bytes (copied to the worker; the caller keeps its bytes). */
  decode: (bytes: Uint8Array, name: string) => Promise<GrayImage>;
  /** Decodes worth keeping in flight (two per thread). */
  concurrency: number;
  threads: number;
  close(): Promise<void>;
}

/** The worker's script next to this module: decodeWorker.ts under tsx, decodeWorker.mjs in the built CLI. */
function workerUrl(): URL {
  const here = import.meta.url;
  for (const ext of ['.mjs', '.js', '.ts']) {
    const u = new URL(`./decodeWorker${ext}`, here);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new Error(`the decode worker script is missing next to ${fileURLToPath(here)}`);
}

/** The built worker as it is; from source (tsx: `npm run cli`, the tests) a thread that registers tsx's loader first. */
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

/** A pool of `threads` decode workers, or null for one thread (decoding in the main thread is then as fast). */
export function cliDecodePool(threads = decodeThreads()): DecodePool | null {
  if (threads <= 1) return null;
  const workers: { w: Worker; busy: number }[] = [];
  const pending = new Map<number, { resolve: (g: GrayImage) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let url: URL | null = null;

  const spawn = (): { w: Worker; busy: number } => {
    url ??= workerUrl();
    const slot = { w: startWorker(url), busy: 0 };
    slot.w.unref();
    slot.w.on('message', (r: DecodeReply) => {
      slot.busy--;
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (!p) return;
      if ('error' in r) p.reject(r.input ? new InputError(r.error) : new Error(r.error));
      else p.resolve({ width: r.width, height: r.height, gray: r.gray });
    });
    slot.w.on('error', (e) => {
      for (const [, p] of pending) p.reject(e);
      pending.clear();
    });
    workers.push(slot);
    return slot;
  };
  /** The least busy worker; a new one while some are busy and the pool is not full. */
  const pick = (): { w: Worker; busy: number } => {
    let best = workers[0];
    for (const s of workers) if (s.busy < best.busy) best = s;
    return best && (best.busy === 0 || workers.length >= threads) ? best : spawn();
  };

  return {
    threads,
    concurrency: 2 * threads,
    decode: (bytes, name) => {
      const slot = pick();
      const id = nextId++;
      const copy = bytes.slice();
      slot.busy++;
      return new Promise<GrayImage>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const req: DecodeRequest = { id, bytes: copy, name };
        slot.w.postMessage(req, [copy.buffer as ArrayBuffer]);
      });
    },
    close: async () => {
      await Promise.all(workers.map((s) => s.w.terminate()));
      workers.length = 0;
    },
  };
}
