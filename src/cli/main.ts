/**
 * Voxelbench command line: the same core as the page, with onnxruntime-node.
 *   npm run --silent cli -- infer --model M.onnx --input X.npy --out Y.npy [options]
 *   npm run --silent cli -- inspect M.onnx [--json]
 *   npm run --silent cli -- convert M.onnx --webgpu --out M2.onnx [--float16] [--relax-dims] [--tolerance t]
 *   npm run --silent cli -- run <preset> --inputs PATH[,PATH...] --models m1.onnx[,m2.onnx] [--out DIR] [--shard K/N] [preset flags]
 *   npm run --silent cli -- merge DIR... [--out DIR] [--labels F]
 * and the aliases of `run <preset>` with their own flag names and lines (./motors.ts, spine.ts,
 * spectrogram.ts, protein.ts, brain.ts):
 *   npm run --silent cli -- motors --models m1.onnx,m2.onnx --tomograms DIR --out submission.csv [options]   (= run motors)
 *   npm run --silent cli -- spine --seg s1.onnx[,s2.onnx] [--cls c1.onnx,...] --studies DIR --out DIR [--labels labels.csv]   (= run spine)
 *   npm run --silent cli -- spectrogram --models m1.onnx[,m2.onnx] --inputs DIR --out submission.csv [--votes votes.csv]   (= run eeg)
 *   npm run --silent cli -- protein --models m1.onnx[,m2.onnx] --inputs DIR [--cells DIR] --out cells.csv [--labels F]   (= run protein)
 *   npm run --silent cli -- brain --inputs T1.nii.gz --model M.onnx --out DIR [--card card.json] [--relax-dims]   (= run brain)
 */
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from '../core/onnx/model';
import { sessionPredictor } from '../core/ortPredictor';
import { slidingWindowInference, type BlendMode, type SlidingWindowParams } from '../core/slidingWindow';
import { npyParts, readNpy } from '../core/io/npy';
import type { ModelRunner } from '../core/onnx/check';
import { normaliseArgv, numberFlag, parseCli, readFile, SESSION_OPTIONS, UsageError } from './args';
import { LIMITS } from '../core/io/limits';
import { estimateRunPeak } from '../core/onnx/memory';
import { formatBytes } from '../core/onnx/externalData';

export { UsageError };

/**
 * The usage text. Commands are loaded when called (the build splits them into chunks): `infer`
 * loads onnxruntime and the sliding window only, not every preset, reader and converter.
 */
const usage = async (): Promise<string> => {
  const [{ PRESET_DEFS }, { MOTORS_USAGE }, { SPINE_USAGE }, { SPECTROGRAM_USAGE }, { PROTEIN_USAGE }, { BRAIN_USAGE }] = await Promise.all([
    import('../core/presets'),
    import('./motors'),
    import('./spine'),
    import('./spectrogram'),
    import('./protein'),
    import('./brain'),
  ]);
  return `usage:
  voxelbench infer --model M.onnx --input X.npy --out Y.npy [--roi D,H,W] [--overlap a | a,b,c]
                   [--mode constant|gaussian] [--sigma-scale s | s,s,s] [--sw-batch n] [--cval v]
                   [--weight-map W.npy] [--relax-dims] [--memory GB] [--quiet]
  voxelbench inspect M.onnx [--json]
  voxelbench convert M.onnx --out M2.onnx [--webgpu] [--float16] [--relax-dims] [--tolerance t]
                     [--check-size n] [--seed s] [--card card.json (stored in metadata_props)]
                     [--force (write it even when it will still fail on WebGPU)]
  voxelbench card M.onnx [--out M.json] [--force]   (a starter model card from what the model says)
  voxelbench run <preset> --inputs PATH[,PATH...] --models m1.onnx[,m2.onnx...] [--labels F] [--card F]
                 [--out DIR] [--<parameter> v ...] [--relax-dims] [--shard K/N] [--quiet]
                 presets: ${Object.keys(PRESET_DEFS).join(', ')}; \`run <preset> --help\` lists its flags
  voxelbench merge DIR|shard-K-of-N.json ... [--out DIR] [--labels F] [--quiet]
 aliases of run <preset>, with the flags and lines they always had (each also takes every flag of run <preset> --help):
${MOTORS_USAGE}
${SPINE_USAGE}
${SPECTROGRAM_USAGE}
${PROTEIN_USAGE}
${BRAIN_USAGE}`;
};

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

