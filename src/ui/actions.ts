/**
 * What the buttons do: open files, load models (and reload them with relaxed dims), run and
 * cancel inference, open the demo. Talks to the worker and writes the store; no React here, and
 * no state of its own: the worker client, the run counter and where each input came from are in
 * the store (./store.ts).
 */
import { throttle } from './throttle';
import { readVolume } from '../core/io';
import { externalDataFiles, externalDataOption, externalDataRefs, formatBytes, inlineExternalData } from '../core/onnx/externalData';
import { cardFromMetadata, describeCard, parseCardText, type WorkbenchCard } from '../core/onnx/card';
import { inspectModel } from '../core/onnx/model';
import { checkRunMemory, type BrowserMemory } from '../core/memoryGuard';
import { rewriteForWebGpu } from '../core/onnx/rewrite';
import { planWindows, type SlidingWindowParams, type SlidingWindowProgress } from '../core/slidingWindow';
import { range, spatialShape, type Volume } from '../core/volume';
import { WorkerFaultError, isWorkerFault, type WorkerClient, type WorkerFault } from '../worker/client';
import type { ExternalDataFile, RunRequest } from '../worker/protocol';
import { ETA_START, nextEta } from './kit/pure';
import { HARD_STOP_MS } from './kit/runner';
import { FAULT_KEY, faultNotice } from './kit/recovery';
import { dropWorker, workerOf } from './kit/store';
import {
  channelRange,
  defaultRoi,
  inputSpec,
  intensityTransform,
  relaxPrompt,
  resampleToGrid,
  roiMismatch,
  runProblems,
  type IntensityScaling,
  type Shape3,
} from './overlay';
import { initialRunState, initialView, newResultCache, useStore, type ModelState, type Origin } from './store';

