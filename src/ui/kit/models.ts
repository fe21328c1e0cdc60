/**
 * The page's models: .onnx files loaded into its worker, each given the first role of the preset
 * that accepts it and checked by that role before it is kept; replaced by name, removed, and loaded
 * again after a hard stop restarted the worker. A model that carries a card in its metadata_props
 * (`voxelbench convert --card`) gives its values when the page has no card file; then what the
 * model says about itself (the preset's `fromModel`, e.g. motors: it divides by 255 itself) sets
 * its values, with one line each.
 */
import { CARD_METADATA_KEY } from '../../core/onnx/card';
import type { ModelInfo } from '../../core/onnx/model';
import { presetParamsFromCard } from '../../core/preset/index';
import { changedParams, getPath, setPath } from '../../core/preset/params';
import type { ModelRole } from '../../core/preset/types';
import type { Origin } from './files';
import { errorText, say, unsay } from './messages';
import { untilReplaced, workerOf } from './store';
import type { AnyStore, KitModel } from './types';

/** The role a model with this info takes: the first that accepts it (a role without `accepts` takes any). */
export function roleFor<P>(roles: readonly ModelRole<P>[], info: ModelInfo): ModelRole<P> | undefined {
  return roles.find((r) => (r.accepts ? r.accepts(info) : true));
}

/** Worker model ids by role, in the page's order. */
export function modelIdsByRole(models: readonly KitModel[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of models) (out[m.role] ??= []).push(m.workerId);
  return out;
}

/**
 * Loads a model into the page's worker and keeps it (replacing one of the same name) when a role
 * of the preset takes it; says why not otherwise. True when it was kept.
 */
export async function addModelBytes(store: AnyStore, bytes: Uint8Array, name: string, origin: Origin = 'dropped'): Promise<boolean> {
  const { preset, config } = store;
  const key = `${config.key}-model`;
  if (store.getState().batch.status === 'running') {
    say('warning', `Cannot add ${name} while a run is going; cancel first.`);
    return false;
  }
  store.setState({ busy: `Loading model ${name}…` });
  try {
    const worker = workerOf(store);
    const loaded = await untilReplaced(store, worker, () => worker.api.loadModel(bytes.slice(), name, config.relaxDims ?? false));
    const role = roleFor(preset.models, loaded.info);
    const says = role ? modelValues(store, loaded.info, name, role.role) : null;
    const problems = role ? role.check(loaded.info, name, says?.params ?? store.getState().params) : [`none of its roles (${preset.models.map((r) => r.label).join(', ')}) takes it`];
    if (!role || problems.length > 0) {
      void worker.api.unloadModel(loaded.id).catch(() => undefined);
      // a role's problems that name the model already say what it is
      const text = problems.join('; ');
      say('error', problems.every((x) => x.includes(name)) ? text : `Cannot use ${name} for ${config.key}: ${text}.`, key);
      return false;
    }
    const model: KitModel = { name, role: role.role, bytes, info: loaded.info, workerId: loaded.id, origin };
    store.setState((s) => {
      const old = s.models.find((m) => m.name === name);
      if (old) void worker.api.unloadModel(old.workerId).catch(() => undefined);
      return { models: old ? s.models.map((m) => (m === old ? model : m)) : [...s.models, model] };
    });
    unsay(key);
    if (says) {
      const s = store.getState();
      const keys = changedParams(preset.params, s.params, says.params);
      // what a model says is what Reset goes back to as well
      let defaults = says.fromCard ? says.params : s.defaults;
      for (const k of keys) defaults = setPath(defaults, k, getPath(says.params, k));
      store.setState({ params: says.params, defaults, ...(says.fromCard ? { paramsFrom: says.fromCard } : {}) });
      for (const line of says.notes) say('info', `${line}.`);
    }
    const n = store.getState().models.filter((m) => m.role === role.role).length;
    const combined = n > 1 && config.texts.modelsCombined ? `; ${n} ${role.label}s will be ${config.texts.modelsCombined}` : '';
    say('info', `Loaded ${preset.models.length > 1 ? role.label : 'model'} ${name} (${loaded.info.parameters.toLocaleString()} parameters)${combined}.`);
    return true;
  } catch (e) {
    say('error', `Could not open ${name}: ${errorText(e)}`, key);
    return false;
  } finally {
    store.setState({ busy: null });
  }
}

/**
 * The values a model gives: the card in its metadata_props when the page has no card file (over
 * the current defaults; one that cannot be read is said and left out), then the preset's
 * `fromModel`; null when it gives none.
 */
function modelValues(store: AnyStore, info: ModelInfo, name: string, role: string): { params: unknown; notes: string[]; fromCard?: string } | null {
  const { preset } = store;
  const s = store.getState();
  const notes: string[] = [];
  let params: unknown = s.params;
  let fromCard: string | undefined;
  const text = info.metadata?.[CARD_METADATA_KEY];
  if (text !== undefined && s.cards.length === 0) {
    try {
      params = presetParamsFromCard(preset, JSON.parse(text) as unknown, s.defaults);
      fromCard = `${name} (its own card)`;
      notes.push(`Preset values from the card stored in ${name} (metadata_props '${CARD_METADATA_KEY}')`);
    } catch (e) {
      say('warning', `The card stored in ${name} (metadata_props '${CARD_METADATA_KEY}') is not used: ${errorText(e)}`);
    }
  }
  const said = preset.fromModel?.(info, name, role, params);
  if (said) {
    params = said.params;
    notes.push(...said.notes);
  }
  return notes.length ? { params, notes, ...(fromCard ? { fromCard } : {}) } : null;
}

/** Reads model files and loads them one after another. */
export async function addModelFiles(store: AnyStore, files: readonly { file: File; origin?: Origin }[]): Promise<number> {
  let failed = 0;
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await f.file.arrayBuffer());
    } catch (e) {
      say('error', `Could not read ${f.file.name}: ${errorText(e)}`, `${store.config.key}-model`);
      failed++;
      continue;
    }
    if (!(await addModelBytes(store, bytes, f.file.name, f.origin))) failed++;
  }
  return failed;
}

/** Removes a model (not while a run is going) and frees it in the worker. */
export function removeModel(store: AnyStore, name: string): void {
  const s = store.getState();
  if (s.batch.status === 'running') return;
  const m = s.models.find((x) => x.name === name);
  if (!m) return;
  void s.worker?.api.unloadModel(m.workerId).catch(() => undefined);
  store.setState({ models: s.models.filter((x) => x !== m) });
}

/** After a restart the new worker knows no models: loads them all again; one that fails is dropped with a message. */
export async function reloadModels(store: AnyStore): Promise<void> {
  const reloaded: KitModel[] = [];
  for (const m of store.getState().models) {
    try {
      const l = await workerOf(store).api.loadModel(m.bytes.slice(), m.name, store.config.relaxDims ?? false);
      reloaded.push({ ...m, workerId: l.id });
    } catch (e) {
      say('error', `Could not reload ${m.name} after the restart: ${errorText(e)}`);
    }
  }
  store.setState({ models: reloaded });
}
