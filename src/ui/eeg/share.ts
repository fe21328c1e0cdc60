/**
 * Share hooks of the EEG spectrogram page (see src/ui/share/types.ts): link values (every preset
 * value, the backend and the view), where models, spectrograms and votes came from, loading link
 * URLs, and session files with the models, the parquet files, the votes and every result
 * (probabilities per fold and the CAM / occlusion maps), restored without running.
 */
import type { EegCam } from '../../core/eeg/pipeline';
import type { EegParams } from '../../core/presets/eeg';
import type { ShareSpec, ShareValues } from '../../core/share/query';
import { readTensor, tensorEntry, type TensorRef } from '../../core/share/session';
import type { BackendChoice, SpectrogramResult } from '../../worker/protocol';
import { urlFileName } from '../share/cache';
import { shareSourcesOf, type Origin } from '../share/origins';
import type { FetchUrl, LinkUrls, PresetShare, SessionSave, ShareSources } from '../share/types';
import { useStore } from '../store';
import { addModelBytes, addParquetFiles, clearEegFiles, clearVotes, loadEegDemo, loadVotesText, removeEegModel, runEeg } from './actions';
import { initialEegBatch, runKey, useEeg, type EegFile, type EegView } from './state';


/** Origins by object: model bytes, file bytes and the votes object. Not in here = a local file. */
const origins = new WeakMap<object, Origin>();
let pending: Origin | null = null;
let runs = 0;

useEeg.subscribe((s, prev) => {
  if (pending) {
    for (const m of s.models) if (!origins.has(m.bytes)) origins.set(m.bytes, pending);
    for (const f of s.files) if (f.bytes && !origins.has(f.bytes)) origins.set(f.bytes, pending);
    if (s.votes && !origins.has(s.votes)) origins.set(s.votes, pending);
  }
  if (s.batch.status === 'running' && prev.batch.status !== 'running') runs++;
});

const INITIAL_PARAMS: EegParams = useEeg.getState().params;
const INITIAL_VIEW: EegView = useEeg.getState().view;
const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

function paramValues(p: EegParams): ShareValues {
  return {
    window: p.window,
    start: p.windowStart,
    rows: p.windowRows,
    clip: p.clip.map((x) => round(x)),
    size: [...p.size],
    occlusion: p.occlusion,
    patch: p.occlusionParams.patch[0],
    stride: p.occlusionParams.stride[0],
  };
}

function viewValues(v: EegView, selected: string, classes: readonly string[]): ShareValues {
  return { file: selected, cls: classes[v.cls] ?? classes[0], cam: v.showCam, opacity: round(v.opacity, 4) };
}

function spec(): ShareSpec {
  const s = useEeg.getState();
  return {
    defaults: { ...paramValues(INITIAL_PARAMS), backend: 'auto', ...viewValues(INITIAL_VIEW, s.files[0]?.id ?? '', s.params.classes) },
    fields: {
      window: { choices: ['whole', 'window'] },
      start: { integer: true, min: 0 },
      rows: { integer: true, min: 1 },
      clip: { min: 0 },
      size: { integer: true, min: 8 },
      patch: { integer: true, min: 1 },
      stride: { integer: true, min: 1 },
      backend: { choices: ['auto', 'wasm', 'webgpu'] },
      cls: { choices: s.params.classes },
      opacity: { min: 0, max: 1 },
    },
  };
}

function sources(): ShareSources {
  const s = useEeg.getState();
  return shareSourcesOf(
    [
      ...s.models.map((m) => ({ origin: origins.get(m.bytes), name: m.name, kind: 'model' as const })),
      ...s.files.map((f) => ({ origin: f.bytes ? origins.get(f.bytes) : undefined, name: f.name, kind: 'data' as const })),
      ...(s.votes ? [{ origin: origins.get(s.votes), name: s.votes.name, kind: 'labels' as const }] : []),
    ],
    s.models.length === 0 && s.files.length === 0,
  );
}

/** The bundled demo with its origin recorded (links and gallery cards open it as `?demo=eeg`). */
export async function openEegDemo(opts: { run?: boolean } = {}): Promise<void> {
  pending = { demo: 'eeg' };
  try {
    await loadEegDemo({ run: false });
  } finally {
    pending = null;
  }
  if (opts.run !== false) await runEeg();
}

