/**
 * What the spine page does: take dropped/picked files apart, decode DICOM studies in the worker
 * (one source at a time, cancellable), load the stage-1/stage-2 models, read labels and model
 * cards, run the chosen series through the worker's runSpine with progress and cancel, write the
 * masks (NIfTI in the CT's space), the corrected masks and submission.csv, and open the demo.
 * No React here.
 */
import * as Comlink from 'comlink';
import { readVolume } from '../../core/io';
import { writeNifti } from '../../core/io/nifti';
import { checkSpineModel, spineParamsFromCard, spinePreset, validateSpineParams, type SpineParams } from '../../core/presets/spine';
import type { DicomSeries } from '../../core/spine/dicom';
import { parseSpineLabelsCsv, spineMetric, spineSubmissionCsv, type SpineMetricResult, type SpineStudyPrediction } from '../../core/spine/export';
import { flip3, orientHeadFirst } from '../../core/spine/orient';
import type { SpineProgress, VertebraRow } from '../../core/spine/pipeline';
import { spatialShape } from '../../core/volume';
import { createWorkerClient, type WorkerClient } from '../../worker/client';
import type { BackendChoice, SpineRunResult } from '../../worker/protocol';
import { addPresetModel, errorText, isAbort, readModelFile, reloadPresetModels, removePresetModel, say, type PresetModels } from '../presetModels';
import { useStore } from '../store';
import { throttle } from '../throttle';
import { correctedLabels, currentLabels, forgetSeries, holdLabels, holdSeries, loadedSeries, modelLabels, type LoadedSeries } from './cache';
import { labelsVolume } from './display';
import { baseName, nFiles, sortSpineFiles, type PickedFile, type SpineSource } from './sources';
import { initialBatch, patchSeries, runKey, runnable, useSpine, type SeriesEntry, type SpineModel } from './state';

// ---------------------------------------------------------------------------------------------
// worker

let client: WorkerClient | null = null;

/** The spine page's own worker (a hard stop restarts it without touching the other pages'). */
function worker(): WorkerClient {
  client ??= createWorkerClient();
  return client;
}

// ---------------------------------------------------------------------------------------------
// files

/** One handler for everything dropped or picked on the spine page. */
export async function addFiles(files: PickedFile[], emptyFolders: string[] = []): Promise<void> {
  const sorted = sortSpineFiles(files, emptyFolders);
  if (sorted.ignored.length > 0) {
    const shown = sorted.ignored.slice(0, 4).join(', ') + (sorted.ignored.length > 4 ? ` and ${sorted.ignored.length - 4} more` : '');
    say('info', `Ignored ${nFiles(sorted.ignored.length)} that are no DICOM, NIfTI, model, card or labels: ${shown}.`);
  }
  for (const c of sorted.cards) await applyCardFile(c.file);
  if (sorted.labels.length > 0) {
    if (sorted.labels.length > 1) say('warning', `Several CSV files: reading ${sorted.labels[0].path} as labels.`);
    await loadLabelsFile(sorted.labels[0].file);
  }
  if (sorted.models.length > 0) {
    for (const m of sorted.models) await addModelFile(m.file);
  }
  if (sorted.sources.length > 0) addSources(sorted.sources);
  if (files.length > 0 && sorted.sources.length + sorted.models.length + sorted.labels.length + sorted.cards.length === 0) {
    say('warning', 'Nothing to open there: drop a DICOM study folder, a .nii/.nii.gz CT, .onnx models, a model card .json or a labels .csv.', 'spine-open');
  }
}

/** Sources by id, kept to read again (another slice order). */
const sources = new Map<string, SpineSource>();
let loadChain: Promise<unknown> = Promise.resolve();
let loadSeq = 0;
/** The decode in flight in the worker (a hard stop may have to restart it), or 0. */
let pendingDecode = 0;
let decodeSeq = 0;
/** Rejects the decode in flight (a hard stop: the terminated worker will never answer it). */
let abortDecode: (() => void) | null = null;

