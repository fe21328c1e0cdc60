/**
 * A page's links and sessions (its `PresetShare`, src/ui/share/types.ts), derived from the
 * preset's parameter specs plus a small view spec of the page: link values are the specs' link
 * keys (paramsShareSpec / paramsShareValues / paramsFromShareValues), the backend, the selected
 * item and the listed view values; what a link can say about the inputs comes from the origins
 * the items, models and labels carry; link URLs go through the same intake as dropped files.
 * Session files: ./session.ts.
 */
import { paramsFromShareValues, paramsShareSpec, paramsShareValues } from '../../core/preset/derive';
import { getPath, setPath } from '../../core/preset/params';
import type { ShareField, ShareValue, ShareValues } from '../../core/share/query';
import { shareSourcesOf, type Origin as ShareOrigin } from '../share/origins';
import type { FetchUrl, LinkUrls, PresetShare, ShareSources } from '../share/types';
import { fetchLinkFiles } from '../share/urlFiles';
import { baseImage, setBaseWindow } from '../viewer';
import { openDemo, type PageDemo } from './demo';
import type { Origin, PickedFile } from './files';
import { addFiles, ensureItem, loadLabelsText, removeItem, unreadableSource } from './intake';
import { say } from './messages';
import { addModelFiles } from './models';
import { sortPicked } from './pure';
import { runBatch } from './runner';
import { openKitSession, saveKitSession } from './session';
import type { AnyStore, PresetState } from './types';

/**
 * A view value in links: the view's key (dotted for a nested value: 'channels.red.max'), its
 * rules (or a function of the page's state: the class names…), how many significant digits to
 * keep, and its form in links when that is not the view's own (a class index written as its name).
 */
export interface ViewField {
  key: string;
  field?: ShareField | ((s: PresetState) => ShareField);
  digits?: number;
  /** The value as links write it (default: as it is). */
  toLink?(v: unknown, s: PresetState): ShareValue;
  /** The view's value of a link's value (default: as it is). */
  fromLink?(x: ShareValue, s: PresetState): unknown;
}

/** Values the page sets after the run from its viewer (the Niivue window…), and reads back from it. */
export interface AfterShare {
  defaults: ShareValues;
  fields?: Record<string, ShareField>;
  values(): ShareValues;
  apply(values: ShareValues): void;
}

/** What a page adds to the specs' link values: the selected item and its view. */
export interface ViewShare {
  /** Link key of the selected item ('tomo'); left out: the selection is not in links. */
  selected?: string;
  /** View values in links by link key. */
  fields: Record<string, ViewField>;
  after?: AfterShare;
  /** The page has a Niivue view (crosshair, zoom and pan in links); default true. */
  scene?: boolean;
  /** Data URLs keep their last folder in their path ('sim_neck/1.dcm'), so that the files of one series group as a dropped folder does. */
  linkFolders?: boolean;
}

const round = (x: number, digits: number): number => Number(x.toPrecision(digits));
const BACKEND: ShareField = { choices: ['auto', 'wasm', 'webgpu'] };

/** The Niivue base image's display window ([] = its automatic one): `window=lo,hi` in links. */
export const baseWindowShare: AfterShare = {
  defaults: { window: [] },
  fields: { window: { anyLength: true } },
  values() {
    const img = baseImage();
    const lo = img?.cal_min ?? NaN;
    const hi = img?.cal_max ?? NaN;
    if (!img || !(hi > lo) || (lo === img.robust_min && hi === img.robust_max)) return { window: [] };
    return { window: [round(lo, 6), round(hi, 6)] };
  },
  apply(values) {
    const w = values.window as number[] | undefined;
    if (w && w.length === 2) setBaseWindow(w[0], w[1]);
  },
};

/** The link's view of an origin ('dropped' = a local file). */
export const shareOrigin = (o: Origin | undefined): ShareOrigin | undefined => (o === undefined || o === 'dropped' ? undefined : o);

