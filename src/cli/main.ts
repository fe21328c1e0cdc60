/**
 * Voxelbench command line: the same core as the page, with onnxruntime-node.
 *   npm run --silent cli -- infer --model M.onnx --input X.npy --out Y.npy [options]
 *   npm run --silent cli -- inspect M.onnx [--json]
 *   npm run --silent cli -- convert M.onnx --webgpu --out M2.onnx [--float16] [--relax-dims] [--tolerance t]
 *   npm run --silent cli -- run <preset> --inputs PATH[,PATH...] --models m1.onnx[,m2.onnx] [--out DIR] [--shard K/N] [preset flags]
 *   npm run --silent cli -- merge DIR... [--out DIR] [--labels F]
 *   npm run --silent cli -- motors --models m1.onnx,m2.onnx --tomograms DIR --out submission.csv [options]   (= run motors)
 *   npm run --silent cli -- spectrogram --models m1.onnx[,m2.onnx] --inputs DIR --out submission.csv [--votes votes.csv] [--window start]
 *   npm run --silent cli -- protein --models m1.onnx[,m2.onnx] --inputs DIR [--cells DIR] --out cells.csv [--labels cell_labels.csv]
 *   npm run --silent cli -- spine --seg s1.onnx[,s2.onnx] [--cls c1.onnx,...] --studies DIR --out DIR [--labels labels.csv]
 */
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from '../core/onnx/model';
import { sessionPredictor } from '../core/ortPredictor';
import { slidingWindowInference, type BlendMode, type SlidingWindowParams } from '../core/slidingWindow';
import { npyParts, readNpy } from '../core/io/npy';
import { readVolume } from '../core/io';
import type { MotorsParams, MotorsRow } from '../core/presets/motors';
import { paramCliOptions } from '../core/preset';
import { PRESET_DEFS, presetDef } from '../core/presets';
import { checkSize, convertModel, inspectReport, reportJson, reportText } from '../core/onnx/convert';
import { checkRewrite, type ModelRunner } from '../core/onnx/check';
import { CARD_METADATA_KEY, parseCardText, withCardMetadata } from '../core/onnx/card';
import { spectrogram, SPECTROGRAM_USAGE } from './spectrogram';
import { protein, PROTEIN_USAGE } from './protein';
import { spine, SPINE_USAGE } from './spine';
import { commaList, isNumberList, normaliseArgv, numbers, parseCli, readFile, SESSION_OPTIONS, UsageError } from './args';
import { run, runBatch } from './run';
import { merge } from './merge';

export { UsageError };

