/**
 * Share hooks of the workbench (and its brain MRI demo): link values, where the inputs came from
 * (each loaded volume and model carries its origin in the store), loading link URLs, and session
 * files with the volume, the model and the raw output. What only links need (the labels URL, the
 * demo's values) is in a small store here.
 */
import { z } from '../../core/zod';
import { createStore } from 'zustand/vanilla';
import { readVolume } from '../../core/io';
import { writeNifti } from '../../core/io/nifti';
import type { ShareSpec, ShareValues } from '../../core/share/query';
import { readTensor, tensorEntry, type TensorRef } from '../../core/share/session';
import { spatialShape, type Volume } from '../../core/volume';
import type { RunResult } from '../../worker/protocol';
import { checkRelax, getClient, loadDemo, loadModelBytes, loadVolumeBytes, relaxModel, run, sameFile, updateRoiDefaults } from '../actions';
import { resampleToGrid, type Shape3 } from '../overlay';
import { initialRunState, initialSettings, initialView, newResultCache, useStore, type ModelState, type Origin, type ResultState, type SliceView, type ViewState, type WindowSettings } from '../store';
import { baseImage } from '../viewer';
import { urlFileName } from './cache';
import type { FetchUrl, LinkUrls, PresetShare, SessionSave, ShareSources } from './types';

/** The values right after the demo loaded and ran (a demo link leaves these out). */
type DemoBaseline = { settings: ShareValues; view?: ShareValues };

interface WorkbenchLinkState {
  /** The link's labels URL the class names came from (cleared when other names are loaded). */
  labelsUrl?: string;
  demoBaseline: DemoBaseline | null;
}

const linkState = createStore<WorkbenchLinkState>()(() => ({ demoBaseline: null }));

// class names from anywhere but the link's labels URL: the link no longer names them
useStore.subscribe((s, prev) => {
  if (s.labelNames !== prev.labelNames && linkState.getState().labelsUrl) linkState.setState({ labelsUrl: undefined });
});

const SLICES: SliceView[] = ['axial', 'coronal', 'sagittal', 'multiplanar', 'render'];
const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

function settingsValues(s: WindowSettings, relaxed: boolean): ShareValues {
  return {
    roi: [...s.roi],
    overlap: [...s.overlap],
    mode: s.mode,
    sigma: s.sigmaScale,
    swBatch: s.swBatch,
    cval: s.cval,
    backend: s.backend,
    intensity: s.intensity,
    relax: relaxed,
  };
}

/** The base window, or [] while it is Niivue's automatic (robust) range. */
function windowValue(v: ViewState): number[] {
  const img = baseImage();
  if (!(v.baseMax > v.baseMin)) return [];
  if (img && img.robust_min === v.baseMin && img.robust_max === v.baseMax) return [];
  return [round(v.baseMin), round(v.baseMax)];
}

function viewValues(v: ViewState): ShareValues {
  return {
    overlay: v.overlay,
    colormap: v.colormap,
    opacity: v.opacity,
    threshold: v.threshold,
    class: v.channel,
    show: v.showOverlay,
    slice: v.sliceType,
    window: windowValue(v),
  };
}

const VIEW_KEYS = ['overlay', 'colormap', 'opacity', 'threshold', 'class', 'show', 'slice', 'window'];

const DEFAULTS: ShareValues = { ...settingsValues(initialSettings, false), ...viewValues(initialView) };

export const workbenchSpec: ShareSpec = {
  defaults: DEFAULTS,
  fields: {
    roi: { integer: true, min: 1 },
    overlap: { min: 0, max: 0.99 },
    mode: { choices: ['gaussian', 'constant'] },
    sigma: { min: 0 },
    swBatch: { integer: true, min: 1 },
    backend: { choices: ['auto', 'wasm', 'webgpu'] },
    intensity: { choices: ['none', 'div255', 'minmax'] },
    overlay: { choices: ['heatmap', 'labels'] },
    opacity: { min: 0, max: 1 },
    class: { integer: true, min: 0 },
    slice: { choices: SLICES },
    window: { anyLength: true },
  },
};

