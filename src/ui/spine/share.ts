/**
 * Share hooks of the cervical spine page (src/ui/share/types.ts) from its store
 * (src/ui/share/storeShare.ts): demo links carry every preset value (`threshold`, `order`,
 * `layout` …), the backend, the selected series (`sel`) and the view (`view.level`,
 * `view.width`, `view.sliceType`, `view.opacity` …) with the crosshair. Links with URLs
 * (`?v=1&preset=spine&model=<url>[&model=<url>]&data=<url>…&labels=<url>`): models (.onnx; the
 * stage comes from the input rank, as for dropped models; .json model cards too), data = the
 * DICOM files of a series (grouped by their URL's folder) or NIfTI URLs, labels = the labels
 * CSV; each is fetched through the cache and goes the way a dropped file goes.
 *
 * Session files hold the preset values, the view, the models' bytes, the labels, every source's
 * files (DICOM or NIfTI) and every result (the label volume, the user's corrected labels, the
 * vertebra rows and fracture scores); opening one decodes the series again and shows the saved
 * results without running a model.
 */
import type { SpineParams } from '../../core/presets/spine';
import type { SpineLabel } from '../../core/spine/export';
import { readTensor, tensorEntry, type TensorRef } from '../../core/share/session';
import type { BackendChoice } from '../../worker/protocol';
import type { PickedFile } from '../motors/sources';
import { urlFileName } from '../share/cache';
import { storeShare } from '../share/storeShare';
import type { FetchUrl, LinkUrls, SessionSave, ShareSources } from '../share/types';
import { fetchLinkFiles, urlOfFile } from '../share/urlFiles';
import { useStore } from '../store';
import { addFiles, addModelBytes, addSources, clearLabels, clearSeries, loaded, loadLabelsText, loadSpineDemo, removeModel, runSpine, spineSource } from './actions';
import { correctedLabels, holdCorrected, holdLabels, modelLabels } from './cache';
import type { SpineSource } from './sources';
import { initialBatch, initialView, runKey, useSpine, type SeriesEntry, type SeriesResult, type SpineViewState } from './state';

const base = storeShare({
  store: useSpine,
  demo: 'spine',
  openDemo: loadSpineDemo,
  run: runSpine,
  inputs: (s) => [...s.series.map((t) => t.key), ...s.models.map((m) => m.name)],
  scene: true,
  label: 'Cervical spine',
});

export const openSpineDemo = (opts?: { run?: boolean }): Promise<void> => base.openDemo(opts);

// ---------------------------------------------------------------------------------------------
// links with URLs

/** Link URLs of the models' bytes and the labels read from a link (files keep theirs: urlOfFile). */
const urlOf = new WeakMap<object, string>();
/** Model cards a link named (they set values; written back into the link after its models). */
let cardUrls: string[] = [];

async function load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean> {
  const got = await fetchLinkFiles(urls, fetchUrl, useStore.getState().addMessage, (busy) => useSpine.setState({ busy }), { dataFolders: true });
  let ok = got.ok;
  const { models, data, labels } = got;
  const cards = models.filter((m) => /\.json$/i.test(m.path));
  if (cards.length > 0) await addFiles(cards);
  cardUrls = cards.map((c) => c.url);
  for (const m of models) {
    if (cards.includes(m)) continue;
    const bytes = new Uint8Array(await m.file.arrayBuffer());
    if (!(await addModelBytes(bytes, m.file.name))) ok = false;
    const kept = useSpine.getState().models.find((x) => x.name === m.file.name);
    if (kept) urlOf.set(kept.bytes, m.url);
  }
  for (const l of labels) {
    if (!loadLabelsText(await l.file.text(), urlFileName(l.url))) ok = false;
    const kept = useSpine.getState().labels;
    if (kept) urlOf.set(kept, l.url);
  }
  if (data.length > 0) await addFiles(data);
  await loaded();
  if (data.length > 0 && !useSpine.getState().series.some((t) => !t.loadFailed)) ok = false;
  return ok;
}

