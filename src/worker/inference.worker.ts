/**
 * The inference worker: owns onnxruntime-web sessions, picks the execution provider
 * (WebGPU first, WASM as fallback, with the reason), runs the sliding window with the
 * model as predictor, streams progress and honours cancellation. The preset pages read their
 * inputs here (readInputs: decoding never runs on the page's thread) and run their items through
 * the preset's own `run` (runPreset), both generic over the presets of src/core/presets.
 *
 * A WebGPU failure (session creation or run) can leave onnxruntime-web's WebGPU backend unusable
 * for every later session in this JS context (a kernel whose attribute parser throws leaves its
 * "current kernel" set: 'not allowed to be called recursively'); releasing the session does not
 * reset it, a fresh worker does. So after one, the failed session is released and a one-Add model
 * is run on WebGPU: when that fails too, `webgpuHealth()` tells the page, which replaces the worker
 * and loads its models again before its next run that may use WebGPU (src/ui/kit/runner.ts).
 * (A failure inside a kernel's run, such as 3D ConvTranspose, leaves nothing behind: no restart.) An onnxruntime error names the model, the input and what was fed
 * (src/core/ortPredictor.ts).
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
// WASM sessions run on onnxruntime-web's WASM-only build: the default build's WebAssembly carries
// the WebGPU (JSEP) glue, and its CPU kernels measured about twice as slow in Chromium (motors
// model, one 64 x 128 x 128 window: README, Benchmark). Each build has its own WASM instance.
import * as ortWasm from 'onnxruntime-web/wasm';
import { checkRewrite, type ModelRunner } from '../core/onnx/check';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims } from '../core/onnx/model';
import { DT, GRAPH, makeModel, makeNode, makeValueInfo } from '../core/onnx/graph';
import { sessionOutputsPredictor, type OutputsPredictor } from '../core/ortPredictor';
import { itemFacts } from '../core/preset/index';
import type { ModelHandle } from '../core/preset/types';
import { presetDef } from '../core/presets/index';
import type { MotorDetection } from '../core/motors/pipeline';
import { AbortError, slidingWindowInference, type Predictor } from '../core/slidingWindow';
import { decodeImageInWorker } from './decodeImage';
import { autoAvoidsGpu, autoOnSoftwareReason, chooseBackend, softwareAdapter, type AdapterFacts } from './backendChoice';
import { FAULT_MESSAGE, type Backend, type BackendChoice, type ExternalDataFile, type LoadedModel, type ProgressCallback, type RunRequest, type RunResult, type RuntimeInfo, type WorkerApi, type WorkerOptions } from './protocol';
import { sliceDecoding } from './decodePool';
import { workerInputFiles } from './onDemandFiles';
import { releaseGpuModel } from './gpu';
import { gpuPresetRun, tryGpuRun, withGpuNote } from './gpu/worker';

interface ModelEntry {
  loaded: LoadedModel;
  bytes: Uint8Array;
  sessions: Partial<Record<Backend, ort.InferenceSession>>;
  sessionMs: Partial<Record<Backend, number>>;
  /** Side files of a model whose weights stay external (passed to every session). */
  externalData?: ExternalDataFile[];
}

/** Everything the worker holds, in one object made at start-up (a hard stop throws the worker away with it). */
interface WorkerState {
  models: Map<string, ModelEntry>;
  /** The run in progress (one at a time; cancel() aborts it). */
  current: AbortController | null;
  /** Reads in progress by id (cancelRead aborts one). */
  reads: Map<string, AbortController>;
  nextId: number;
  gpuProbe: Promise<RuntimeInfo['webgpu']> | null;
  /** Auto takes a software adapter like a hardware one (configure's test option). */
  autoUsesSoftware: boolean;
  /** What failed on WebGPU in this worker (its WebGPU backend may be unusable from then on), or null. */
  gpuFailure: string | null;
  /** onnxruntime-web's WebGPU device once its `lost` promise is watched (a lost device is reported to the page). */
  gpuDevice: GPUDevice | null;
}

