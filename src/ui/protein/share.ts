/**
 * Share hooks of the protein page (src/ui/share/types.ts) from its store (src/ui/share/storeShare.ts):
 * demo links carry every preset value (`keepRatio`, `percentile`, `segmentation.minNucleusArea` …),
 * the backend, the selected field of view (`sel`) and the view (`view.camOpacity`,
 * `view.channels.green.max` …). Links with URLs (`?v=1&preset=protein&model=<url>&data=<url>…&labels=<url>`):
 * models (.onnx, or a .json model card), data = the RGBY PNGs (`<id>_red.png` …, `<id>_cells.png`)
 * or 4-channel TIFFs, labels = cell_labels.csv; each is fetched through the cache and goes the way
 * a dropped file goes.
 *
 * Session files hold the preset values, the view, the models' bytes, every field of view's files
 * (RGBY PNGs or TIFF, cell masks), the cell labels and every result (logits, probabilities, CAM
 * maps, the cell image and the per-cell results); opening one shows them without running.
 */
import type { ProteinChannel, ProteinParams } from '../../core/presets/protein';
import type { FovFiles } from '../../core/protein/images';
import type { RleFormat } from '../../core/protein/rle';
import { readTensor, tensorEntry, type TensorArray, type TensorRef } from '../../core/share/session';
import type { BackendChoice, ProteinRunResult } from '../../worker/protocol';
import type { PickedFile } from '../motors/sources';
import { urlFileName } from '../share/cache';
import { storeShare } from '../share/storeShare';
import type { FetchUrl, LinkUrls, SessionSave, ShareSources } from '../share/types';
import { fetchLinkFiles, urlOfFile } from '../share/urlFiles';
import { useStore } from '../store';
import { addFiles, addModelBytes, addSets, clearFovs, loadFov, loadGroundTruthText, loadProteinDemo, removeModel, runProtein } from './actions';
import { initialView, runKey, useProtein, type FovEntry, type ProteinViewState } from './state';

const base = storeShare({
  store: useProtein,
  demo: 'protein',
  openDemo: loadProteinDemo,
  run: runProtein,
  inputs: (s) => [...s.fovs.map((f) => f.id), ...s.models.map((m) => m.name)],
  label: 'Protein localisation',
});

export const openProteinDemo = (opts?: { run?: boolean }): Promise<void> => base.openDemo(opts);

// ---------------------------------------------------------------------------------------------
// links with URLs

/** Link URLs of the models' bytes and the ground truth read from a link (files keep theirs: urlOfFile). */
const urlOf = new WeakMap<object, string>();
/** Model cards a link named (they set values; written back into the link after its models). */
let cardUrls: string[] = [];

async function load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean> {
  const got = await fetchLinkFiles(urls, fetchUrl, useStore.getState().addMessage, (busy) => useProtein.setState({ busy }));
  let ok = got.ok;
  const { models, data, labels } = got;
  const cards = models.filter((m) => /\.json$/i.test(m.path));
  if (cards.length > 0) await addFiles(cards);
  cardUrls = cards.map((c) => c.url);
  for (const m of models) {
    if (cards.includes(m)) continue;
    if (!(await addModelBytes(new Uint8Array(await m.file.arrayBuffer()), m.file.name))) ok = false;
    const kept = useProtein.getState().models.find((x) => x.name === m.file.name);
    if (kept) urlOf.set(kept.bytes, m.url);
  }
  for (const l of labels) {
    if (!loadGroundTruthText(await l.file.text(), urlFileName(l.url))) ok = false;
    const kept = useProtein.getState().groundTruth;
    if (kept) urlOf.set(kept, l.url);
  }
  if (data.length > 0) await addFiles(data);
  await Promise.all(useProtein.getState().fovs.map((f) => loadFov(f.id)));
  if (data.length > 0 && !useProtein.getState().fovs.some((f) => !f.loadFailed)) ok = false;
  return ok;
}

