/**
 * Voxelbench command line: the same core as the page, with onnxruntime-node.
 *   npm run --silent cli -- infer --model M.onnx --input X.npy --out Y.npy [options]
 *   npm run --silent cli -- inspect M.onnx [--json]
 *   npm run --silent cli -- convert M.onnx --webgpu --out M2.onnx [--float16] [--relax-dims] [--tolerance t]
 *   npm run --silent cli -- motors --models m1.onnx,m2.onnx --tomograms DIR --out submission.csv [options]
 *   npm run --silent cli -- spectrogram --models m1.onnx[,m2.onnx] --inputs DIR --out submission.csv [--votes votes.csv] [--window start]
 *   npm run --silent cli -- protein --models m1.onnx[,m2.onnx] --inputs DIR [--cells DIR] --out cells.csv [--labels cell_labels.csv]
 *   npm run --silent cli -- spine --seg s1.onnx[,s2.onnx] [--cls c1.onnx,...] --studies DIR --out DIR [--labels labels.csv]
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from '../core/onnx/model';
import { sessionPredictor } from '../core/ortPredictor';
import { slidingWindowInference, type BlendMode, type SlidingWindowParams } from '../core/slidingWindow';
import { readNpy, writeNpy } from '../core/io/npy';
import { readVolume } from '../core/io';
import { MOTORS_TTA, motorsParamsFromCard, motorsPreset, validateMotorsParams, type MotorsParams, type MotorsTta } from '../core/presets/motors';
import { decodeGrayImage, readTiffStack } from '../core/motors/decode';
import { detectMotors, type MotorDetection } from '../core/motors/pipeline';
import { isSliceName, stackSliceFiles, tomogramFromVolume, tomogramId, type Tomogram } from '../core/motors/tomogram';
import { parseLabelsCsv, submissionCsv, thresholdDetections } from '../core/motors/postprocess';
import { motorMetric } from '../core/motors/metric';
import { checkConversion, checkSize, convertModel, inspectReport, reportJson, reportText } from '../core/onnx/convert';
import type { ModelRunner } from '../core/onnx/check';
import { CARD_METADATA_KEY, parseCardText, withCardMetadata } from '../core/onnx/card';
import { spectrogram, SPECTROGRAM_USAGE } from './spectrogram';
import { protein, PROTEIN_USAGE } from './protein';
import { spine, SPINE_USAGE } from './spine';

export class UsageError extends Error {}

const USAGE = `usage:
  voxelbench infer --model M.onnx --input X.npy --out Y.npy [--roi D,H,W] [--overlap a | a,b,c]
                   [--mode constant|gaussian] [--sigma-scale s | s,s,s] [--sw-batch n] [--cval v]
                   [--weight-map W.npy] [--relax-dims] [--quiet]
  voxelbench inspect M.onnx [--json]
  voxelbench convert M.onnx --out M2.onnx [--webgpu] [--float16] [--relax-dims] [--tolerance t]
                     [--check-size n] [--seed s] [--card card.json (stored in metadata_props)]
                     [--force (write it even when it will still fail on WebGPU)]
  voxelbench motors --models m1.onnx[,m2.onnx...] --tomograms DIR --out submission.csv
                    [--quantile q | none] [--labels labels.csv] [--input-size D,H,W] [--roi D,H,W]
                    [--overlap a,b,c] [--sw-batch n] [--tta identity,flipD,flipH] [--max-peaks k]
                    [--min-peak-distance d] [--card model.json] [--quiet]
${SPECTROGRAM_USAGE}
${PROTEIN_USAGE}
${SPINE_USAGE}`;

function numbers(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new UsageError(`--${what} expects numbers separated by commas, got '${s}'`);
  return v;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Checks that a model's single image input fits a [C, ...spatial] volume. */