/** Adds sources (replacing ones with the same id) and decodes them one after another. */
export function addSources(list: SpineSource[]): void {
  const s = useSpine.getState();
  if (s.batch.status === 'running') {
    say('warning', 'Cannot add series while a run is going; cancel first (Esc).');
    return;
  }
  const ids = new Set(list.map((x) => x.id));
  const replaced = s.series.filter((t) => ids.has(t.source));
  for (const t of replaced) forgetSeries(t.key);
  if (replaced.length > 0) say('info', `Replaced ${[...new Set(replaced.map((t) => t.source))].join(', ')} with the newly added files.`);
  const fresh: SeriesEntry[] = list.map((src) => ({
    key: src.id,
    source: src.id,
    kind: src.kind,
    studyUid: '',
    seriesUid: '',
    description: '',
    nFiles: src.kind === 'dicom' ? src.files.length : 1,
    status: 'loading',
    chosen: true,
    warnings: [],
  }));
  useSpine.setState((st) => {
    const kept = st.series.filter((t) => !ids.has(t.source));
    // a new drop shows the new series unless a loaded one is being looked at
    const cur = kept.find((t) => t.key === st.selected);
    const selected = cur && !cur.loadFailed ? cur.key : (fresh[0]?.key ?? null);
    return { series: [...kept, ...fresh], selected };
  });
  for (const src of list) {
    sources.set(src.id, src);
    const seq = loadSeq;
    loadChain = loadChain.then(() => (seq === loadSeq ? loadSource(src) : undefined)).catch(() => undefined);
  }
  void loadChain.then(() => {
    if (!useSpine.getState().series.some((t) => t.status === 'loading')) useSpine.setState({ loading: null });
  });
}

/** Waits until every queued source has been decoded (or failed). */
export function loaded(): Promise<void> {
  return loadChain.then(() => undefined);
}

/** The source (its files) a series was read from, by source id: session files keep its bytes. */
export const spineSource = (id: string): SpineSource | undefined => sources.get(id);

