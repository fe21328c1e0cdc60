/**
 * The model list every preset page keeps: .onnx files loaded into the page's own worker (each
 * checked for the preset before it is kept), replaced by name, removed, and loaded again after the
 * worker is restarted. Each function takes the preset's store, worker and message key. No React
 * here. Pages built on the kit use src/ui/kit/models.ts instead.
 */
import type { ModelInfo } from '../core/onnx/model';
import type { WorkerClient } from '../worker/client';
import type { LoadedModel } from '../worker/protocol';
import { errorText, say } from './kit/messages';
import { useStore } from './store';

/** What every preset keeps of a loaded model. */
export interface PresetModel {
  /** Worker model id (changes when the worker is restarted). */
  workerId: string;
  name: string;
  /** The file, kept to load it again when the worker is restarted. */
  bytes: Uint8Array;
  info: ModelInfo;
}

/** The part of a preset's zustand store the model list uses. */
export interface PresetModelStore<M extends PresetModel> {
  getState(): { models: M[]; batch: { status: string } };
  setState(patch: { models: M[] } | { busy: string | null } | ((s: { models: M[] }) => { models: M[] })): void;
}

export interface PresetModels<M extends PresetModel> {
  store: PresetModelStore<M>;
  /** The page's own worker (created on first use, replaced after a hard stop). */
  worker: () => WorkerClient;
  /** Message key of model problems, e.g. 'motors-model' (cleared when a model loads). */
  key: string;
}

export { errorText, isAbort, say } from './kit/messages';

/** A file's bytes, or null (with a message naming the file) when it cannot be read. */
export async function readModelFile<M extends PresetModel>(p: PresetModels<M>, f: File): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await f.arrayBuffer());
  } catch (e) {
    say('error', `Could not read ${f.name}: ${errorText(e)}`, p.key);
    return null;
  }
}

/**
 * Loads a model into the worker and keeps it (replacing one of the same name). `accept` checks it
 * for the preset: the entry to keep, or the full message (a string) when the preset cannot use it;
 * `loadedText` is the message once it is kept (with the number of models now held).
 */
export async function addPresetModel<M extends PresetModel>(
  p: PresetModels<M>,
  bytes: Uint8Array,
  name: string,
  accept: (loaded: LoadedModel) => M | string,
  loadedText: (model: M, count: number) => string,
): Promise<boolean> {
  const { store, worker, key } = p;
  if (store.getState().batch.status === 'running') {
    say('warning', `Cannot add ${name} while a run is going; cancel first.`);
    return false;
  }
  store.setState({ busy: `Loading model ${name}…` });
  try {
    const loaded = await worker().api.loadModel(bytes.slice(), name, false);
    const model = accept(loaded);
    if (typeof model === 'string') {
      void worker().api.unloadModel(loaded.id).catch(() => undefined);
      say('error', model, key);
      return false;
    }
    store.setState((s) => {
      const old = s.models.find((m) => m.name === name);
      if (old) void worker().api.unloadModel(old.workerId).catch(() => undefined);
      return { models: old ? s.models.map((m) => (m === old ? model : m)) : [...s.models, model] };
    });
    useStore.getState().clearMessages(key);
    say('info', loadedText(model, store.getState().models.length));
    return true;
  } catch (e) {
    say('error', `Could not open ${name}: ${errorText(e)}`, key);
    return false;
  } finally {
    store.setState({ busy: null });
  }
}

/** Removes a model (not while a run is going) and frees it in the worker. */
export function removePresetModel<M extends PresetModel>(p: PresetModels<M>, name: string): void {
  const s = p.store.getState();
  if (s.batch.status === 'running') return;
  const m = s.models.find((x) => x.name === name);
  if (!m) return;
  void p.worker().api.unloadModel(m.workerId).catch(() => undefined);
  p.store.setState({ models: s.models.filter((x) => x !== m) });
}

/**
 * After a restart the new worker knows no models: loads them all again from their bytes; one that
 * fails is dropped with `failed`'s message (by default "Could not reload … after the restart").
 */
export async function reloadPresetModels<M extends PresetModel>(
  p: PresetModels<M>,
  failed: (name: string, error: string) => { text: string; key?: string } = (name, error) => ({ text: `Could not reload ${name} after the restart: ${error}` }),
): Promise<void> {
  const reloaded: M[] = [];
  for (const m of p.store.getState().models) {
    try {
      const l = await p.worker().api.loadModel(m.bytes.slice(), m.name, false);
      reloaded.push({ ...m, workerId: l.id });
    } catch (e) {
      const f = failed(m.name, errorText(e));
      say('error', f.text, f.key);
    }
  }
  p.store.setState({ models: reloaded });
}
