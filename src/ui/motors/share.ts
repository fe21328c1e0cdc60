/**
 * Share hooks of the flagellar-motors page (see src/ui/share/types.ts): link values (every preset
 * value, the backend and the view), where models, tomograms and labels came from, loading link
 * URLs, and session files with the models, the tomograms' own files and every detection.
 */
import type { MotorDetection } from '../../core/motors/pipeline';
import { MOTORS_TTA, type MotorsParams, type MotorsTta } from '../../core/presets/motors';
import type { ShareSpec, ShareValues } from '../../core/share/query';
import { readTensor, tensorEntry, type TensorRef } from '../../core/share/session';
import type { Backend, BackendChoice } from '../../worker/protocol';
import { urlFileName } from '../share/cache';
import { shareSourcesOf, type Origin } from '../share/origins';
import type { FetchUrl, LinkUrls, PresetShare, SessionSave, ShareSources } from '../share/types';
import { useStore, type SliceView } from '../store';
import { baseImage, setBaseWindow } from '../viewer';
import { addModelBytes, addSources, clearTomograms, ensureLoaded, loadLabelsText, loadMotorsDemo, removeModel, runMotors } from './actions';
import { sortFiles, sourceLabel, type PickedFile, type TomoSource } from './sources';
import { initialBatch, useMotors, type BatchState, type Labels, type MotorsView, type TomoEntry, type TomoStatus } from './state';


/** Origins by object: model bytes, tomogram sources and the labels object. Not in here = a local file. */
const origins = new WeakMap<object, Origin>();
let pending: Origin | null = null;
let runs = 0;

useMotors.subscribe((s, prev) => {
  if (pending) {
    for (const m of s.models) if (!origins.has(m.bytes)) origins.set(m.bytes, pending);
    for (const t of s.tomograms) if (t.source && !origins.has(t.source)) origins.set(t.source, pending);
    if (s.labels && !origins.has(s.labels)) origins.set(s.labels, pending);
  }
  if (s.batch.status === 'running' && prev.batch.status !== 'running') runs++;
});

const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));
const SLICES: SliceView[] = ['axial', 'coronal', 'sagittal', 'multiplanar'];

function paramValues(p: MotorsParams): ShareValues {
  return {
    inputSize: [...p.inputSize],
    roi: [...p.roi],
    overlap: [...p.overlap],
    swBatch: p.swBatch,
    weightMargin: p.weightMargin,
    weightFloor: p.weightFloor,
    tta: [...p.tta],
    quantile: p.quantile,
    maxPeaks: p.maxPeaks,
    minPeakDistance: p.minPeakDistance,
    distance: p.distanceThresholdAngstrom,
    beta: p.beta,
    spacing: p.defaultVoxelSpacing,
  };
}

const INITIAL_VIEW: MotorsView = useMotors.getState().view;

function windowValue(): number[] {
  const img = baseImage();
  const lo = img?.cal_min ?? NaN;
  const hi = img?.cal_max ?? NaN;
  if (!img || !(hi > lo)) return [];
  if (lo === img.robust_min && hi === img.robust_max) return [];
  return [round(lo), round(hi)];
}

function viewValues(v: MotorsView, selected: string): ShareValues {
  return {
    tomo: selected,
    slice: v.sliceType,
    heatmap: v.showHeatmap,
    points: v.showPoints,
    opacity: round(v.opacity, 4),
    floor: round(v.heatmapFloor, 4),
    window: windowValue(),
  };
}

function spec(): ShareSpec {
  const s = useMotors.getState();
  return {
    defaults: { ...paramValues(s.defaults), backend: 'auto', ...viewValues(INITIAL_VIEW, s.tomograms[0]?.id ?? ''), window: [] },
    fields: {
      inputSize: { integer: true, min: 1 },
      roi: { integer: true, min: 1 },
      overlap: { min: 0, max: 0.99 },
      swBatch: { integer: true, min: 1 },
      tta: { choices: MOTORS_TTA, anyLength: true },
      quantile: { min: 0, max: 1 },
      maxPeaks: { integer: true, min: 1 },
      backend: { choices: ['auto', 'wasm', 'webgpu'] },
      slice: { choices: SLICES },
      opacity: { min: 0, max: 1 },
      floor: { min: 0, max: 0.99 },
      window: { anyLength: true },
    },
  };
}