/** The workbench's worker (started on first use; a hard stop replaces it). */
export function getClient(): WorkerClient {
  return workerOf(useStore);
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** "name: message" without repeating the name when the message already starts with it. */
function aboutFile(name: string, e: unknown): string {
  let text = errorText(e).trim();
  if (text.startsWith(`${name}:`)) text = text.slice(name.length + 1).trim();
  return `Could not open ${name}: ${text}`;
}

const isModelFile = (name: string): boolean => /\.onnx$/i.test(name);
/** Side files of ONNX models with external data ('model.onnx.data', 'weights.bin', ...). */
const isDataFile = (name: string): boolean => /\.(data|bin|weights|onnx_data|pb)$/i.test(name) || /\.onnx\.[^.]+$/i.test(name);

export async function fetchRuntime(): Promise<void> {
  try {
    const runtime = await getClient().api.runtime();
    useStore.setState({ runtime });
  } catch (e) {
    useStore.getState().addMessage('warning', `Could not query the inference runtime: ${errorText(e)}`);
  }
}

/**
 * One handler for dropped or picked files: .onnx -> model, its external data files (.data,
 * .bin, or any name the model references) -> inlined into it, everything else -> volume.
 */
export async function openFiles(files: File[]): Promise<void> {
  const models = files.filter((f) => isModelFile(f.name));
  let referenced = new Set<string>();
  let modelBytes: Uint8Array | null = null;
  if (models[0]) {
    try {
      modelBytes = await readFile(models[0]);
      referenced = new Set(externalDataFiles(externalDataRefs(modelBytes)).map((f) => baseName(f.location)));
    } catch {
      // not parsable here: loadModelBytes reports it
    }
  }
  const isSide = (f: File) => referenced.has(f.name) || isDataFile(f.name);
  const sideFiles = files.filter((f) => !isModelFile(f.name) && isSide(f));
  const cardFiles = files.filter((f) => isCardFile(f.name) && !isSide(f));
  const volumes = files.filter((f) => !isModelFile(f.name) && !isSide(f) && !isCardFile(f.name));
  const { addMessage } = useStore.getState();
  if (volumes.length > 1) addMessage('warning', `Several volumes dropped; opening ${volumes[0].name} only.`);
  if (models.length > 1) addMessage('warning', `Several models dropped; opening ${models[0].name} only.`);
  if (volumes[0]) await openVolumeFile(volumes[0]);
  let card: SourcedCard | null = null;
  if (models[0] && cardFiles.length) {
    const base = models[0].name.replace(/\.onnx$/i, '');
    const file = cardFiles.find((f) => f.name.replace(/\.json$/i, '') === base) ?? (cardFiles.length === 1 ? cardFiles[0] : null);
    if (!file) addMessage('warning', `${cardFiles.map((f) => f.name).join(', ')}: none is named ${base}.json; no model card applied.`);
    else {
      try {
        card = { card: parseCardText(await file.text(), file.name), source: file.name };
      } catch (e) {
        addMessage('error', `Model card ${errorText(e)}; the model was not opened.`, { key: 'open-model' });
        return;
      }
    }
  } else if (cardFiles.length) {
    addMessage('warning', `${cardFiles.map((f) => f.name).join(', ')}: a model card applies when dropped together with its .onnx model.`);
  }
  if (models[0]) {
    if (modelBytes && (referenced.size > 0 || sideFiles.length > 0)) await openModelWithData(models[0].name, modelBytes, sideFiles, card);
    else await openModelFile(models[0], card);
  } else if (sideFiles.length > 0) {
    addMessage('warning', `${sideFiles.map((f) => f.name).join(', ')}: external data of an ONNX model; drop it together with its .onnx file.`);
  }
}

const baseName = (p: string): string => p.split(/[\\/]/).pop() ?? p;
const isCardFile = (name: string): boolean => /\.json$/i.test(name);

/** A model card and where it came from (a file name, or the model's metadata). */
interface SourcedCard {
  card: WorkbenchCard;
  source: string;
}

/**
 * Loads a model with its card: the dropped `<model>.json`, else a card in the model's
 * metadata_props ('voxelbench.card'). The card's values fill the workbench settings once the
 * model has loaded (a model that fails to load changes nothing).
 */
async function loadModelWithCard(bytes: Uint8Array, name: string, fileCard: SourcedCard | null, from: Pick<LoadModelOptions, 'external' | 'origin'> = {}): Promise<boolean> {
  const { addMessage } = useStore.getState();
  let card = fileCard;
  if (!card) {
    try {
      const c = cardFromMetadata(inspectModel(bytes).metadata, name);
      if (c) card = { card: c, source: `${name} (in its metadata)` };
    } catch (e) {
      addMessage('warning', `Model card ${errorText(e)}; settings unchanged.`);
    }
  }
  if (!card) return loadModelBytes(bytes, name, from);
  const c = card.card;
  const ok = await loadModelBytes(bytes, name, { ...from, relaxDims: c.relaxDims ?? false, labelNames: c.labels ?? null });
  if (!ok) return false;
  applyCard(c);
  checkRelax();
  const what = describeCard(c);
  const other = c.preset && !['workbench', 'segmentation'].includes(c.preset) ? ` The card is for the '${c.preset}' preset: its page runs the whole pipeline.` : '';
  addMessage('info', `Settings from the model card ${card.source}${c.name ? ` (${c.name})` : ''}: ${what || 'no workbench values'}.${other}`, { key: 'card' });
  return true;
}

/**
 * External data above this size stays in its own buffers, handed to onnxruntime as the
 * `externalData` session option (no inlined copy of the weights; the only way past the 2 GB
 * protobuf limit). Below it the weights are inlined, so rewrites and float16 work on one buffer.
 */
export const EXTERNAL_INLINE_LIMIT = 256 * 2 ** 20;

/**
 * The model as one self-contained buffer (weights inlined), for the rewrites and the float16
 * conversion; throws the 2 GB message when that cannot be.
 */
export function selfContained(m: Pick<ModelState, 'bytes' | 'external' | 'fileName'>): Uint8Array {
  const ext = m.external;
  return ext ? inlineExternalData(m.bytes, new Map(ext.map((f) => [f.path, f.data])), { modelName: m.fileName }) : m.bytes;
}

/** A model with external data: its side files are inlined before it goes to the worker, or passed along when large. */
async function openModelWithData(name: string, bytes: Uint8Array, sideFiles: File[], card: SourcedCard | null = null): Promise<void> {
  const files = new Map<string, Uint8Array>();
  let inlined: Uint8Array;
  try {
    for (const f of sideFiles) files.set(f.name, await readFile(f));
    const refs = externalDataRefs(bytes);
    // the model may name its files with a folder ('weights/x.data'): match by base name too
    for (const r of refs) {
      const b = baseName(r.location);
      if (!files.has(r.location) && files.has(b)) files.set(r.location, files.get(b)!);
    }
    const external = externalDataFiles(refs).reduce((a, f) => a + f.bytes, 0);
    if (external > EXTERNAL_INLINE_LIMIT) {
      if (await loadModelWithCard(bytes, name, card, { external: externalDataOption(bytes, files, { modelName: name }) })) {
        useStore.getState().addMessage('info', `${name}: ${formatBytes(external)} of external data handed to onnxruntime as it is (not inlined).`);
      }
      return;
    }
    inlined = refs.length ? inlineExternalData(bytes, files, { modelName: name }) : bytes;
  } catch (e) {
    useStore.getState().addMessage('error', aboutFile(name, e), { key: 'open-model' });
    return;
  }
  await loadModelWithCard(inlined, name, card);
}

async function readFile(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

export async function openVolumeFile(file: File): Promise<void> {
  useStore.setState({ busy: `Reading ${file.name}…` });
  try {
    loadVolumeBytes(await readFile(file), file.name);
  } catch (e) {
    useStore.getState().addMessage('error', aboutFile(file.name, e), { key: 'open-volume' });
  } finally {
    useStore.setState({ busy: null });
  }
}

export async function openModelFile(file: File, card: SourcedCard | null = null): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    useStore.getState().addMessage('error', aboutFile(file.name, e), { key: 'open-model' });
    return;
  }
  await loadModelWithCard(bytes, file.name, card);
}

