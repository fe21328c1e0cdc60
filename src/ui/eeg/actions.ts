/**
 * What the EEG page does: read dropped parquet files (hyparquet, in the page), load models into
 * the worker, read a votes CSV, run the files one after another through the worker's
 * runSpectrogram with progress and cancel, open the demo, and write submission.csv. No React here.
 */
import * as Comlink from 'comlink';
import { readSpectrogramParquet } from '../../core/eeg/parquet';
import type { EegProgress } from '../../core/eeg/pipeline';
import { eegSubmissionCsv, parseVotesCsv, scoreEeg, type EegScore } from '../../core/eeg/metric';
import { eegPreset, validateEegParams, type EegParams } from '../../core/presets/eeg';
import { createWorkerClient, type WorkerClient } from '../../worker/client';
import type { BackendChoice } from '../../worker/protocol';
import { addPresetModel, errorText, isAbort, reloadPresetModels, removePresetModel, say, type PresetModels } from '../presetModels';
import { useStore } from '../store';
import type { PickedFile } from '../motors/sources';
import type { ModelInfo } from '../../core/onnx/model';
import { initialEegBatch, patchFile, runKey, useEeg, type EegFile, type EegModelEntry } from './state';

let client: WorkerClient | null = null;
function worker(): WorkerClient {
  client ??= createWorkerClient();
  return client;
}

// ---------------------------------------------------------------------------------------------
// files

/** One handler for everything dropped or picked on the EEG page. */
export async function addEegFiles(files: PickedFile[]): Promise<void> {
  const name = (p: PickedFile) => p.file.name;
  const parquet = files.filter((f) => /\.parquet$/i.test(name(f)));
  const models = files.filter((f) => /\.onnx$/i.test(name(f)));
  const csv = files.filter((f) => /\.csv$/i.test(name(f)));
  const other = files.filter((f) => !parquet.includes(f) && !models.includes(f) && !csv.includes(f) && !/\.(json|md)$/i.test(name(f)));
  if (other.length) say('info', `Ignored ${other.length} file${other.length > 1 ? 's' : ''} that are no spectrogram (.parquet), model (.onnx) or votes (.csv): ${other.slice(0, 4).map(name).join(', ')}${other.length > 4 ? ', …' : ''}.`);
  // a card first: its classes decide how models and votes are read
  for (const j of files.filter((f) => /\.json$/i.test(name(f)))) await applyEegCard(await j.file.text(), name(j));
  for (const c of csv) await loadVotesText(await c.file.text(), name(c));
  for (const m of models) await addModelBytes(new Uint8Array(await m.file.arrayBuffer()), name(m));
  if (parquet.length) await addParquetFiles(parquet.map((p) => ({ name: name(p), bytes: () => p.file.arrayBuffer() })));
  if (files.length && !parquet.length && !models.length && !csv.length && !files.some((f) => /\.json$/i.test(name(f)))) say('warning', 'Nothing to open there: drop HMS spectrogram .parquet files, .onnx models or a votes .csv.', 'eeg-open');
}

export async function addParquetFiles(items: { name: string; bytes: () => Promise<ArrayBuffer> }[]): Promise<void> {
  const stem = (n: string) => n.replace(/\.parquet$/i, '');
  const fresh: EegFile[] = items.map((it) => ({ id: stem(it.name), name: it.name, status: 'reading', warnings: [] }));
  const ids = new Set(fresh.map((f) => f.id));
  if (useEeg.getState().files.some((f) => ids.has(f.id) && f.status === 'running')) {
    say('warning', 'Cannot replace a file while it runs; cancel first.');
    return;
  }
  useEeg.setState((s) => ({ files: [...s.files.filter((f) => !ids.has(f.id)), ...fresh], selected: s.selected ?? fresh[0]?.id ?? null }));
  for (const it of items) {
    const id = stem(it.name);
    try {
      const bytes = new Uint8Array(await it.bytes());
      patchFile(id, { bytes });
      const spec = await readSpectrogramParquet(bytes, it.name);
      patchFile(id, { spec, status: 'waiting', warnings: spec.warnings });
      for (const w of spec.warnings) say('warning', w);
    } catch (e) {
      patchFile(id, { status: 'error', readFailed: true, error: errorText(e) });
      say('error', errorText(e));
      const s = useEeg.getState();
      if (s.selected === id) useEeg.setState({ selected: s.files.find((f) => !f.readFailed)?.id ?? id });
    }
  }
}