function sources(): ShareSources {
  const { volume, model } = useStore.getState();
  const out: ShareSources = { models: [], data: [], local: [], empty: !volume && !model };
  const vo = volume?.origin;
  const mo = model?.origin;
  if (vo && mo && 'demo' in vo && 'demo' in mo && vo.demo === mo.demo) {
    out.demo = vo.demo;
    return out;
  }
  for (const [item, o, list] of [
    [volume, vo, out.data],
    [model, mo, out.models],
  ] as const) {
    if (!item) continue;
    const name = 'fileName' in item ? item.fileName : '';
    if (o && 'url' in o) list.push(o.url);
    else out.local.push(name);
  }
  const { labelsUrl } = linkState.getState();
  if (labelsUrl) out.labels = labelsUrl;
  return out;
}

/** The brain demo with its origin recorded; with `run: false` it stops before running (links apply their values first). */
export async function openBrainDemo(opts: { run?: boolean } = {}): Promise<void> {
  linkState.setState({ demoBaseline: null });
  await loadDemo({ run: false, origin: { demo: 'brain' } });
  const s = useStore.getState();
  if (!s.volume || !s.model || s.volume.origin === undefined) return;
  // what the demo's card set; the backend and cval are the user's own (no card sets them)
  linkState.setState({ demoBaseline: { settings: { ...settingsValues(s.settings, s.model.loaded.relaxed), backend: DEFAULTS.backend, cval: DEFAULTS.cval } } });
  if (opts.run !== false) await runWorkbench();
}

async function runWorkbench(): Promise<void> {
  await run();
  const s = useStore.getState();
  const { demoBaseline } = linkState.getState();
  // the demo's view once it ran (overlay kind, class, threshold chosen for its first result)
  if (demoBaseline && !demoBaseline.view && s.result && sources().demo) linkState.setState({ demoBaseline: { ...demoBaseline, view: viewValues(s.view) } });
}

async function load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean> {
  const { addMessage } = useStore.getState();
  if (urls.data.length > 1) addMessage('warning', `The link names ${urls.data.length} volumes; the workbench opens the first one.`);
  if (urls.models.length > 1) addMessage('warning', `The link names ${urls.models.length} models; the workbench opens the first one.`);
  let ok = true;
  const fetchOne = async (url: string, what: string): Promise<Uint8Array | null> => {
    useStore.setState({ busy: `Downloading ${what} ${urlFileName(url)}…` });
    try {
      return await fetchUrl(url);
    } catch (e) {
      addMessage('error', `Could not open the link's ${what}: ${(e as Error).message}`);
      ok = false;
      return null;
    } finally {
      useStore.setState({ busy: null });
    }
  };
  const [dataUrl, modelUrl] = [urls.data[0], urls.models[0]];
  const [vol, mod, lab] = await Promise.all([
    dataUrl ? fetchOne(dataUrl, 'volume') : null,
    modelUrl ? fetchOne(modelUrl, 'model') : null,
    urls.labels ? fetchOne(urls.labels, 'labels') : null,
  ]);
  // a file that could not be fetched (each said why): the page keeps what it has
  if (!ok) return false;
  // the volume is read before anything is replaced; then the model (kept only when it loads), then the volume
  if (vol && dataUrl) {
    try {
      readVolume(vol, urlFileName(dataUrl));
    } catch (e) {
      addMessage('error', `Could not open ${dataUrl}: ${(e as Error).message}`);
      return false;
    }
  }
  let labelNames: string[] | null = null;
  if (lab && urls.labels) {
    labelNames = parseLabelNames(new TextDecoder().decode(lab));
    if (!labelNames) addMessage('warning', `${urls.labels}: no class names found (expected a model card with "labels" or one name per line).`);
  }
  if (mod && modelUrl && !(await loadModelBytes(mod, urlFileName(modelUrl), { labelNames, origin: { url: modelUrl } }))) return false;
  if (vol && dataUrl) loadVolumeBytes(vol, urlFileName(dataUrl), { url: dataUrl });
  if (labelNames && urls.labels) {
    useStore.setState({ labelNames });
    linkState.setState({ labelsUrl: urls.labels });
  }
  return true;
}

/** Class names from a model card ({"labels": [...]}) or a text file with one name per line. */
export function parseLabelNames(text: string): string[] | null {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      const j = JSON.parse(t) as unknown;
      const arr = Array.isArray(j) ? j : (j as { labels?: unknown }).labels;
      return Array.isArray(arr) && arr.length > 0 ? arr.map(String) : null;
    } catch {
      return null;
    }
  }
  const lines = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.length > 0 ? lines : null;
}

