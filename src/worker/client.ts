/** Page-side handle on the inference worker. */
import * as Comlink from 'comlink';
import type { ProgressCallback, RunRequest, RunResult, WorkerApi, WorkerOptions } from './protocol';

type Api = WorkerApi & { configure(ortBaseUrl: string, opts?: WorkerOptions): void };

export interface WorkerClient {
  api: Comlink.Remote<Api>;
  /** Runs with progress; transfers nothing (the volume may be needed again). */
  run(req: RunRequest, onProgress?: ProgressCallback): Promise<RunResult>;
  /** Soft cancel: the run rejects with an AbortError at the next window batch. */
  cancel(): void;
  /** Hard stop: terminates the worker (models must be loaded again). */
  terminate(): void;
}

export function createWorkerClient(): WorkerClient {
  const worker = new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'voxelbench-inference' });
  const api = Comlink.wrap<Api>(worker);
  // ORT's .wasm/.mjs are served from this app's origin, next to index.html
  const autoUsesSoftwareAdapter = (globalThis as { __voxelbenchAutoUsesSoftwareAdapter?: boolean }).__voxelbenchAutoUsesSoftwareAdapter === true;
  void api.configure(new URL('ort/', document.baseURI).href, { autoUsesSoftwareAdapter });
  return {
    api,
    run: (req, onProgress) => api.run(req, onProgress ? Comlink.proxy(onProgress) : undefined),
    cancel: () => void api.cancel(),
    terminate: () => worker.terminate(),
  };
}
