/**
 * The inspector's report and the conversion pipeline (inline external data -> relax dims ->
 * WebGPU rewrites -> float16), shared by the CLI (`inspect`, `convert`) and the page. Pure TS:
 * running the numeric check is the caller's (checkRewrite with a runner).
 */
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from './model';
import { opInModel, opSupport, verdictFor, type Support, type Verdict, type VerdictOptions } from './webgpuOps';
import { externalDataFiles, externalDataRefs, formatBytes, inlineExternalData } from './externalData';
import { rewriteForWebGpu, type RewriteResult } from './rewrite';
import { toFloat16, type Float16Result } from './float16';
import { estimateMemory } from './memory';
import { checkRewrite, randomFeeds, type CheckOptions, type CheckResult, type ModelRunner } from './check';

export interface OpRow {
  op: string;
  count: number;
  support: Support;
  note?: string;
}

export interface InspectReport {
  info: ModelInfo;
  /** Parameters and bytes, external data included. */
  parameters: number;
  weightBytes: number;
  ops: OpRow[];
  webgpu: Verdict;
  externalFiles: { location: string; bytes: number; tensors: number; found?: boolean }[];
}

/** Everything the inspector shows. `found` tells whether a side file is at hand (CLI: next to the model). */
export function inspectReport(bytes: Uint8Array, opts: VerdictOptions & { found?: (location: string) => boolean } = {}): InspectReport {
  const info = inspectModel(bytes);
  const ops = Object.entries(info.ops).map(([op, count]) => {
    const s = opSupport(op, info.opset);
    return { op, count, support: s.support, ...(s.note ? { note: s.note } : {}) };
  });
  const files = info.externalData.length ? externalDataFiles(externalDataRefs(bytes)) : [];
  return {
    info,
    parameters: info.parameters,
    weightBytes: (info.initializers ?? []).reduce((a, t) => a + t.bytes, 0),
    ops,
    webgpu: verdictFor(info, opts),
    externalFiles: files.map((f) => ({ ...f, ...(opts.found ? { found: opts.found(f.location) } : {}) })),
  };
}

/** The report as text lines (CLI `inspect`). */
export function reportText(r: InspectReport, name: string): string[] {
  const { info } = r;
  const t = (x: ModelInfo['inputs'][number]) => `  ${x.name}: ${x.type} [${x.dims.join(', ')}]`;
  const ext = r.weightBytes - info.weightBytes;
  const width = Math.max(...r.ops.map((o) => `${o.op} x${o.count}`.length), 8);
  const lines = [
    `model: ${name}`,
    `producer: ${info.producer || '?'}, IR ${info.irVersion}, opset ${info.opset}`,
    `parameters: ${info.parameters.toLocaleString('en')} (${formatBytes(r.weightBytes)}${ext > 0 ? `, ${formatBytes(ext)} of it in external data` : ''})`,
    'inputs:',
    ...info.inputs.map(t),
    'outputs:',
    ...info.outputs.map(t),
    'ops (WebGPU support in onnxruntime-web):',
    // the op's support in general, then (where it differs) what it does in this model, as the verdict found it
    ...r.ops.map((o) => {
      const here = opInModel(o.op, info, r.webgpu);
      const inModel = here.support !== o.support ? `  [this model: ${here.text}]` : '';
      return `  ${`${o.op} x${o.count}`.padEnd(width)}  ${o.support.padEnd(7)}${o.support !== 'yes' && o.note ? `  ${o.note}` : ''}${inModel}`.trimEnd();
    }),
    `WebGPU verdict: ${r.webgpu.verdict}`,
    ...r.webgpu.reasons.map((x) => `  - ${x}`),
  ];
  if (r.webgpu.rewritable) lines.push(`  run: voxelbench convert ${name} --webgpu --out ${name.replace(/\.onnx$/i, '')}.webgpu.onnx`);
  if (r.externalFiles.length) {
    lines.push('external data:');
    for (const f of r.externalFiles) {
      lines.push(`  ${f.location}: ${formatBytes(f.bytes)}, ${f.tensors} tensor${f.tensors > 1 ? 's' : ''}${f.found === undefined ? '' : f.found ? ' (found)' : ' (MISSING: keep it next to the model)'}`);
    }
  }
  return lines;
}

/** The report as JSON (CLI `inspect --json`): ModelInfo without the per-node lists, plus the WebGPU and external-data parts. */
export function reportJson(r: InspectReport): object {
  const { nodes, initializers, constants: _c, ...info } = r.info;
  return {
    ...info,
    nodeCount: nodes?.length ?? 0,
    initializerCount: initializers?.length ?? 0,
    parameters: r.parameters,
    totalWeightBytes: r.weightBytes,
    webgpu: { verdict: r.webgpu.verdict, reasons: r.webgpu.reasons, failing: r.webgpu.failing, cpuOps: r.webgpu.cpuOps, rewritable: r.webgpu.rewritable, ops: r.ops },
    externalFiles: r.externalFiles,
  };
}

export interface ConvertOptions {
  webgpu?: boolean;
  float16?: boolean;
  relaxDims?: boolean;
  /** Side files for external data (name -> bytes); required when the model has external data. */
  files?: Map<string, Uint8Array>;
  modelName?: string;
}