export function removeEegFile(id: string): void {
  const s = useEeg.getState();
  if (s.files.find((f) => f.id === id)?.status === 'running') return;
  const files = s.files.filter((f) => f.id !== id);
  useEeg.setState({ files, selected: s.selected === id ? (files[0]?.id ?? null) : s.selected });
}

export function clearEegFiles(): void {
  if (useEeg.getState().batch.status === 'running') return;
  useEeg.setState({ files: [], selected: null, batch: initialEegBatch });
}

// ---------------------------------------------------------------------------------------------
// models and votes

/** The EEG page's model list (the folds; messages under 'eeg-model'). */
const modelList: PresetModels<EegModelEntry> = { store: useEeg, worker, key: 'eeg-model' };

/** The problem with a model for the EEG preset (input shape, number of classes), or null. */
function eegModelProblem(name: string, info: ModelInfo): string | null {
  const i = info.inputs[0];
  if (i.dims.length !== 4 || (typeof i.dims[1] === 'number' && i.dims[1] !== 1)) {
    return `Cannot use ${name} for EEG spectrograms: its input ${i.name} is [${i.dims.join(', ')}]; the preset feeds (N, 1, H, W).`;
  }
  const lg = info.outputs.find((o) => o.name === 'logits') ?? info.outputs.find((o) => o.dims.length === 2);
  const k = lg?.dims[1];
  const classes = useEeg.getState().params.classes;
  if (!lg || (typeof k === 'number' && k !== classes.length)) {
    return lg
      ? `${name}: the model gives ${k} classes (output '${lg.name}' [${lg.dims.join(', ')}]); the EEG preset needs ${classes.length}: ${classes.join(', ')}.`
      : `${name}: the model has no (N, K) logits output; outputs: ${info.outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join(', ')}.`;
  }
  return null;
}

export function addModelBytes(bytes: Uint8Array, name: string): Promise<boolean> {
  return addPresetModel(
    modelList,
    bytes,
    name,
    (loaded) => eegModelProblem(name, loaded.info) ?? { workerId: loaded.id, name, info: loaded.info, bytes },
    (m, n) => {
      const maps = m.info.outputs.some((o) => o.dims.length === 4);
      return `Loaded model ${name} (${m.info.parameters.toLocaleString()} parameters, ${maps ? 'class maps for the CAM' : 'logits only: occlusion maps'})${n > 1 ? `; ${n} folds, the softmax is averaged` : ''}.`;
    },
  );
}

export function removeEegModel(name: string): void {
  removePresetModel(modelList, name);
}

export function loadVotesText(text: string, name: string): boolean {
  try {
    const t = parseVotesCsv(text, name, useEeg.getState().params.classes);
    useEeg.setState({ votes: { ...t, name } });
    useStore.getState().clearMessages('eeg-votes');
    for (const w of t.warnings) say('warning', w);
    say('info', `Votes ${name}: ${t.rows.size} eeg_id${t.rows.size === 1 ? '' : 's'}.`);
    return true;
  } catch (e) {
    say('error', `Could not read the votes ${name}: ${errorText(e)}`, 'eeg-votes');
    return false;
  }
}

/** A model card (public/models/*.json) with `classes`: the class names and order of its model. */
export async function applyEegCard(text: string, name: string): Promise<void> {
  try {
    const card = JSON.parse(text) as { preset?: string; classes?: unknown };
    const classes = card.classes;
    if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) {
      say('info', `${name} has no class list; not used as a model card.`);
      return;
    }
    if (card.preset && card.preset !== 'eeg') say('warning', `${name} is the card of a '${card.preset}' model; its class names are used anyway.`);
    setEegParams({ classes: classes as string[] });
    say('info', `Classes from the model card ${name}: ${(classes as string[]).join(', ')}.`);
  } catch (e) {
    say('error', `Could not read the model card ${name}: ${errorText(e)}`, 'eeg-card');
  }
}