function createWorkerState(): WorkerState {
  return { models: new Map(), current: null, reads: new Map(), nextId: 1, gpuProbe: null, autoUsesSoftware: false, gpuFailure: null, gpuDevice: null };
}

const state = createWorkerState();

const threads = (): number => (self.crossOriginIsolated ? Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)) : 1);

function configureOrt(ortBaseUrl: string): void {
  for (const o of [ort, ortWasm] as const) {
    o.env.wasm.wasmPaths = ortBaseUrl;
    o.env.wasm.numThreads = threads();
    o.env.logLevel = 'error';
  }
}

/** The build a session on `backend` is made with: WebGPU on the default (JSEP) build, WASM on the WASM-only one. */
const ortFor = (backend: Backend): typeof ort => (backend === 'wasm' ? (ortWasm as unknown as typeof ort) : ort);

const adapterFacts = (a: GPUAdapter): AdapterFacts => {
  const info = a.info as Partial<GPUAdapterInfo> | undefined;
  // isFallbackAdapter: on the info (current) or on the adapter (older Chromium)
  const fallback = info?.isFallbackAdapter ?? (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return { vendor: info?.vendor, architecture: info?.architecture, device: info?.device, description: info?.description, isFallbackAdapter: fallback };
};

/**
 * The WebGPU adapter, once per worker: its name and limits, and whether it is a software one
 * (src/worker/backendChoice.ts: the adapter's own flag and words, or the same adapter as the forced
 * fallback one), which "auto" avoids.
 */
function probeWebGpu(): Promise<RuntimeInfo['webgpu']> {
  state.gpuProbe ??= (async () => {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return { available: false, reason: 'this browser exposes no navigator.gpu (WebGPU disabled or unsupported)' };
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return { available: false, reason: 'no WebGPU adapter was found' };
      const facts = adapterFacts(adapter);
      const name = [facts.vendor, facts.architecture, facts.description].filter(Boolean).join(' ') || 'unknown adapter';
      let fallback: AdapterFacts | null = null;
      try {
        const fb = await gpu.requestAdapter({ forceFallbackAdapter: true });
        fallback = fb ? adapterFacts(fb) : null;
      } catch {
        // no fallback adapter to compare with
      }
      const software = softwareAdapter(facts, fallback);
      return {
        available: true,
        adapter: name,
        ...(software ? { software } : {}),
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        shaderF16: adapter.features.has('shader-f16'),
      };
    } catch (e) {
      return { available: false, reason: `requestAdapter failed: ${(e as Error).message}` };
    }
  })();
  return state.gpuProbe;
}

/** What the GPU-resident path may use: no adapter when auto avoids a software one. */
async function gpuFor(choice: BackendChoice): Promise<RuntimeInfo['webgpu']> {
  const gpu = await probeWebGpu();
  return autoAvoidsGpu(choice, gpu, state.autoUsesSoftware) ? { ...gpu, available: false, reason: autoOnSoftwareReason(gpu) } : gpu;
}

async function session(entry: ModelEntry, backend: Backend): Promise<ort.InferenceSession> {
  const have = entry.sessions[backend];
  if (have) return have;
  const t0 = performance.now();
  const s = await ortFor(backend).InferenceSession.create(entry.bytes, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only: ORT's node-placement warnings reached the console as coloured console.error lines
    ...(entry.externalData ? { externalData: entry.externalData } : {}),
  });
  entry.sessionMs[backend] = performance.now() - t0;
  entry.sessions[backend] = s;
  if (backend === 'webgpu') await watchGpuDevice().catch(() => null);
  return s;
}

/**
 * Tells the page that this worker cannot go on (outside comlink: the page's client terminates it,
 * rejects its pending calls and starts a fresh one).
 */
function reportFault(reason: string): void {
  self.postMessage({ [FAULT_MESSAGE]: reason });
}

/**
 * Watches onnxruntime-web's WebGPU device once a WebGPU session made it (reading
 * `ort.env.webgpu.device` earlier would create one): a lost device (driver reset, destroy())
 * leaves the backend unusable in this worker, so the page is told and replaces the worker.
 */