async function readBytes(src: SpineSource, seq: number): Promise<{ name: string; bytes: Uint8Array }[]> {
  const files = src.kind === 'dicom' ? src.files : [src.file];
  const out: { name: string; bytes: Uint8Array }[] = [];
  let last = 0;
  for (let i = 0; i < files.length; i++) {
    if (seq !== loadSeq || useSpine.getState().loading?.cancelRequested) throw abortError();
    const f = files[i];
    try {
      out.push({ name: f.path, bytes: new Uint8Array(await f.file.arrayBuffer()) });
    } catch (e) {
      throw new Error(`${f.path}: could not read the file (${errorText(e)})`, { cause: e });
    }
    const now = performance.now();
    if (now - last > 100 || i === files.length - 1) {
      last = now;
      useSpine.setState((st) => ({ loading: st.loading ? { ...st.loading, done: i + 1 } : st.loading }));
    }
  }
  return out;
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

/** Reads a source's series in `order` (DICOM in the worker, NIfTI in the page). */
async function readSource(src: SpineSource, order: 'position' | 'filename', seq: number): Promise<{ series: LoadedSeries[]; warnings: string[]; described: Map<string, string> }> {
  const files = await readBytes(src, seq);
  if (src.kind === 'nifti') {
    const vol = readVolume(files[0].bytes, src.file.path);
    if (vol.shape.length !== 3) throw new Error(`${src.file.path}: a CT volume has 3 dimensions; this one is [${vol.shape.join(', ')}]`);
    if (vol.shape[0] < 2) throw new Error(`${src.file.path}: a single slice; the pipeline needs a series of axial slices`);
    const id = baseName(src.file.path).replace(/\.nii(\.gz)?$/i, '');
    // the model was trained on DICOM order (head first, columns to the left, rows to posterior)
    const o = orientHeadFirst(vol);
    const s: LoadedSeries = { studyUid: id, seriesUid: '', volume: vol, stored: o.data, files: [src.file.path], order, flips: o.flips, warnings: o.warnings };
    return { series: [s], warnings: [], described: new Map([['', 'NIfTI volume']]) };
  }
  useSpine.setState((st) => ({ loading: st.loading ? { ...st.loading, what: `Decoding ${src.id}`, done: 0 } : st.loading }));
  const decodeId = ++decodeSeq;
  pendingDecode = decodeId;
  let res: Awaited<ReturnType<WorkerClient['api']['readDicom']>>;
  try {
    const onProgress = throttle((p: [number, number]) => {
      if (seq !== loadSeq) return;
      useSpine.setState((st) => ({ loading: st.loading ? { ...st.loading, done: p[0], total: p[1] } : st.loading }));
    }, 100);
    const stopped = new Promise<never>((_, reject) => {
      abortDecode = () => reject(abortError());
    });
    res = await Promise.race([
      worker().api.readDicom(
        Comlink.transfer(files, files.map((f) => f.bytes.buffer as ArrayBuffer)),
        order,
        Comlink.proxy((done: number, total: number) => onProgress([done, total])),
      ),
      stopped,
    ]);
  } finally {
    if (pendingDecode === decodeId) {
      pendingDecode = 0;
      abortDecode = null;
    }
  }
  if (seq !== loadSeq) throw abortError();
  const warnings: string[] = [];
  if (res.skipped.length > 0) {
    const shown = res.skipped.slice(0, 3).map((x) => `${baseName(x.name)} (${x.reason})`).join('; ');
    warnings.push(`skipped ${nFiles(res.skipped.length)}: ${shown}${res.skipped.length > 3 ? '; …' : ''}`);
  }
  const described = new Map(res.series.map((d: DicomSeries) => [d.seriesUid, d.description]));
  const series = res.series.map((d: DicomSeries): LoadedSeries => ({
    studyUid: d.studyUid,
    seriesUid: d.seriesUid,
    volume: d.volume,
    stored: d.stored,
    files: d.files,
    order: d.order,
    warnings: d.warnings,
  }));
  return { series, warnings, described };
}

async function loadSource(src: SpineSource): Promise<void> {
  const seq = loadSeq;
  const entry = useSpine.getState().series.find((t) => t.key === src.id);
  if (!entry || sources.get(src.id) !== src) return;
  const n = src.kind === 'dicom' ? src.files.length : 1;
  useSpine.setState((st) => ({
    loading: { what: `Reading ${src.id} (${nFiles(n)})`, done: 0, total: n, startedAt: st.loading?.startedAt ?? Date.now(), cancelRequested: false },
  }));
  if (src.kind === 'dicom' && src.files.length === 0) {
    const why = src.ignored.length > 0 ? `only ${src.ignored.map(baseName).slice(0, 3).join(', ')}${src.ignored.length > 3 ? ', …' : ''}` : 'the folder is empty';
    patchSeries(src.id, { status: 'error', loadFailed: true, error: `${src.folder}/: no DICOM files here (${why})` });
    showLoadable(src.id);
    return;
  }
  try {
    const { series, warnings, described } = await readSource(src, useSpine.getState().params.order, seq);
    if (seq !== loadSeq || sources.get(src.id) !== src) return;
    // the largest series of the source is chosen first; the others are offered
    const biggest = series.reduce((b, s, i) => (spatialShape(s.volume)[0] > spatialShape(series[b].volume)[0] ? i : b), 0);
    const entries: SeriesEntry[] = series.map((s, i) => {
      const key = series.length === 1 ? src.id : `${src.id}#${s.seriesUid}`;
      holdSeries(key, s);
      const [D, H, W] = spatialShape(s.volume);
      return {
        key,
        source: src.id,
        kind: src.kind,
        // a series without a StudyInstanceUID goes by its folder (as the CLI does)
        studyUid: s.studyUid || src.id,
        seriesUid: s.seriesUid,
        description: described.get(s.seriesUid) ?? '',
        nFiles: s.files.length,
        status: 'ready',
        chosen: i === biggest,
        shape: [D, H, W],
        spacing: [...s.volume.spacing],
        order: s.order,
        warnings: [...(s.warnings ?? []), ...warnings, ...ignoredNote(src)],
      };
    });
    useSpine.setState((st) => {
      const at = st.series.findIndex((t) => t.key === src.id);
      const rest = st.series.filter((t) => t.key !== src.id);
      rest.splice(at < 0 ? rest.length : at, 0, ...entries);
      const selected = st.selected === src.id || st.selected === null ? (entries[biggest]?.key ?? null) : st.selected;
      return { series: rest, selected };
    });
    if (entries.length > 1) say('info', `${src.id} holds ${entries.length} series; the largest is chosen to run (pick another in the list).`);
  } catch (e) {
    if (seq !== loadSeq) return;
    if (isAbort(e)) {
      patchSeries(src.id, { status: 'cancelled', loadFailed: true, error: 'decoding cancelled; drop the folder again to load it' });
      return;
    }
    patchSeries(src.id, { status: 'error', loadFailed: true, error: errorText(e) });
    showLoadable(src.id);
  }
}

/** After a source failed: show a series that can be shown instead of the broken one. */
function showLoadable(key: string): void {
  const s = useSpine.getState();
  if (s.selected !== key) return;
  const other = s.series.find((t) => !t.loadFailed && t.key !== key);
  if (other) useSpine.setState({ selected: other.key });
}

/** "ignored ATTRIBUTION.md (not DICOM)" for the notes next to a series. */
function ignoredNote(src: SpineSource): string[] {
  if (src.kind !== 'dicom' || src.ignored.length === 0) return [];
  const names = src.ignored.map(baseName);
  return [`ignored ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} (not DICOM)`];
}

/** Reads one loaded series again in the other slice order (the order is a preset value). */
async function reorder(entry: SeriesEntry, order: 'position' | 'filename'): Promise<LoadedSeries | null> {
  const src = sources.get(entry.source);
  if (!src || src.kind !== 'dicom') return loadedSeries(entry.key) ?? null;
  useSpine.setState({ loading: { what: `Reading ${src.id} again (${order} order)`, done: 0, total: src.files.length, startedAt: Date.now(), cancelRequested: false } });
  try {
    const { series } = await readSource(src, order, loadSeq);
    const s = series.find((x) => x.seriesUid === entry.seriesUid);
    if (!s) return null;
    holdSeries(entry.key, s);
    patchSeries(entry.key, { order: s.order, warnings: [...(s.warnings ?? []), ...ignoredNote(src)], edited: undefined });
    return s;
  } finally {
    useSpine.setState({ loading: null });
  }
}

/** Picks which series of a source runs. */
export function chooseSeries(key: string): void {
  const s = useSpine.getState();
  const e = s.series.find((t) => t.key === key);
  if (!e || s.batch.status === 'running') return;
  useSpine.setState({ series: s.series.map((t) => (t.source === e.source ? { ...t, chosen: t.key === key } : t)), selected: key });
}

export function removeSource(source: string): void {
  const s = useSpine.getState();
  if (s.batch.status === 'running') return;
  for (const t of s.series) if (t.source === source) forgetSeries(t.key);
  sources.delete(source);
  const series = s.series.filter((t) => t.source !== source);
  useSpine.setState({ series, selected: series.some((t) => t.key === s.selected) ? s.selected : (series[0]?.key ?? null) });
}

export function clearSeries(): void {
  if (useSpine.getState().batch.status === 'running') return;
  loadSeq++;
  forgetSeries();
  sources.clear();
  useSpine.setState({ series: [], selected: null, batch: initialBatch, loading: null });
}

// ---------------------------------------------------------------------------------------------
// models, cards, labels

/** Which stage a model serves: 5D input (N, C, a, b, c) = stage 1, 4D (N, C, H, W) = stage 2. */
export function modelStage(info: SpineModel['info']): { stage: 'seg' | 'cls' } | { problem: string } {
  const i = info.inputs[0];
  if (!i || !info.outputs[0]) return { problem: 'it has no input or no output' };
  if (info.inputs.length !== 1) return { problem: `it has ${info.inputs.length} inputs; the spine preset feeds one tensor` };
  if (i.dims.length === 5) return { stage: 'seg' };
  if (i.dims.length === 4) return { stage: 'cls' };
  return { problem: `its input ${i.name} is [${i.dims.join(', ')}]; stage 1 takes (N, C, rows, cols, slices), stage 2 (N, 6, H, W)` };
}

/** The spine page's model list (messages under 'spine-model'). */
const modelList: PresetModels<SpineModel> = { store: useSpine, worker, key: 'spine-model' };

export async function addModelFile(f: File): Promise<boolean> {
  const bytes = await readModelFile(modelList, f);
  return bytes ? addModelBytes(bytes, f.name) : false;
}

export function addModelBytes(bytes: Uint8Array, name: string): Promise<boolean> {
  return addPresetModel(
    modelList,
    bytes,
    name,
    (loaded) => {
      const st = modelStage(loaded.info);
      return 'problem' in st ? `Cannot use ${name} for the spine preset: ${st.problem}.` : { workerId: loaded.id, name, bytes, info: loaded.info, stage: st.stage };
    },
    (m) => `Loaded ${m.stage === 'seg' ? 'segmentation (stage 1)' : 'fracture (stage 2)'} model ${name} (${m.info.parameters.toLocaleString()} parameters).`,
  );
}

export function removeModel(name: string): void {
  removePresetModel(modelList, name);
}

/** Applies a model card's values on top of the current defaults (a stage-1 and a stage-2 card add up). */
export function applyCard(card: unknown, name: string): void {
  const patch = spineParamsFromCard(card);
  useSpine.setState((s) => {
    const base = s.paramsFrom === 'spinePreset' ? spinePreset : s.defaults;
    const defaults: SpineParams = { ...base, ...patch };
    const from = s.paramsFrom === 'spinePreset' ? name : s.paramsFrom.split(' + ').includes(name) ? s.paramsFrom : `${s.paramsFrom} + ${name}`;
    return { params: { ...s.params, ...patch }, defaults, paramsFrom: from };
  });
}

async function applyCardFile(file: File): Promise<void> {
  try {
    const card = JSON.parse(await file.text()) as unknown;
    const c = card as { preset?: unknown; inference?: unknown; preprocessing?: unknown } | null;
    if (!c || typeof c !== 'object' || (!c.inference && !c.preprocessing)) {
      say('info', `${file.name} has no inference block; not used as a model card.`);
      return;
    }
    applyCard(card, file.name);
    say('info', `Preset values from the model card ${file.name}.`);
  } catch (e) {
    say('error', `Could not read the model card ${file.name}: ${errorText(e)}`, 'spine-card');
  }
}

export function loadLabelsText(text: string, name: string): boolean {
  try {
    const rows = parseSpineLabelsCsv(text, name);
    useSpine.setState({ labels: { name, rows } });
    useStore.getState().clearMessages('spine-labels');
    say('info', `Labels ${name}: ${rows.size} stud${rows.size === 1 ? 'y' : 'ies'}.`);
    return true;
  } catch (e) {
    say('error', `Could not read the labels ${name}: ${errorText(e)}`, 'spine-labels');
    return false;
  }
}

export async function loadLabelsFile(file: File): Promise<void> {
  loadLabelsText(await file.text(), file.name);
}

export function clearLabels(): void {
  useSpine.setState({ labels: null });
}

// ---------------------------------------------------------------------------------------------
// run

const STAGE_WEIGHT: Record<SpineProgress['stage'], [number, number]> = {
  // [start, share] of one series' run
  preprocess: [0, 0.1],
  segment: [0.1, 0.6],
  crops: [0.7, 0.05],
  classify: [0.75, 0.25],
};

/** Fraction of one series' run from its progress. */
export function progressFraction(p: SpineProgress | undefined): number {
  if (!p) return 0;
  const [start, share] = STAGE_WEIGHT[p.stage] ?? [0, 1];
  return start + share * (p.total > 0 ? Math.min(1, p.done / p.total) : 0);
}

export function batchFraction(keys: string[], series: SeriesEntry[]): number {
  if (keys.length === 0) return 0;
  let f = 0;
  for (const k of keys) {
    const t = series.find((x) => x.key === k);
    if (!t) continue;
    if (t.status === 'done' || t.status === 'error') f += 1;
    else if (t.status === 'running') f += progressFraction(t.progress);
  }
  return f / keys.length;
}

function updateClock(): void {
  const s = useSpine.getState();
  if (s.batch.status !== 'running') return;
  const elapsedMs = Date.now() - s.batch.startedAt;
  const f = batchFraction(s.batch.keys, s.series);
  useSpine.setState({ batch: { ...s.batch, elapsedMs, etaMs: f > 0 ? (elapsedMs * (1 - f)) / f : 0 } });
}

/** A vertebra row of a flipped (NIfTI) volume in the volume's own voxel order. */
export function unflipRow(v: VertebraRow, shape: [number, number, number], flips: [boolean, boolean, boolean]): VertebraRow {
  const out = { ...v };
  if (flips[0] && v.sliceRange) out.sliceRange = [shape[0] - 1 - v.sliceRange[1], shape[0] - 1 - v.sliceRange[0]];
  if (v.centre) out.centre = v.centre.map((c, i) => (flips[i] ? shape[i] - 1 - c : c)) as [number, number, number];
  return out;
}

let runSeq = 0;
let currentKey: string | null = null;

/**
 * Runs the chosen series whose result is missing or was made with other settings (all of them
 * when everything is up to date), one after another; errors stay in their rows.
 */
export async function runSpine(): Promise<void> {
  if (useSpine.getState().batch.status === 'running') return;
  const { clearMessages } = useStore.getState();
  clearMessages('spine-validate');
  const s0 = useSpine.getState();
  const problems = validateSpineParams(s0.params);
  if (problems.length > 0) {
    say('error', `Fix the preset values first: ${problems.join('; ')}.`, 'spine-validate');
    return;
  }
  const modelProblems = s0.models.flatMap((m) => checkSpineModel({ name: m.name, inputs: m.info.inputs, outputs: m.info.outputs }, m.stage, s0.params));
  if (modelProblems.length > 0) {
    say('error', `The models do not fit the preset values: ${modelProblems.join('; ')}.`, 'spine-validate');
    return;
  }
  if (!s0.models.some((m) => m.stage === 'seg')) {
    say('warning', s0.series.length === 0 ? 'Add a CT series and a segmentation model (.onnx) first.' : 'Add a segmentation model (stage 1, .onnx) first.', 'spine-validate');
    return;
  }
  if (s0.series.length === 0) {
    say('warning', 'Add a CT series first: drop a DICOM study folder or a NIfTI file.', 'spine-validate');
    return;
  }
  const seq = ++runSeq;
  useSpine.setState({ batch: { ...initialBatch, status: 'running', startedAt: Date.now() } });
  await loaded(); // series still decoding run once they are in
  if (seq !== runSeq) return;
  const s = useSpine.getState();
  const key = runKey(s);
  const list = runnable(s.series);
  if (list.length === 0) {
    useSpine.setState({ batch: initialBatch });
    say('warning', 'None of the series could be loaded; see the list for why.', 'spine-validate');
    return;
  }
  let targets = list.filter((t) => t.result?.key !== key || t.status !== 'done' || t.order !== s.params.order);
  if (targets.length === 0) targets = list;
  const keys = targets.map((t) => t.key);
  useSpine.setState((st) => ({
    series: st.series.map((t) => (keys.includes(t.key) ? { ...t, status: 'ready', error: undefined, progress: undefined, result: undefined, edited: undefined } : t)),
    batch: { ...st.batch, keys },
  }));
  const clock = setInterval(updateClock, 500);
  let cancelled = false;
  let failed = 0;
  try {
    for (const k of keys) {
      if (seq !== runSeq || useSpine.getState().batch.cancelRequested) {
        cancelled = true;
        break;
      }
      const st = useSpine.getState();
      const entry = st.series.find((t) => t.key === k);
      if (!entry) continue;
      currentKey = k;
      patchSeries(k, { status: 'running', progress: undefined });
      const t0 = performance.now();
      try {
        let series = loadedSeries(k);
        if (series && entry.kind === 'dicom' && series.order !== st.params.order) series = (await reorder(entry, st.params.order)) ?? undefined;
        if (seq !== runSeq) return;
        if (!series) throw new Error('the series is no longer loaded; drop it again');
        const onProgress = throttle((p: SpineProgress) => {
          if (seq !== runSeq || useSpine.getState().series.find((t) => t.key === k)?.status !== 'running') return;
          patchSeries(k, { progress: { stage: p.stage, done: p.done, total: p.total } });
          updateClock();
        }, 100);
        const r: SpineRunResult = await worker().api.runSpine(
          {
            stored: series.stored,
            shape: spatialShape(series.volume),
            spacing: [...series.volume.spacing],
            segModelIds: st.models.filter((m) => m.stage === 'seg').map((m) => m.workerId),
            clsModelIds: st.models.filter((m) => m.stage === 'cls').map((m) => m.workerId),
            params: st.params,
            backend: st.backend,
          },
          Comlink.proxy(onProgress),
        );
        if (seq !== runSeq) return;
        const flips = series.flips;
        holdLabels(k, flips ? flip3(r.labels, spatialShape(series.volume), flips) : r.labels);
        patchSeries(k, {
          status: 'done',
          progress: undefined,
          result: {
            vertebrae: flips ? r.vertebrae.map((v) => unflipRow(v, spatialShape(series.volume), flips)) : r.vertebrae,
            patientOverall: r.patientOverall,
            timings: r.timings,
            backend: r.backend,
            backendReason: r.backendReason,
            wallMs: performance.now() - t0,
            key,
          },
        });
      } catch (e) {
        if (seq !== runSeq) return;
        if (isAbort(e)) {
          patchSeries(k, { status: 'cancelled', progress: undefined });
          cancelled = true;
          break;
        }
        failed++;
        patchSeries(k, { status: 'error', error: errorText(e), progress: undefined });
      } finally {
        currentKey = null;
      }
    }
  } finally {
    clearInterval(clock);
  }
  if (seq !== runSeq) return;
  finishBatch(cancelled ? 'cancelled' : 'done', failed);
}

function finishBatch(status: 'done' | 'cancelled', failed: number): void {
  const s = useSpine.getState();
  const elapsedMs = Date.now() - s.batch.startedAt;
  const keys = s.batch.keys;
  const done = s.series.filter((t) => keys.includes(t.key) && t.status === 'done').length;
  useSpine.setState({
    series: s.series.map((t) => (status === 'cancelled' && keys.includes(t.key) && (t.status === 'ready' || t.status === 'running') && !t.result ? { ...t, status: t.status === 'running' ? 'cancelled' : 'ready', progress: undefined } : t)),
    batch: { ...s.batch, status, elapsedMs, etaMs: 0, cancelRequested: false },
  });
  const secs = (elapsedMs / 1000).toFixed(1);
  if (status === 'cancelled') say('info', `Run cancelled after ${done} of ${keys.length} series (${secs} s).`);
  else say(failed > 0 ? 'warning' : 'info', `Run finished: ${done} of ${keys.length} series in ${secs} s${failed > 0 ? `; ${failed} failed (see the list)` : ''}.`);
}

const HARD_STOP_MS = 1500;

/** Cancel (Esc): stops decoding and the run; the worker is restarted if it does not answer. */
export function cancelSpine(): void {
  const s = useSpine.getState();
  const loadingNow = s.loading !== null && !s.loading.cancelRequested && s.series.some((t) => t.status === 'loading');
  const runningNow = s.batch.status === 'running' && !s.batch.cancelRequested;
  if (!loadingNow && !runningNow) return;
  if (loadingNow) {
    // every queued source stops; the one being decoded is cancelled in the worker
    loadSeq++;
    useSpine.setState((st) => ({
      loading: null,
      series: st.series.map((t) => (t.status === 'loading' ? { ...t, status: 'cancelled', loadFailed: true, error: 'decoding cancelled; drop the folder again to load it' } : t)),
    }));
  }
  if (runningNow) useSpine.setState({ batch: { ...s.batch, cancelRequested: true } });
  const seq = runSeq;
  const decode = loadingNow ? pendingDecode : 0;
  worker().cancel();
  setTimeout(() => {
    const st = useSpine.getState();
    // the same run or the same decode still has not stopped
    const run = runningNow && seq === runSeq && st.batch.status === 'running' && currentKey !== null;
    const dec = decode !== 0 && pendingDecode === decode;
    if (run || dec) void hardStop({ run, decode: dec });
  }, HARD_STOP_MS);
}

async function hardStop(what: { run: boolean; decode: boolean }): Promise<void> {
  client?.terminate();
  client = null;
  if (what.decode) {
    // the decode that never answered rejects now (its row already says cancelled): the sources
    // queued behind it, a folder dropped again say, go on in the new worker
    pendingDecode = 0;
    abortDecode?.();
    abortDecode = null;
  }
  if (what.run) {
    runSeq++; // whatever the old run still reports is ignored
    const k = currentKey;
    currentKey = null;
    if (k) patchSeries(k, { status: 'cancelled', progress: undefined });
    if (useSpine.getState().batch.status === 'running') finishBatch('cancelled', 0);
  }
  say('info', 'The worker did not answer the cancel request, so it was restarted.');
  await reloadPresetModels(modelList);
}

export function setBackend(backend: BackendChoice): void {
  useSpine.setState({ backend });
}

// ---------------------------------------------------------------------------------------------
// results and exports

/** One prediction per study: its chosen series' result (what submission.csv and the metric use). */
export function predictions(series: SeriesEntry[] = useSpine.getState().series): SpineStudyPrediction[] {
  const out: SpineStudyPrediction[] = [];
  const seen = new Set<string>();
  for (const t of series) {
    if (!t.chosen || t.status !== 'done' || !t.result || seen.has(t.studyUid)) continue;
    seen.add(t.studyUid);
    out.push({ studyUid: t.studyUid, vertebrae: t.result.vertebrae, patientOverall: t.result.patientOverall });
  }
  return out;
}

/** Predictions with stage-2 values (a vertebra without a mask has none: submission.csv gives it 0.5). */
export function hasFractureValues(preds: SpineStudyPrediction[]): boolean {
  return preds.length > 0 && preds.every((p) => p.patientOverall !== undefined || p.vertebrae.some((v) => v.fracture !== undefined));
}

/** Exactly spineSubmissionCsv(predictions()). */
export function submissionText(): string {
  return spineSubmissionCsv(predictions());
}

export function metricResult(): SpineMetricResult | null {
  const s = useSpine.getState();
  const preds = predictions(s.series);
  if (!s.labels || !hasFractureValues(preds)) return null;
  return spineMetric(s.labels.rows, preds);
}

export function download(bytes: Uint8Array | string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadSubmission(): void {
  download(submissionText(), 'submission.csv', 'text/csv');
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_') || 'series';

/** The masks (0 = background, k = C_k) as .nii.gz in the CT's space; `corrected`: with the user's edits. */
export function masksNifti(key: string, corrected: boolean): { bytes: Uint8Array; name: string } | null {
  const series = loadedSeries(key);
  const labels = corrected ? currentLabels(key) : modelLabels(key);
  if (!series || !labels) return null;
  const stem = safeName(series.studyUid || key);
  const name = `${stem}_vertebrae${corrected ? '_corrected' : ''}.nii.gz`;
  const bytes = writeNifti(labelsVolume(series.volume, labels, name), { description: corrected ? 'C1..C7 corrected (Voxelbench)' : 'C1..C7 (Voxelbench spine)' });
  return { bytes, name };
}

export function downloadMasks(key: string, corrected: boolean): void {
  const f = masksNifti(key, corrected);
  if (!f) {
    say('warning', 'No masks to save yet: run the series first.');
    return;
  }
  download(f.bytes, f.name, 'application/gzip');
}

export const hasCorrections = (key: string): boolean => correctedLabels(key) !== undefined;

// ---------------------------------------------------------------------------------------------
// demo

const DEMO = {
  manifest: 'samples/ct/series.json',
  seg: 'models/spine_seg.onnx',
  segCard: 'models/spine_seg.json',
  cls: 'models/spine_fracture.onnx',
  clsCard: 'models/spine_fracture.json',
  labels: 'samples/ct/sim_neck_labels.csv',
};

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** The bundled demo: the simulated neck CT (DICOM), both models with their cards and the labels; runs it unless told not to. */
export async function loadSpineDemo(opts: { run?: boolean } = {}): Promise<void> {
  const s = useSpine.getState();
  if (s.batch.status === 'running' || s.busy) return;
  useSpine.setState({ busy: 'Downloading the spine demo…' });
  let source: SpineSource;
  try {
    const manifest = (await (await fetchOk(DEMO.manifest)).json()) as Record<string, { folder: string; files: string[] }>;
    const sim = manifest.sim_neck;
    if (!sim || !Array.isArray(sim.files)) throw new Error(`${DEMO.manifest}: no sim_neck entry`);
    const [segCard, clsCard, seg, cls, labels, files] = await Promise.all([
      fetchOk(DEMO.segCard).then((r) => r.json() as Promise<unknown>),
      fetchOk(DEMO.clsCard).then((r) => r.json() as Promise<unknown>),
      fetchOk(DEMO.seg).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetchOk(DEMO.cls).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetchOk(DEMO.labels).then((r) => r.text()),
      Promise.all(
        sim.files.map(async (name) => {
          const blob = await (await fetchOk(`samples/ct/${sim.folder}/${name}`)).blob();
          return { path: `sim_neck/${name}`, file: new File([blob], name, { type: 'application/dicom' }) };
        }),
      ),
    ]);
    applyCard(segCard, 'spine_seg.json');
    applyCard(clsCard, 'spine_fracture.json');
    loadLabelsText(labels, 'sim_neck_labels.csv');
    useSpine.setState({ busy: null });
    if (!(await addModelBytes(seg, 'spine_seg.onnx'))) return;
    if (!(await addModelBytes(cls, 'spine_fracture.onnx'))) return;
    source = { kind: 'dicom', id: 'sim_neck', folder: 'sim_neck', files, ignored: [] };
  } catch (e) {
    say('error', `Could not download the spine demo: ${errorText(e)}`);
    return;
  } finally {
    useSpine.setState({ busy: null });
  }
  addSources([source]);
  if (opts.run !== false) await runSpine();
}