export function clearVotes(): void {
  useEeg.setState({ votes: null });
}

export function setEegParams(patch: Partial<EegParams>): void {
  useEeg.setState((s) => ({ params: { ...s.params, ...patch } }));
}

export function resetEegParams(): void {
  useEeg.setState({ params: eegPreset });
}

export function setEegBackend(backend: BackendChoice): void {
  useEeg.setState({ backend });
}

// ---------------------------------------------------------------------------------------------
// run

let runSeq = 0;
const HARD_STOP_MS = 3000;

/** Runs every readable file whose result is missing or out of date (all when all are current). */
export async function runEeg(): Promise<void> {
  const s = useEeg.getState();
  if (s.batch.status === 'running' || s.busy) return;
  useStore.getState().clearMessages('eeg-validate');
  const problems = validateEegParams(s.params);
  if (problems.length) {
    say('error', `Fix the preset values first: ${problems.join('; ')}.`, 'eeg-validate');
    return;
  }
  if (s.models.length === 0) {
    say('warning', 'Add a model (.onnx) first.', 'eeg-validate');
    return;
  }
  const key = runKey(s);
  const runnable = s.files.filter((f) => !f.readFailed && f.spec);
  if (runnable.length === 0) {
    say('warning', 'Add spectrogram .parquet files first.', 'eeg-validate');
    return;
  }
  const stale = runnable.filter((f) => f.status !== 'done' || f.key !== key);
  const todo = stale.length ? stale : runnable;
  const seq = ++runSeq;
  useEeg.setState({ batch: { status: 'running', ids: todo.map((f) => f.id), startedAt: Date.now(), elapsedMs: 0, cancelRequested: false } });
  for (const f of todo) patchFile(f.id, { status: 'waiting', error: undefined, progress: undefined });
  let cancelled = false;
  let failed = 0;
  for (const f of todo) {
    if (seq !== runSeq) return;
    if (useEeg.getState().batch.cancelRequested) {
      cancelled = true;
      break;
    }
    const cur = useEeg.getState().files.find((x) => x.id === f.id);
    if (!cur?.spec) continue;
    patchFile(f.id, { status: 'running' });
    const t0 = performance.now();
    let last = 0;
    try {
      const st = useEeg.getState();
      const res = await worker().api.runSpectrogram(
        { spectrogram: cur.spec, modelIds: st.models.map((m) => m.workerId), params: st.params, backend: st.backend },
        Comlink.proxy((p: EegProgress) => {
          const now = performance.now();
          if (now - last < 100 && p.done !== p.total) return;
          last = now;
          if (seq === runSeq) {
            patchFile(f.id, { progress: p });
            useEeg.setState((x) => ({ batch: { ...x.batch, elapsedMs: Date.now() - x.batch.startedAt } }));
          }
        }),
      );
      if (seq !== runSeq) return;
      patchFile(f.id, { status: 'done', result: res, key, wallMs: performance.now() - t0, progress: undefined, warnings: [...(cur.spec.warnings ?? []), ...res.warnings] });
      for (const w of res.warnings) say('warning', w, `eeg-warn-${f.id}`);
    } catch (e) {
      if (seq !== runSeq) return;
      if (isAbort(e)) {
        patchFile(f.id, { status: 'cancelled', progress: undefined });
        cancelled = true;
        break;
      }
      failed++;
      const msg = errorText(e);
      patchFile(f.id, { status: 'error', error: msg, progress: undefined });
      say('error', msg.startsWith(f.name) || msg.includes('.onnx') ? msg : `${f.name}: ${msg}`);
      // a wrong model fails every file: stop here
      if (/the EEG preset needs|logits output/.test(msg)) break;
    }
  }
  if (seq !== runSeq) return;
  useEeg.setState((x) => ({
    files: x.files.map((f) => (f.status === 'waiting' && x.batch.ids.includes(f.id) ? { ...f, status: f.result ? 'done' : 'cancelled' } : f)),
    batch: { ...x.batch, status: cancelled ? 'cancelled' : failed === todo.length ? 'error' : 'done', elapsedMs: Date.now() - x.batch.startedAt, cancelRequested: false },
  }));
  if (cancelled) say('info', 'Run cancelled.');
}