function sources(): ShareSources {
  const s = useMotors.getState();
  return shareSourcesOf(
    [
      ...s.models.map((m) => ({ origin: origins.get(m.bytes), name: m.name, kind: 'model' as const })),
      ...s.tomograms.map((t) => ({ origin: t.source ? origins.get(t.source) : undefined, name: t.id, kind: 'data' as const })),
      ...(s.labels ? [{ origin: origins.get(s.labels), name: s.labels.name, kind: 'labels' as const }] : []),
    ],
    s.models.length === 0 && s.tomograms.length === 0,
  );
}

/** The bundled demo with its origin recorded (links and gallery cards open it as `?demo=motors`). */
export async function openMotorsDemo(opts: { run?: boolean } = {}): Promise<void> {
  pending = { demo: 'motors' };
  try {
    await loadMotorsDemo({ run: false });
  } finally {
    pending = null;
  }
  if (opts.run !== false) await runMotors();
}

async function load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean> {
  const say = useStore.getState().addMessage;
  let ok = true;
  const get = async (url: string, what: string): Promise<Uint8Array | null> => {
    useMotors.setState({ busy: `Downloading ${what} ${urlFileName(url)}…` });
    try {
      return await fetchUrl(url);
    } catch (e) {
      say('error', `Could not open the link's ${what}: ${(e as Error).message}`);
      ok = false;
      return null;
    } finally {
      useMotors.setState({ busy: null });
    }
  };
  if (urls.labels) {
    const b = await get(urls.labels, 'labels');
    if (b) {
      pending = { url: urls.labels };
      ok = loadLabelsText(new TextDecoder().decode(b), urlFileName(urls.labels)) && ok;
      pending = null;
    }
  }
  for (const url of urls.models) {
    const b = await get(url, 'model');
    if (!b) continue;
    pending = { url };
    try {
      ok = (await addModelBytes(b, urlFileName(url))) && ok;
    } finally {
      pending = null;
    }
  }
  for (const url of urls.data) {
    const b = await get(url, 'tomogram');
    if (!b) continue;
    const name = urlFileName(url);
    const sorted = sortFiles<File>([{ path: name, file: new File([b as BlobPart], name) }]);
    if (sorted.tomograms.length === 0) {
      say('error', `${url}: not a tomogram file (MRC/REC, TIFF, NIfTI or .npy); a link cannot name a folder of slices.`);
      ok = false;
      continue;
    }
    pending = { url };
    addSources(sorted.tomograms);
    pending = null;
  }
  return ok;
}

async function apply(values: ShareValues): Promise<string[]> {
  const v = values;
  const s = useMotors.getState();
  const p: MotorsParams = { ...s.params };
  const n = (k: string): number | undefined => v[k] as number | undefined;
  const t3 = (k: string): [number, number, number] | undefined => v[k] as [number, number, number] | undefined;
  p.inputSize = t3('inputSize') ?? p.inputSize;
  p.roi = t3('roi') ?? p.roi;
  p.overlap = t3('overlap') ?? p.overlap;
  p.swBatch = n('swBatch') ?? p.swBatch;
  p.weightMargin = n('weightMargin') ?? p.weightMargin;
  p.weightFloor = n('weightFloor') ?? p.weightFloor;
  p.tta = (v.tta as MotorsTta[] | undefined) ?? p.tta;
  p.quantile = n('quantile') ?? p.quantile;
  p.maxPeaks = n('maxPeaks') ?? p.maxPeaks;
  p.minPeakDistance = n('minPeakDistance') ?? p.minPeakDistance;
  p.distanceThresholdAngstrom = n('distance') ?? p.distanceThresholdAngstrom;
  p.beta = n('beta') ?? p.beta;
  p.defaultVoxelSpacing = n('spacing') ?? p.defaultVoxelSpacing;
  const patch: Partial<typeof s> = { params: p };
  if (v.backend !== undefined) patch.backend = v.backend as BackendChoice;
  const problems: string[] = [];
  if (v.tomo !== undefined) {
    if (s.tomograms.some((t) => t.id === v.tomo)) patch.selected = v.tomo as string;
    else problems.push(`tomo: there is no tomogram "${String(v.tomo)}"; showing ${s.selected ?? 'none'}.`);
  }
  const view: MotorsView = { ...s.view };
  if (v.slice !== undefined) view.sliceType = v.slice as SliceView;
  if (v.heatmap !== undefined) view.showHeatmap = v.heatmap as boolean;
  if (v.points !== undefined) view.showPoints = v.points as boolean;
  if (v.opacity !== undefined) view.opacity = v.opacity as number;
  if (v.floor !== undefined) view.heatmapFloor = v.floor as number;
  patch.view = view;
  useMotors.setState(patch);
  return problems;
}

