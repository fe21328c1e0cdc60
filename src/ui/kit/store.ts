/**
 * createPresetStore: the zustand store of a preset page, made from its Preset and the page's
 * config (texts, view defaults, what to show of an item). Everything the page knows is in it; the
 * kit's functions (intake, models, runner, share) take the store as their first argument.
 */
import { create, type StoreApi } from 'zustand';
import { presetDefaults } from '../../core/preset/index';
import { getPath } from '../../core/preset/params';
import type { AnyPreset } from '../../core/preset/types';
import { createWorkerClient, type WorkerClient } from '../../worker/client';
import { ItemCache, ReadQueue } from './cache';
import type { AnyStore, BatchState, ItemEntry, ItemOf, PageConfig, ParamsOf, PresetState, PresetStore } from './types';

export const initialBatch: BatchState = { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, etaMs: 0, cancelRequested: false };

/** The store of a page built on `preset`. */
export function createPresetStore<Pr extends AnyPreset, View, Meta, Ui>(preset: Pr, config: PageConfig<Pr, View, Meta, Ui>): PresetStore<Pr, View, Meta, Ui> {
  const defaults = presetDefaults(preset) as ParamsOf<Pr>;
  const bytesOf = (x: unknown): number => (preset.transferables?.(x) ?? []).reduce((a, b) => a + b.byteLength, 0);
  const store = create<PresetState<Pr, View, Meta, Ui>>()(() => ({
    items: [],
    models: [],
    labels: null,
    cards: [],
    params: defaults,
    defaults,
    paramsFrom: 'preset',
    backend: 'auto',
    selected: null,
    view: config.view,
    ui: config.ui,
    batch: initialBatch,
    busy: null,
    runs: 0,
    worker: null,
    runSeq: 0,
    currentId: null,
    cache: new ItemCache<ItemOf<Pr>>(bytesOf, config.cacheBytes),
    reads: new ReadQueue<ItemOf<Pr>>(),
  }));
  const readParams = config.readParams ?? [];
  if (readParams.length > 0) {
    // values the reading depends on changed: the decoded items are read again when needed
    store.subscribe((s, prev) => {
      if (s.params !== prev.params && readParams.some((k) => JSON.stringify(getPath(s.params, k)) !== JSON.stringify(getPath(prev.params, k)))) s.cache.delete();
    });
  }
  return Object.assign(store, { preset, config });
}

/** A store that holds a page's worker client (every kit store; the workbench's store too). */
export type WorkerStore<S extends { worker: WorkerClient | null } = { worker: WorkerClient | null }> = StoreApi<S>;

/** The page's worker, started on first use. */
export function workerOf<S extends { worker: WorkerClient | null }>(store: WorkerStore<S>): WorkerClient {
  const have = store.getState().worker;
  if (have) return have;
  const client = createWorkerClient();
  store.setState({ worker: client } as Partial<S>);
  return client;
}

/** Terminates the page's worker (a hard stop); the next call to workerOf starts a fresh one. */
export function dropWorker<S extends { worker: WorkerClient | null }>(store: WorkerStore<S>): void {
  store.getState().worker?.terminate();
  store.setState({ worker: null } as Partial<S>);
}

/**
 * `call`'s result, or a rejection when the page's worker is replaced meanwhile (a hard stop
 * terminates it, and a terminated worker never answers).
 */
export function untilReplaced<T>(store: AnyStore, client: WorkerClient, call: () => Promise<T>): Promise<T> {
  let stop = (): void => undefined;
  const replaced = new Promise<never>((_, reject) => {
    stop = store.subscribe((s) => {
      if (s.worker !== client) reject(new Error('the worker was restarted'));
    });
  });
  replaced.catch(() => undefined);
  return Promise.race([call(), replaced]).finally(stop);
}

/** Updates one item's entry. */
export function patchItem<S extends AnyStore>(store: S, id: string, patch: Partial<ItemEntry>): void {
  store.setState((s) => ({ items: s.items.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));
}

/** Sets some of the values (a shallow patch: nested values are given whole). */
export function setParams<S extends AnyStore>(store: S, patch: Record<string, unknown>): void {
  store.setState((s) => ({ params: { ...s.params, ...patch } }));
}

export function setBackend(store: AnyStore, backend: string): void {
  if (backend === 'auto' || backend === 'wasm' || backend === 'webgpu') store.setState({ backend });
}

/** The entry of an id. */
export const itemEntry = (store: AnyStore, id: string): ItemEntry | undefined => store.getState().items.find((t) => t.id === id);