export function checkModelFits(info: ModelInfo, shape: number[], roi: number[]): void {
  if (info.inputs.length !== 1) throw new UsageError(`the model has ${info.inputs.length} inputs; one image input is needed`);
  const dims = info.inputs[0].dims;
  const nd = shape.length - 1;
  if (dims.length !== nd + 2) {
    throw new UsageError(`the model's input '${info.inputs[0].name}' has rank ${dims.length} [${dims.join(', ')}]; a ${nd}D volume needs rank ${nd + 2} (N, C, ${['D', 'H', 'W'].slice(3 - nd).join(', ')})`);
  }
  if (typeof dims[1] === 'number' && dims[1] > 0 && dims[1] !== shape[0]) {
    throw new UsageError(`the model expects ${dims[1]} input channel(s) but the volume has ${shape[0]}`);
  }
  dims.slice(2).forEach((d, i) => {
    const r = roi[i] <= 0 ? shape[i + 1] : roi[i];
    if (typeof d === 'number' && d > 0 && d !== r) {
      throw new UsageError(`the model declares a fixed input size ${dims.slice(2).join('x')} but the roi is ${roi.map((x, k) => (x <= 0 ? shape[k + 1] : x)).join('x')}; pass --roi ${dims.slice(2).join(',')} or --relax-dims to make the spatial dims symbolic`);
    }
  });
}

async function infer(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      input: { type: 'string' },
      out: { type: 'string' },
      roi: { type: 'string' },
      overlap: { type: 'string', default: '0.25' },
      mode: { type: 'string', default: 'constant' },
      'sigma-scale': { type: 'string', default: '0.125' },
      'sw-batch': { type: 'string', default: '1' },
      cval: { type: 'string', default: '0' },
      'weight-map': { type: 'string' },
      'relax-dims': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.model || !values.input || !values.out) throw new UsageError('infer needs --model, --input and --out');
  const mode = values.mode as BlendMode;
  if (mode !== 'constant' && mode !== 'gaussian') throw new UsageError(`--mode must be constant or gaussian, got '${values.mode}'`);

  const inBytes = readFile(values.input, 'input');
  let data;
  let shape: number[];
  if (values.input.toLowerCase().endsWith('.npy')) {
    const a = readNpy(inBytes, basename(values.input));
    if (a.shape.length !== 3 && a.shape.length !== 4) {
      throw new UsageError(`input must be (C, D, H, W) or (D, H, W); got shape (${a.shape.join(', ')})`);
    }
    data = a.data;
    shape = a.shape.length === 3 ? [1, ...a.shape] : a.shape;
  } else {
    const v = readVolume(inBytes, basename(values.input));
    data = v.data;
    shape = v.shape.length === 3 ? [1, ...v.shape] : v.shape;
  }

  let modelBytes = readFile(values.model, 'model');
  let info = inspectModel(modelBytes);
  if (values['relax-dims'] && info.inputs.some(hasFixedSpatialDims)) {
    modelBytes = relaxSpatialDims(modelBytes);
    info = inspectModel(modelBytes);
  }
  const nd = shape.length - 1;
  const fixed = info.inputs[0]?.dims.slice(2) ?? [];
  const roi = values.roi
    ? numbers(values.roi, 'roi')
    : fixed.length === nd && fixed.every((d) => typeof d === 'number' && d > 0)
      ? (fixed as number[])
      : Array(nd).fill(-1);
  if (roi.length !== nd) throw new UsageError(`--roi needs ${nd} values for a ${nd}D volume, got ${roi.length}`);
  checkModelFits(info, shape, roi);

  const params: SlidingWindowParams = {
    roi,
    overlap: numbers(values.overlap, 'overlap'),
    mode,
    sigmaScale: numbers(values['sigma-scale'], 'sigma-scale'),
    swBatch: numbers(values['sw-batch'], 'sw-batch')[0],
    cval: numbers(values.cval, 'cval')[0],
  };
  if (values['weight-map']) {
    const w = readNpy(readFile(values['weight-map'], 'weight map'), basename(values['weight-map']));
    params.weightMap = Float32Array.from(w.data);
  }

  const session = await ort.InferenceSession.create(modelBytes, { graphOptimizationLevel: 'all' }).catch((e: Error) => {
    throw new UsageError(`onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
  });
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), info.inputs[0].name, info.outputs[0].name);
  const result = await slidingWindowInference({ data, shape }, predictor, params, {
    onProgress: values.quiet ? undefined : (p) => process.stderr.write(`\rwindow ${p.done}/${p.total}  ${(p.elapsedMs / 1000).toFixed(1)} s, ~${(p.etaMs / 1000).toFixed(1)} s left   `),
  });
  if (!values.quiet) process.stderr.write('\n');
  writeFileSync(values.out, writeNpy({ shape: result.shape, data: result.data }));
  if (!values.quiet) {
    const s = result.stats;
    process.stderr.write(
      `wrote ${values.out} (${result.shape.join('x')}); ${s.windows} windows in ${(s.totalMs / 1000).toFixed(2)} s, ${(s.totalMs / s.windows).toFixed(0)} ms/window, ${((100 * s.overheadMs) / s.totalMs).toFixed(1)} % outside session.run\n`,
    );
  }
  await session.release();
}

function inspect(argv: string[]): void {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('inspect needs one model file');
  const path = positionals[0];
  const r = inspectReport(readFile(path, 'model'), { found: (loc) => existsSync(join(dirname(path), loc)) });
  if (values.json) process.stdout.write(JSON.stringify(reportJson(r), null, 2) + '\n');
  else process.stdout.write(reportText(r, basename(path)).join('\n') + '\n');
}

/** Runs a model (bytes, or a path) with onnxruntime-node (CPU), one session per call. */
const ortRunner = async (model: Uint8Array | string, feeds: Parameters<ModelRunner>[1], opts?: Parameters<ModelRunner>[2]): ReturnType<ModelRunner> => {
  const so: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', ...(opts?.probe ? { logSeverityLevel: 4 as const } : {}) };
  const session = await (typeof model === 'string' ? ort.InferenceSession.create(model, so) : ort.InferenceSession.create(model, so)).catch((e: Error) => {
    throw new Error(`onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
  });
  try {
    const t: Record<string, ort.Tensor> = {};
    for (const [k, f] of Object.entries(feeds)) t[k] = new ort.Tensor(f.type === 'float16' || f.type === 'float64' ? 'float32' : (f.type as 'float32'), f.data, f.dims);
    const out = await session.run(t);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
  } finally {
    await session.release();
  }
};