/** The base window needs the tomogram shown: after the run. */
function applyView(values: ShareValues): void {
  const w = values.window as number[] | undefined;
  if (w && w.length === 2) setBaseWindow(w[0], w[1]);
}

// ---------------------------------------------------------------------------------------------
// sessions

interface SavedSource {
  kind: TomoSource['kind'];
  id: string;
  folder?: string;
  /** Original paths and where their bytes are in the session file. */
  files: { path: string; entry: string; type: string }[];
}

interface SavedTomo {
  id: string;
  source: SavedSource | null;
  origin?: Origin;
  sourceLabel: string;
  status: TomoStatus;
  shape?: [number, number, number];
  spacing?: number;
  error?: string;
  loadFailed?: boolean;
  note?: string;
  result?: { detection: Omit<MotorDetection, 'heatmap'> & { heatmap: TensorRef }; backend: Backend; backendReason: string; wallMs: number; key: string };
}

interface MotorsSession {
  models: { name: string; path: string; origin?: Origin }[];
  tomograms: SavedTomo[];
  params: MotorsParams;
  defaults: MotorsParams;
  paramsFrom: string;
  labels: Labels | null;
  labelsOrigin?: Origin;
  backend: BackendChoice;
  batch: BatchState;
  selected: string | null;
  view: MotorsView;
}

const safe = (n: string): string => n.replace(/[^\w.\-/]+/g, '_').replace(/\.\.+/g, '.');

async function saveSession(): Promise<SessionSave<MotorsSession>> {
  const s = useMotors.getState();
  if (s.batch.status === 'running') throw new Error('a run is going; wait for it or cancel it first');
  const files = new Map<string, Uint8Array>();
  const models = s.models.map((m, i) => {
    const path = `models/${i}_${safe(m.name)}`;
    files.set(path, m.bytes);
    return { name: m.name, path, origin: origins.get(m.bytes) };
  });
  const tomograms: SavedTomo[] = [];
  for (const [i, t] of s.tomograms.entries()) {
    let source: SavedSource | null = null;
    if (t.source) {
      const picked: PickedFile[] = t.source.kind === 'slices' ? t.source.files : [t.source.file];
      const list: SavedSource['files'] = [];
      for (const [j, f] of picked.entries()) {
        const entry = `tomograms/${i}/${j}_${safe(f.file.name)}`;
        files.set(entry, new Uint8Array(await f.file.arrayBuffer()));
        list.push({ path: f.path, entry, type: f.file.type });
      }
      source = { kind: t.source.kind, id: t.source.id, ...(t.source.kind === 'slices' ? { folder: t.source.folder } : {}), files: list };
    }
    const saved: SavedTomo = {
      id: t.id,
      source,
      origin: t.source ? origins.get(t.source) : undefined,
      sourceLabel: t.sourceLabel,
      status: t.status === 'running' || t.status === 'loading' ? 'waiting' : t.status,
      ...(t.shape ? { shape: t.shape } : {}),
      ...(t.spacing !== undefined ? { spacing: t.spacing } : {}),
      ...(t.error ? { error: t.error } : {}),
      ...(t.loadFailed ? { loadFailed: true } : {}),
      ...(t.note ? { note: t.note } : {}),
    };
    if (t.result) {
      const { heatmap, ...det } = t.result.detection;
      saved.result = { ...t.result, detection: { ...det, heatmap: tensorEntry(`results/${i}_heatmap.f32`, heatmap, files) } };
    }
    tomograms.push(saved);
  }
  return {
    state: {
      models,
      tomograms,
      params: s.params,
      defaults: s.defaults,
      paramsFrom: s.paramsFrom,
      labels: s.labels,
      labelsOrigin: s.labels ? origins.get(s.labels) : undefined,
      backend: s.backend,
      batch: s.batch,
      selected: s.selected,
      view: s.view,
    },
    files,
  };
}