async function apply(values: ShareValues): Promise<string[]> {
  const s = useStore.getState();
  const v = values;
  const patch: Partial<WindowSettings> = {};
  if (v.roi) Object.assign(patch, { roi: v.roi as Shape3, roiTouched: true });
  if (v.overlap) {
    const o = v.overlap as Shape3;
    Object.assign(patch, { overlap: o, overlapLinked: o[0] === o[1] && o[1] === o[2] });
  }
  if (v.mode !== undefined) patch.mode = v.mode as WindowSettings['mode'];
  if (v.sigma !== undefined) patch.sigmaScale = v.sigma as number;
  if (v.swBatch !== undefined) patch.swBatch = v.swBatch as number;
  if (v.cval !== undefined) patch.cval = v.cval as number;
  if (v.backend !== undefined) patch.backend = v.backend as WindowSettings['backend'];
  if (v.intensity !== undefined) patch.intensity = v.intensity as WindowSettings['intensity'];
  s.setSettings(patch);
  if (v.relax === true && s.model && !s.model.loaded.relaxed) await relaxModel();
  else if (v.relax === false && s.model?.loaded.relaxed) {
    const m = s.model;
    await loadModelBytes(m.bytes, m.fileName, { labelNames: s.labelNames, keepRoi: true, quiet: true, ...sameFile(m) });
  }
  checkRelax();
  return [];
}

/** View values go in after the run (a first result picks its own overlay kind and class). */
function applyView(values: ShareValues): void {
  const v = values;
  const patch: Partial<ViewState> = {};
  if (v.overlay !== undefined) patch.overlay = v.overlay as ViewState['overlay'];
  if (v.colormap !== undefined) patch.colormap = v.colormap as string;
  if (v.opacity !== undefined) patch.opacity = v.opacity as number;
  if (v.threshold !== undefined) patch.threshold = v.threshold as number;
  if (v.class !== undefined) {
    const n = useStore.getState().result?.channels ?? 1;
    patch.channel = Math.min(v.class as number, n - 1);
  }
  if (v.show !== undefined) patch.showOverlay = v.show as boolean;
  if (v.slice !== undefined) patch.sliceType = v.slice as SliceView;
  const w = v.window as number[] | undefined;
  if (w && w.length === 2 && w[1] > w[0]) Object.assign(patch, { baseMin: w[0], baseMax: w[1] });
  useStore.getState().setView(patch);
}

// ---------------------------------------------------------------------------------------------
// sessions

interface WorkbenchSession {
  volume: { path: string; fileName: string; origin?: Origin } | null;
  model: { path: string; fileName: string; relaxed: boolean; origin?: Origin } | null;
  labelNames: string[] | null;
  labelsUrl?: string;
  settings: WindowSettings;
  view: ViewState;
  demoBaseline: DemoBaseline | null;
  result: {
    data: TensorRef;
    shape: number[];
    backend: RunResult['backend'];
    backendReason: string;
    stats: RunResult['stats'];
    sessionMs: number;
    perWindowMs: number;
    wallMs: number;
    inputName: string;
    modelName: string;
    modelLoadMs: number;
    relaxed: boolean;
    channels: number;
  } | null;
}

const safeName = (n: string): string => n.replace(/[^\w.-]+/g, '_') || 'file';

async function saveSession(): Promise<SessionSave<WorkbenchSession>> {
  const s = useStore.getState();
  const { labelsUrl, demoBaseline } = linkState.getState();
  const files = new Map<string, Uint8Array>();
  const st: WorkbenchSession = {
    volume: null,
    model: null,
    labelNames: s.labelNames,
    ...(labelsUrl ? { labelsUrl } : {}),
    settings: s.settings,
    view: s.view,
    demoBaseline,
    result: null,
  };
  if (s.volume) {
    const path = `inputs/${safeName(s.volume.fileName.replace(/\.(nii(\.gz)?|mrc|npy|gz)$/i, ''))}.nii.gz`;
    files.set(path, writeNifti(s.volume.volume, { gzip: true }));
    st.volume = { path, fileName: s.volume.fileName, origin: s.volume.origin };
  }
  if (s.model) {
    const path = `models/${safeName(s.model.fileName)}`;
    files.set(path, s.model.bytes);
    st.model = { path, fileName: s.model.fileName, relaxed: s.model.loaded.relaxed, origin: s.model.origin };
  }
  const r = s.result;
  if (r && s.volume && r.input === s.volume.volume) {
    const { data, ...run } = r.run;
    st.result = {
      ...run,
      data: tensorEntry('results/output.f32', data, files),
      wallMs: r.wallMs,
      inputName: r.inputName,
      modelName: r.modelName,
      modelLoadMs: r.modelLoadMs,
      relaxed: r.relaxed,
      channels: r.channels,
    };
  }
  return { state: st, files };
}

