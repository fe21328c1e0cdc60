/**
 * What the motors page does: take dropped/picked files apart, load tomograms one at a time,
 * load models into the worker, read labels and model cards, run the queue through the worker's
 * runMotors with progress and cancel, open the demo, and write submission.csv. No React here.
 */
import { throttle } from '../throttle';
import * as Comlink from 'comlink';
import type { MotorDetection, MotorsProgress } from '../../core/motors/pipeline';
import { parseLabelsCsv, submissionCsv, thresholdDetections } from '../../core/motors/postprocess';
import type { Tomogram } from '../../core/motors/tomogram';
import { motorsParamsFromCard, motorsPreset, validateMotorsParams, type MotorsModelCard } from '../../core/presets/motors';
import type { ModelInfo } from '../../core/onnx/model';
import { createWorkerClient, type WorkerClient } from '../../worker/client';
import type { BackendChoice, MotorsRequest, MotorsResult } from '../../worker/protocol';
import { addPresetModel, errorText, isAbort, readModelFile, reloadPresetModels, removePresetModel, say, type PresetModels } from '../presetModels';
import { useStore } from '../store';
import { cached, forget, remember } from './cache';
import { loadSource, type LoadedTomogram } from './load';
import { sortFiles, sourceLabel, type PickedFile, type TomoSource } from './sources';
import { initialBatch, patchTomo, runKey, useMotors, type MotorModel, type TomoEntry } from './state';

// ---------------------------------------------------------------------------------------------
// worker

let client: WorkerClient | null = null;

/** The motors page's own worker (a hard stop restarts it without touching the workbench's). */
function worker(): WorkerClient {
  client ??= createWorkerClient();
  return client;
}

/** The motors page's model list (messages under 'motors-model'). */
const modelList: PresetModels<MotorModel> = { store: useMotors, worker, key: 'motors-model' };

function runMotorsInWorker(req: MotorsRequest, onProgress: (p: MotorsProgress) => void): Promise<MotorsResult> {
  return worker().api.runMotors(req, Comlink.proxy(onProgress));
}

// ---------------------------------------------------------------------------------------------
// files

/** One handler for everything dropped or picked on the motors page. */
export async function addFiles(files: PickedFile[], emptyFolders: string[] = []): Promise<void> {
  const sorted = sortFiles(files, emptyFolders);
  const dups = sorted.duplicates;
  if (dups.length > 0) {
    const shown = dups.slice(0, 3).map((d) => d.skipped.slice(d.skipped.lastIndexOf('/') + 1)).join(', ') + (dups.length > 3 ? ` and ${dups.length - 3} more` : '');
    say('info', `Skipped ${shown}: ${dups.length === 1 ? 'its id is' : 'their ids are'} already taken by slice folders of the same name (one source per tomogram id).`);
  }
  if (sorted.ignored.length > 0) {
    const shown = sorted.ignored.slice(0, 4).join(', ') + (sorted.ignored.length > 4 ? ` and ${sorted.ignored.length - 4} more` : '');
    say('info', `Ignored ${sorted.ignored.length} file${sorted.ignored.length === 1 ? '' : 's'} that are no tomogram, model, card or labels: ${shown}.`);
  }
  for (const c of sorted.cards) await applyCardFile(c.file);
  if (sorted.labels.length > 0) {
    if (sorted.labels.length > 1) say('warning', `Several CSV files: reading ${sorted.labels[0].path} as labels.`);
    await loadLabelsFile(sorted.labels[0].file);
  }
  if (sorted.models.length > 0) await addModelFiles(sorted.models.map((m) => m.file));
  if (sorted.tomograms.length > 0) addSources(sorted.tomograms);
  if (files.length > 0 && sorted.tomograms.length + sorted.models.length + sorted.labels.length + sorted.cards.length === 0) {
    say('warning', 'Nothing to open there: drop folders of JPEG/PNG slices, MRC/REC or TIFF files, .onnx models or a labels .csv.', 'motors-open');
  }
}