export function cancelEeg(): void {
  const s = useEeg.getState();
  if (s.batch.status !== 'running' || s.batch.cancelRequested) return;
  useEeg.setState({ batch: { ...s.batch, cancelRequested: true } });
  const seq = runSeq;
  worker().cancel();
  setTimeout(() => {
    if (seq === runSeq && useEeg.getState().batch.status === 'running') void hardStop();
  }, HARD_STOP_MS);
}

/** The worker did not stop in time: restart it and load the models again. */
async function hardStop(): Promise<void> {
  runSeq++;
  client?.terminate();
  client = null;
  useEeg.setState((s) => ({
    files: s.files.map((f) => (f.status === 'running' || f.status === 'waiting' ? { ...f, status: 'cancelled', progress: undefined } : f)),
    batch: { ...s.batch, status: 'cancelled', cancelRequested: false },
  }));
  say('warning', 'The run did not stop in time; the inference worker was restarted and the models are loaded again.');
  await reloadPresetModels(modelList, (model, error) => ({ text: `Could not load ${model} again: ${error}`, key: 'eeg-model' }));
}

// ---------------------------------------------------------------------------------------------
// results

export function eegRows(): { eegId: string; probabilities: number[] }[] {
  return useEeg.getState().files.filter((f) => f.status === 'done' && f.result).map((f) => ({ eegId: f.id, probabilities: f.result!.probabilities }));
}

/** The exact submission.csv text of the finished files. */
export function eegSubmissionText(): string {
  return eegSubmissionCsv(eegRows(), useEeg.getState().params.classes);
}

export function eegScore(): EegScore | null {
  const s = useEeg.getState();
  if (!s.votes) return null;
  const rows = eegRows();
  if (rows.length === 0) return null;
  return scoreEeg(rows, s.votes, s.params.klEpsilon);
}

export function downloadEegSubmission(): void {
  const text = eegSubmissionText();
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'submission.csv';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------------------------------------------------------------------------------------------
// demo

const DEMO = {
  model: 'models/eeg_spectrogram.onnx',
  votes: 'samples/eeg/votes.csv',
  files: ['sim_seizure_001.parquet', 'sim_lpd_002.parquet', 'real_eegmmidb_S001R03.parquet'].map((f) => `samples/eeg/${f}`),
};

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** The demo: the three samples (two simulated, one real EEG-derived), votes and the demo model; runs. */
export async function loadEegDemo(opts: { run?: boolean } = {}): Promise<void> {
  const s = useEeg.getState();
  if (s.batch.status === 'running' || s.busy) return;
  useEeg.setState({ busy: 'Downloading the EEG demo…' });
  let model: Uint8Array;
  try {
    const [m, votes, ...files] = await Promise.all([
      fetchOk(DEMO.model).then(async (r) => new Uint8Array(await r.arrayBuffer())),
      fetchOk(DEMO.votes).then((r) => r.text()),
      ...DEMO.files.map((u) => fetchOk(u).then((r) => r.arrayBuffer())),
    ]);
    model = m as Uint8Array;
    loadVotesText(votes as string, 'votes.csv');
    useEeg.setState({ busy: null });
    await addParquetFiles(DEMO.files.map((u, i) => ({ name: u.slice(u.lastIndexOf('/') + 1), bytes: async () => files[i] as ArrayBuffer })));
  } catch (e) {
    say('error', `Could not download the EEG demo: ${errorText(e)}`);
    useEeg.setState({ busy: null });
    return;
  }
  if (!(await addModelBytes(model, 'eeg_spectrogram.onnx'))) return;
  if (opts.run !== false) await runEeg();
}