export interface ConvertResult {
  bytes: Uint8Array;
  /** The original, self-contained (external data inlined): what the check should run. */
  original: Uint8Array;
  /** One line per step done. */
  steps: string[];
  warnings: string[];
  rewrite?: RewriteResult;
  float16?: Float16Result;
  before: Verdict;
  after: Verdict;
  /**
   * Why the result should not be written (WebGPU asked for, but it will still fail there), or
   * undefined. The CLI refuses to write it unless told to (--force).
   */
  refusal?: string;
}

/** Inline external data, then relax dims, rewrite for WebGPU, convert to float16, as asked. */
export function convertModel(bytes: Uint8Array, opts: ConvertOptions): ConvertResult {
  const steps: string[] = [];
  const warnings: string[] = [];
  const refs = externalDataRefs(bytes);
  let cur = bytes;
  if (refs.length) {
    cur = inlineExternalData(bytes, opts.files ?? new Map(), { modelName: opts.modelName });
    steps.push(`inlined ${refs.length} external tensor${refs.length > 1 ? 's' : ''} (${externalDataFiles(refs).map((f) => `${f.location}, ${formatBytes(f.bytes)}`).join('; ')})`);
  }
  const original = cur;
  const before = verdictFor(inspectModel(cur));
  if (opts.relaxDims) {
    const info = inspectModel(cur);
    if (info.inputs.some(hasFixedSpatialDims)) {
      cur = relaxSpatialDims(cur);
      steps.push('made the batch and spatial dims symbolic');
    } else steps.push('dims already symbolic');
  }
  let rewrite: RewriteResult | undefined;
  if (opts.webgpu) {
    rewrite = rewriteForWebGpu(cur);
    cur = rewrite.bytes;
    const byOp = new Map<string, number>();
    for (const c of rewrite.changes) byOp.set(`${c.op} -> ${c.to}`, (byOp.get(`${c.op} -> ${c.to}`) ?? 0) + 1);
    if (byOp.size) for (const [k, v] of byOp) steps.push(`rewrote ${v} ${k}`);
    else steps.push('no WebGPU rewrite needed');
    for (const s of rewrite.skipped) warnings.push(`left ${s.op} '${s.node}' as it was: ${s.reason}`);
  }
  let f16: Float16Result | undefined;
  if (opts.float16) {
    f16 = toFloat16(cur);
    cur = f16.bytes;
    steps.push(`float16: ${f16.initializers} initializers, ${f16.constants} constants, ${f16.casts} Casts at float32 inputs/outputs; largest weight rounding error ${f16.maxWeightRelError.toExponential(1)} (relative to each tensor's max)`);
    if (f16.overflow) warnings.push(`${f16.overflow} weights exceed the float16 range (65504) and became infinite`);
  }
  const after = verdictFor(inspectModel(cur));
  const failing = after.failing.slice(0, 3).map((f) => `${f.op} '${f.node}' (${f.reason})`).join('; ') + (after.failing.length > 3 ? `; ... (${after.failing.length} nodes)` : '');
  const refusal = opts.webgpu && after.verdict === 'will fail' ? `the converted model will still fail on WebGPU: ${failing}` : undefined;
  return { bytes: cur, original, steps, warnings, rewrite, float16: f16, before, after, ...(refusal ? { refusal } : {}) };
}

/**
 * The numeric check of a conversion (checkRewrite, random input at `size`). When pools with
 * ceil_mode were rewritten, a second check at an odd size (2^k + 1: every halving stays odd down
 * to 3, so the ceil overhang is exercised at every level), unless the original itself does not
 * run at that size (U-Nets with skip connections need multiples of their stride). The worst
 * result is returned, with the sizes checked.
 */
export async function checkConversion(r: ConvertResult, runner: ModelRunner, opts: CheckOptions & { size: number }): Promise<CheckResult & { sizes: number[] }> {
  const first = await checkRewrite(r.original, r.bytes, runner, opts);
  const symbolic = inspectModel(r.original).inputs.some((i) => i.dims.slice(1).some((d) => typeof d !== 'number' || d <= 0));
  if (!first.ok || !symbolic || !r.rewrite?.changes.some((c) => /ceil_mode/.test(c.to))) return { ...first, sizes: [opts.size] };
  const odd = 2 ** Math.ceil(Math.log2(Math.max(opts.size, 16))) + 1;
  const oddOpts = { ...opts, size: odd };
  try {
    await runner(r.original, randomFeeds(r.original, oddOpts), { probe: true });
  } catch {
    return { ...first, sizes: [opts.size] };
  }
  const second = await checkRewrite(r.original, r.bytes, runner, oddOpts);
  const worst = second.ok && second.maxRelDiff <= first.maxRelDiff ? first : second;
  return { ...worst, sizes: [opts.size, odd] };
}

/** Spatial size for the random check input: a multiple of the model's total stride, at least 16. */
export function checkSize(info: ModelInfo): number {
  const sp = Math.max(1, (info.inputs[0]?.dims.length ?? 5) - 2);
  try {
    const e = estimateMemory(info, Array(sp).fill(64), 1);
    const s = Math.max(...e.totalStride);
    return Math.max(16, Math.ceil(16 / s) * s);
  } catch {
    return 16;
  }
}