const num = z.number().finite();
const originSchema = z.union([z.object({ url: z.string() }), z.object({ demo: z.string() })]);
const shape3 = (min: number, max: number, int: boolean) => z.tuple([0, 1, 2].map(() => (int ? num.int() : num).min(min).max(max)) as [z.ZodNumber, z.ZodNumber, z.ZodNumber]);
/** JSON writes NaN as null: the base window before the viewer picked one. */
const windowEnd = z.union([num, z.null()]).transform((x) => x ?? NaN);

/** What the workbench's part of session.json must be (checked whole before anything is replaced). */
const sessionSchema = z.object({
  volume: z.object({ path: z.string(), fileName: z.string(), origin: originSchema.optional() }).nullable(),
  model: z.object({ path: z.string(), fileName: z.string(), relaxed: z.boolean(), origin: originSchema.optional() }).nullable(),
  labelNames: z.array(z.string().max(1000)).max(100_000).nullable(),
  labelsUrl: z.string().optional(),
  settings: z.object({
    roi: shape3(1, 100_000, true),
    overlap: shape3(0, 0.99, false),
    overlapLinked: z.boolean(),
    mode: z.enum(['gaussian', 'constant']),
    sigmaScale: num.min(0),
    swBatch: num.int().min(1).max(4096),
    cval: num,
    backend: z.enum(['auto', 'wasm', 'webgpu']),
    intensity: z.enum(['none', 'div255', 'minmax']),
    roiTouched: z.boolean(),
  }),
  view: z.object({
    overlay: z.enum(['heatmap', 'labels']),
    colormap: z.string().max(100),
    opacity: num.min(0).max(1),
    threshold: num,
    channel: num.int().min(0),
    showOverlay: z.boolean(),
    sliceType: z.enum(SLICES as [SliceView, ...SliceView[]]),
    baseMin: windowEnd,
    baseMax: windowEnd,
  }),
  demoBaseline: z.object({ settings: z.record(z.string(), z.unknown()), view: z.record(z.string(), z.unknown()).optional() }).nullable().optional(),
  result: z
    .object({
      data: z.object({ path: z.string(), type: z.string(), length: num.int().min(0) }),
      shape: z.array(num.int().min(1)).min(3).max(4),
      backend: z.enum(['webgpu', 'wasm']),
      backendReason: z.string(),
      stats: z.object({ windows: num.int().min(0), batches: num, totalMs: num, predictMs: num, overheadMs: num, zoom: z.array(num) }),
      sessionMs: num,
      perWindowMs: num,
      wallMs: num,
      inputName: z.string(),
      modelName: z.string(),
      modelLoadMs: num,
      relaxed: z.boolean(),
      channels: num.int().min(1),
    })
    .nullable(),
});