const USAGE = `usage:
  voxelbench infer --model M.onnx --input X.npy --out Y.npy [--roi D,H,W] [--overlap a | a,b,c]
                   [--mode constant|gaussian] [--sigma-scale s | s,s,s] [--sw-batch n] [--cval v]
                   [--weight-map W.npy] [--relax-dims] [--quiet]
  voxelbench inspect M.onnx [--json]
  voxelbench convert M.onnx --out M2.onnx [--webgpu] [--float16] [--relax-dims] [--tolerance t]
                     [--check-size n] [--seed s] [--card card.json (stored in metadata_props)]
  voxelbench motors --models m1.onnx[,m2.onnx...] --tomograms DIR --out submission.csv
                    [--quantile q | none] [--labels labels.csv] [--input-size D,H,W] [--roi D,H,W]
                    [--overlap a,b,c] [--sw-batch n] [--tta identity,flipD,flipH] [--max-peaks k]
                    [--min-peak-distance d] [--card model.json] [--quiet]          (= run motors)
  voxelbench run <preset> --inputs PATH[,PATH...] --models m1.onnx[,m2.onnx...] [--labels F] [--card F]
                 [--out DIR] [--<parameter> v ...] [--shard K/N] [--quiet]
                 presets: ${Object.keys(PRESET_DEFS).join(', ')}; \`run <preset> --help\` lists its flags
  voxelbench merge DIR|shard-K-of-N.json ... [--out DIR] [--labels F] [--quiet]
${SPECTROGRAM_USAGE}
${PROTEIN_USAGE}
${SPINE_USAGE}`;

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
    quiet: { type: 'boolean', default: false },
  });
  if (!values.model || !values.input || !values.out) throw new UsageError('infer needs --model, --input and --out');
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

  const session = await ort.InferenceSession.create(modelBytes, SESSION_OPTIONS).catch((e: Error) => {
    throw new UsageError(`onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
  });
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), info.inputs[0].name, info.outputs[0].name);
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

function inspect(argv: string[]): void {
  const { values, positionals } = parseCli(argv, { json: { type: 'boolean', default: false } }, true);
  if (positionals.length !== 1) throw new UsageError('inspect needs one model file');
  const path = positionals[0];
  const r = inspectReport(readFile(path, 'model'), { found: (loc) => existsSync(join(dirname(path), loc)) });
  if (values.json) process.stdout.write(JSON.stringify(reportJson(r), null, 2) + '\n');
  else process.stdout.write(reportText(r, basename(path)).join('\n') + '\n');
}

/** Runs a model (bytes, or a path) with onnxruntime-node (CPU), one session per call. */
const ortRunner = async (model: Uint8Array | string, feeds: Parameters<ModelRunner>[1]): ReturnType<ModelRunner> => {
  const session = await (typeof model === 'string' ? ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' }) : ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' })).catch((e: Error) => {
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
    },
    true,
  );
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
  const runner: ModelRunner = (m, feeds) => (files.size && m === r.original ? ortRunner(path, feeds) : ortRunner(m, feeds));
  const c = await checkRewrite(r.original, r.bytes, runner, { tolerance, size, seed: numbers(values.seed, 'seed')[0] });
  const shapes = Object.values(c.inputShapes).map((d) => d.join('x')).join(', ');
  process.stdout.write(
    `check (onnxruntime-node, random input ${shapes}, seed ${values.seed}): max abs diff ${c.maxAbsDiff.toExponential(2)}, max rel diff ${c.maxRelDiff.toExponential(2)} (tolerance ${tolerance.toExponential(0)}, relative to the largest |output|)\n`,
  );
  if (!c.ok) {
    process.stderr.write(`voxelbench: refusing to write ${values.out}: ${c.reason}\n`);
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
// motors: an alias of `run motors` with the flags and output of before the generic runner

/** `--quantile none` (no cutoff) and one number for --input-size / --roi, as the motors command always took them. */
function motorsAliasFlags(values: Record<string, string | boolean | undefined>): Record<string, string | boolean | undefined> {
  const flags = { ...values };
  if (flags.quantile === 'none') {
    flags.quantile = undefined;
    flags.cutoff = 'none';
  }
  for (const k of ['input-size', 'roi']) {
    const v = flags[k];
    if (typeof v === 'string' && isNumberList(v) && !v.includes(',')) flags[k] = [v, v, v].join(',');
  }
  return flags;
}

async function motors(argv: string[]): Promise<number> {
  const preset = presetDef('motors');
  const { values } = parseCli(argv, {
    models: { type: 'string' },
    tomograms: { type: 'string' },
    out: { type: 'string' },
    labels: { type: 'string' },
    card: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    ...paramCliOptions(preset.params),
  });
  const v = values as Record<string, string | boolean | undefined>;
  const out = v.out as string | undefined;
  if (!v.models || !v.tomograms || !out) throw new UsageError('motors needs --models, --tomograms and --out');
  const quiet = v.quiet === true;
  const { code, outcome, params } = await runBatch(
    preset,
    {
      inputs: [v.tomograms as string],
      models: { model: commaList(v.models as string) },
      card: v.card as string | undefined,
      labels: v.labels as string | undefined,
      outDir: dirname(out),
      exportPaths: { 'submission.csv': out },
      flags: motorsAliasFlags(v),
      quiet,
    },
    {
      noun: 'tomogram',
      skippedLine: (id, skipped) =>
        `${id}: skipped ${skipped.length} non-image file${skipped.length > 1 ? 's' : ''} (${skipped.slice(0, 3).map((s) => `'${basename(s.path)}'`).join(', ')}${skipped.length > 3 ? ', ...' : ''})`,
    },
  );
  if (!outcome) return code;
  const p = params as MotorsParams;
  const rows = outcome.rows as MotorsRow[];
  const lines: string[] = [];
  if (!quiet) {
    for (const r of [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      lines.push(`${r.id}\tscore ${r.score.toFixed(4)}\t(${r.point.map((x) => x.toFixed(1)).join(', ')})\t${r.passes ? 'motor' : 'below cutoff'}`);
    }
    lines.push(
      `wrote ${out}: ${rows.length} tomogram${rows.length > 1 ? 's' : ''}, ${rows.filter((r) => r.passes).length} with a motor` +
        (p.cutoff === 'none' ? ' (no cutoff)' : ` (cutoff ${rows[0].cutoff!.toFixed(4)} = quantile ${p.quantile} of the scores)`) +
        (outcome.failed.length ? `; ${outcome.failed.length} failed` : ''),
    );
  }
  if (outcome.metric) {
    // per-tomogram lines and the F-beta line on stdout (the F-beta line only with --quiet); what is left out of the score on stderr
    const m = outcome.metric.lines;
    for (const l of m.slice(0, -1)) {
      if (/left out of the score/.test(l)) process.stderr.write(`voxelbench: ${l}\n`);
      else if (!quiet) lines.push(l);
    }
    lines.push(m[m.length - 1]);
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return code;
}

export async function main(argv: string[]): Promise<number> {
  // the one argv normalisation (`--roi -1,-1,-1` = `--roi=-1,-1,-1`), for every subcommand
  const [cmd, ...rest] = normaliseArgv(argv);
  try {
    if (cmd === 'infer') await infer(rest);
    else if (cmd === 'inspect') inspect(rest);
    else if (cmd === 'convert') return await convert(rest);
    else if (cmd === 'motors') return await motors(rest);
    else if (cmd === 'run') return await run(rest);
    else if (cmd === 'merge') return await merge(rest);
    else if (cmd === 'protein') return await protein(rest);
    else if (cmd === 'spectrogram') return await spectrogram(rest);
    else if (cmd === 'spine') return await spine(rest);
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
