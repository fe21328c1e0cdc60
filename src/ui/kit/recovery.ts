/**
 * After the inference worker died (src/worker/client.ts noticed it: an uncaught error, a lost
 * WebGPU device, a worker that stopped): the page drops it, starts a fresh one, loads its models
 * into it again and says so at once, with a Re-run button for what was interrupted. Inputs and
 * finished results live in the page's store and stay; the interrupted item is marked by the
 * runner (src/ui/kit/runner.ts) and the workbench's run by src/ui/actions.ts.
 */
import { useEffect } from 'react';
import type { StoreApi } from 'zustand';
import type { WorkerClient, WorkerFault } from '../../worker/client';
import { useStore } from '../store';
import { say } from './messages';
import { reloadModels } from './models';
import { runBatch } from './runner';
import type { AnyStore } from './types';

/** The key of the fault notice (one at a time). */
export const FAULT_KEY = 'worker-fault';

/** The notice after a fault: why, what was kept, and what to re-run (null: nothing was running). */
export function faultNotice(reason: string, interrupted: string | null): string {
  const rerun = interrupted ? ` — Re-run ${interrupted}` : '';
  return `The inference worker stopped (${reason}); a fresh one is loaded, your inputs and results are kept${rerun}.`;
}

/**
 * Calls `recover` once when the store's current worker dies (a worker replaced on purpose is
 * not watched any more). Returns the unsubscribe.
 */
export function watchWorkerFaults<S extends { worker: WorkerClient | null }>(store: StoreApi<S>, recover: (f: WorkerFault) => void): () => void {
  let off = (): void => undefined;
  const attach = (client: WorkerClient | null): void => {
    off();
    off = client
      ? (() => {
          const un = client.onFault((f) => {
            if (store.getState().worker === client) recover(f);
          });
          return () => void un();
        })()
      : () => undefined;
  };
  attach(store.getState().worker);
  const unsub = store.subscribe((s, prev) => {
    if (s.worker !== prev.worker) attach(s.worker);
  });
  return () => {
    unsub();
    off();
  };
}

/**
 * A kit page's recovery: the dead worker is dropped, a fresh one gets the page's models, and the
 * notice offers to re-run the interrupted item (with whatever the batch had not reached yet).
 */
export function recoverKit(store: AnyStore, f: WorkerFault): void {
  const s = store.getState();
  const interrupted = s.batch.status === 'running' ? s.currentId : null;
  store.setState({ worker: null, busy: 'Starting a fresh inference worker…' });
  const reloaded = reloadModels(store).finally(() => store.setState({ busy: null }));
  useStore.getState().addMessage('warning', faultNotice(f.reason, interrupted), {
    key: FAULT_KEY,
    ...(interrupted ? { button: { label: `Re-run ${interrupted}`, testId: 'rerun', onClick: () => void reloaded.then(() => runBatch(store)) } } : {}),
  });
  void reloaded.then(() => say('info', `The fresh worker has the ${store.getState().models.length === 1 ? 'model' : 'models'} loaded again.`));
}

/** A kit page's worker, watched while the page is shown: when it dies, recoverKit. */
export function useWorkerRecovery(store: AnyStore): void {
  useEffect(() => watchWorkerFaults(store, (f) => recoverKit(store, f)), [store]);
}