/** JavaScript's typed arrays hold at most 2^32 elements. */
const MAX_ARRAY_ELEMENTS = 2 ** 32;

/**
 * Refuses a run whose buffers would not fit, before anything is allocated: the estimated peak
 * (estimateRunPeak) against `budget` bytes and the largest single array against what JS can hold.
 */
export function checkRunMemory(info: ModelInfo, shape: number[], roi: number[], swBatch: number, inputBytes: number, budget: number, budgetWhat: string): void {
  const peak = estimateRunPeak(info, shape, roi, swBatch, inputBytes);
  const tooBigArray = peak.largestArrayBytes / 4 > MAX_ARRAY_ELEMENTS;
  if (!tooBigArray && peak.totalBytes <= budget) return;
  const p = peak.parts;
  const spatial = shape.slice(1);
  const parts = `windows ${formatBytes(p.windows)}, model ${formatBytes(p.model)}, accumulators ${formatBytes(p.accumulators)}`;
  const why = tooBigArray ? `one of its buffers would hold ${Math.round(peak.largestArrayBytes / 4).toExponential(1)} values, more than JavaScript's 2^32` : `more than ${budgetWhat} (${formatBytes(budget)})`;
  const fit = spatial.map((s, i) => Math.min(s, roi[i]));
  const hint = roi.some((r, i) => r > spatial[i])
    ? `the roi ${roi.join('x')} is larger than the input ${spatial.join('x')}: use --roi ${fit.join(',')} (or -1 for the whole input)`
    : swBatch > 1
      ? 'use a smaller --roi or --sw-batch 1'
      : 'use a smaller --roi';
  throw new UsageError(`the run would need about ${formatBytes(peak.totalBytes)} (${parts}): ${why}; ${hint}`);
}