/** Adds tomograms to the queue (replacing ones with the same id) and loads them one at a time. */
export function addSources(sources: TomoSource[]): void {
  const fresh: TomoEntry[] = sources.map((src) => ({ id: src.id, source: src, sourceLabel: sourceLabel(src), status: 'loading' }));
  const ids = new Set(fresh.map((t) => t.id));
  const replaced = useMotors.getState().tomograms.filter((t) => ids.has(t.id));
  if (useMotors.getState().batch.status === 'running' && replaced.some((t) => t.status === 'running')) {
    say('warning', `Cannot replace ${replaced.find((t) => t.status === 'running')!.id} while it runs; cancel first.`);
    return;
  }
  for (const t of replaced) forget(t.id);
  if (replaced.length > 0) say('info', `Replaced ${replaced.map((t) => t.id).join(', ')} with the newly added ${replaced.length === 1 ? 'source' : 'sources'}.`);
  useMotors.setState((s) => {
    const kept = s.tomograms.filter((t) => !ids.has(t.id));
    const selected = s.selected ?? fresh[0]?.id ?? null;
    return { tomograms: [...kept, ...fresh], selected };
  });
  for (const t of fresh) void ensureLoaded(t.id);
}

const pending = new Map<string, Promise<Tomogram | null>>();
/** Loads run one after another: only one tomogram is being decoded at a time. */
let loadChain: Promise<unknown> = Promise.resolve();

/**
 * The tomogram's voxels: from the cache, or loaded (again) from its source. Null when it cannot be
 * loaded (its row then says why). Loads after a drop run one after another; an `urgent` one (the
 * run or the view needs it now) starts at once instead of waiting behind them.
 */
export function ensureLoaded(id: string, urgent = false): Promise<Tomogram | null> {
  const have = cached(id);
  if (have) return Promise.resolve(have);
  const p = pending.get(id);
  if (p) return p;
  let job: Promise<Tomogram | null>;
  if (urgent) job = loadOne(id);
  else {
    job = loadChain.then(() => loadOne(id));
    loadChain = job.catch(() => undefined);
  }
  pending.set(id, job);
  void job.finally(() => pending.delete(id));
  return job;
}