function restoreSource(src: SavedSource, files: Map<string, Uint8Array>, name: string): TomoSource {
  const picked: PickedFile[] = src.files.map((f) => {
    const b = files.get(f.entry);
    if (!b) throw new Error(`${name}: ${f.entry} is missing`);
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    return { path: f.path, file: new File([b as BlobPart], base, { type: f.type }) };
  });
  if (src.kind === 'slices') return { kind: 'slices', id: src.id, folder: src.folder ?? src.id, files: picked };
  if (!picked[0]) throw new Error(`${name}: tomogram ${src.id} has no file`);
  return { kind: src.kind, id: src.id, file: picked[0] };
}

async function openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<void> {
  const st = state as MotorsSession;
  if (!st || !Array.isArray(st.models) || !Array.isArray(st.tomograms) || !st.params) throw new Error(`${name}: the motors state is missing from session.json`);
  const cur = useMotors.getState();
  if (cur.batch.status === 'running') throw new Error('a run is going; cancel it before opening a session');
  // check everything before replacing what is open
  const entries: TomoEntry[] = st.tomograms.map((t) => {
    const source = t.source ? restoreSource(t.source, files, name) : null;
    if (source && t.origin) origins.set(source, t.origin);
    const e: TomoEntry = { id: t.id, source, sourceLabel: source ? sourceLabel(source) : t.sourceLabel, status: t.status };
    if (t.shape) e.shape = t.shape;
    if (t.spacing !== undefined) e.spacing = t.spacing;
    if (t.error) e.error = t.error;
    if (t.loadFailed) e.loadFailed = true;
    if (t.note) e.note = t.note;
    if (t.result) {
      const heatmap = readTensor(t.result.detection.heatmap, files, name);
      if (!(heatmap instanceof Float32Array)) throw new Error(`${name}: ${t.result.detection.heatmap.path} is not float32`);
      e.result = { ...t.result, detection: { ...t.result.detection, heatmap } };
    }
    return e;
  });
  for (const m of st.models) if (!files.has(m.path)) throw new Error(`${name}: ${m.path} is missing`);
  clearTomograms();
  for (const m of [...useMotors.getState().models]) removeModel(m.name);
  for (const m of st.models) {
    const bytes = files.get(m.path)!;
    if (m.origin) origins.set(bytes, m.origin);
    if (!(await addModelBytes(bytes, m.name))) throw new Error(`${name}: its model ${m.name} could not be loaded (see the messages)`);
  }
  const labels = st.labels ? { name: st.labels.name, rows: st.labels.rows } : null;
  if (labels && st.labelsOrigin) origins.set(labels, st.labelsOrigin);
  useMotors.setState({
    tomograms: entries,
    params: st.params,
    defaults: st.defaults ?? st.params,
    paramsFrom: st.paramsFrom ?? 'session',
    labels,
    backend: st.backend ?? 'auto',
    batch: st.batch ? { ...st.batch, status: st.batch.status === 'running' ? 'done' : st.batch.status, cancelRequested: false } : initialBatch,
    selected: st.selected,
    view: { ...INITIAL_VIEW, ...st.view },
  });
  const done = entries.filter((t) => t.status === 'done').length;
  useStore.getState().addMessage('info', `Opened the session ${name}: ${entries.length} tomograms, ${done} with results (not run again).`);
}

export const motorsShare: PresetShare = {
  spec,
  values: () => {
    const s = useMotors.getState();
    return { ...paramValues(s.params), backend: s.backend, ...viewValues(s.view, s.selected ?? '') };
  },
  sources,
  load,
  apply,
  applyView,
  run: runMotors,
  // the view decodes the selected tomogram (from its files) before showing it
  viewReady: async () => {
    const id = useMotors.getState().selected;
    if (id) await ensureLoaded(id, true);
  },
  runCount: () => runs,
  saveSession,
  openSession,
};