function viewValues(view: ViewShare, v: unknown, s: PresetState): ShareValues {
  const out: ShareValues = {};
  for (const [k, f] of Object.entries(view.fields)) {
    const raw = getPath(v, f.key);
    const x = f.toLink ? f.toLink(raw, s) : raw;
    out[k] = (typeof x === 'number' && f.digits ? round(x, f.digits) : x) as ShareValue;
  }
  return out;
}

/**
 * Where the page's inputs came from, for a link: the models in the order of the preset's roles,
 * then the model cards, every file of each source (a source of several files names each, once
 * for all the items it read into), the labels.
 */
export function kitSources(store: AnyStore): ShareSources {
  const s = store.getState();
  const roles = store.preset.models.map((r) => r.role);
  const models = [...s.models].sort((a, b) => roles.indexOf(a.role) - roles.indexOf(b.role));
  const seen = new Set<string>();
  const data = s.items.flatMap((t) => {
    if (!t.source) return [{ origin: shareOrigin(t.origin), name: t.id, kind: 'data' as const }];
    if (seen.has(t.source.source.id)) return [];
    seen.add(t.source.source.id);
    const files = t.source.files.length > 0 ? t.source.files : [{ origin: t.origin }];
    return files.map((f) => ({ origin: shareOrigin(f.origin ?? t.origin), name: t.source!.source.id, kind: 'data' as const }));
  });
  const out = shareSourcesOf(
    [
      ...models.map((m) => ({ origin: shareOrigin(m.origin), name: m.name, kind: 'model' as const })),
      ...s.cards.map((c) => ({ origin: shareOrigin(c.origin), name: c.name, kind: 'model' as const })),
      ...data,
      ...(s.labels ? [{ origin: shareOrigin(s.labels.origin), name: s.labels.name, kind: 'labels' as const }] : []),
    ],
    s.models.length === 0 && s.items.length === 0,
  );
  // the items a source read into share its files
  return { ...out, data: [...new Set(out.data)], local: [...new Set(out.local)] };
}

/**
 * Opens a link's URLs through the page's intake (models and their cards, then the labels, read with
 * the card's values, then all the data at once, so that the files of one source group as they do
 * when dropped), without running. All or nothing: every file is fetched, and every data source
 * read once in the worker, before the data is added; when any file cannot be fetched, used or read,
 * the page goes back to what it had (models the link loaded are unloaded) and the message names the
 * file and why.
 */
async function loadUrls(store: AnyStore, urls: LinkUrls, fetchUrl: FetchUrl, folders: boolean): Promise<boolean> {
  const { config } = store;
  const got = await fetchLinkFiles(urls, fetchUrl, say, (busy) => store.setState({ busy }), { dataFolders: folders });
  // a file that could not be fetched (each said why): the page keeps what it has
  if (!got.ok) {
    say('error', 'Nothing of the link was opened: the page keeps what it had.');
    return false;
  }
  const before = store.getState();
  const withOrigin = (f: { url: string; path: string; file: File }): PickedFile & { origin: Origin } => ({ path: f.path, file: f.file, origin: { url: f.url } });
  const refuse = (why: string | null): false => {
    // back to what the page had: the models the link loaded leave the worker, its values, card and labels go
    const kept = new Set(before.models.map((m) => m.workerId));
    const s = store.getState();
    for (const m of s.models) if (!kept.has(m.workerId)) void s.worker?.api.unloadModel(m.workerId).catch(() => undefined);
    const had = new Set(before.items.map((t) => t.id));
    for (const t of s.items) if (!had.has(t.id)) removeItem(store, t.id);
    store.setState({ models: before.models, params: before.params, defaults: before.defaults, paramsFrom: before.paramsFrom, labels: before.labels, cards: before.cards });
    say('error', `Nothing of the link was opened${why ? `: ${why}` : ''}; the page keeps what it had.`);
    return false;
  };
  // model cards go with the models (the intake applies them first), then the labels (read with the card's values)
  const cards = got.models.filter((f) => sortPicked(store.preset, [f]).cards.length > 0);
  if (cards.length > 0 && (await addFiles(store, cards.map(withOrigin))).failed > 0) return refuse(null);
  if ((await addModelFiles(store, got.models.filter((f) => !cards.includes(f)).map(withOrigin))) > 0) return refuse(null);
  for (const f of got.labels) if (!loadLabelsText(store, await f.file.text(), f.file.name, { url: f.url })) return refuse(null);
  if (got.data.length > 0) {
    const data = got.data.map(withOrigin);
    const sorted = sortPicked(store.preset, data);
    const used = new Set(sorted.sources.flatMap((src) => src.files.map((f) => f.path)));
    const unread = got.data.filter((f) => !used.has(f.path) && sortPicked(store.preset, [withOrigin(f)]).sources.length === 0);
    if (unread.length > 0) return refuse(`${unread[0].url}: not a ${config.texts.item} this page can read (${store.preset.inputs.hint}); a link cannot name a folder`);
    // every source read once before any is added
    store.setState({ busy: `Checking the link's ${got.data.length === 1 ? 'file' : `${got.data.length} files`}…` });
    const bad = await unreadableSource(store, sorted.sources).finally(() => store.setState({ busy: null }));
    if (bad) return refuse(bad);
    const report = await addFiles(store, data);
    if (report.failed > 0 || got.data.some((f) => !report.used.includes(f.path))) return refuse(null);
  }
  return true;
}