/** The first problems of a zod check as `state.where: what`. */
const zodIssues = (e: z.ZodError): string =>
  e.issues
    .slice(0, 3)
    .map((i) => `${['state', ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');

/**
 * Checks a session whole — its state, every file, the volume (read), the model (loaded into the
 * worker, not yet shown) and the result (read and put on the volume's grid) — and returns what
 * replaces the page's state; nothing the page shows changes before that is called.
 */
async function openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<() => void> {
  const parsed = sessionSchema.safeParse(state);
  if (!parsed.success) throw new Error(`${name}: the workbench state in session.json is not one this version reads (${zodIssues(parsed.error)})`);
  const st = parsed.data;
  const need = (path: string): Uint8Array => {
    const b = files.get(path);
    if (!b) throw new Error(`${name}: ${path} is missing`);
    return b;
  };
  let volBytes: Uint8Array | null = null;
  let vol: Volume | null = null;
  if (st.volume) {
    volBytes = need(st.volume.path);
    try {
      vol = readVolume(volBytes, st.volume.path);
    } catch (e) {
      throw new Error(`${name}: its volume ${st.volume.fileName} cannot be read: ${(e as Error).message}`, { cause: e });
    }
  }
  let result: ResultState | null = null;
  if (st.result && vol) {
    const r = st.result;
    const data = readTensor(r.data as TensorRef, files, name);
    if (!(data instanceof Float32Array)) throw new Error(`${name}: ${r.data.path} is not float32`);
    const out = r.shape.length === 3 ? [r.shape[0], 1, r.shape[1], r.shape[2]] : r.shape;
    if (out[0] !== r.channels || out.reduce((a, b) => a * b, 1) !== data.length) {
      throw new Error(`${name}: its result has ${data.length} values, which is not its shape [${r.shape.join(', ')}] with ${r.channels} channels`);
    }
    const onInput = resampleToGrid(data, r.channels, [out[1], out[2], out[3]], spatialShape(vol) as Shape3);
    const { data: _ref, wallMs, inputName, modelName, modelLoadMs, relaxed, channels, ...run } = r;
    void _ref;
    result = { run: { ...run, data }, wallMs, inputName, modelName, input: vol, modelLoadMs, relaxed, onInput, channels, derived: newResultCache() };
  }
  // the model, loaded into the worker but not yet the page's
  let model: ModelState | null = null;
  if (st.model) {
    const bytes = need(st.model.path);
    try {
      const loaded = await getClient().api.loadModel(bytes.slice(), st.model.fileName, st.model.relaxed);
      model = { loaded, bytes, fileName: st.model.fileName, ...(st.model.origin ? { origin: st.model.origin } : {}) };
    } catch (e) {
      throw new Error(`${name}: its model ${st.model.fileName} cannot be loaded: ${(e as Error).message}`, { cause: e });
    }
  }
  return () => {
    const { addMessage, clearMessages } = useStore.getState();
    const prevModel = useStore.getState().model;
    useStore.setState({ result: null, runState: initialRunState, parity: null });
    if (st.volume && volBytes) {
      loadVolumeBytes(volBytes, st.volume.path, st.volume.origin);
      const v = useStore.getState().volume!;
      useStore.setState({ volume: { ...v, fileName: st.volume.fileName } });
    } else {
      useStore.setState({ volume: null });
    }
    if (model) {
      useStore.setState({ model, rewriteCheck: null });
      if (prevModel && prevModel.loaded.id !== model.loaded.id) getClient().api.unloadModel(prevModel.loaded.id).catch(() => undefined);
      for (const key of ['validate', 'open-model', 'run']) clearMessages(key);
      updateRoiDefaults();
    }
    useStore.setState({ labelNames: st.labelNames, settings: { ...initialSettings, ...st.settings } });
    if (model) checkRelax();
    linkState.setState({ labelsUrl: st.labelsUrl, demoBaseline: (st.demoBaseline as DemoBaseline | null | undefined) ?? null });
    const cur = useStore.getState().volume?.volume;
    if (result && cur) {
      // the volume shown is the one the result was put on (loadVolumeBytes read the same bytes again)
      result.input = cur;
      useStore.setState({
        result,
        runState: { ...initialRunState, status: 'done', done: result.run.stats.windows, total: result.run.stats.windows, elapsedMs: result.wallMs },
      });
    }
    useStore.setState({ view: { ...initialView, ...st.view } });
    addMessage('info', `Opened the session ${name}${st.result ? ' with its result (not run again)' : ''}.`);
  };
}

export const workbenchShare: PresetShare & { applyView(values: ShareValues): void } = {
  spec: () => {
    const { demoBaseline } = linkState.getState();
    const base = sources().demo && demoBaseline ? { ...DEFAULTS, ...demoBaseline.settings, ...(demoBaseline.view ?? {}) } : DEFAULTS;
    return { ...workbenchSpec, defaults: base };
  },
  values: () => {
    const s = useStore.getState();
    return { ...settingsValues(s.settings, s.model?.loaded.relaxed ?? false), ...viewValues(s.view) };
  },
  sources,
  load,
  apply,
  applyView,
  run: runWorkbench,
  runCount: () => useStore.getState().runs,
  saveSession,
  openSession,
};

export { VIEW_KEYS as WORKBENCH_VIEW_KEYS };
