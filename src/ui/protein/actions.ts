/**
 * What the protein page does: take dropped/picked files apart (RGBY sets grouped by id, cell masks,
 * 4-channel TIFFs, .onnx models, model card, cell_labels.csv), decode the fields of view, load the
 * models into the worker, run every field of view through the worker's runProtein with progress and
 * cancel, open the demo, and write the per-cell CSV. No React here.
 */
import * as Comlink from 'comlink';
import { proteinParamsFromCard, proteinPreset, validateProteinParams, type ProteinModelCard } from '../../core/presets/protein';
import { fovFilesProblem, groupProteinFiles, readFovFiles, type FovFiles } from '../../core/protein/images';
import { cellMap, parseCellLabelsCsv, type CellMapResult, type MetricImage } from '../../core/protein/metric';
import { cellRows, cellsCsv, submissionCsv, type CellRow, type ProteinProgress } from '../../core/protein/pipeline';
import type { ModelInfo } from '../../core/onnx/model';
import { createWorkerClient, type WorkerClient } from '../../worker/client';
import type { BackendChoice, ProteinRequest, ProteinRunResult } from '../../worker/protocol';
import { addPresetModel, errorText, isAbort, reloadPresetModels, removePresetModel, say, type PresetModels } from '../presetModels';
import { useStore } from '../store';
import { throttle } from '../throttle';
import type { PickedFile } from '../motors/sources';
import { patchFov, runKey, useProtein, type FovEntry, type ProteinModelEntry } from './state';

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

// ---------------------------------------------------------------------------------------------
// worker

let client: WorkerClient | null = null;

function worker(): WorkerClient {
  client ??= createWorkerClient();
  return client;
}

/** The protein page's model list (messages under 'protein-model'). */
const modelList: PresetModels<ProteinModelEntry> = { store: useProtein, worker, key: 'protein-model' };

function runInWorker(req: ProteinRequest, onProgress: (p: ProteinProgress) => void): Promise<ProteinRunResult> {
  return worker().api.runProtein(req, Comlink.proxy(onProgress));
}

// ---------------------------------------------------------------------------------------------
// files

/** One handler for everything dropped or picked on the protein page. */
export async function addFiles(files: PickedFile[]): Promise<void> {
  const models = files.filter((f) => /\.onnx$/i.test(f.path));
  const cards = files.filter((f) => /\.json$/i.test(f.path));
  const csvs = files.filter((f) => /\.csv$/i.test(f.path));
  const rest = files.filter((f) => !models.includes(f) && !cards.includes(f) && !csvs.includes(f));
  for (const c of cards) await applyCardFile(c.file);
  for (const c of csvs) await loadGroundTruthFile(c.file);
  for (const m of models) await addModelBytes(new Uint8Array(await m.file.arrayBuffer()), baseName(m.path));
  if (rest.length === 0) return;
  const { sets, ignored } = groupProteinFiles(rest, (f) => baseName(f.path));
  if (ignored.length > 0) {
    // a mask dropped for a field of view that is already there
    const fovs = useProtein.getState().fovs;
    const stillIgnored: string[] = [];
    for (const name of ignored) {
      const m = /^(.+?)_(cells?|cell_?masks?|masks?|segmentation|labels?)\.(png|tiff?)$/i.exec(name);
      const entry = m && fovs.find((f) => f.id === m[1]);
      const picked = rest.find((f) => baseName(f.path) === name);
      if (entry && picked) attachMask(entry, picked);
      else stillIgnored.push(name);
    }
    if (stillIgnored.length > 0) {
      const shown = stillIgnored.slice(0, 4).join(', ') + (stillIgnored.length > 4 ? ` and ${stillIgnored.length - 4} more` : '');
      say('info', `Ignored ${stillIgnored.length} file${stillIgnored.length === 1 ? '' : 's'} that are no channel image (<id>_red.png …), 4-channel TIFF, cell mask, model, card or labels: ${shown}.`);
    }
  }
  if (sets.length > 0) addSets(sets);
}