async function convert(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      webgpu: { type: 'boolean', default: false },
      float16: { type: 'boolean', default: false },
      'relax-dims': { type: 'boolean', default: false },
      tolerance: { type: 'string' },
      'check-size': { type: 'string' },
      seed: { type: 'string', default: '1234' },
      card: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1 || !values.out) throw new UsageError('convert needs one model file and --out');
  const cardText = values.card ? new TextDecoder().decode(readFile(values.card, 'model card')) : null;
  if (values.card && cardText !== null) parseCardText(cardText, basename(values.card));
  const path = positionals[0];
  const bytes = readFile(path, 'model');
  const files = new Map<string, Uint8Array>();
  for (const loc of new Set(inspectReport(bytes).externalFiles.map((f) => f.location))) {
    const p = join(dirname(path), loc);
    if (existsSync(p)) files.set(loc, readFile(p, 'external data'));
  }
  if (!values.webgpu && !values.float16 && !values['relax-dims'] && !files.size && !values.card) {
    throw new UsageError('convert needs --webgpu, --float16, --relax-dims or --card (or a model with external data to inline)');
  }
  const tolerance = values.tolerance ? numbers(values.tolerance, 'tolerance')[0] : values.float16 ? 1e-2 : 1e-4;
  const r = convertModel(bytes, { webgpu: values.webgpu, float16: values.float16, relaxDims: values['relax-dims'], files, modelName: basename(path) });
  for (const s of r.steps) process.stdout.write(`${s}\n`);
  for (const w of r.warnings) process.stderr.write(`voxelbench: ${w}\n`);
  const size = values['check-size'] ? numbers(values['check-size'], 'check-size')[0] : checkSize(inspectModel(r.original));
  // a model with external data: onnxruntime-node opens the original from its path (reading the side files itself)
  const runner: ModelRunner = (m, feeds, o) => (files.size && m === r.original ? ortRunner(path, feeds, o) : ortRunner(m, feeds, o));
  const c = await checkConversion(r, runner, { tolerance, size, seed: numbers(values.seed, 'seed')[0] });
  const shapes = Object.values(c.inputShapes).map((d) => d.join('x')).join(', ');
  process.stdout.write(
    `check (onnxruntime-node, random input ${shapes}${c.sizes.length > 1 ? ` (worst of sizes ${c.sizes.join(', ')})` : ''}, seed ${values.seed}): max abs diff ${c.maxAbsDiff.toExponential(2)}, max rel diff ${c.maxRelDiff.toExponential(2)} (tolerance ${tolerance.toExponential(0)}, relative to the largest |output|)\n`,
  );
  if (!c.ok) {
    process.stderr.write(`voxelbench: refusing to write ${values.out}: ${c.reason}\n`);
    return 1;
  }
  if (r.refusal && !values.force) {
    process.stdout.write(`WebGPU verdict: ${r.before.verdict} -> ${r.after.verdict}\n`);
    process.stderr.write(`voxelbench: refusing to write ${values.out}: ${r.refusal} (--force writes it anyway)\n`);
    return 1;
  }
  const outBytes = values.card && cardText !== null ? withCardMetadata(r.bytes, cardText, basename(values.card)) : r.bytes;
  if (values.card) process.stdout.write(`model card ${basename(values.card)} stored in metadata_props '${CARD_METADATA_KEY}'\n`);
  writeFileSync(values.out, outBytes);
  process.stdout.write(`WebGPU verdict: ${r.before.verdict} -> ${r.after.verdict}\n`);
  for (const x of r.after.reasons) process.stdout.write(`  - ${x}\n`);
  process.stdout.write(`wrote ${values.out} (${(outBytes.length / 1e6).toFixed(2)} MB)\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// motors: the flagellar-motor preset over a folder of tomograms

const VOLUME_FILE = /\.(mrc|rec|map|st|ali|nii|npy)(\.gz)?$/i;
const TIFF_FILE = /\.tiff?$/i;

interface TomogramSource {
  id: string;
  path: string;
  kind: 'slices' | 'volume' | 'tiff';
}

/** Tomograms in DIR: sub-folders of slices, MRC/REC/NIfTI/npy files, TIFF stacks; or DIR itself as one slice folder or file. */
function findTomograms(dir: string, warn: (m: string) => void): TomogramSource[] {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new UsageError(`cannot read tomograms '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st.isFile()) {
    const kind = TIFF_FILE.test(dir) ? 'tiff' : 'volume';
    return [{ id: tomogramId(dir), path: dir, kind }];
  }
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  // a folder whose files are slices is one tomogram
  if (files.some(isSliceName) && !files.some((f) => VOLUME_FILE.test(f) || (TIFF_FILE.test(f) && !/^slice/i.test(f))) && entries.every((e) => !e.isDirectory())) {
    return [{ id: tomogramId(dir, true), path: dir, kind: 'slices' }];
  }
  const found: TomogramSource[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) found.push({ id: e.name, path, kind: 'slices' });
    else if (VOLUME_FILE.test(e.name)) found.push({ id: tomogramId(e.name), path, kind: 'volume' });
    else if (TIFF_FILE.test(e.name)) found.push({ id: tomogramId(e.name), path, kind: 'tiff' });
  }
  // one tomogram per id: folders first, then files in name order
  found.sort((a, b) => Number(b.kind === 'slices') - Number(a.kind === 'slices'));
  const seen = new Map<string, TomogramSource>();
  for (const t of found) {
    const prev = seen.get(t.id);
    if (prev) warn(`${t.id}: both '${basename(prev.path)}' and '${basename(t.path)}' found; using '${basename(prev.path)}'`);
    else seen.set(t.id, t);
  }
  return [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function loadTomogram(src: TomogramSource, warn: (m: string) => void): Promise<Tomogram> {
  if (src.kind === 'volume') return tomogramFromVolume(readVolume(readFile(src.path, 'tomogram'), basename(src.path)), src.id);
  if (src.kind === 'tiff') return readTiffStack(readFile(src.path, 'tomogram'), src.id, basename(src.path));
  const names = readdirSync(src.path, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  const { tomogram, skipped } = await stackSliceFiles(
    src.id,
    names.map((name) => ({ name, read: () => new Uint8Array(readFileSync(join(src.path, name))) })),
    decodeGrayImage,
  );
  if (skipped.length) warn(`${src.id}: skipped ${skipped.length} non-image file${skipped.length > 1 ? 's' : ''} (${skipped.slice(0, 3).map((s) => `'${s}'`).join(', ')}${skipped.length > 3 ? ', ...' : ''})`);
  return tomogram;
}

function triple(s: string, what: string): [number, number, number] {
  const v = numbers(s, what);
  if (v.length === 1) return [v[0], v[0], v[0]];
  if (v.length !== 3) throw new UsageError(`--${what} needs 1 or 3 values, got ${v.length}`);
  return [v[0], v[1], v[2]];
}

/** Checks the model's declared input and output: one (N, 1, D, H, W) input, a single-channel 3D map out. */
function checkMotorModel(info: ModelInfo, name: string, params: MotorsParams): void {
  try {
    checkModelFits(info, [1, ...params.inputSize], params.roi);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
  const out = info.outputs[0];
  if (!out) throw new UsageError(`${name}: the model has no output`);
  const d = out.dims;
  if (d.length !== 5 || (typeof d[1] === 'number' && d[1] !== 1)) {
    throw new UsageError(`${name}: the output '${out.name}' has shape [${d.join(', ')}]; the motor preset needs a single-channel 3D map (N, 1, d, h, w)`);
  }
}

async function motors(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      tomograms: { type: 'string' },
      out: { type: 'string' },
      quantile: { type: 'string' },
      labels: { type: 'string' },
      'input-size': { type: 'string' },
      roi: { type: 'string' },
      overlap: { type: 'string' },
      'sw-batch': { type: 'string' },
      tta: { type: 'string' },
      'max-peaks': { type: 'string' },
      'min-peak-distance': { type: 'string' },
      card: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.models || !values.tomograms || !values.out) throw new UsageError('motors needs --models, --tomograms and --out');
  const quiet = values.quiet;
  const warn = (m: string) => process.stderr.write(`voxelbench: ${m}\n`);
  const note = (m: string) => {
    if (!quiet) process.stderr.write(`${m}\n`);
  };
  const modelPaths = values.models.split(',').map((m) => m.trim()).filter(Boolean);

  // parameters: preset <- model card (--card, or <first model>.json next to it) <- flags
  let params: MotorsParams = motorsPreset;
  const cardPath = values.card ?? modelPaths[0].replace(/\.onnx$/i, '') + '.json';
  if (values.card || existsSync(cardPath)) {
    let card;
    try {
      card = JSON.parse(new TextDecoder().decode(readFile(cardPath, 'model card')));
    } catch (e) {
      throw new UsageError(e instanceof UsageError ? e.message : `model card '${cardPath}' is not JSON: ${(e as Error).message}`);
    }
    try {
      params = motorsParamsFromCard(card, params);
    } catch (e) {
      throw new UsageError(`${basename(cardPath)}: ${(e as Error).message}`);
    }
    note(`using the inference settings of ${basename(cardPath)}`);
  }
  params = { ...params };
  if (values['input-size']) params.inputSize = triple(values['input-size'], 'input-size');
  if (values.roi) params.roi = triple(values.roi, 'roi');
  if (values.overlap) params.overlap = triple(values.overlap, 'overlap');
  if (values['sw-batch']) params.swBatch = numbers(values['sw-batch'], 'sw-batch')[0];
  if (values['max-peaks']) params.maxPeaks = numbers(values['max-peaks'], 'max-peaks')[0];
  if (values['min-peak-distance']) params.minPeakDistance = numbers(values['min-peak-distance'], 'min-peak-distance')[0];
  if (values.tta) {
    const t = values.tta.split(',').map((x) => x.trim());
    const bad = t.filter((x) => !MOTORS_TTA.includes(x as MotorsTta));
    if (bad.length) throw new UsageError(`--tta: unknown pass ${bad.join(', ')}; known: ${MOTORS_TTA.join(', ')}`);
    params.tta = t as MotorsTta[];
  }
  let quantile: number | null = params.quantile;
  if (values.quantile !== undefined) {
    if (values.quantile === 'none') quantile = null;
    else quantile = params.quantile = numbers(values.quantile, 'quantile')[0];
  }
  const problems = validateMotorsParams(params);
  if (problems.length) throw new UsageError(problems[0]);
  const labels = values.labels ? parseLabelsCsv(new TextDecoder().decode(readFile(values.labels, 'labels')), basename(values.labels)) : null;

  // models
  const sessions: ort.InferenceSession[] = [];
  const predictors = [];
  for (const path of modelPaths) {
    const bytes = readFile(path, 'model');
    const info = inspectModel(bytes);
    checkMotorModel(info, basename(path), params);
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' }).catch((e: Error) => {
      throw new UsageError(`${basename(path)}: onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
    });
    sessions.push(session);
    predictors.push(sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), info.inputs[0].name, info.outputs[0].name));
  }

  // tomograms, one at a time (only the current one is held in memory)
  const sources = findTomograms(values.tomograms, warn);
  if (sources.length === 0) throw new UsageError(`no tomograms in '${values.tomograms}' (slice folders, .mrc/.rec files or .tif stacks)`);
  const dets: Omit<MotorDetection, 'heatmap'>[] = [];
  let failed = 0;
  for (const [k, src] of sources.entries()) {
    try {
      const tomo = await loadTomogram(src, warn);
      const det = await detectMotors(tomo, predictors, params, {
        onProgress: quiet
          ? undefined
          : (p) => process.stderr.write(`\r[${k + 1}/${sources.length}] ${src.id}: model ${p.model + 1}, pass ${p.tta + 1}, window ${p.done}/${p.total}, ~${(p.etaMs / 1000).toFixed(1)} s left   `),
      });
      if (!quiet) process.stderr.write('\n');
      const { heatmap: _heatmap, ...rest } = det;
      dets.push(rest);
    } catch (e) {
      if (!quiet) process.stderr.write('\n');
      failed++;
      const msg = ((e as Error).message ?? String(e)).split('\n')[0];
      warn(msg.startsWith(src.id) ? msg : `${src.id}: ${msg}`);
    }
  }
  for (const s of sessions) await s.release();
  if (dets.length === 0) {
    warn(`none of the ${sources.length} tomograms could be processed; nothing written`);
    return 1;
  }

  const rows = thresholdDetections(dets, quantile);
  writeFileSync(values.out, submissionCsv(rows));
  const cutoff = rows[0].cutoff;
  const out: string[] = [];
  if (!quiet) {
    for (const r of [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      out.push(`${r.id}\tscore ${r.score.toFixed(4)}\t(${r.point.map((v) => v.toFixed(1)).join(', ')})\t${r.passes ? 'motor' : 'below cutoff'}`);
    }
    out.push(
      `wrote ${values.out}: ${rows.length} tomogram${rows.length > 1 ? 's' : ''}, ${rows.filter((r) => r.passes).length} with a motor` +
        (quantile === null ? ' (no cutoff)' : ` (cutoff ${cutoff.toFixed(4)} = quantile ${quantile} of the scores)`) +
        (failed ? `; ${failed} failed` : ''),
    );
  }
  if (labels) {
    const m = motorMetric(labels, rows.map((r) => ({ id: r.id, point: r.passes ? r.point : [-1, -1, -1] })), {
      beta: params.beta,
      distanceThresholdAngstrom: params.distanceThresholdAngstrom,
      missing: 'skip',
    });
    if (!quiet) {
      for (const r of m.perTomogram) out.push(`${r.id}\t${r.outcome}\tdistance ${r.distance === null ? '-' : r.distance.toFixed(1)}\tthreshold ${r.threshold.toFixed(1)} voxels`);
    }
    if (m.missing.length) warn(`${m.missing.length} labelled tomogram${m.missing.length > 1 ? 's have' : ' has'} no prediction and ${m.missing.length > 1 ? 'are' : 'is'} left out of the score: ${m.missing.join(', ')}`);
    if (m.unlabelled.length) warn(`${m.unlabelled.length} tomogram${m.unlabelled.length > 1 ? 's are' : ' is'} not in ${basename(values.labels!)} and left out of the score: ${m.unlabelled.join(', ')}`);
    out.push(
      `F-beta (beta ${m.beta}): ${m.fbeta.toFixed(4)}  TP ${m.tp}  FP ${m.fp}  FN ${m.fn}  TN ${m.tn}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  (${m.perTomogram.length} tomograms, ${params.distanceThresholdAngstrom} A threshold)`,
    );
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'infer') await infer(rest);
    else if (cmd === 'inspect') inspect(rest);
    else if (cmd === 'convert') return await convert(rest);
    else if (cmd === 'motors') return await motors(rest);
    else if (cmd === 'protein') return await protein(rest);
    else if (cmd === 'spectrogram') return await spectrogram(rest);
    else if (cmd === 'spine') return await spine(rest);
    else if (cmd === 'card') return (await import('./card')).card(rest);
    else if (cmd === undefined || cmd === '--help' || cmd === '-h') {
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? 2 : 0;
    } else throw new UsageError(`unknown command '${cmd}'`);
    return 0;
  } catch (e) {
    const msg = (e as Error).message?.split('\n')[0] ?? String(e);
    process.stderr.write(`voxelbench: ${msg}\n`);
    return e instanceof UsageError || (e as Error).name === 'InputError' || (e as Error).name === 'TypeError' ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