async function load(urls: LinkUrls, fetchUrl: FetchUrl): Promise<boolean> {
  const say = useStore.getState().addMessage;
  let ok = true;
  const get = async (url: string, what: string): Promise<Uint8Array | null> => {
    useEeg.setState({ busy: `Downloading ${what} ${urlFileName(url)}…` });
    try {
      return await fetchUrl(url);
    } catch (e) {
      say('error', `Could not open the link's ${what}: ${(e as Error).message}`);
      ok = false;
      return null;
    } finally {
      useEeg.setState({ busy: null });
    }
  };
  if (urls.labels) {
    const b = await get(urls.labels, 'votes');
    if (b) {
      pending = { url: urls.labels };
      ok = loadVotesText(new TextDecoder().decode(b), urlFileName(urls.labels)) && ok;
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
    const b = await get(url, 'spectrogram');
    if (!b) continue;
    pending = { url };
    try {
      await addParquetFiles([{ name: urlFileName(url), bytes: async () => b.slice().buffer as ArrayBuffer }]);
    } finally {
      pending = null;
    }
  }
  return ok;
}

async function apply(v: ShareValues): Promise<string[]> {
  const s = useEeg.getState();
  const p: EegParams = { ...s.params, occlusionParams: { ...s.params.occlusionParams } };
  if (v.window !== undefined) p.window = v.window as EegParams['window'];
  if (v.start !== undefined) p.windowStart = v.start as number;
  if (v.rows !== undefined) p.windowRows = v.rows as number;
  if (v.clip !== undefined) p.clip = v.clip as [number, number];
  if (v.size !== undefined) p.size = v.size as [number, number];
  if (v.occlusion !== undefined) p.occlusion = v.occlusion as boolean;
  if (v.patch !== undefined) p.occlusionParams.patch = [v.patch as number, v.patch as number];
  if (v.stride !== undefined) p.occlusionParams.stride = [v.stride as number, v.stride as number];
  const patch: Partial<typeof s> = { params: p };
  if (v.backend !== undefined) patch.backend = v.backend as BackendChoice;
  const problems: string[] = [];
  if (v.file !== undefined) {
    if (s.files.some((f) => f.id === v.file)) patch.selected = v.file as string;
    else problems.push(`file: there is no spectrogram "${String(v.file)}"; showing ${s.selected ?? 'none'}.`);
  }
  const view: EegView = { ...s.view };
  if (v.cls !== undefined) view.cls = Math.max(0, p.classes.indexOf(v.cls as string));
  if (v.cam !== undefined) view.showCam = v.cam as boolean;
  if (v.opacity !== undefined) view.opacity = v.opacity as number;
  patch.view = view;
  useEeg.setState(patch);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// sessions

type SavedResult = Omit<SpectrogramResult, 'cam'> & { cam: (Omit<EegCam, 'data'> & { data: TensorRef }) | null };

interface SavedFile {
  id: string;
  name: string;
  path: string | null;
  origin?: Origin;
  status: EegFile['status'];
  error?: string;
  result?: SavedResult;
  key?: string;
  wallMs?: number;
}

interface EegSession {
  models: { name: string; path: string; origin?: Origin }[];
  files: SavedFile[];
  votes: { name: string; text: string; origin?: Origin } | null;
  params: EegParams;
  backend: BackendChoice;
  selected: string | null;
  view: EegView;
}

const safe = (n: string): string => n.replace(/[^\w.\-/]+/g, '_').replace(/\.\.+/g, '.');

function votesText(): string | null {
  const v = useEeg.getState().votes;
  if (!v) return null;
  const classes = useEeg.getState().params.classes;
  return ['eeg_id,' + classes.map((c) => `${c}_vote`).join(','), ...[...v.rows.values()].map((r) => [r.eegId, ...r.votes].join(','))].join('\n') + '\n';
}

async function saveSession(): Promise<SessionSave<EegSession>> {
  const s = useEeg.getState();
  if (s.batch.status === 'running') throw new Error('a run is going; wait for it or cancel it first');
  const files = new Map<string, Uint8Array>();
  const models = s.models.map((m, i) => {
    const path = `models/${i}_${safe(m.name)}`;
    files.set(path, m.bytes);
    return { name: m.name, path, origin: origins.get(m.bytes) };
  });
  const saved: SavedFile[] = s.files.map((f, i) => {
    const path = f.bytes ? `spectrograms/${i}_${safe(f.name)}` : null;
    if (path && f.bytes) files.set(path, f.bytes);
    const out: SavedFile = { id: f.id, name: f.name, path, origin: f.bytes ? origins.get(f.bytes) : undefined, status: f.status === 'running' || f.status === 'reading' ? 'waiting' : f.status };
    if (f.error) out.error = f.error;
    if (f.result) {
      const { cam, ...rest } = f.result;
      out.result = { ...rest, cam: cam ? { shape: cam.shape, source: cam.source, data: tensorEntry(`results/${i}_cam.f32`, cam.data, files) } : null };
      out.key = f.key;
      out.wallMs = f.wallMs;
    }
    return out;
  });
  const text = votesText();
  return {
    state: {
      models,
      files: saved,
      votes: s.votes && text ? { name: s.votes.name, text, origin: origins.get(s.votes) } : null,
      params: s.params,
      backend: s.backend,
      selected: s.selected,
      view: s.view,
    },
    files,
  };
}

async function openSession(state: unknown, files: Map<string, Uint8Array>, name: string): Promise<void> {
  const st = state as EegSession;
  if (!st || !Array.isArray(st.models) || !Array.isArray(st.files) || !st.params) throw new Error(`${name}: the EEG state is missing from session.json`);
  if (useEeg.getState().batch.status === 'running') throw new Error('a run is going; cancel it before opening a session');
  for (const m of st.models) if (!files.has(m.path)) throw new Error(`${name}: ${m.path} is missing`);
  for (const f of st.files) if (f.path && !files.has(f.path)) throw new Error(`${name}: ${f.path} is missing`);
  const results = new Map<string, SpectrogramResult>();
  for (const f of st.files) {
    if (!f.result) continue;
    const cam = f.result.cam;
    let camOut: EegCam | null = null;
    if (cam) {
      const data = readTensor(cam.data, files, name);
      if (!(data instanceof Float32Array)) throw new Error(`${name}: ${cam.data.path} is not float32`);
      camOut = { shape: cam.shape, source: cam.source, data };
    }
    results.set(f.id, { ...f.result, cam: camOut });
  }
  clearEegFiles();
  clearVotes();
  for (const m of [...useEeg.getState().models]) removeEegModel(m.name);
  useEeg.setState({ params: st.params, backend: st.backend ?? 'auto' });
  for (const m of st.models) {
    const bytes = files.get(m.path)!;
    if (m.origin) origins.set(bytes, m.origin);
    if (!(await addModelBytes(bytes, m.name))) throw new Error(`${name}: its model ${m.name} could not be loaded (see the messages)`);
  }
  if (st.votes) {
    loadVotesText(st.votes.text, st.votes.name);
    const v = useEeg.getState().votes;
    if (v && st.votes.origin) origins.set(v, st.votes.origin);
  }
  for (const f of st.files) {
    if (!f.path) continue;
    const bytes = files.get(f.path)!;
    if (f.origin) origins.set(bytes, f.origin);
    await addParquetFiles([{ name: f.name, bytes: async () => bytes.slice().buffer as ArrayBuffer }]);
  }
  // the saved results, as they were (the model ids changed: keep them current)
  const key = runKey(useEeg.getState());
  useEeg.setState((s) => ({
    files: s.files.map((f) => {
      const sf = st.files.find((x) => x.id === f.id);
      const r = results.get(f.id);
      if (!sf || f.readFailed) return f;
      return r ? { ...f, status: 'done', result: r, key: sf.key === undefined ? undefined : key, wallMs: sf.wallMs } : { ...f, status: sf.status === 'done' ? 'waiting' : sf.status };
    }),
    batch: initialEegBatch,
    selected: st.selected,
    view: { ...INITIAL_VIEW, ...st.view },
  }));
  const done = [...results.keys()].length;
  useStore.getState().addMessage('info', `Opened the session ${name}: ${st.files.length} spectrograms, ${done} with results (not run again).`);
}

export const eegShare: PresetShare = {
  spec,
  values: () => {
    const s = useEeg.getState();
    return { ...paramValues(s.params), backend: s.backend, ...viewValues(s.view, s.selected ?? '', s.params.classes) };
  },
  sources,
  load,
  apply,
  run: runEeg,
  scene: false,
  runCount: () => runs,
  saveSession,
  openSession,
};