/** Demo, or per input: the URL it came from, or its name as a local file (no link then). */
function sources(): ShareSources {
  const b = base.sources();
  if (b.demo !== undefined || b.empty) return b;
  const s = useSpine.getState();
  const out: ShareSources = { models: [], data: [], local: [], empty: false };
  const order = { seg: 0, cls: 1 };
  for (const m of [...s.models].sort((a, c) => order[a.stage] - order[c.stage])) {
    const u = urlOf.get(m.bytes);
    if (u) out.models.push(u);
    else out.local.push(m.name);
  }
  for (const id of new Set(s.series.map((t) => t.source))) {
    const src = spineSource(id);
    const files = !src ? [] : src.kind === 'dicom' ? src.files : [src.file];
    const us = files.map((f) => urlOfFile(f.file));
    if (files.length > 0 && us.every((u) => u !== undefined)) out.data.push(...(us as string[]));
    else out.local.push(id);
  }
  if (out.models.length + out.data.length > 0) out.models.push(...cardUrls);
  if (s.labels) {
    const u = urlOf.get(s.labels);
    if (u) out.labels = u;
    else out.local.push(s.labels.name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sessions

interface SavedFile {
  /** The path as dropped ("sim_neck/slice_000.dcm") and where its bytes are in the session. */
  path: string;
  at: string;
}

type SavedSource = { kind: 'dicom'; id: string; folder: string; ignored: string[]; files: SavedFile[] } | { kind: 'nifti'; id: string; file: SavedFile };

interface SavedSeries {
  key: string;
  chosen: boolean;
  result?: SeriesResult & { current: boolean };
  labels?: TensorRef;
  corrected?: TensorRef;
  edited?: number;
}

interface SpineSession {
  models: { name: string; path: string }[];
  sources: SavedSource[];
  series: SavedSeries[];
  params: SpineParams;
  paramsFrom: string;
  defaults: SpineParams;
  backend: BackendChoice;
  labels: { name: string; rows: [string, SpineLabel][] } | null;
  selected: string | null;
  view: SpineViewState;
}

const safe = (n: string): string => n.replace(/[^\w.-]+/g, '_').replace(/\.\.+/g, '.');

async function saveSession(): Promise<SessionSave<SpineSession>> {
  const s = useSpine.getState();
  if (s.batch.status === 'running') throw new Error('a run is going; wait for it or cancel it first');
  if (s.loading || s.series.some((t) => t.status === 'loading')) throw new Error('series are still being read; wait for them first');
  const files = new Map<string, Uint8Array>();
  const models = s.models.map((m, i) => {
    const path = `models/${i}_${safe(m.name)}`;
    files.set(path, m.bytes);
    return { name: m.name, path };
  });
  const sources: SavedSource[] = [];
  const ids = [...new Set(s.series.map((t) => t.source))];
  for (const [i, id] of ids.entries()) {
    const src = spineSource(id);
    if (!src) continue; // a source that failed before it was kept
    const keep = async (p: PickedFile, j: number): Promise<SavedFile> => {
      const at = `sources/${i}/${j}_${safe(p.path.split('/').pop() ?? p.path)}`;
      files.set(at, new Uint8Array(await p.file.arrayBuffer()));
      return { path: p.path, at };
    };
    if (src.kind === 'dicom') sources.push({ kind: 'dicom', id, folder: src.folder, ignored: src.ignored, files: await Promise.all(src.files.map(keep)) });
    else sources.push({ kind: 'nifti', id, file: await keep(src.file, 0) });
  }
  const key = runKey(s);
  const series: SavedSeries[] = s.series.map((t, i) => {
    const out: SavedSeries = { key: t.key, chosen: t.chosen };
    if (t.status === 'done' && t.result) {
      out.result = { ...t.result, current: t.result.key === key };
      const labels = modelLabels(t.key);
      const corrected = correctedLabels(t.key);
      if (labels) out.labels = tensorEntry(`results/${i}_labels.u8`, labels, files);
      if (corrected) out.corrected = tensorEntry(`results/${i}_corrected.u8`, corrected, files);
      if (t.edited !== undefined) out.edited = t.edited;
    }
    return out;
  });
  return {
    state: {
      models,
      sources,
      series,
      params: s.params,
      paramsFrom: s.paramsFrom,
      defaults: s.defaults,
      backend: s.backend,
      labels: s.labels ? { name: s.labels.name, rows: [...s.labels.rows] } : null,
      selected: s.selected,
      view: { ...s.view, pen: null },
    },
    files,
  };
}

function bytesOf(ref: TensorRef, files: Map<string, Uint8Array>, name: string): Uint8Array {
  const a = readTensor(ref, files, name);
  if (!(a instanceof Uint8Array)) throw new Error(`${name}: ${ref.path} is not uint8`);
  return a;
}

async function openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<void> {
  const st = state as SpineSession;
  if (!st || !Array.isArray(st.models) || !Array.isArray(st.sources) || !Array.isArray(st.series) || !st.params) throw new Error(`${name}: the spine state is missing from session.json`);
  if (useSpine.getState().batch.status === 'running') throw new Error('a run is going; cancel it before opening a session');
  for (const m of st.models) if (!files.has(m.path)) throw new Error(`${name}: ${m.path} is missing`);
  for (const src of st.sources) for (const f of src.kind === 'dicom' ? src.files : [src.file]) if (!files.has(f.at)) throw new Error(`${name}: ${f.at} is missing`);
  const held = new Map<string, { labels?: Uint8Array; corrected?: Uint8Array }>();
  for (const t of st.series) {
    held.set(t.key, { labels: t.labels ? bytesOf(t.labels, files, name) : undefined, corrected: t.corrected ? bytesOf(t.corrected, files, name) : undefined });
  }
  clearSeries();
  clearLabels();
  for (const m of [...useSpine.getState().models]) removeModel(m.name);
  useSpine.setState({
    params: st.params,
    paramsFrom: st.paramsFrom,
    defaults: st.defaults ?? st.params,
    backend: st.backend ?? 'auto',
    labels: st.labels ? { name: st.labels.name, rows: new Map(st.labels.rows) } : null,
  });
  for (const m of st.models) {
    if (!(await addModelBytes(files.get(m.path)!, m.name))) throw new Error(`${name}: its model ${m.name} could not be loaded (see the messages)`);
  }
  const picked = (f: SavedFile): PickedFile => {
    const leaf = f.path.split('/').pop() ?? f.path;
    return { path: f.path, file: new File([files.get(f.at)!.slice()], leaf) };
  };
  const sources: SpineSource[] = st.sources.map((src) =>
    src.kind === 'dicom' ? { kind: 'dicom', id: src.id, folder: src.folder, ignored: src.ignored, files: src.files.map(picked) } : { kind: 'nifti', id: src.id, file: picked(src.file) },
  );
  if (sources.length > 0) addSources(sources);
  await loaded();
  // the saved results, as they were (the model ids changed: keep the key current)
  const key = runKey(useSpine.getState());
  let shown = 0;
  for (const t of st.series) {
    const h = held.get(t.key);
    if (!h?.labels || !useSpine.getState().series.some((x) => x.key === t.key && !x.loadFailed)) continue;
    holdLabels(t.key, h.labels);
    if (h.corrected) holdCorrected(t.key, h.corrected);
  }
  useSpine.setState((s) => ({
    series: s.series.map((x): SeriesEntry => {
      const t = st.series.find((y) => y.key === x.key);
      if (!t || x.loadFailed) return x;
      const out: SeriesEntry = { ...x, chosen: t.chosen };
      if (t.result && held.get(t.key)?.labels) {
        const { current, ...result } = t.result;
        shown++;
        return { ...out, status: 'done', result: { ...result, key: current ? key : result.key }, edited: t.edited };
      }
      return out;
    }),
    batch: initialBatch,
    selected: st.selected !== null && s.series.some((x) => x.key === st.selected) ? st.selected : s.selected,
    view: { ...initialView, ...st.view, pen: null },
  }));
  useStore.getState().addMessage('info', `Opened the session ${name}: ${st.series.length} series, ${shown} with results (not run again).`);
}

export const spineShare = { ...base, sources, load, saveSession, openSession };
