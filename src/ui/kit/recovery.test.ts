import { describe, expect, test } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { WorkerClient, WorkerFault } from '../../worker/client';
import { faultNotice, watchWorkerFaults } from './recovery';

/** A client whose fault a test sets off. */
function fakeClient(): WorkerClient & { die(reason: string): void } {
  const listeners = new Set<(f: WorkerFault) => void>();
  return {
    fault: null,
    onFault(l: (f: WorkerFault) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    die(reason: string) {
      for (const l of [...listeners]) l({ reason, at: 1 });
    },
  } as unknown as WorkerClient & { die(reason: string): void };
}

describe('worker fault recovery', () => {
  test('the notice says why, what was kept and what to re-run', () => {
    expect(faultNotice('its thread ended', 'tomo_sim_002')).toBe('The inference worker stopped (its thread ended); a fresh one is loaded, your inputs and results are kept — Re-run tomo_sim_002.');
    expect(faultNotice('its WebGPU device was lost: destroyed', null)).toBe('The inference worker stopped (its WebGPU device was lost: destroyed); a fresh one is loaded, your inputs and results are kept.');
  });

  test("only the store's current worker is watched: a replaced one's fault is ignored, the new one's is seen once", () => {
    const a = fakeClient();
    const b = fakeClient();
    const store = createStore<{ worker: WorkerClient | null }>(() => ({ worker: a }));
    const seen: string[] = [];
    const stop = watchWorkerFaults(store, (f) => seen.push(f.reason));
    store.setState({ worker: b });
    a.die('old');
    expect(seen).toEqual([]);
    b.die('new');
    expect(seen).toEqual(['new']);
    stop();
    b.die('after stop');
    expect(seen).toEqual(['new']);
  });
});
