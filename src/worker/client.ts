/**
 * Page-side handle on the inference worker, and the one place that notices when it dies: an
 * uncaught error in it ('error'), a message that cannot be read ('messageerror'), a fault it
 * reports itself (its WebGPU device was lost: `{ voxelbenchFault }`), and its death (a Web Lock
 * the worker holds for its life is granted to the page the moment it stops; a pending call's
 * worker that does not answer a ping within PING_MS is checked against that lock). A dead worker
 * is terminated, every pending call rejects with a WorkerFaultError and the fault listeners are
 * told (the page starts a fresh worker and loads its models again: src/ui/kit/recovery.ts).
 */
import * as Comlink from 'comlink';
import type { CrashMode, ProgressCallback, RunRequest, RunResult, WorkerApi, WorkerOptions } from './protocol';
import { FAULT_MESSAGE } from './protocol';

type Api = WorkerApi & { configure(ortBaseUrl: string, opts?: WorkerOptions): Promise<void> | void };

/** Why and when the worker was found dead. */
export interface WorkerFault {
  reason: string;
  /** Date.now() when it was noticed. */
  at: number;
}

/** What every pending call of a dead worker rejects with (name 'WorkerFault'). */
export class WorkerFaultError extends Error {
  constructor(readonly fault: WorkerFault) {
    super(`the inference worker stopped (${fault.reason})`);
    this.name = 'WorkerFault';
  }
}

/** True for what a dead worker's calls reject with. */
export const isWorkerFault = (e: unknown): e is WorkerFaultError => (e as Error)?.name === 'WorkerFault';

export interface WorkerClient {
  api: Comlink.Remote<Api>;
  /** Runs with progress; transfers nothing (the volume may be needed again). */
  run(req: RunRequest, onProgress?: ProgressCallback): Promise<RunResult>;
  /** Soft cancel: the run rejects with an AbortError at the next window batch. */
  cancel(): void;
  /** Hard stop: terminates the worker (models must be loaded again); pending calls reject. */
  terminate(): void;
  /** Set when the worker was found dead (null while it lives or after a deliberate terminate). */
  readonly fault: WorkerFault | null;
  /** Called once when the worker is found dead, before its pending calls reject; returns an unsubscribe. */
  onFault(listener: (f: WorkerFault) => void): () => void;
  /** Test hook: kills the worker as a crash would (see CrashMode); resolves with Date.now() of the kill (when the worker took the request). */
  crash(how: CrashMode): Promise<number>;
}

/** A pending call's worker must answer a ping within this time, else its life is checked. */
export const PING_MS = 1000;
/** Without the Web Locks API, a worker that answers no ping for this long is taken as dead. */
export const UNANSWERED_DEAD_MS = 30_000;

interface Pending {
  reject(e: unknown): void;
}