/** Demo, or per input: the URL it came from, or its name as a local file (no link then). */
function sources(): ShareSources {
  const b = base.sources();
  if (b.demo !== undefined || b.empty) return b;
  const s = useProtein.getState();
  const out: ShareSources = { models: [], data: [], local: [], empty: false };
  for (const m of s.models) {
    const u = urlOf.get(m.bytes);
    if (u) out.models.push(u);
    else out.local.push(m.name);
  }
  for (const f of s.fovs) {
    const us = roles(f.files).map(([, p]) => urlOfFile(p.file));
    if (us.length > 0 && us.every((u) => u !== undefined)) out.data.push(...(us as string[]));
    else out.local.push(f.id);
  }
  if (out.models.length + out.data.length > 0) out.models.push(...cardUrls);
  if (s.groundTruth) {
    const u = urlOf.get(s.groundTruth);
    if (u) out.labels = u;
    else out.local.push(s.groundTruth.name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sessions

type SavedResult = Omit<ProteinRunResult, 'logits' | 'probabilities' | 'cam' | 'cells'> & {
  logits: TensorRef;
  probabilities: TensorRef;
  cam: TensorRef;
  cells: TensorRef;
  wallMs: number;
};

interface SavedFov {
  id: string;
  /** Role ('red', 'tiff', 'cells' …) -> the file's name and its path in the session. */
  files: { role: ProteinChannel | 'tiff' | 'cells'; name: string; path: string }[];
  result?: SavedResult;
}

interface ProteinSession {
  models: { name: string; path: string }[];
  fovs: SavedFov[];
  params: ProteinParams;
  paramsFrom: string;
  backend: BackendChoice;
  rle: RleFormat;
  selected: string | null;
  view: ProteinViewState;
  groundTruth: { name: string; cells: [string, [number, number[]][]][] } | null;
}

const safe = (n: string): string => n.replace(/[^\w.-]+/g, '_').replace(/\.\.+/g, '.');

function roles(files: FovFiles<PickedFile>): [ProteinChannel | 'tiff' | 'cells', PickedFile][] {
  const out: [ProteinChannel | 'tiff' | 'cells', PickedFile][] = [];
  for (const [c, f] of Object.entries(files.channels) as [ProteinChannel, PickedFile | undefined][]) if (f) out.push([c, f]);
  if (files.tiff) out.push(['tiff', files.tiff]);
  if (files.cells) out.push(['cells', files.cells]);
  return out;
}

async function saveSession(): Promise<SessionSave<ProteinSession>> {
  const s = useProtein.getState();
  if (s.batch.status === 'running') throw new Error('a run is going; wait for it or cancel it first');
  const files = new Map<string, Uint8Array>();
  const models = s.models.map((m, i) => {
    const path = `models/${i}_${safe(m.name)}`;
    files.set(path, m.bytes);
    return { name: m.name, path };
  });
  const fovs: SavedFov[] = [];
  for (const [i, f] of s.fovs.entries()) {
    const saved: SavedFov = { id: f.id, files: [] };
    for (const [role, p] of roles(f.files)) {
      const name = p.path.split('/').pop() ?? p.path;
      const path = `images/${i}_${role}_${safe(name)}`;
      files.set(path, new Uint8Array(await p.file.arrayBuffer()));
      saved.files.push({ role, name, path });
    }
    if (f.result && f.status === 'done') {
      const { logits, probabilities, cam, cells, ...rest } = f.result;
      saved.result = {
        ...rest,
        logits: tensorEntry(`results/${i}_logits.f32`, logits, files),
        probabilities: tensorEntry(`results/${i}_probabilities.f32`, probabilities, files),
        cam: tensorEntry(`results/${i}_cam.f32`, cam, files),
        cells: tensorEntry(`results/${i}_cells.i32`, cells, files),
      };
    }
    fovs.push(saved);
  }
  const gt = s.groundTruth ? { name: s.groundTruth.name, cells: [...s.groundTruth.cells].map(([id, m]) => [id, [...m]] as [string, [number, number[]][]]) } : null;
  return {
    state: { models, fovs, params: s.params, paramsFrom: s.paramsFrom, backend: s.backend, rle: s.rle, selected: s.selected, view: s.view, groundTruth: gt },
    files,
  };
}

function typed<T extends TensorArray>(ref: TensorRef, files: Map<string, Uint8Array>, name: string, ctor: new (n: number) => T): T {
  const a = readTensor(ref, files, name);
  if (!(a instanceof ctor)) throw new Error(`${name}: ${ref.path} is not ${ctor.name}`);
  return a as T;
}

async function openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<void> {
  const st = state as ProteinSession;
  if (!st || !Array.isArray(st.models) || !Array.isArray(st.fovs) || !st.params) throw new Error(`${name}: the protein state is missing from session.json`);
  if (useProtein.getState().batch.status === 'running') throw new Error('a run is going; cancel it before opening a session');
  for (const m of st.models) if (!files.has(m.path)) throw new Error(`${name}: ${m.path} is missing`);
  for (const f of st.fovs) for (const x of f.files) if (!files.has(x.path)) throw new Error(`${name}: ${x.path} is missing`);
  const results = new Map<string, ProteinRunResult & { wallMs: number }>();
  for (const f of st.fovs) {
    if (!f.result) continue;
    const r = f.result;
    results.set(f.id, {
      ...r,
      logits: typed(r.logits, files, name, Float32Array),
      probabilities: typed(r.probabilities, files, name, Float32Array),
      cam: typed(r.cam, files, name, Float32Array),
      cells: typed(r.cells, files, name, Int32Array),
    });
  }
  clearFovs();
  for (const m of [...useProtein.getState().models]) removeModel(m.name);
  useProtein.setState({
    params: st.params,
    paramsFrom: st.paramsFrom,
    backend: st.backend ?? 'auto',
    rle: st.rle ?? 'hpa',
    groundTruth: st.groundTruth ? { name: st.groundTruth.name, cells: new Map(st.groundTruth.cells.map(([id, c]) => [id, new Map(c)])) } : null,
  });
  for (const m of st.models) {
    if (!(await addModelBytes(files.get(m.path)!, m.name))) throw new Error(`${name}: its model ${m.name} could not be loaded (see the messages)`);
  }
  const sets: FovFiles<PickedFile>[] = st.fovs.map((f) => {
    const set: FovFiles<PickedFile> = { id: f.id, channels: {} };
    for (const x of f.files) {
      const picked: PickedFile = { path: x.name, file: new File([files.get(x.path)!.slice()], x.name) };
      if (x.role === 'tiff') set.tiff = picked;
      else if (x.role === 'cells') set.cells = picked;
      else set.channels[x.role] = picked;
    }
    return set;
  });
  if (sets.length > 0) addSets(sets);
  await Promise.all(st.fovs.map((f) => loadFov(f.id)));
  // the saved results, as they were (the model ids changed: keep the key current)
  const key = runKey(useProtein.getState());
  useProtein.setState((s) => ({
    fovs: s.fovs.map((f): FovEntry => {
      const r = results.get(f.id);
      return r && !f.loadFailed ? { ...f, status: 'done', result: { ...r, key } } : f;
    }),
    batch: { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, cancelRequested: false },
    selected: st.selected,
    view: { ...initialView, ...st.view },
  }));
  useStore.getState().addMessage('info', `Opened the session ${name}: ${st.fovs.length} fields of view, ${results.size} with results (not run again).`);
}

export const proteinShare = { ...base, sources, load, saveSession, openSession };
