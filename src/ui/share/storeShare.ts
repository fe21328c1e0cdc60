/**
 * Share hooks for preset pages built like the motors page (a zustand store with `params`,
 * `backend`, `selected`, `view` and `batch.status`), from their store alone: demo links carry
 * every preset value (`<key>`, nested ones as `<key>.<sub>`), the backend, the selected item
 * (`sel`) and the view (`view.<key>`). A page adopts them with one line in src/ui/presets.ts
 * (`share: storeShare({...})` and the demo's `open` wrapped by `share.openDemo`). URL inputs and
 * session files need the page's own hooks (see ./types.ts; pages on the preset kit get them from
 * src/ui/kit/share.ts): until a
 * page has them, its Save session says so and its links are demo links.
 */
import type { StoreApi, UseBoundStore } from 'zustand';
import type { ShareField, ShareSpec, ShareValue, ShareValues } from '../../core/share/query';
import type { FetchUrl, LinkUrls, PresetShare, SessionSave, ShareSources } from './types';

interface PageState {
  params: object;
  backend: string;
  selected: string | null;
  view: object;
  batch: { status: string };
}

export interface StoreShareConfig<S extends PageState> {
  store: UseBoundStore<StoreApi<S>>;
  /** The demo's name (`?demo=`) and its loader (`run: false` stops before running). */
  demo: string;
  openDemo(opts?: { run?: boolean }): Promise<void>;
  run(): Promise<void>;
  /** Ids of the page's inputs and models: a change outside the demo makes the page "local". */
  inputs(s: S): string[];
  /** The page has a Niivue view through src/ui/viewer.ts (crosshair/zoom in links). */
  scene?: boolean;
  label: string;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

function shareable(v: unknown): v is ShareValue {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (!Array.isArray(v)) return false;
  return v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v.every((x) => typeof x === 'string');
}

/** Nested plain objects as dotted keys; values that a link cannot carry (null, objects in arrays…) are left out. */
export function flatten(obj: object, prefix = '', out: ShareValues = {}): ShareValues {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (isPlain(v)) flatten(v, `${key}.`, out);
    else if (shareable(v)) out[key] = Array.isArray(v) ? [...v] as ShareValue : v;
  }
  return out;
}

/** Writes dotted values back into a copy of `base`. */
export function unflatten<T extends object>(base: T, values: ShareValues, prefix = ''): T {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [key, v] of Object.entries(values)) {
    if (!key.startsWith(prefix)) continue;
    const path = key.slice(prefix.length).split('.');
    let o = out;
    for (const p of path.slice(0, -1)) {
      if (!isPlain(o[p])) break;
      o = o[p] as Record<string, unknown>;
    }
    const last = path[path.length - 1];
    if (last in o) o[last] = Array.isArray(v) ? [...v] : v;
  }
  return out as T;
}

export function storeShare<S extends PageState>(cfg: StoreShareConfig<S>): PresetShare & { openDemo(opts?: { run?: boolean }): Promise<void> } {
  const { store } = cfg;
  const initial = store.getState();
  let baseline: { params: object; view: object; selected: string | null } = { params: initial.params, view: initial.view, selected: initial.selected };
  let fromDemo = false;
  let loadingDemo = false;
  let runs = 0;
  store.subscribe((s, prev) => {
    if (s.batch.status === 'running' && prev.batch.status !== 'running') runs++;
    if (!loadingDemo && fromDemo && cfg.inputs(s).join('\n') !== cfg.inputs(prev).join('\n')) fromDemo = false;
  });

  const values = (s: S): ShareValues => ({
    ...flatten(s.params),
    backend: s.backend,
    sel: s.selected ?? '',
    ...flatten(s.view, 'view.'),
  });

  const spec = (): ShareSpec => {
    const defaults: ShareValues = { ...flatten(baseline.params), backend: 'auto', sel: baseline.selected ?? '', ...flatten(baseline.view, 'view.') };
    const fields: Record<string, ShareField> = { backend: { choices: ['auto', 'wasm', 'webgpu'] } };
    for (const [k, v] of Object.entries(defaults)) if (Array.isArray(v) && v.length === 0) fields[k] = { anyLength: true };
    return { defaults, fields };
  };

  const sources = (): ShareSources => {
    const s = store.getState();
    const inputs = cfg.inputs(s);
    if (inputs.length === 0) return { models: [], data: [], local: [], empty: true };
    return fromDemo ? { demo: cfg.demo, models: [], data: [], local: [], empty: false } : { models: [], data: [], local: inputs, empty: false };
  };

  return {
    scene: cfg.scene ?? false,
    spec,
    values: () => values(store.getState()),
    sources,
    async openDemo(opts: { run?: boolean } = {}) {
      loadingDemo = true;
      try {
        await cfg.openDemo({ run: false });
      } finally {
        loadingDemo = false;
      }
      const s = store.getState();
      fromDemo = cfg.inputs(s).length > 0;
      baseline = { params: s.params, view: s.view, selected: s.selected };
      if (opts.run !== false) await cfg.run();
    },
    async load(_urls: LinkUrls, _fetch: FetchUrl) {
      void _urls;
      void _fetch;
      throw new Error(`the ${cfg.label} page does not open links with URLs yet; open its demo or drop the files`);
    },
    async apply(v: ShareValues) {
      const s = store.getState();
      const problems: string[] = [];
      const patch: Partial<PageState> = {
        params: unflatten(s.params, Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('view.') && k !== 'backend' && k !== 'sel'))),
        view: unflatten(s.view, v, 'view.'),
      };
      if (typeof v.backend === 'string') patch.backend = v.backend;
      if (typeof v.sel === 'string' && v.sel !== '') {
        if (cfg.inputs(s).includes(v.sel)) patch.selected = v.sel;
        else problems.push(`sel: there is no "${v.sel}" on this page; showing ${s.selected ?? 'none'}.`);
      }
      store.setState(patch as Partial<S>);
      return problems;
    },
    run: cfg.run,
    runCount: () => runs,
    async saveSession(): Promise<SessionSave> {
      throw new Error(`session files of the ${cfg.label} page are not supported yet; its Copy link carries the demo and every setting`);
    },
    async openSession(): Promise<() => void> {
      throw new Error(`session files of the ${cfg.label} page are not supported yet`);
    },
  };
}