export function createWorkerClient(): WorkerClient {
  const worker = new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'voxelbench-inference' });
  const remote = Comlink.wrap<Api>(worker);
  const pending = new Set<Pending>();
  const listeners = new Set<(f: WorkerFault) => void>();
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const lockName = `voxelbench-worker-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const lockWatch = new AbortController();
  let fault: WorkerFault | null = null;
  let closed = false;
  let pinging: ReturnType<typeof setTimeout> | null = null;

  function rejectAll(e: Error): void {
    const all = [...pending];
    pending.clear();
    for (const p of all) p.reject(e);
  }

  function stop(): void {
    closed = true;
    lockWatch.abort();
    if (pinging) clearTimeout(pinging);
    pinging = null;
    worker.terminate();
  }

  function died(reason: string): void {
    if (closed) return;
    fault = { reason, at: Date.now() };
    stop();
    const f = fault;
    for (const l of [...listeners]) {
      try {
        l(f);
      } catch (e) {
        console.error('worker fault listener failed', e);
      }
    }
    rejectAll(new WorkerFaultError(f));
  }

  worker.addEventListener('error', (e) => {
    e.preventDefault();
    died(`an uncaught error in the worker${e.message ? `: ${e.message}` : ''}`);
  });
  worker.addEventListener('messageerror', () => died('a message from the worker could not be read'));
  worker.addEventListener('message', (e: MessageEvent) => {
    const data = e.data as Record<string, unknown> | null;
    if (data && typeof data === 'object' && typeof data[FAULT_MESSAGE] === 'string') died(data[FAULT_MESSAGE] as string);
  });

  /** Pings while calls are pending; an unanswered ping has the worker's lock checked. */
  function schedulePing(): void {
    if (pinging || closed || pending.size === 0) return;
    let unansweredSince = 0;
    const tick = async (): Promise<void> => {
      if (closed || pending.size === 0) {
        pinging = null;
        return;
      }
      const answered = await Promise.race([remote.ping().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), PING_MS))]);
      if (closed) return;
      if (answered) unansweredSince = 0;
      else {
        unansweredSince ||= Date.now();
        if (await workerGone()) return died('it no longer answers and its thread has ended');
        if (!locks && Date.now() - unansweredSince >= UNANSWERED_DEAD_MS) return died(`it answered nothing for ${UNANSWERED_DEAD_MS / 1000} s`);
      }
      if (closed || pending.size === 0) {
        pinging = null;
        return;
      }
      pinging = setTimeout(() => void tick(), answered ? PING_MS : 0);
    };
    pinging = setTimeout(() => void tick(), PING_MS);
  }

  /** True when the worker no longer holds its lock (it is dead); false when it does or nobody can tell. */
  async function workerGone(): Promise<boolean> {
    if (!locks || !lockHeld) return false;
    try {
      const q = await locks.query();
      return !(q.held ?? []).some((l) => l.name === lockName);
    } catch {
      return false;
    }
  }

  function track<T>(p: Promise<T>): Promise<T> {
    if (fault) return Promise.reject(new WorkerFaultError(fault));
    if (closed) return Promise.reject(new Error('the worker was restarted'));
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { reject };
      pending.add(entry);
      schedulePing();
      p.then(
        (v) => {
          pending.delete(entry);
          resolve(v);
        },
        (e: unknown) => {
          pending.delete(entry);
          reject(e);
        },
      );
    });
  }

  // every call through `api` is tracked (a dead worker's calls reject instead of never settling)
  const api = new Proxy(remote, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (prop === 'then') return undefined;
      if (typeof prop !== 'string' || typeof v !== 'function') return v;
      return (...args: unknown[]) => track((v as (...a: unknown[]) => Promise<unknown>)(...args));
    },
  }) as Comlink.Remote<Api>;

  // the worker holds a Web Lock for its life: the page's request for it is granted when the worker dies
  let lockHeld = false;
  // ORT's .wasm/.mjs are served from this app's origin, next to index.html
  const autoUsesSoftwareAdapter = (globalThis as { __voxelbenchAutoUsesSoftwareAdapter?: boolean }).__voxelbenchAutoUsesSoftwareAdapter === true;
  void Promise.resolve(remote.configure(new URL('ort/', document.baseURI).href, { autoUsesSoftwareAdapter, lockName: locks ? lockName : undefined })).then(() => {
    if (!locks || closed) return;
    lockHeld = true;
    locks
      .request(lockName, { signal: lockWatch.signal }, () => {
        died('its thread ended');
      })
      .catch(() => undefined);
  });

  return {
    api,
    run: (req, onProgress) => api.run(req, onProgress ? Comlink.proxy(onProgress) : undefined),
    cancel: () => void remote.cancel().catch(() => undefined),
    terminate: () => {
      if (closed) return;
      stop();
      rejectAll(new Error('the worker was restarted'));
    },
    get fault() {
      return fault;
    },
    onFault(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async crash(how) {
      if (how === 'terminate') {
        // as if the browser killed it: the page learns it only from its lock
        worker.terminate();
        return Date.now();
      }
      // a busy worker takes the request at its next turn, answers, then dies: the kill is when it answered
      await remote.crash(how);
      return Date.now();
    },
  };
}