/** Writes a file from parts (a header, then the data's own bytes), without joining them into one copy. */
function writeParts(path: string, parts: readonly Uint8Array[]): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    for (const p of parts) for (let at = 0; at < p.length; ) at += writeSync(fd, p, at, Math.min(p.length - at, 1 << 30));
  } catch (e) {
    throw new UsageError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function infer(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
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
    memory: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  if (!values.model || !values.input || !values.out) throw new UsageError('infer needs --model, --input and --out');
  // every numeric flag against its range, before any file is read
  const roiFlag = values.roi
    ? numberFlag(values.roi, 'roi', `whole numbers from 1 to ${LIMITS.maxRoiSide}, or -1 for a whole axis`, (x) => x === -1 || (Number.isInteger(x) && x >= 1 && x <= LIMITS.maxRoiSide))
    : null;
  const overlap = numberFlag(values.overlap, 'overlap', 'in [0, 1)', (x) => x >= 0 && x < 1, [1, 2, 3]);
  const sigmaScale = numberFlag(values['sigma-scale'], 'sigma-scale', `> 0 and at most ${LIMITS.maxSigmaScale}`, (x) => x > 0 && x <= LIMITS.maxSigmaScale, [1, 2, 3]);
  const swBatch = numberFlag(values['sw-batch'], 'sw-batch', `a whole number from 1 to ${LIMITS.maxSwBatch}`, (x) => Number.isInteger(x) && x >= 1 && x <= LIMITS.maxSwBatch, [1])[0];
  const cval = numberFlag(values.cval, 'cval', 'a finite number', Number.isFinite, [1])[0];
  const memoryGb = values.memory ? numberFlag(values.memory, 'memory', 'a number of gigabytes > 0', (x) => x > 0, [1])[0] : null;
  const mode = values.mode as BlendMode;
  if (mode !== 'constant' && mode !== 'gaussian') throw new UsageError(`--mode must be constant or gaussian, got '${values.mode}'`);

  const inBytes = readFile(values.input, 'input');
  let data;
  let shape: number[];
  if (values.input.toLowerCase().endsWith('.npy')) {
    const a = readNpy(inBytes, basename(values.input), { view: true });
    if (a.shape.length !== 3 && a.shape.length !== 4) {
      throw new UsageError(`input must be (C, D, H, W) or (D, H, W); got shape (${a.shape.join(', ')})`);
    }
    if (a.shape.some((d) => d < 1)) throw new UsageError(`${basename(values.input)}: the input is empty (shape (${a.shape.join(', ')})); nothing to run`);
    data = a.data;
    shape = a.shape.length === 3 ? [1, ...a.shape] : a.shape;
  } else {
    const v = (await import('../core/io')).readVolume(inBytes, basename(values.input));
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
  const roi = roiFlag
    ? roiFlag
    : fixed.length === nd && fixed.every((d) => typeof d === 'number' && d > 0)
      ? (fixed as number[])
      : Array(nd).fill(-1);
  if (roi.length !== nd) throw new UsageError(`--roi needs ${nd} values for a ${nd}D volume, got ${roi.length}`);
  checkModelFits(info, shape, roi);
  if (overlap.length !== 1 && overlap.length !== nd) throw new UsageError(`--overlap needs 1 or ${nd} values for a ${nd}D volume, got ${overlap.length}`);
  if (sigmaScale.length !== 1 && sigmaScale.length !== nd) throw new UsageError(`--sigma-scale needs 1 or ${nd} values for a ${nd}D volume, got ${sigmaScale.length}`);
  // the peak, before anything is allocated
  const roiSize = roi.map((r, i) => (r <= 0 ? shape[i + 1] : r));
  const budget = memoryGb !== null ? memoryGb * 1e9 : 0.75 * totalmem();
  checkRunMemory(info, shape, roiSize, swBatch, data.BYTES_PER_ELEMENT, budget, memoryGb !== null ? '--memory' : "75 % of this machine's memory");

  const params: SlidingWindowParams = { roi, overlap, mode, sigmaScale, swBatch, cval };
  if (values['weight-map']) {
    const w = readNpy(readFile(values['weight-map'], 'weight map'), basename(values['weight-map']));
    params.weightMap = Float32Array.from(w.data);
  }

  const session = await ort.InferenceSession.create(modelBytes, SESSION_OPTIONS).catch((e: Error) => {
    throw new UsageError(`onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
  });
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), info.inputs[0].name, info.outputs[0].name, { model: basename(values.model), dims: info.inputs[0].dims });
  const result = await slidingWindowInference({ data, shape }, predictor, params, {
    onProgress: values.quiet ? undefined : (p) => process.stderr.write(`\rwindow ${p.done}/${p.total}  ${(p.elapsedMs / 1000).toFixed(1)} s, ~${(p.etaMs / 1000).toFixed(1)} s left   `),
  });
  if (!values.quiet) process.stderr.write('\n');
  writeParts(values.out, npyParts({ shape: result.shape, data: result.data }));
  if (!values.quiet) {
    const s = result.stats;
    process.stderr.write(
      `wrote ${values.out} (${result.shape.join('x')}); ${s.windows} windows in ${(s.totalMs / 1000).toFixed(2)} s, ${(s.totalMs / s.windows).toFixed(0)} ms/window, ${((100 * s.overheadMs) / s.totalMs).toFixed(1)} % outside session.run\n`,
    );
  }
  await session.release();
}

async function inspect(argv: string[]): Promise<void> {
  const { inspectReport, reportJson, reportText } = await import('../core/onnx/convert');
  const { values, positionals } = parseCli(argv, { json: { type: 'boolean', default: false } }, true);
  if (positionals.length !== 1) throw new UsageError('inspect needs one model file');
  const path = positionals[0];
  const r = inspectReport(readFile(path, 'model'), { found: (loc) => existsSync(join(dirname(path), loc)) });
  if (values.json) process.stdout.write(JSON.stringify(reportJson(r), null, 2) + '\n');
  else process.stdout.write(reportText(r, basename(path)).join('\n') + '\n');
}

/** Runs a model (bytes, or a path) with onnxruntime-node (CPU), one session per call. */
const ortRunner = async (model: Uint8Array | string, feeds: Parameters<ModelRunner>[1], opts?: Parameters<ModelRunner>[2]): ReturnType<ModelRunner> => {
  const so: ort.InferenceSession.SessionOptions = { ...SESSION_OPTIONS, ...(opts?.probe ? { logSeverityLevel: 4 as const } : {}) };
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
  const [{ checkConversion, checkSize, convertModel, inspectReport }, { CARD_METADATA_KEY, parseCardText, withCardMetadata }] = await Promise.all([import('../core/onnx/convert'), import('../core/onnx/card')]);
  const { values, positionals } = parseCli(
    argv,
    {
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
    true,
  );
  if (positionals.length !== 1 || !values.out) throw new UsageError('convert needs one model file and --out');
  // every numeric flag against its range, before any file is read
  const tolerance = values.tolerance ? numberFlag(values.tolerance, 'tolerance', 'a number > 0', (x) => x > 0 && Number.isFinite(x), [1])[0] : values.float16 ? 1e-2 : 1e-4;
  const checkSizeFlag = values['check-size'] ? numberFlag(values['check-size'], 'check-size', `a whole number from 1 to ${LIMITS.maxRoiSide}`, (x) => Number.isInteger(x) && x >= 1 && x <= LIMITS.maxRoiSide, [1])[0] : null;
  const seed = numberFlag(values.seed, 'seed', 'a whole number >= 0', (x) => Number.isSafeInteger(x) && x >= 0, [1])[0];
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
  const r = convertModel(bytes, { webgpu: values.webgpu, float16: values.float16, relaxDims: values['relax-dims'], files, modelName: basename(path) });
  for (const s of r.steps) process.stdout.write(`${s}\n`);
  for (const w of r.warnings) process.stderr.write(`voxelbench: ${w}\n`);
  const size = checkSizeFlag ?? checkSize(inspectModel(r.original));
  // a model with external data: onnxruntime-node opens the original from its path (reading the side files itself)
  const runner: ModelRunner = (m, feeds, o) => (files.size && m === r.original ? ortRunner(path, feeds, o) : ortRunner(m, feeds, o));
  const c = await checkConversion(r, runner, { tolerance, size, seed });
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

export async function main(argv: string[]): Promise<number> {
  // the one argv normalisation (`--roi -1,-1,-1` = `--roi=-1,-1,-1`), for every subcommand
  const [cmd, ...rest] = normaliseArgv(argv);
  try {
    if (cmd === 'infer') await infer(rest);
    else if (cmd === 'inspect') await inspect(rest);
    else if (cmd === 'convert') return await convert(rest);
    else if (cmd === 'motors') return await (await import('./motors')).motors(rest);
    else if (cmd === 'run') return await (await import('./run')).run(rest);
    else if (cmd === 'merge') return await (await import('./merge')).merge(rest);
    else if (cmd === 'protein') return await (await import('./protein')).protein(rest);
    else if (cmd === 'spectrogram') return await (await import('./spectrogram')).spectrogram(rest);
    else if (cmd === 'spine') return await (await import('./spine')).spine(rest);
    else if (cmd === 'card') return (await import('./card')).card(rest);
    else if (cmd === 'brain') return await (await import('./brain')).brain(rest);
    else if (cmd === undefined || cmd === '--help' || cmd === '-h') {
      process.stdout.write((await usage()) + '\n');
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