function attachMask(entry: FovEntry, mask: PickedFile): void {
  const files = { ...entry.files, cells: mask };
  useProtein.setState((s) => ({ fovs: s.fovs.map((f) => (f.id === entry.id ? { ...f, files, status: 'loading', fov: undefined, error: undefined, loadFailed: undefined, result: undefined } : f)) }));
  say('info', `Cell mask ${baseName(mask.path)} added to ${entry.id}.`);
  void loadFov(entry.id);
}

export function addSets(sets: FovFiles<PickedFile>[]): void {
  const s = useProtein.getState();
  const merged = sets.map((set) => {
    // a mask dropped without its channels keeps the channels already there
    const old = s.fovs.find((f) => f.id === set.id);
    return old && Object.keys(set.channels).length === 0 && !set.tiff ? { ...old.files, cells: set.cells ?? old.files.cells } : set;
  });
  const ids = new Set(merged.map((x) => x.id));
  if (s.batch.status === 'running' && s.fovs.some((f) => ids.has(f.id) && f.status === 'running')) {
    say('warning', 'Cannot replace a field of view while it runs; cancel first.');
    return;
  }
  const fresh: FovEntry[] = merged.map((files) => ({ id: files.id, files, status: 'loading' }));
  useProtein.setState((st) => ({ fovs: [...st.fovs.filter((f) => !ids.has(f.id)), ...fresh], selected: st.selected ?? fresh[0]?.id ?? null }));
  for (const f of fresh) void loadFov(f.id);
}

const loading = new Map<string, Promise<void>>();