async function loadOne(id: string): Promise<Tomogram | null> {
  const entry = useMotors.getState().tomograms.find((t) => t.id === id);
  if (!entry?.source) return null;
  const have = cached(id);
  if (have) return have;
  const src = entry.source;
  const first = entry.shape === undefined;
  let last = 0;
  let loaded: LoadedTomogram;
  try {
    loaded = await loadSource(src, {
      onProgress: (done, total) => {
        const now = performance.now();
        if (first && (now - last > 100 || done === total)) {
          last = now;
          patchTomo(id, { loadProgress: done / total });
        }
      },
    });
  } catch (e) {
    if (useMotors.getState().tomograms.find((t) => t.id === id)?.source !== src) return null;
    patchTomo(id, { status: 'error', loadFailed: true, error: errorText(e).replace(new RegExp(`^${escapeRe(id)}: `), ''), loadProgress: undefined });
    // show a tomogram that can be shown, not the broken one
    const s = useMotors.getState();
    if (s.selected === id) useMotors.setState({ selected: s.tomograms.find((t) => !t.loadFailed)?.id ?? id });
    return null;
  }
  const cur = useMotors.getState().tomograms.find((t) => t.id === id);
  if (cur?.source !== src) return null; // replaced or removed meanwhile
  const t = loaded.tomogram;
  remember(t);
  if (first) {
    const patch: Partial<TomoEntry> = { shape: t.shape, spacing: t.spacing, loadProgress: undefined };
    if (cur.status === 'loading') patch.status = 'waiting';
    if (loaded.skipped.length > 0) {
      const names = loaded.skipped.map((s) => s.slice(s.lastIndexOf('/') + 1));
      patch.note = `skipped ${names.length} non-image file${names.length === 1 ? '' : 's'}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`;
    }
    patchTomo(id, patch);
  }
  return t;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function removeTomogram(id: string): void {
  const s = useMotors.getState();
  const t = s.tomograms.find((x) => x.id === id);
  if (!t || t.status === 'running') return;
  forget(id);
  useMotors.setState({
    tomograms: s.tomograms.filter((x) => x.id !== id),
    selected: s.selected === id ? (s.tomograms.find((x) => x.id !== id)?.id ?? null) : s.selected,
  });
}

export function clearTomograms(): void {
  if (useMotors.getState().batch.status === 'running') return;
  forget();
  useMotors.setState({ tomograms: [], selected: null, batch: initialBatch });
}

// ---------------------------------------------------------------------------------------------
// models, cards, labels

/** Checks that a model takes (N, 1, D, H, W) and gives (N, 1, d, h, w); returns the problem or null. */
export function motorModelProblem(info: ModelInfo): string | null {
  const i = info.inputs[0];
  const o = info.outputs[0];
  if (!i || !o) return 'it has no input or no output';
  if (info.inputs.length !== 1) return `it has ${info.inputs.length} inputs; the motor preset feeds one (N, 1, D, H, W) tensor`;
  const fixed = (d: number | string, v: number) => typeof d !== 'number' || d === v;
  if (i.dims.length !== 5 || !fixed(i.dims[1], 1)) return `its input ${i.name} is [${i.dims.join(', ')}]; the motor preset needs (N, 1, D, H, W)`;
  if (o.dims.length !== 5 || !fixed(o.dims[1], 1)) {
    return `its output ${o.name} is [${o.dims.join(', ')}]; the motor preset needs a single-channel 3D map (N, 1, d, h, w)`;
  }
  return null;
}

export async function addModelFiles(files: File[]): Promise<void> {
  for (const f of files) {
    const bytes = await readModelFile(modelList, f);
    if (bytes) await addModelBytes(bytes, f.name);
  }
}

export function addModelBytes(bytes: Uint8Array, name: string): Promise<boolean> {
  return addPresetModel(
    modelList,
    bytes,
    name,
    (loaded) => {
      const problem = motorModelProblem(loaded.info);
      return problem ? `Cannot use ${name} for motors: ${problem}.` : { workerId: loaded.id, name, bytes, info: loaded.info };
    },
    (m, n) => `Loaded model ${name} (${m.info.parameters.toLocaleString()} parameters)${n > 1 ? `; ${n} models will be summed after the sigmoid` : ''}.`,
  );
}

export function removeModel(name: string): void {
  removePresetModel(modelList, name);
}

/** Applies a model card's inference block as the preset values (and as what Reset goes back to). */
export function applyCard(card: MotorsModelCard, name: string): void {
  const params = motorsParamsFromCard(card, motorsPreset);
  useMotors.setState({ params, defaults: params, paramsFrom: name });
}

async function applyCardFile(file: File): Promise<void> {
  try {
    const card = JSON.parse(await file.text()) as MotorsModelCard;
    if (!card || typeof card !== 'object' || (!card.inference && !card.preprocessing)) {
      say('info', `${file.name} has no inference block; not used as a model card.`);
      return;
    }
    applyCard(card, file.name);
    say('info', `Preset values from the model card ${file.name}.`);
  } catch (e) {
    say('error', `Could not read the model card ${file.name}: ${errorText(e)}`, 'motors-card');
  }
}

export function loadLabelsText(text: string, name: string): boolean {
  try {
    const rows = parseLabelsCsv(text, name);
    useMotors.setState({ labels: { name, rows } });
    useStore.getState().clearMessages('motors-labels');
    const motors = rows.reduce((a, r) => a + r.motors.length, 0);
    say('info', `Labels ${name}: ${rows.length} tomograms, ${motors} motor${motors === 1 ? '' : 's'}.`);
    return true;
  } catch (e) {
    say('error', `Could not read the labels ${name}: ${errorText(e)}`, 'motors-labels');
    return false;
  }
}

export async function loadLabelsFile(file: File): Promise<void> {
  loadLabelsText(await file.text(), file.name);
}

export function clearLabels(): void {
  useMotors.setState({ labels: null });
}

// ---------------------------------------------------------------------------------------------
// run

let runSeq = 0;
let currentId: string | null = null;

/** Overall progress of a batch: finished tomograms plus the running one's fraction. */
export function batchFraction(ids: string[], tomograms: TomoEntry[]): number {
  if (ids.length === 0) return 0;
  let f = 0;
  for (const id of ids) {
    const t = tomograms.find((x) => x.id === id);
    if (!t) continue;
    if (t.status === 'done' || t.status === 'error') f += 1;
    else if (t.status === 'running' && t.progress && t.progress.total > 0) f += t.progress.done / t.progress.total;
  }
  return f / ids.length;
}

function updateBatchClock(): void {
  const s = useMotors.getState();
  if (s.batch.status !== 'running') return;
  const elapsedMs = Date.now() - s.batch.startedAt;
  const f = batchFraction(s.batch.ids, s.tomograms);
  const etaMs = f > 0 ? (elapsedMs * (1 - f)) / f : 0;
  useMotors.setState({ batch: { ...s.batch, elapsedMs, etaMs } });
}

/**
 * Runs every tomogram whose result is missing or was made with other settings (all of them when
 * everything is up to date), one after another; errors stay in their rows and the rest still run.
 */
export async function runMotors(): Promise<void> {
  const s = useMotors.getState();
  if (s.batch.status === 'running') return;
  const { clearMessages } = useStore.getState();
  clearMessages('motors-validate');
  const problems = validateMotorsParams(s.params);
  if (problems.length > 0) {
    say('error', `Fix the preset values first: ${problems.join('; ')}.`, 'motors-validate');
    return;
  }
  if (s.models.length === 0 || s.tomograms.length === 0) {
    say('warning', s.models.length === 0 && s.tomograms.length === 0 ? 'Add tomograms and a model first.' : s.models.length === 0 ? 'Add a model first.' : 'Add tomograms first.', 'motors-validate');
    return;
  }
  const key = runKey(s);
  const runnable = s.tomograms.filter((t) => !t.loadFailed);
  if (runnable.length === 0) {
    say('warning', 'None of the tomograms could be loaded; see the queue for why.', 'motors-validate');
    return;
  }
  let targets = runnable.filter((t) => t.result?.key !== key || t.status !== 'done');
  if (targets.length === 0) targets = runnable;
  const ids = targets.map((t) => t.id);
  const seq = ++runSeq;
  useMotors.setState((st) => ({
    tomograms: st.tomograms.map((t) =>
      ids.includes(t.id) ? { ...t, status: t.status === 'loading' ? 'loading' : 'waiting', error: undefined, progress: undefined, result: undefined } : t,
    ),
    batch: { status: 'running', ids, startedAt: Date.now(), elapsedMs: 0, etaMs: 0, cancelRequested: false },
  }));
  const clock = setInterval(updateBatchClock, 500);
  let cancelled = false;
  let failed = 0;
  try {
    for (const id of ids) {
      if (seq !== runSeq || useMotors.getState().batch.cancelRequested) {
        cancelled = true;
        break;
      }
      const tomo = await ensureLoaded(id, true);
      if (seq !== runSeq) return;
      if (!tomo) {
        failed++;
        continue; // its row says why it could not be loaded
      }
      const st = useMotors.getState();
      const entry = st.tomograms.find((t) => t.id === id);
      if (!entry) continue;
      currentId = id;
      patchTomo(id, { status: 'running', progress: undefined });
      const t0 = performance.now();
      const onProgress = throttle((p: MotorsProgress) => {
        if (seq !== runSeq || useMotors.getState().tomograms.find((t) => t.id === id)?.status !== 'running') return;
        patchTomo(id, { progress: { model: p.model, tta: p.tta, done: p.done, total: p.total, elapsedMs: p.elapsedMs, etaMs: p.etaMs } });
        updateBatchClock();
      }, 100);
      try {
        const modelIds = st.models.map((m) => m.workerId);
        const r = await runMotorsInWorker(
          { tomogram: { id: tomo.id, shape: tomo.shape, data: tomo.data, ...(tomo.spacing !== undefined ? { spacing: tomo.spacing } : {}) }, modelIds, params: st.params, backend: st.backend },
          onProgress,
        );
        if (seq !== runSeq) return;
        const { backend, backendReason, ...detection } = r;
        patchTomo(id, {
          status: 'done',
          progress: undefined,
          result: { detection: detection as MotorDetection, backend, backendReason, wallMs: performance.now() - t0, key },
        });
        if (useMotors.getState().selected === null) useMotors.setState({ selected: id });
      } catch (e) {
        if (seq !== runSeq) return;
        if (isAbort(e)) {
          patchTomo(id, { status: 'cancelled', progress: undefined });
          cancelled = true;
          break;
        }
        failed++;
        patchTomo(id, { status: 'error', error: errorText(e), progress: undefined });
      } finally {
        currentId = null;
      }
    }
  } finally {
    clearInterval(clock);
  }
  if (seq !== runSeq) return;
  finishBatch(cancelled ? 'cancelled' : 'done', failed);
}

function finishBatch(status: 'done' | 'cancelled', failed: number): void {
  const s = useMotors.getState();
  const elapsedMs = Date.now() - s.batch.startedAt;
  const ids = s.batch.ids;
  const done = s.tomograms.filter((t) => ids.includes(t.id) && t.status === 'done').length;
  useMotors.setState({
    tomograms: s.tomograms.map((t) => (status === 'cancelled' && ids.includes(t.id) && (t.status === 'waiting' || t.status === 'running') ? { ...t, status: 'cancelled', progress: undefined } : t)),
    batch: { ...s.batch, status, elapsedMs, etaMs: 0, cancelRequested: false },
  });
  const secs = (elapsedMs / 1000).toFixed(1);
  if (status === 'cancelled') say('info', `Run cancelled after ${done} of ${ids.length} tomograms (${secs} s).`);
  else say(failed > 0 ? 'warning' : 'info', `Run finished: ${done} of ${ids.length} tomograms in ${secs} s${failed > 0 ? `; ${failed} failed (see the queue)` : ''}.`);
}

const HARD_STOP_MS = 1500;

/** Cancel (Esc): the worker stops at the next window batch, or is restarted if it does not answer. */
export function cancelMotors(): void {
  const s = useMotors.getState();
  if (s.batch.status !== 'running' || s.batch.cancelRequested) return;
  useMotors.setState({ batch: { ...s.batch, cancelRequested: true } });
  const seq = runSeq;
  worker().cancel();
  setTimeout(() => {
    if (seq === runSeq && useMotors.getState().batch.status === 'running' && currentId !== null) void hardStop();
  }, HARD_STOP_MS);
}

async function hardStop(): Promise<void> {
  runSeq++; // whatever the old run still reports is ignored
  const id = currentId;
  currentId = null;
  client?.terminate();
  client = null;
  if (id) patchTomo(id, { status: 'cancelled', progress: undefined });
  finishBatch('cancelled', 0);
  say('info', 'The worker did not answer the cancel request, so it was restarted.');
  // the new worker knows no models: load them again
  await reloadPresetModels(modelList);
}

// ---------------------------------------------------------------------------------------------
// results

/** Finished detections in queue order (what the table, histogram and CSV use). */
export function detections(tomograms: TomoEntry[]): MotorDetection[] {
  return tomograms.filter((t) => t.status === 'done' && t.result).map((t) => t.result!.detection);
}

/** Exactly submissionCsv(thresholdDetections(detections, quantile)). */
export function submissionText(): string {
  const s = useMotors.getState();
  return submissionCsv(thresholdDetections(detections(s.tomograms), s.params.quantile));
}

export function downloadSubmission(): void {
  const text = submissionText();
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'submission.csv';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function setBackend(backend: BackendChoice): void {
  useMotors.setState({ backend });
}

// ---------------------------------------------------------------------------------------------
// demo

const DEMO = {
  card: 'models/motor_heatmap.json',
  model: 'models/motor_heatmap.onnx',
  labels: 'samples/tomograms/labels.csv',
  slices: (id: string, z: number) => `samples/tomograms/${id}/slice_${String(z).padStart(4, '0')}.jpg`,
};

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/**
 * The bundled demo: the motor heatmap model with its card, labels.csv and the simulated
 * tomograms as JPEG slice folders (ids and slice counts from labels.csv); runs it unless told not to.
 */
export async function loadMotorsDemo(opts: { run?: boolean } = {}): Promise<void> {
  const s = useMotors.getState();
  if (s.batch.status === 'running' || s.busy) return;
  useMotors.setState({ busy: 'Downloading the motors demo…' });
  try {
    const [card, modelBytes, labelsText] = await Promise.all([
      fetchOk(DEMO.card).then((r) => r.json() as Promise<MotorsModelCard & { file?: string }>),
      fetchOk(DEMO.model).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetchOk(DEMO.labels).then((r) => r.text()),
    ]);
    applyCard(card, 'motor_heatmap.json');
    if (!loadLabelsText(labelsText, 'labels.csv')) return;
    const rows = useMotors.getState().labels!.rows;
    const sources: TomoSource[] = [];
    for (const row of rows) {
      const n = row.shape?.[0] ?? 0;
      const files = await Promise.all(
        Array.from({ length: n }, async (_, z) => {
          const url = DEMO.slices(row.id, z);
          const blob = await (await fetchOk(url)).blob();
          const name = url.slice(url.lastIndexOf('/') + 1);
          return { path: `${row.id}/${name}`, file: new File([blob], name, { type: 'image/jpeg' }) };
        }),
      );
      sources.push({ kind: 'slices', id: row.id, folder: row.id, files });
    }
    useMotors.setState({ busy: null });
    if (!(await addModelBytes(modelBytes, 'motor_heatmap.onnx'))) return;
    addSources(sources);
    useMotors.setState({ selected: sources[0]?.id ?? null });
  } catch (e) {
    say('error', `Could not download the motors demo: ${errorText(e)}`);
    return;
  } finally {
    useMotors.setState({ busy: null });
  }
  if (opts.run !== false) await runMotors();
}