/** Parses a volume and makes it current (`origin`: a demo's or a link's file); throws (InputError) and leaves the old one on failure. */
export function loadVolumeBytes(bytes: Uint8Array, name: string, origin?: Origin): Volume {
  const volume = readVolume(bytes, name);
  const s = useStore.getState();
  const shape = spatialShape(volume);
  useStore.setState({
    volume: { volume, fileName: name, range: range(volume.data), ...(origin ? { origin } : {}) },
    result: null,
    readout: null,
    runState: s.runState.status === 'running' ? s.runState : initialRunState,
    view: { ...s.view, baseMin: NaN, baseMax: NaN },
  });
  s.clearMessages('validate');
  s.clearMessages('open-volume');
  s.clearMessages('run');
  updateRoiDefaults();
  const ch = volume.shape.length > 3 ? `${volume.shape[0]} channels × ` : '';
  s.addMessage('info', `Opened ${name}: ${ch}${shape.join('×')} (D×H×W), ${volume.data.constructor.name.replace('Array', '').toLowerCase()}.`);
  return volume;
}

/** Loads a model into the worker; on failure the previous model stays. Returns true when loaded. */
export interface LoadModelOptions {
  /** Make fixed spatial dims symbolic on load. */
  relaxDims?: boolean;
  /** Class names for the legend (from a model card). */
  labelNames?: string[] | null;
  /** Keep the current roi (reloads and model cards); else the roi follows the new model. */
  keepRoi?: boolean;
  /** No "Loaded model" message (reloads after a worker restart). */
  quiet?: boolean;
  /** Keep the rewrite check shown (the model is its rewritten version). */
  keepCheck?: boolean;
  /** External data files handed to onnxruntime as they are (not inlined). */
  external?: ExternalDataFile[];
  /** A demo's or a link's model (links name it). */
  origin?: Origin;
}

export async function loadModelBytes(bytes: Uint8Array, name: string, opts: LoadModelOptions = {}): Promise<boolean> {
  const { relaxDims = false, labelNames = null, keepRoi = false, quiet = false, keepCheck = false, external, origin } = opts;
  useStore.setState({ busy: `Loading model ${name}…` });
  const { addMessage } = useStore.getState();
  try {
    // the worker may detach what it is given: keep our own copy for reloads
    const loaded = await getClient().api.loadModel(bytes.slice(), name, relaxDims, external);
    const prev = useStore.getState().model;
    const model: ModelState = { loaded, bytes, fileName: name, ...(external ? { external } : {}), ...(origin ? { origin } : {}) };
    useStore.setState(keepCheck ? { model, labelNames } : { model, labelNames, rewriteCheck: null });
    if (!keepRoi) useStore.getState().setSettings({ roiTouched: false });
    if (prev && prev.loaded.id !== loaded.id) getClient().api.unloadModel(prev.loaded.id).catch(() => undefined);
    for (const key of ['validate', 'open-model', 'run']) useStore.getState().clearMessages(key);
    updateRoiDefaults();
    const spec = inputSpec(loaded.info);
    const io = spec ? ` input [${spec.input.dims.join(', ')}]` : '';
    if (!quiet) addMessage('info', `Loaded model ${name}${relaxDims ? ' with symbolic spatial dims' : ''}:${io}, ${loaded.info.parameters.toLocaleString()} parameters.`);
    checkRelax();
    return true;
  } catch (e) {
    addMessage('error', aboutFile(name, e), { key: 'open-model' });
    return false;
  } finally {
    useStore.setState({ busy: null });
  }
}