/** The page's share hooks (src/ui/share/types.ts), plus `openDemo` that loads its demo as the demo's. */
export function presetShare(store: AnyStore, view: ViewShare, demo?: PageDemo): PresetShare & { openDemo(opts?: { run?: boolean }): Promise<void> } {
  const { preset } = store;
  const initialView = store.getState().view;
  const spec = () => {
    const s = store.getState();
    const p = paramsShareSpec(preset.params, s.defaults);
    const fields: Record<string, ShareField> = { ...(p.fields ?? {}), backend: BACKEND, ...(view.after?.fields ?? {}) };
    for (const [k, f] of Object.entries(view.fields)) if (f.field) fields[k] = typeof f.field === 'function' ? f.field(s) : f.field;
    return {
      defaults: {
        ...p.defaults,
        backend: 'auto',
        ...(view.selected ? { [view.selected]: s.items[0]?.id ?? '' } : {}),
        ...viewValues(view, initialView, s),
        ...(view.after?.defaults ?? {}),
      },
      fields,
    };
  };
  const values = (): ShareValues => {
    const s = store.getState();
    return {
      ...paramsShareValues(preset.params, s.params),
      backend: s.backend,
      ...(view.selected ? { [view.selected]: s.selected ?? '' } : {}),
      ...viewValues(view, s.view, s),
      ...(view.after?.values() ?? {}),
    };
  };
  const apply = async (v: ShareValues): Promise<string[]> => {
    const s = store.getState();
    const { params, problems } = paramsFromShareValues(preset.params, v, s.params);
    const patch: Record<string, unknown> = { params };
    if (typeof v.backend === 'string') patch.backend = v.backend;
    const sel = view.selected ? v[view.selected] : undefined;
    if (view.selected && sel !== undefined) {
      if (s.items.some((t) => t.id === sel)) patch.selected = sel;
      else problems.push(`${view.selected}: there is no ${store.config.texts.item} "${String(sel)}"; showing ${s.selected ?? 'none'}.`);
    }
    let next = s.view;
    for (const [k, f] of Object.entries(view.fields)) if (v[k] !== undefined) next = setPath(next, f.key, f.fromLink ? f.fromLink(v[k], s) : v[k]);
    patch.view = next;
    store.setState(patch);
    return problems;
  };
  return {
    scene: view.scene ?? true,
    spec,
    values,
    sources: () => kitSources(store),
    load: (urls, fetchUrl) => loadUrls(store, urls, fetchUrl, view.linkFolders === true),
    apply,
    applyView: (v) => view.after?.apply(v),
    run: () => runBatch(store),
    // the view shows the selected item once it is read
    viewReady: async () => {
      const id = store.getState().selected;
      if (id) await ensureItem(store, id, true);
    },
    runCount: () => store.getState().runs,
    saveSession: () => saveKitSession(store),
    openSession: (state, files, name) => openKitSession(store, state, files, name),
    openDemo: async (opts = {}) => {
      if (demo) await openDemo(store, demo, opts);
    },
  };
}
