/**
 * Voxelbench command line: the same core as the page, with onnxruntime-node.
 *   npm run --silent cli -- infer --model M.onnx --input X.npy --out Y.npy [options]
 *   npm run --silent cli -- inspect M.onnx
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from '../core/onnx/model';
import { sessionPredictor } from '../core/ortPredictor';
import { slidingWindowInference, type BlendMode, type SlidingWindowParams } from '../core/slidingWindow';
import { readNpy, writeNpy } from '../core/io/npy';
import { readVolume } from '../core/io';

export class UsageError extends Error {}

const USAGE = `usage:
  voxelbench infer --model M.onnx --input X.npy --out Y.npy [--roi D,H,W] [--overlap a | a,b,c]
                   [--mode constant|gaussian] [--sigma-scale s | s,s,s] [--sw-batch n] [--cval v]
                   [--weight-map W.npy] [--relax-dims] [--quiet]
  voxelbench inspect M.onnx [--json]`;

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
  const info = inspectModel(readFile(positionals[0], 'model'));
  if (values.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return;
  }
  const t = (x: ModelInfo['inputs'][number]) => `  ${x.name}: ${x.type} [${x.dims.join(', ')}]`;
  process.stdout.write(
    [
      `model: ${basename(positionals[0])}`,
      `producer: ${info.producer || '?'}, IR ${info.irVersion}, opset ${info.opset}`,
      `parameters: ${info.parameters.toLocaleString('en')} (${(info.weightBytes / 1e6).toFixed(2)} MB)`,
      'inputs:',
      ...info.inputs.map(t),
      'outputs:',
      ...info.outputs.map(t),
      'ops:',
      ...Object.entries(info.ops).map(([k, v]) => `  ${k} x${v}`),
    ].join('\n') + '\n',
  );
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'infer') await infer(rest);
    else if (cmd === 'inspect') inspect(rest);
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