/** Loads the current model again with its fixed spatial dims made symbolic. */
export async function relaxModel(): Promise<void> {
  const m = useStore.getState().model;
  if (!m) return;
  const ok = await loadModelBytes(m.bytes, m.fileName, { relaxDims: true, labelNames: useStore.getState().labelNames, keepRoi: true, ...sameFile(m) });
  if (ok) useStore.getState().clearMessages('relax');
}

/** What a reload of the same model file keeps: its external data and where it came from. */
export const sameFile = (m: ModelState): Pick<LoadModelOptions, 'external' | 'origin'> => ({ external: m.external, origin: m.origin });

/** Tolerance of the rewrite check (max abs difference / max |original output|). */
export const REWRITE_TOLERANCE = 1e-4;

/**
 * "Make it run on WebGPU": rewrites the current model (rewriteForWebGpu, in the page), runs the
 * original and the rewritten model on the same seeded random input on WASM in the worker, and
 * loads the rewritten model when they agree within REWRITE_TOLERANCE (relative).
 */
export async function makeWebGpu(): Promise<void> {
  const st = useStore.getState();
  const m = st.model;
  if (!m || st.rewriteCheck?.status === 'checking') return;
  useStore.setState({ rewriteCheck: { status: 'checking' }, busy: `Rewriting ${m.fileName} for WebGPU…` });
  const { addMessage } = st;
  try {
    const full = selfContained(m);
    const rw = rewriteForWebGpu(full);
    if (rw.rewritten === 0) {
      const why = rw.skipped.map((k) => `${k.node} (${k.op}): ${k.reason}`).join('; ');
      throw new Error(`nothing was rewritten${why ? `: ${why}` : ''}`);
    }
    const result = await getClient().api.compareModels(full.slice(), rw.bytes.slice(), { tolerance: REWRITE_TOLERANCE });
    if (useStore.getState().model !== m) return;
    if (!result.ok) {
      useStore.setState({ rewriteCheck: { status: 'refused', result, rewritten: rw.rewritten } });
      addMessage('error', `The rewritten model was not loaded: ${result.reason ?? 'outputs differ'}.`, { key: 'open-model' });
      return;
    }
    useStore.setState({ rewriteCheck: { status: 'ok', result, rewritten: rw.rewritten } });
    const name = m.fileName.replace(/(\.webgpu)?\.onnx$/i, '') + '.webgpu.onnx';
    const ok = await loadModelBytes(rw.bytes, name, { relaxDims: m.loaded.relaxed, labelNames: useStore.getState().labelNames, keepRoi: true, keepCheck: true, quiet: true });
    if (ok) {
      addMessage(
        'info',
        `Rewrote ${rw.rewritten} node${rw.rewritten > 1 ? 's' : ''} for WebGPU; checked on WASM: max abs difference ${result.maxAbsDiff.toExponential(2)}, max rel ${result.maxRelDiff.toExponential(2)} (tolerance ${REWRITE_TOLERANCE.toExponential(0)}).`,
      );
    }
  } catch (e) {
    useStore.setState({ rewriteCheck: { status: 'error', error: errorText(e) } });
    addMessage('error', `Could not make ${m.fileName} run on WebGPU: ${errorText(e)}`, { key: 'open-model' });
  } finally {
    useStore.setState({ busy: null });
  }
}

/** Sets the roi from the model and volume unless the user chose one. */
export function updateRoiDefaults(): void {
  const { model, volume, settings, setSettings } = useStore.getState();
  if (settings.roiTouched) return;
  const spec = model ? inputSpec(model.loaded.info) : null;
  setSettings({ roi: defaultRoi(spec, volume?.volume ?? null) });
}

/** Shows (or clears) the relax prompt for the current model and roi. */
export function checkRelax(): void {
  const { model, settings, addMessage, clearMessages } = useStore.getState();
  const spec = model ? inputSpec(model.loaded.info) : null;
  if (!model || !spec || model.loaded.relaxed || roiMismatch(spec, settings.roi).length === 0) {
    clearMessages('relax');
    return;
  }
  addMessage('warning', relaxPrompt(model.loaded.info, settings.roi), { action: 'relax-dims', key: 'relax' });
}