async function watchGpuDevice(): Promise<GPUDevice | null> {
  if (state.gpuDevice) return state.gpuDevice;
  const dev = (await (ort.env.webgpu.device as unknown as GPUDevice | Promise<GPUDevice> | undefined)) ?? null;
  if (!dev || state.gpuDevice === dev) return dev;
  state.gpuDevice = dev;
  void dev.lost.then((info) => reportFault(`its WebGPU device was lost: ${info.reason}${info.message ? `, ${info.message}` : ''}`));
  return dev;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why WebGPU no longer runs a one-Add model in this worker, or null when it does. */
async function webgpuProbe(): Promise<string | null> {
  const v = (name: string, no: number) => makeValueInfo(no, name, DT.FLOAT, [1, 4]);
  const bytes = makeModel({ nodes: [makeNode('Add', ['a', 'b'], ['y'], 'webgpu_probe')], inputs: [v('a', GRAPH.input), v('b', GRAPH.input)], outputs: [v('y', GRAPH.output)] });
  let s: ort.InferenceSession | null = null;
  try {
    s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
    const t = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
    const y = (await s.run({ a: t, b: t })).y.data as Float32Array;
    return y[3] === 8 ? null : `a one-Add model gives ${Array.from(y).join(', ')}`;
  } catch (e) {
    return message(e).split('\n')[0];
  } finally {
    await s?.release().catch(() => undefined);
  }
}

/**
 * After a WebGPU failure: the model's WebGPU session is released, and when a one-Add model no
 * longer runs on WebGPU either, the worker remembers why (webgpuHealth): the page replaces it.
 */
async function webgpuFailed(entry: ModelEntry, e: unknown): Promise<void> {
  const s = entry.sessions.webgpu;
  delete entry.sessions.webgpu;
  delete entry.sessionMs.webgpu;
  await s?.release().catch(() => undefined);
  if (state.gpuFailure) return;
  const broken = await webgpuProbe();
  if (broken) state.gpuFailure = `${entry.loaded.name}: ${message(e).split('\n')[0]}; since then: ${broken}`;
}

/** A float32 tensor of the build that runs `backend`'s sessions (ortFor). */
const tensorFor = (backend: Backend) => (data: Float32Array, dims: readonly number[]) => new (ortFor(backend).Tensor)('float32', data, dims);

function abortError(): Error {
  const e = new Error('run cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Runs `fn` as the one run in progress (aborting any other): a cancel() aborts its signal, and
 * it then rejects with an error named AbortError, which comlink passes to the page.
 */
async function exclusiveRun<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  state.current?.abort();
  const ac = new AbortController();
  state.current = ac;
  try {
    return await fn(ac.signal);
  } catch (e) {
    if (e instanceof AbortError || ac.signal.aborted) throw abortError();
    throw e instanceof Error ? e : new Error(String(e));
  } finally {
    if (state.current === ac) state.current = null;
  }
}

interface ModelPredictor {
  /** The model's first output for a batch (sliding-window predictor). */
  predictor: Predictor;
  /** All outputs for a batch, by name (classifiers with logits and class maps). */
  outputs: OutputsPredictor;
  /** The backend that ran the last batch. */
  backend(): Backend;
  /** Why that backend (adapter name, or why WebGPU was left). */
  reason(): string;
}

/**
 * A predictor over one model on the backend chooseBackend picks (auto: WebGPU on a hardware
 * adapter, WASM on a software one), falling back to WASM when the WebGPU session cannot be
 * created or fails at run time (unless the user insisted on WebGPU).
 */
async function modelPredictor(entry: ModelEntry, choice: BackendChoice, signal: AbortSignal): Promise<ModelPredictor> {
  const f16 = (entry.loaded.info.initializers ?? []).some((t) => t.dataType === 10);
  let { backend, reason } = chooseBackend(choice, await probeWebGpu(), f16, state.autoUsesSoftware);
  let s: ort.InferenceSession;
  try {
    s = await session(entry, backend);
  } catch (e) {
    if (backend === 'webgpu') await webgpuFailed(entry, e);
    if (backend !== 'webgpu' || choice === 'webgpu') throw e;
    backend = 'wasm';
    reason = `WebGPU session creation failed (${message(e)}); using WASM`;
    s = await session(entry, backend);
  }
  const input = entry.loaded.info.inputs[0].name;
  const output = entry.loaded.info.outputs[0].name;
  const opts = { model: entry.loaded.name, dims: entry.loaded.info.inputs[0].dims };
  const runOn = (sess: ort.InferenceSession, batch: Float32Array, shape: number[]) => sessionOutputsPredictor(sess, tensorFor(backend), input, opts)(batch, shape);
  const outputs: OutputsPredictor = async (batch, shape) => {
    // WASM runs keep the worker busy between awaits that are only microtasks: give the
    // event loop a turn so that a cancel() message is seen before the next batch.
    await new Promise((r) => setTimeout(r, 0));
    if (signal.aborted) throw new AbortError();
    try {
      return await runOn(s, batch, shape);
    } catch (e) {
      if (backend === 'webgpu') await webgpuFailed(entry, e);
      if (backend !== 'webgpu' || choice === 'webgpu') throw e;
      // WebGPU can fail at run time (e.g. 3D ConvTranspose); finish the run on WASM.
      backend = 'wasm';
      reason = `WebGPU failed at run time (${message(e)}); using WASM`;
      s = await session(entry, 'wasm');
      return runOn(s, batch, shape);
    }
  };
  const predictor: Predictor = async (batch, shape) => {
    const out = await outputs(batch, shape);
    const o = out[output] ?? Object.values(out)[0];
    if (!o) throw new Error(`${entry.loaded.name}: the model returned no output`);
    return o;
  };
  return { predictor, outputs, backend: () => backend, reason: () => reason };
}

/** The loaded models a preset run names (at least one), or a message saying what to do. */
function loadedEntries(ids: string[], none = 'add at least one model', allowNone = false): ModelEntry[] {
  const entries = ids.map((id) => {
    const e = state.models.get(id);
    if (!e) throw new Error('a model of this run is no longer loaded (load it again)');
    return e;
  });
  if (entries.length === 0 && !allowNone) throw new Error(none);
  return entries;
}

/** Buffers to transfer, each once (a buffer listed twice cannot be transferred). */
function transferList(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

/** The backend of the last model run (all the same unless one fell back), and the fallback's reason if any did. */
function backendSummary(preds: ModelPredictor[]): { backend: Backend; backendReason: string } {
  const last = preds[preds.length - 1];
  const fell = preds.find((p) => p.backend() === 'wasm' && /WebGPU/.test(p.reason()));
  return { backend: last.backend(), backendReason: (fell ?? last).reason() };
}

const api: WorkerApi & { configure(ortBaseUrl: string, opts?: WorkerOptions): Promise<void> } = {
  async configure(ortBaseUrl, opts = {}) {
    configureOrt(ortBaseUrl);
    state.autoUsesSoftware = opts.autoUsesSoftwareAdapter === true;
    const lockName = opts.lockName;
    // held for the worker's life: the page's request for it is granted when this worker dies
    if (lockName && navigator.locks) await new Promise<void>((held) => void navigator.locks.request(lockName, () => (held(), new Promise<never>(() => undefined))));
  },

  ping() {
    return 'pong';
  },

  async crash(how) {
    if (how === 'device') {
      const dev = state.gpuDevice;
      if (!dev) throw new Error('no WebGPU device in this worker (run on WebGPU first)');
      dev.destroy();
      return;
    }
    // as a crash would, outside any call: an uncaught error at once, a close once this call has answered
    if (how === 'close') setTimeout(() => self.close(), 0);
    else
      queueMicrotask(() => {
        throw new Error('test crash: an uncaught error at the worker top level');
      });
  },

  async runtime() {
    return {
      crossOriginIsolated: self.crossOriginIsolated,
      threads: threads(),
      hardwareConcurrency: navigator.hardwareConcurrency || 1,
      webgpu: await probeWebGpu(),
      ortVersion: ort.env.versions.web ?? 'unknown',
    };
  },

  async loadModel(bytes, name, relaxDims = false, externalData) {
    const t0 = performance.now();
    const info0 = inspectModel(bytes);
    const relaxed = relaxDims && info0.inputs.some(hasFixedSpatialDims);
    const finalBytes = relaxed ? relaxSpatialDims(bytes) : bytes.slice();
    const info = relaxed ? inspectModel(finalBytes) : info0;
    if (info.inputs.length !== 1) {
      throw new Error(`${name}: the model has ${info.inputs.length} inputs; the workbench feeds one image tensor`);
    }
    const entry: ModelEntry = {
      loaded: { id: `m${state.nextId++}`, name, info, relaxed, loadMs: 0 },
      bytes: finalBytes,
      sessions: {},
      sessionMs: {},
      ...(externalData?.length ? { externalData } : {}),
    };
    // Create the WASM session now so that a model ORT cannot load fails here, not at run time.
    try {
      await session(entry, 'wasm');
    } catch (e) {
      throw new Error(`${name}: onnxruntime could not load this model: ${message(e)}`, { cause: e });
    }
    entry.loaded.loadMs = performance.now() - t0;
    state.models.set(entry.loaded.id, entry);
    return entry.loaded;
  },

  async loadModelUrl(url, relaxDims = false) {
    const name = decodeURIComponent(new URL(url, self.location.href).pathname.split('/').pop() || url);
    let r: Response;
    try {
      r = await fetch(url);
    } catch (e) {
      throw new Error(`${name}: could not fetch ${url}: ${message(e)}`, { cause: e });
    }
    if (!r.ok) throw new Error(`${name}: could not fetch ${url}: HTTP ${r.status}`);
    return api.loadModel(new Uint8Array(await r.arrayBuffer()), name, relaxDims);
  },

  webgpuHealth() {
    return { failed: state.gpuFailure };
  },

  async unloadModel(id) {
    const e = state.models.get(id);
    if (!e) return;
    state.models.delete(id);
    for (const s of Object.values(e.sessions)) await s?.release();
    await releaseGpuModel(e.bytes);
  },

  cancel() {
    state.current?.abort();
  },

  async readInputs(presetId, source, files, params, onProgress, readId, modelOnly) {
    const preset = presetDef(presetId);
    const ac = new AbortController();
    if (readId) state.reads.set(readId, ac);
    // image slices (motors): a folder of many on the page decode pool (nested workers, libjpeg-turbo
    // as the CLI), else (or when no decode worker starts) the browser's decoder, here in the worker
    const pool = source.kind === 'slices' ? await sliceDecoding(files.length, ac.signal, (why) => console.warn(`decoding ${source.id} in the inference worker: the decode pool did not start (${why})`)) : null;
    try {
      const res = await preset.inputs.read(source, workerInputFiles(files), params, {
        signal: ac.signal,
        onProgress: onProgress ? (p) => void onProgress(p) : undefined,
        modelOnly: modelOnly === true,
        ...(pool?.opts ?? { decodeImage: decodeImageInWorker }),
      } as Parameters<typeof preset.inputs.read>[3]);
      // what each item says of itself (checked on the page against the cards' `expects`), computed here off the page's thread
      const facts = res.items.map((i) => itemFacts(preset, i, params));
      return Comlink.transfer({ ...res, facts }, transferList(res.items.flatMap((i) => preset.transferables?.(i) ?? [])));
    } catch (e) {
      if (e instanceof AbortError || ac.signal.aborted) throw abortError();
      throw e instanceof Error ? e : new Error(String(e));
    } finally {
      pool?.close();
      if (readId && state.reads.get(readId) === ac) state.reads.delete(readId);
    }
  },

  cancelRead(readId) {
    state.reads.get(readId)?.abort();
  },

  async runPreset(presetId, req, onProgress) {
    const preset = presetDef(presetId);
    const roles = Object.fromEntries(preset.models.map((r) => [r.role, loadedEntries(req.models[r.role] ?? [], '', true)]));
    return exclusiveRun(async (signal) => {
      const preds: ModelPredictor[] = [];
      const handles: Record<string, ModelHandle[]> = {};
      for (const [role, entries] of Object.entries(roles)) {
        handles[role] = [];
        for (const e of entries) {
          const p = await modelPredictor(e, req.backend, signal);
          preds.push(p);
          handles[role].push({ name: e.loaded.name, info: e.loaded.info, predictor: p.predictor, outputs: p.outputs });
        }
      }
      if (preds.length === 0) throw new Error('add at least one model');
      const progress = onProgress ? (p: Parameters<typeof onProgress>[0]) => void onProgress(p) : undefined;
      // the preset's GPU-resident path, where it has one (WebGPU only; it says why when it is not used)
      const gpu = await gpuPresetRun(ort, presetId, roles, req, await gpuFor(req.backend), signal, progress);
      // a lent item goes back with the result, its buffers transferred again (one copy of it at any time)
      const back = req.lend ? { item: req.item } : {};
      const backBuffers = req.lend ? (preset.transferables?.(req.item) ?? []) : [];
      if ('result' in gpu) {
        await watchGpuDevice().catch(() => null);
        return Comlink.transfer({ ...gpu.result, ...back }, transferList([...(preset.transferables?.(gpu.result.result) ?? []), ...backBuffers]));
      }
      const result = await preset.run(req.item, handles, req.params, { signal, onProgress: progress });
      const summary = backendSummary(preds);
      return Comlink.transfer({ result, ...summary, backendReason: withGpuNote(summary.backendReason, gpu.note), ...back }, transferList([...(preset.transferables?.(result) ?? []), ...backBuffers]));
    });
  },

  async compareModels(original, rewritten, opts) {
    return exclusiveRun(async () => {
      const runner: ModelRunner = async (bytes, feeds) => {
        const s = await ortWasm.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        try {
          const inputs: Record<string, ortWasm.Tensor> = {};
          for (const [name, f] of Object.entries(feeds)) inputs[name] = new ortWasm.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
          const out = await s.run(inputs);
          return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
        } finally {
          await s.release();
        }
      };
      return checkRewrite(original, rewritten, runner, opts);
    });
  },

  async runMotors(req, onProgress) {
    const r = await api.runPreset('motors', { item: req.tomogram, models: { model: req.modelIds }, params: req.params, backend: req.backend, gpuResident: req.gpuResident }, onProgress as never);
    const det = r.result as MotorDetection;
    return Comlink.transfer({ ...det, backend: r.backend, backendReason: r.backendReason }, [det.heatmap.buffer as ArrayBuffer]);
  },

  async run(req: RunRequest, onProgress?: ProgressCallback): Promise<RunResult> {
    const entry = state.models.get(req.modelId);
    if (!entry) throw new Error('no such model loaded (load it again)');
    return exclusiveRun(async (signal) => {
      const gpu = await tryGpuRun(ort, entry, req, await gpuFor(req.backend), signal, onProgress ? (p) => void onProgress(p) : undefined);
      if ('result' in gpu) {
        await watchGpuDevice().catch(() => null);
        return Comlink.transfer(gpu.result, [gpu.result.data.buffer]);
      }
      const model = await modelPredictor(entry, req.backend, signal);
      const predictor = model.predictor;
      // [D, H, W] or [H, W] without a channel axis -> [1, ...]
      const shape = req.shape.length === req.params.roi.length ? [1, ...req.shape] : req.shape;
      const result = await slidingWindowInference(
        { data: req.data, shape, scale: req.scale, offset: req.offset },
        predictor,
        req.params,
        { signal, onProgress: onProgress ? (p) => void onProgress(p) : undefined },
      );
      return Comlink.transfer(
        {
          data: result.data,
          shape: result.shape,
          backend: model.backend(),
          backendReason: withGpuNote(model.reason(), gpu.note),
          stats: result.stats,
          sessionMs: entry.sessionMs[model.backend()] ?? 0,
          perWindowMs: result.stats.totalMs / result.stats.windows,
        },
        [result.data.buffer],
      );
    });
  },
};

Comlink.expose(api);