export function loadFov(id: string): Promise<void> {
  const p = loading.get(id);
  if (p) return p;
  const job = (async () => {
    const entry = useProtein.getState().fovs.find((f) => f.id === id);
    if (!entry) return;
    const problem = fovFilesProblem(entry.files);
    if (problem) {
      patchFov(id, { status: 'error', loadFailed: true, error: problem.replace(new RegExp(`^${escapeRe(id)}: `), '') });
      return;
    }
    try {
      const read = await readFovFiles(entry.files, async (f) => new Uint8Array(await f.file.arrayBuffer()), (f) => baseName(f.path));
      if (useProtein.getState().fovs.find((f) => f.id === id)?.files !== entry.files) return; // replaced meanwhile
      patchFov(id, { status: 'waiting', fov: read.fov, cells: read.cells, cellsName: read.cellsName, error: undefined, loadFailed: undefined });
    } catch (e) {
      patchFov(id, { status: 'error', loadFailed: true, error: errorText(e).replace(new RegExp(`^${escapeRe(id)}: `), '') });
      const s = useProtein.getState();
      if (s.selected === id) useProtein.setState({ selected: s.fovs.find((f) => !f.loadFailed)?.id ?? id });
    }
  })();
  loading.set(id, job);
  void job.finally(() => loading.delete(id));
  return job;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function removeFov(id: string): void {
  const s = useProtein.getState();
  const f = s.fovs.find((x) => x.id === id);
  if (!f || f.status === 'running') return;
  useProtein.setState({ fovs: s.fovs.filter((x) => x.id !== id), selected: s.selected === id ? (s.fovs.find((x) => x.id !== id)?.id ?? null) : s.selected });
}

export function clearFovs(): void {
  if (useProtein.getState().batch.status === 'running') return;
  useProtein.setState({ fovs: [], selected: null });
}

// ---------------------------------------------------------------------------------------------
// models, card, ground truth

/** The problem with a model for this preset (wrong number of classes, inputs), or null. */
export function proteinModelProblem(info: ModelInfo, classes: number): string | null {
  if (info.inputs.length !== 1) return `it has ${info.inputs.length} inputs; the protein preset feeds one (N, 4, H, W) tensor`;
  const i = info.inputs[0];
  if (i.dims.length !== 4 || (typeof i.dims[1] === 'number' && i.dims[1] !== 4)) return `its input ${i.name} is [${i.dims.join(', ')}]; the protein preset needs (N, 4, H, W) (red, green, blue, yellow)`;
  const outs = info.outputs.filter((o) => o.dims.length === 2 || o.dims.length === 4);
  if (outs.length === 0) return `none of its outputs is [N, K] logits or [N, K, h, w] class maps (${info.outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join(', ')})`;
  for (const o of outs) {
    if (typeof o.dims[1] === 'number' && o.dims[1] !== classes) return `the model gives ${o.dims[1]} classes (${o.name} [${o.dims.join(', ')}]); the protein preset needs ${classes} (the HPA classes, Negative last)`;
  }
  return null;
}

export function addModelBytes(bytes: Uint8Array, name: string): Promise<boolean> {
  return addPresetModel(
    modelList,
    bytes,
    name,
    (loaded) => {
      const problem = proteinModelProblem(loaded.info, useProtein.getState().params.classes.length);
      return problem ? `Cannot use ${name} for protein localisation: ${problem}.` : { workerId: loaded.id, name, bytes, info: loaded.info };
    },
    (m, n) => {
      const maps = m.info.outputs.some((o) => o.dims.length === 4);
      return `Loaded model ${name} (${m.info.parameters.toLocaleString()} parameters${maps ? ', class maps' : ', logits only: occlusion maps'})${n > 1 ? `; ${n} models are averaged before the sigmoid and the CAM` : ''}.`;
    },
  );
}

export function removeModel(name: string): void {
  removePresetModel(modelList, name);
}

export function applyCard(card: ProteinModelCard, name: string): void {
  useProtein.setState({ params: proteinParamsFromCard(card, proteinPreset), paramsFrom: name });
}

async function applyCardFile(file: File): Promise<void> {
  try {
    const card = JSON.parse(await file.text()) as ProteinModelCard;
    if (!card || typeof card !== 'object' || (!card.classes && !card.preprocessing)) {
      say('info', `${file.name} has no classes or preprocessing block; not used as a model card.`);
      return;
    }
    applyCard(card, file.name);
    say('info', `Classes and preprocessing from the model card ${file.name}.`);
  } catch (e) {
    say('error', `Could not read the model card ${file.name}: ${errorText(e)}`, 'protein-card');
  }
}

export function loadGroundTruthText(text: string, name: string): boolean {
  try {
    const cells = parseCellLabelsCsv(text, name);
    useProtein.setState({ groundTruth: { name, cells } });
    useStore.getState().clearMessages('protein-labels');
    say('info', `Ground truth ${name}: ${cells.size} images, ${[...cells.values()].reduce((a, m) => a + m.size, 0)} cells.`);
    return true;
  } catch (e) {
    say('error', `Could not read the cell labels ${name}: ${errorText(e)}`, 'protein-labels');
    return false;
  }
}

async function loadGroundTruthFile(file: File): Promise<void> {
  const text = await file.text();
  const head = text.slice(0, text.indexOf('\n') >>> 0).toLowerCase();
  if (!/(^|,)\s*cell\s*(,|$)/.test(head)) {
    say('info', `${file.name} is not a per-cell ground truth (ID, cell, Label); not used.`);
    return;
  }
  loadGroundTruthText(text, file.name);
}

export function setBackend(backend: BackendChoice): void {
  useProtein.setState({ backend });
}

// ---------------------------------------------------------------------------------------------
// run

let runSeq = 0;
let currentId: string | null = null;

export function batchFraction(ids: string[], fovs: FovEntry[]): number {
  if (ids.length === 0) return 0;
  let f = 0;
  for (const id of ids) {
    const t = fovs.find((x) => x.id === id);
    if (!t) continue;
    if (t.status === 'done' || t.status === 'error') f += 1;
    else if (t.status === 'running' && t.progress) f += t.progress.stage === 'cells' ? 0.95 : t.progress.stage === 'occlusion' || t.progress.stage === 'model' ? 0.1 + 0.8 * (t.progress.total ? t.progress.done / t.progress.total : 0) : 0.05;
  }
  return f / ids.length;
}

/** Runs every field of view whose result is missing or stale (all of them when all are up to date). */
export async function runProtein(): Promise<void> {
  const s = useProtein.getState();
  if (s.batch.status === 'running') return;
  useStore.getState().clearMessages('protein-validate');
  const problems = validateProteinParams(s.params);
  if (problems.length > 0) {
    say('error', `Fix the preset values first: ${problems.join('; ')}.`, 'protein-validate');
    return;
  }
  if (s.models.length === 0 || s.fovs.length === 0) {
    say('warning', s.models.length === 0 && s.fovs.length === 0 ? 'Add fields of view and a model first.' : s.models.length === 0 ? 'Add a model first.' : 'Add fields of view first.', 'protein-validate');
    return;
  }
  await Promise.all(s.fovs.map((f) => (f.status === 'loading' ? loadFov(f.id) : undefined)));
  const st0 = useProtein.getState();
  const key = runKey(st0);
  const runnable = st0.fovs.filter((f) => !f.loadFailed && f.fov);
  if (runnable.length === 0) {
    say('warning', 'None of the fields of view could be read; see the list for why.', 'protein-validate');
    return;
  }
  let targets = runnable.filter((f) => f.result?.key !== key || f.status !== 'done');
  if (targets.length === 0) targets = runnable;
  const ids = targets.map((t) => t.id);
  const seq = ++runSeq;
  useProtein.setState((st) => ({
    fovs: st.fovs.map((f) => (ids.includes(f.id) ? { ...f, status: 'waiting', error: undefined, progress: undefined, result: undefined } : f)),
    batch: { status: 'running', ids, startedAt: Date.now(), elapsedMs: 0, cancelRequested: false },
  }));
  let cancelled = false;
  let failed = 0;
  for (const id of ids) {
    if (seq !== runSeq || useProtein.getState().batch.cancelRequested) {
      cancelled = true;
      break;
    }
    const st = useProtein.getState();
    const entry = st.fovs.find((f) => f.id === id);
    if (!entry?.fov) continue;
    currentId = id;
    patchFov(id, { status: 'running', progress: undefined });
    const t0 = performance.now();
    const onProgress = throttle((p: ProteinProgress) => {
      if (seq !== runSeq) return;
      patchFov(id, { progress: p });
    }, 100);
    try {
      const r = await runInWorker({ fov: entry.fov, cells: entry.cells ?? null, modelIds: st.models.map((m) => m.workerId), params: st.params, backend: st.backend }, onProgress);
      if (seq !== runSeq) return;
      patchFov(id, { status: 'done', progress: undefined, result: { ...r, wallMs: performance.now() - t0, key } });
      if (useProtein.getState().selected === null) useProtein.setState({ selected: id });
    } catch (e) {
      if (seq !== runSeq) return;
      if (isAbort(e)) {
        patchFov(id, { status: 'cancelled', progress: undefined });
        cancelled = true;
        break;
      }
      failed++;
      patchFov(id, { status: 'error', error: errorText(e), progress: undefined });
    } finally {
      currentId = null;
    }
  }
  if (seq !== runSeq) return;
  finishBatch(cancelled ? 'cancelled' : 'done', failed);
}

function finishBatch(status: 'done' | 'cancelled', failed: number): void {
  const s = useProtein.getState();
  const elapsedMs = Date.now() - s.batch.startedAt;
  const ids = s.batch.ids;
  const done = s.fovs.filter((f) => ids.includes(f.id) && f.status === 'done').length;
  useProtein.setState({
    fovs: s.fovs.map((f) => (status === 'cancelled' && ids.includes(f.id) && (f.status === 'waiting' || f.status === 'running') ? { ...f, status: 'cancelled', progress: undefined } : f)),
    batch: { ...s.batch, status, elapsedMs, cancelRequested: false },
  });
  const secs = (elapsedMs / 1000).toFixed(1);
  if (status === 'cancelled') say('info', `Run cancelled after ${done} of ${ids.length} fields of view (${secs} s).`);
  else say(failed > 0 ? 'warning' : 'info', `Run finished: ${done} of ${ids.length} fields of view in ${secs} s${failed > 0 ? `; ${failed} failed (see the list)` : ''}.`);
}

const HARD_STOP_MS = 1500;

/** Cancel (Esc): the worker stops at the next model call or occlusion batch, or is restarted. */
export function cancelProtein(): void {
  const s = useProtein.getState();
  if (s.batch.status !== 'running' || s.batch.cancelRequested) return;
  useProtein.setState({ batch: { ...s.batch, cancelRequested: true } });
  const seq = runSeq;
  worker().cancel();
  setTimeout(() => {
    if (seq === runSeq && useProtein.getState().batch.status === 'running' && currentId !== null) void hardStop();
  }, HARD_STOP_MS);
}

async function hardStop(): Promise<void> {
  runSeq++;
  const id = currentId;
  currentId = null;
  client?.terminate();
  client = null;
  if (id) patchFov(id, { status: 'cancelled', progress: undefined });
  finishBatch('cancelled', 0);
  say('info', 'The worker did not answer the cancel request, so it was restarted.');
  await reloadPresetModels(modelList);
}

// ---------------------------------------------------------------------------------------------
// results

export function doneFovs(fovs: FovEntry[]): FovEntry[] {
  return fovs.filter((f) => f.status === 'done' && f.result);
}

function allRows(): { rows: CellRow[]; sizes: Map<string, [number, number]> } {
  const s = useProtein.getState();
  const rows: CellRow[] = [];
  const sizes = new Map<string, [number, number]>();
  for (const f of doneFovs(s.fovs)) {
    const r = f.result!;
    sizes.set(r.id, [r.width, r.height]);
    rows.push(...cellRows(r, s.params.classes, s.rle));
  }
  return { rows, sizes };
}

/** The per-cell CSV (image id, cell id, class, confidence, mask RLE) over all finished fields of view. */
export function cellsCsvText(): string {
  const { rows, sizes } = allRows();
  return cellsCsv(rows, sizes);
}

export function submissionText(): string {
  const { rows, sizes } = allRows();
  return submissionCsv(rows, sizes);
}

/** Cell-level mAP at the IoU threshold over the finished fields of view with a ground truth and a given mask. */
export function proteinMetric(): (CellMapResult & { images: number }) | null {
  const s = useProtein.getState();
  if (!s.groundTruth) return null;
  const images: MetricImage[] = [];
  for (const f of doneFovs(s.fovs)) {
    const g = s.groundTruth.cells.get(f.id);
    if (!g || !f.cells) continue;
    const r = f.result!;
    images.push({ id: f.id, gt: f.cells, gtClasses: g, pred: r.cells, preds: r.cellResults.flatMap((c) => c.labels.map((l) => ({ cell: c.id, cls: l.cls, confidence: l.confidence }))) });
  }
  if (images.length === 0) return null;
  return { ...cellMap(images, s.params.iouThreshold), images: images.length };
}

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadCells(): void {
  download(cellsCsvText(), 'cells.csv');
}

export function downloadSubmission(): void {
  download(submissionText(), 'submission.csv');
}

// ---------------------------------------------------------------------------------------------
// demo

const DEMO = {
  card: 'models/protein_localisation.json',
  model: 'models/protein_localisation.onnx',
  labels: 'samples/protein/cell_labels.csv',
  ids: ['sim_protein_001', 'sim_protein_002'],
  suffixes: ['red', 'green', 'blue', 'yellow', 'cells'],
};

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** The bundled demo: two simulated fields of view with their cell masks, the model and its card, the ground truth; runs it. */
export async function loadProteinDemo(opts: { run?: boolean } = {}): Promise<void> {
  const s = useProtein.getState();
  if (s.batch.status === 'running' || s.busy) return;
  useProtein.setState({ busy: 'Downloading the protein demo…' });
  try {
    const [card, modelBytes, labelsText] = await Promise.all([
      fetchOk(DEMO.card).then((r) => r.json() as Promise<ProteinModelCard>),
      fetchOk(DEMO.model).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetchOk(DEMO.labels).then((r) => r.text()),
    ]);
    applyCard(card, 'protein_localisation.json');
    loadGroundTruthText(labelsText, 'cell_labels.csv');
    const files: PickedFile[] = await Promise.all(
      DEMO.ids.flatMap((id) =>
        DEMO.suffixes.map(async (suf) => {
          const name = `${id}_${suf}.png`;
          const blob = await (await fetchOk(`samples/protein/${name}`)).blob();
          return { path: name, file: new File([blob], name, { type: 'image/png' }) };
        }),
      ),
    );
    useProtein.setState({ busy: null });
    if (!(await addModelBytes(modelBytes, 'protein_localisation.onnx'))) return;
    await addFiles(files);
    useProtein.setState({ selected: DEMO.ids[0] });
  } catch (e) {
    say('error', `Could not download the protein demo: ${errorText(e)}`);
    return;
  } finally {
    useProtein.setState({ busy: null });
  }
  if (opts.run !== false) await runProtein();
}