export function setRoi(roi: Shape3): void {
  useStore.getState().setSettings({ roi, roiTouched: true });
  checkRelax();
}

function slidingParams(): SlidingWindowParams {
  const s = useStore.getState().settings;
  const [o0, o1, o2] = s.overlap;
  return {
    roi: [...s.roi],
    overlap: s.overlapLinked || (o0 === o1 && o1 === o2) ? o0 : [o0, o1, o2],
    mode: s.mode,
    sigmaScale: s.sigmaScale,
    swBatch: Math.max(1, Math.trunc(s.swBatch)),
    cval: s.cval,
  };
}

/** What this browser says about its memory (navigator.deviceMemory, the WebGPU adapter's limits) for the memory guard. */
export function browserMemory(): BrowserMemory {
  const gb = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  const gpu = useStore.getState().runtime?.webgpu;
  return { ...(typeof gb === 'number' ? { deviceMemoryGb: gb } : {}), gpu: gpu?.available ? gpu : null };
}

export async function run(): Promise<void> {
  const st = useStore.getState();
  const { volume, model, settings, addMessage, clearMessages } = st;
  if (st.runState.status === 'running') return;
  clearMessages('validate');
  if (!volume || !model) {
    addMessage('warning', !volume && !model ? 'Open a volume and a model first.' : !volume ? 'Open a volume first.' : 'Open a model first.', {
      key: 'validate',
    });
    return;
  }
  const problems = runProblems(model.loaded.info, model.loaded.relaxed, volume.volume, settings.roi);
  if (problems.length > 0) {
    for (const p of problems) {
      if (p.action === 'relax-dims') addMessage('error', p.text, { action: 'relax-dims', key: 'relax' });
      else addMessage('error', p.text, { key: 'validate' });
    }
    return;
  }
  const s = settings.overlap;
  if (s.some((o) => !(o >= 0 && o < 1))) {
    addMessage('error', `Overlap must be in [0, 1), got ${s.join(', ')}.`, { key: 'validate' });
    return;
  }
  const spec = inputSpec(model.loaded.info)!;
  const vol = volume.volume;
  const [D, H, W] = spatialShape(vol);
  const C = vol.shape.length > 3 ? vol.data.length / (D * H * W) : 1;
  const params = slidingParams();
  let shape = [C, D, H, W];
  if (spec.spatialDims === 2) {
    shape = [C, H, W];
    params.roi = params.roi.slice(1);
    if (Array.isArray(params.overlap)) params.overlap = params.overlap.slice(1);
  }
  const { scale, offset } = intensityTransform(settings.intensity as IntensityScaling, volume.range);
  const req: RunRequest = { modelId: model.loaded.id, data: vol.data, shape, scale, offset, params, backend: settings.backend };
  let total: number;
  try {
    total = planWindows(shape.slice(1), params).starts.length;
  } catch (e) {
    addMessage('error', `Bad sliding-window settings: ${errorText(e)}`, { key: 'validate' });
    return;
  }
  // before anything is allocated: the run's peak against what this browser can give
  const verdict = checkRunMemory(
    { info: model.loaded.info, shape, roi: params.roi.map((r, i) => (r <= 0 ? shape[i + 1] : r)), swBatch: params.swBatch ?? 1, overlap: params.overlap ?? 0.25, inputBytes: 4, backend: settings.backend },
    browserMemory(),
  );
  if (verdict.refusal) {
    addMessage('error', verdict.refusal, { key: 'validate' });
    return;
  }
  const seq = useStore.getState().runSeq + 1;
  const live = () => useStore.getState().runSeq === seq;
  const t0 = performance.now();
  useStore.setState((s) => ({
    runState: { status: 'running', done: 0, total, elapsedMs: 0, etaMs: 0, eta: ETA_START, startedAt: Date.now() },
    runSeq: seq,
    runs: s.runs + 1,
  }));
  const client = getClient();
  // elapsed time and the smoothed ETA, also while the first window runs (no progress comes then)
  const tick = (done?: number, of?: number) => {
    const rs = useStore.getState().runState;
    if (!live() || rs.status !== 'running') return;
    const [d, n] = [done ?? rs.done, of ?? rs.total];
    const elapsedMs = Date.now() - rs.startedAt;
    const eta = nextEta(rs.eta ?? ETA_START, n > 0 ? d / n : 0, elapsedMs);
    useStore.getState().setRunState({ done: d, total: n, elapsedMs, etaMs: eta.etaMs ?? 0, eta });
  };
  const clock = setInterval(() => (live() && useStore.getState().runState.status === 'running' ? tick() : clearInterval(clock)), 500);
  try {
    const result = await client.run(req, throttle((p: SlidingWindowProgress) => tick(p.done, p.total), 50));
    if (!live()) return;
    const wallMs = performance.now() - t0;
    const out = result.shape.length === 3 ? [result.shape[0], 1, result.shape[1], result.shape[2]] : result.shape;
    const channels = out[0];
    const onInput = resampleToGrid(result.data, channels, [out[1], out[2], out[3]], [D, H, W]);
    const cur = useStore.getState();
    if (cur.volume?.volume !== vol) {
      cur.setRunState({ status: 'idle' });
      cur.addMessage('warning', 'The run finished after another volume was opened; its result was dropped.');
      return;
    }
    // first result of this model: labels for multi-class outputs, else a heatmap split at mid-range
    const fresh = !cur.result || cur.result.modelName !== model.fileName || cur.result.channels !== channels;
    const view = { ...cur.view, channel: Math.min(cur.view.channel, channels - 1) };
    if (fresh) {
      view.overlay = channels > 1 ? 'labels' : 'heatmap';
      view.channel = channels > 1 ? 1 : 0;
      const [lo, hi] = channelRange(onInput, channels, view.channel);
      view.threshold = channels === 1 && lo < 0 && hi > 0 ? 0 : lo + (hi - lo) / 2;
    }
    useStore.setState({
      result: {
        run: result,
        wallMs,
        inputName: volume.fileName,
        modelName: model.fileName,
        input: vol,
        modelLoadMs: model.loaded.loadMs,
        relaxed: model.loaded.relaxed,
        onInput,
        channels,
        derived: newResultCache(),
      },
      runState: { ...cur.runState, status: 'done', done: result.stats.windows, total: result.stats.windows, etaMs: 0, elapsedMs: wallMs },
      view,
    });
    const zoom = result.stats.zoom.some((z) => z !== 1) ? ` (output zoom ${result.stats.zoom.join('×')}, resampled onto the input grid for display)` : '';
    cur.addMessage('info', `Run finished on ${result.backend}: ${result.stats.windows} windows in ${(wallMs / 1000).toFixed(2)} s${zoom}.`);
  } catch (e) {
    if (!live()) return;
    const cur = useStore.getState();
    if (client.fault || isWorkerFault(e)) {
      // the worker died under the run (recoverWorkbench starts a fresh one and says so)
      const fault = client.fault ? new WorkerFaultError(client.fault) : (e as Error);
      cur.setRunState({ status: 'error', error: `interrupted: ${fault.message}`, etaMs: 0, cancelRequested: false });
    } else if ((e as Error)?.name === 'AbortError' || /cancel/i.test(errorText(e))) {
      cur.setRunState({ status: 'cancelled', etaMs: 0, cancelRequested: false });
      cur.addMessage('info', `Run cancelled after ${cur.runState.done} of ${cur.runState.total || '?'} windows.`);
    } else {
      const text = errorText(e);
      cur.setRunState({ status: 'error', error: text, etaMs: 0 });
      cur.addMessage('error', `Run failed: ${text}`, { key: 'run' });
    }
  } finally {
    clearInterval(clock);
  }
}

/**
 * Asks the worker to stop at the next window batch. A worker busy in a loop that never yields
 * (WASM runs can) does not see the request: after the kit's HARD_STOP_MS (the one grace time of
 * every page) it is terminated and the model loaded again.
 */
export function cancel(): void {
  const { runState, setRunState, runSeq: seq } = useStore.getState();
  if (runState.status !== 'running') return;
  setRunState({ cancelRequested: true });
  getClient().cancel();
  setTimeout(() => {
    const st = useStore.getState();
    if (st.runSeq === seq && st.runState.status === 'running') void hardStop();
  }, HARD_STOP_MS);
}

async function hardStop(): Promise<void> {
  useStore.setState((s) => ({ runSeq: s.runSeq + 1 })); // whatever the old run still reports is ignored
  dropWorker(useStore);
  const st = useStore.getState();
  st.setRunState({ status: 'cancelled', etaMs: 0, cancelRequested: false });
  st.addMessage(
    'info',
    `Run stopped after ${st.runState.done} of ${st.runState.total || '?'} windows (the worker did not answer the cancel request, so it was restarted).`,
  );
  const m = st.model;
  if (m) {
    await loadModelBytes(m.bytes, m.fileName, { relaxDims: m.loaded.relaxed, labelNames: st.labelNames, keepRoi: true, quiet: true, ...sameFile(m) });
  }
}

/**
 * After the workbench's worker died (src/worker/client.ts): a fresh worker gets the model again,
 * the volume and the last result stay, and the notice offers to re-run what was interrupted.
 */
export function recoverWorkbench(f: WorkerFault): void {
  const st = useStore.getState();
  const running = st.runState.status === 'running';
  useStore.setState({ worker: null });
  const m = st.model;
  const reloaded = m
    ? loadModelBytes(m.bytes, m.fileName, { relaxDims: m.loaded.relaxed, labelNames: st.labelNames, keepRoi: true, quiet: true, keepCheck: true, ...sameFile(m) })
    : Promise.resolve(true);
  st.addMessage('warning', faultNotice(f.reason, running ? 'the run' : null), {
    key: FAULT_KEY,
    ...(running ? { button: { label: 'Re-run', testId: 'rerun', onClick: () => void reloaded.then((ok) => (ok ? run() : undefined)) } } : {}),
  });
}

/** A demo's model card (public/demo/<name>/card.json). */
export interface ModelCard {
  roi?: number[];
  overlap?: number | number[];
  mode?: 'constant' | 'gaussian';
  sigmaScale?: number;
  swBatch?: number;
  cval?: number;
  intensity?: IntensityScaling;
  labels?: string[];
  relaxDims?: boolean;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

export function applyCard(card: ModelCard): void {
  const { settings, setSettings } = useStore.getState();
  const ov = card.overlap;
  const overlap: Shape3 =
    ov === undefined ? settings.overlap : Array.isArray(ov) ? [ov[0], ov[1] ?? ov[0], ov[2] ?? ov[0]] : [ov, ov, ov];
  setSettings({
    roi: card.roi && card.roi.length === 3 ? [card.roi[0], card.roi[1], card.roi[2]] : settings.roi,
    roiTouched: !!card.roi || settings.roiTouched,
    overlap,
    overlapLinked: overlap[0] === overlap[1] && overlap[1] === overlap[2],
    mode: card.mode ?? settings.mode,
    sigmaScale: card.sigmaScale ?? settings.sigmaScale,
    swBatch: card.swBatch ?? settings.swBatch,
    cval: card.cval ?? settings.cval,
    intensity: card.intensity ?? settings.intensity,
  });
}

/** Fetches the MeshNet demo (model, T1 volume, card), applies the card and runs it; `origin`: what links call its files. */
export async function loadDemo(opts: { run?: boolean; origin?: Origin } = {}): Promise<void> {
  const base = 'demo/meshnet/';
  const { addMessage } = useStore.getState();
  useStore.setState({ busy: 'Downloading the demo…' });
  let card: ModelCard;
  let modelBytes: Uint8Array;
  let volBytes: Uint8Array;
  try {
    const cardRes = await fetch(`${base}card.json`);
    if (!cardRes.ok) throw new Error(`${base}card.json: HTTP ${cardRes.status}`);
    card = (await cardRes.json()) as ModelCard;
    [modelBytes, volBytes] = await Promise.all([fetchBytes(`${base}model.onnx`), fetchBytes(`${base}t1.nii.gz`)]);
  } catch (e) {
    useStore.setState({ busy: null });
    addMessage('error', `Could not download the demo: ${errorText(e)}`);
    return;
  }
  try {
    loadVolumeBytes(volBytes, 't1.nii.gz', opts.origin);
  } catch (e) {
    useStore.setState({ busy: null });
    addMessage('error', aboutFile('t1.nii.gz', e));
    return;
  }
  applyCard(card);
  const ok = await loadModelBytes(modelBytes, 'meshnet.onnx', { relaxDims: card.relaxDims ?? false, labelNames: card.labels ?? null, keepRoi: true, origin: opts.origin });
  if (!ok) return;
  useStore.setState((s) => ({ view: { ...s.view, overlay: 'labels', opacity: initialView.opacity } }));
  checkRelax();
  if (opts.run !== false) await run();
}
