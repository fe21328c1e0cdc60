/**
 * Which ONNX ops onnxruntime-web's WebGPU backend runs, and a verdict for a whole model.
 *
 * Source: `docs/webgpu-operators.md` as shipped in onnxruntime-web 1.30.0
 * (node_modules/onnxruntime-web/docs/webgpu-operators.md, generated from the JSEP kernel
 * registrations of microsoft/onnxruntime), cross-checked against the JSEP kernels in
 * `dist/ort.mjs` of the same package (the `onnxruntime-web` default import, which the worker uses,
 * loads the JSEP build `ort-wasm-simd-threaded.jsep.wasm`; `onnxruntime-web/webgpu` loads the
 * native WebGPU EP instead, whose limits differ), and by running one-op models in headless
 * Chromium (SwiftShader WebGPU) with the default session options (preferredLayout NHWC, graph
 * optimization 'all'). Limits found that way:
 *  - ConvTranspose 3D: 'currently only support 2-dimensional conv' (native EP: 'Only Conv2d or
 *    Conv1d are supported'). Rewritten by rewriteConvTranspose3d.
 *  - Conv 3D (a naive Conv3D shader; the doc's "conv3d is not supported" is stale): pads must be
 *    all six equal ('Unsupported padding parameter: 1,1,1,0,0,0'), auto_pad SAME_LOWER fails, and
 *    group > 1 runs but gives wrong numbers (max rel. diff 1.8 on a test model). Rewritten by
 *    rewriteForWebGpu.
 *  - Conv (any rank) with neither kernel_shape nor dilations attributes fails ('dilations should be
 *    2D'/'3D'); either one is enough (e2e/webgpuOps.spec.ts). PyTorch exports always write both.
 *  - DequantizeLinear on a tensor computed at run time gives wrong numbers (uint8 and int8, with
 *    and without zero point); on weights it is constant-folded on the CPU at session creation.
 *  - GatherBlockQuantized: uint8 data runs on the CPU; 4-bit data runs on WebGPU but its numbers
 *    differ from the CPU kernel's. GroupQueryAttention without past key/values fails at run()
 *    ('Unsupported OrtValue type').
 *  - 3D MaxPool/AveragePool/GlobalAveragePool/GlobalMaxPool fail under the default NHWC layout
 *    ('Pooling with kernelShape.length > 2 is not supported for NHWC format'); they run with
 *    `executionProviders: [{ name: 'webgpu', preferredLayout: 'NCHW' }]`, or after rewriteForWebGpu.
 *  - MaxPool/AveragePool with ceil_mode = 1 fail ('ceil_mode kernel execution ... is not yet
 *    implemented'; timm's resnet*d avg-down shortcuts have them); rewriteForWebGpu turns them into
 *    ceil_mode 0 with larger end pads. MaxPool with dilations gives wrong numbers (max rel. diff 1.7).
 *  - Resize: cubic only for 2D, linear for up to 3 spatial dims, align_corners not with downsampling.
 *  - GridSample: 4D input only, opset 16-19. BatchNormalization: no training mode.
 * Also seen: after a kernel whose attribute parser throws (the ceil_mode and storage_order checks
 * above: JSEP's computeKernel parses attributes after setting currentKernelId and outside the
 * try/finally that clears it), every later WebGPU kernel in the same JS context, of any session,
 * fails with 'kernel "[Transpose] ..." is not allowed to be called recursively'; releasing the
 * session does not clear it, a fresh worker or page does (e2e/realModels.spec.ts). A kernel that
 * fails inside its run (3D ConvTranspose, 3D pools under NHWC) leaves nothing behind. And on an
 * adapter without 'shader-f16' a float16 model runs "successfully" and returns zeros.
 * Ops missing from the list run on the CPU (WASM) kernels inside the same WebGPU session: ORT
 * always registers its CPU EP as the fallback, and the WASM build has (nearly) every ONNX op,
 * ai.onnx.ml and com.microsoft contrib ops (their names are in ort-wasm-simd-threaded.jsep.wasm).
 * Each such op costs a GPU -> CPU -> GPU copy of its tensors.
 *
 * The table is per op type; data types are not tracked: int64 shape arithmetic (Shape, Gather,
 * Concat, ... on shapes) may be placed on the CPU by ORT even where the op is 'yes'. That is cheap
 * and is not counted against the verdict.
 */
import type { ModelInfo, NodeInfo } from './model';
import { rewriteDecision, rewriteView, tensorRanks } from './rewritePlan';

export type Support = 'yes' | 'partial' | 'cpu' | 'no';

export interface OpSupport {
  op: string;
  /** '' = ai.onnx, or 'com.microsoft', 'ai.onnx.ml', ... */
  domain: string;
  support: Support;
  /** The opset versions WebGPU kernels are registered for, as in ORT's doc ('7-12,13,14+'). */
  opsets?: string;
  note?: string;
}

type Row = [op: string, opsets: string, support: Support, note?: string];

/** ai.onnx ops with WebGPU (JSEP) kernels, from docs/webgpu-operators.md (onnxruntime-web 1.30.0). */
const WEBGPU: Row[] = [
  ['Abs', '6-12,13+', 'yes'], ['Acos', '7+', 'yes'], ['Acosh', '9+', 'yes'], ['Add', '7-12,13,14+', 'yes'],
  ['ArgMax', '1-10,11-12,13+', 'yes'], ['ArgMin', '1-10,11-12,13+', 'yes'], ['Asin', '7+', 'yes'], ['Asinh', '9+', 'yes'],
  ['Atan', '7+', 'yes'], ['Atanh', '9+', 'yes'],
  ['AveragePool', '7-9,10,11-18,19+', 'partial', '3D fails under the default NHWC layout; ceil_mode=1 fails (rewriteForWebGpu fixes both)'],
  ['BatchNormalization', '7-8,9-13,14,15+', 'partial', 'inference only (training_mode=1 fails)'],
  ['Cast', '6-8,9-12,13-18,19-20,21+', 'yes'], ['Ceil', '6-12,13+', 'yes'], ['Clip', '6-10,11,12,13+', 'yes'], ['Concat', '1-3,4-10,11-12,13+', 'yes'],
  ['Conv', '1-10,11+', 'partial', '3D: a naive shader that needs all six pads equal and gives wrong numbers with group > 1 (rewriteForWebGpu fixes both); any rank fails without kernel_shape and dilations attributes'],
  ['ConvTranspose', '1-10,11+', 'partial', "1D/2D only; 3D fails at run time: 'currently only support 2-dimensional conv' (native WebGPU EP: 'Only Conv2d or Conv1d are supported'); rewriteConvTranspose3d rewrites it"],
  ['Cos', '7+', 'yes'], ['Cosh', '9+', 'yes'], ['CumSum', '11-13,14+', 'yes'], ['DFT', '17-19,20+', 'yes'],
  ['DepthToSpace', '11-12,13+', 'yes', '4D only (as in ONNX)'], ['DequantizeLinear', '10-12,13-18,19-20,21+', 'partial', 'wrong numbers on tensors computed at run time (uint8 and int8); on weights it is constant-folded on the CPU'],
  ['Div', '7-12,13,14+', 'yes'], ['Einsum', '12+', 'yes'], ['Elu', '6+', 'yes'], ['Equal', '7-10,11-12,13-18,19+', 'yes'],
  ['Erf', '9-12,13+', 'yes'], ['Exp', '6-12,13+', 'yes'], ['Expand', '8-12,13+', 'yes'], ['Flatten', '1-8,9-10,11-12,13-20,21+', 'yes'],
  ['Floor', '6-12,13+', 'yes'], ['Gather', '1-10,11-12,13+', 'yes'], ['GatherElements', '11-12,13+', 'yes'], ['GatherND', '11,12,13+', 'yes'],
  ['Gelu', '20+', 'yes'], ['Gemm', '7-8,9-10,11-12,13+', 'yes'], ['GlobalAveragePool', '1+', 'partial', '3D fails under the default NHWC layout'], ['GlobalMaxPool', '1+', 'partial', '3D fails under the default NHWC layout'],
  ['Greater', '7-8,9-12,13+', 'yes'], ['GreaterOrEqual', '12-15,16+', 'yes'],
  ['GridSample', '16-19', 'partial', "4D input only ('only 4-D tensor is supported'); opset 20+ GridSample runs on the CPU"],
  ['HardSigmoid', '6+', 'yes'], ['HardSwish', '14+', 'yes'], ['If', '1-10,11-12,13-18,19-20,21+', 'yes'],
  ['InstanceNormalization', '6+', 'yes'], ['LayerNormalization', '1-16,17+', 'yes'], ['LeakyRelu', '6-15,16+', 'yes'],
  ['Less', '7-8,9-12,13+', 'yes'], ['LessOrEqual', '12-15,16+', 'yes'], ['Log', '6-12,13+', 'yes'], ['MatMul', '1-12,13+', 'yes'],
  ['MaxPool', '1-7,8-9,10,11,12+', 'partial', '3D fails under the default NHWC layout; ceil_mode=1 and storage_order=1 fail; dilations give wrong numbers (rewriteForWebGpu fixes 3D and ceil_mode)'],
  ['Mul', '7-12,13,14+', 'yes'], ['Neg', '6-12,13+', 'yes'], ['Not', '1+', 'yes'],
  ['Pad', '2-10,11-12,13-17,18,19-20,21+', 'yes', 'float/float16 data'],
  ['Pow', '7-11,12,13-14,15+', 'yes'], ['Range', '11+', 'yes'], ['Reciprocal', '6-12,13+', 'yes'],
  ['ReduceL1', '1-10,11-12,13-17,18+', 'yes'], ['ReduceL2', '1-10,11-12,13-17,18+', 'yes'], ['ReduceLogSum', '1-10,11-12,13-17,18+', 'yes'],
  ['ReduceLogSumExp', '1-10,11-12,13-17,18+', 'yes'], ['ReduceMax', '1-10,11,12,13-17,18-19,20+', 'yes'], ['ReduceMean', '1-10,11-12,13-17,18+', 'yes'],
  ['ReduceMin', '1-10,11,12,13-17,18-19,20+', 'yes'], ['ReduceProd', '1-10,11-12,13-17,18+', 'yes'], ['ReduceSum', '1-10,11-12,13+', 'yes'],
  ['ReduceSumSquare', '1-10,11-12,13-17,18+', 'yes'], ['Relu', '6-12,13,14+', 'yes'],
  ['Reshape', '5-12,13,14-18,19-20,21+', 'yes', 'no GPU kernel needed (a view); the shape input is read on the CPU'],
  ['Resize', '10,11-12,13-17,18,19+', 'partial', 'cubic only for 2D; linear for up to 3 spatial dims; align_corners not with downsampling'],
  ['ScatterND', '11-12,13-15,16-17,18+', 'yes'],
  ['Shape', '1-12,13-14,15-18,19-20,21+', 'yes', 'computed on the CPU from the tensor metadata'],
  ['Sigmoid', '6-12,13+', 'yes'], ['Sin', '7+', 'yes'], ['Sinh', '9+', 'yes'], ['Slice', '1-9,10,11-12,13+', 'yes'],
  ['Softmax', '1-10,11-12,13+', 'yes'], ['Split', '1,2-10,11-12,13-17,18+', 'yes'], ['Sqrt', '6-12,13+', 'yes'],
  ['Squeeze', '1-10,11-12,13-20,21+', 'yes'], ['Sub', '7-12,13,14+', 'yes'], ['Tan', '7+', 'yes'], ['Tanh', '6-12,13+', 'yes'],
  ['ThresholdedRelu', '10+', 'yes'], ['Tile', '6-12,13+', 'yes'], ['Transpose', '1-12,13-20,21+', 'yes'],
  ['Unsqueeze', '1-10,11-12,13-20,21+', 'yes'], ['Where', '9-15,16+', 'yes'],
  // no kernel needed: ORT folds or removes these when the session is created
  ['Constant', '1+', 'yes', 'folded into an initializer when the session is created'],
  ['Identity', '1+', 'yes', "removed by ORT's graph optimizer (kept as a CPU copy when it only links a graph input to an output)"],
  ['Dropout', '1+', 'yes', "removed by ORT's graph optimizer in inference (kept as a CPU copy when it only links a graph input to an output)"],
  // ONNX functions without a kernel of their own: ORT expands them when the session is created
  ['CastLike', '15+', 'yes', 'an ONNX function: ORT expands it into Cast'],
  ['GroupNormalization', '18+', 'yes', 'an ONNX function: ORT expands it into Reshape, ReduceMean, Sub, Sqrt, Div, Mul, Add (WebGPU) with its shape arithmetic on the CPU'],
  ['CenterCropPad', '18+', 'yes', 'an ONNX function: ORT expands it into Pad and Slice (WebGPU) with its shape arithmetic on the CPU'],
];

/** com.microsoft contrib ops with WebGPU kernels (same doc). */
const WEBGPU_MS: Row[] = [
  ['Attention', '1+', 'partial', 'no mask, no past/present'], ['BiasAdd', '1+', 'yes'], ['BiasSplitGelu', '1+', 'yes'], ['FastGelu', '1+', 'yes'],
  ['FusedConv', '1+', 'yes'], ['GatherBlockQuantized', '1+', 'partial', 'uint8 data runs on the CPU; 4-bit data gives numbers that differ from the CPU kernel'], ['Gelu', '1+', 'yes'], ['GroupQueryAttention', '1+', 'partial', "fails at run() without past key/values ('Unsupported OrtValue type')"],
  ['MatMulNBits', '1+', 'yes'], ['MultiHeadAttention', '1+', 'partial', 'no mask, no past/present'], ['QuickGelu', '1+', 'yes'],
  ['RotaryEmbedding', '1+', 'yes'], ['SkipLayerNormalization', '1+', 'yes'], ['SkipSimplifiedLayerNormalization', '1+', 'yes'],
];

/** Common ai.onnx ops with no WebGPU kernel: they run on the CPU inside the WebGPU session. */
const CPU_ONLY: Row[] = [
  ['ConstantOfShape', '', 'cpu'], ['Upsample', '', 'cpu', 'deprecated; re-export with Resize (opset >= 11) to run on WebGPU'],
  ['PRelu', '', 'cpu'], ['Max', '', 'cpu'], ['Min', '', 'cpu'], ['Sum', '', 'cpu'], ['Mean', '', 'cpu'], ['Softplus', '', 'cpu'],
  ['Softsign', '', 'cpu'], ['Selu', '', 'cpu'], ['Celu', '', 'cpu'], ['Mish', '', 'cpu', 'an ONNX function: ORT expands it into Softplus (CPU) and Tanh, Mul (WebGPU)'], ['Mod', '', 'cpu'], ['Round', '', 'cpu'], ['Sign', '', 'cpu'],
  ['LogSoftmax', '', 'cpu'], ['Hardmax', '', 'cpu'], ['NonZero', '', 'cpu'], ['TopK', '', 'cpu'], ['OneHot', '', 'cpu'], ['Trilu', '', 'cpu'],
  ['LRN', '', 'cpu'], ['LpNormalization', '', 'cpu'], ['MeanVarianceNormalization', '', 'cpu'],
  ['SpaceToDepth', '', 'cpu'], ['QuantizeLinear', '', 'cpu'], ['QLinearConv', '', 'cpu'], ['QLinearMatMul', '', 'cpu'], ['MatMulInteger', '', 'cpu'],
  ['ConvInteger', '', 'cpu'], ['DynamicQuantizeLinear', '', 'cpu'], ['ScatterElements', '', 'cpu'], ['Scatter', '', 'cpu'], ['Compress', '', 'cpu'],
  ['NonMaxSuppression', '', 'cpu'], ['RoiAlign', '', 'cpu'], ['Size', '', 'cpu'], ['And', '', 'cpu'], ['Or', '', 'cpu'], ['Xor', '', 'cpu'],
  ['IsNaN', '', 'cpu'], ['IsInf', '', 'cpu'], ['Loop', '', 'cpu'], ['Scan', '', 'cpu'], ['EyeLike', '', 'cpu'], ['ReverseSequence', '', 'cpu'],
  ['Unique', '', 'cpu'], ['Col2Im', '', 'cpu'], ['AffineGrid', '', 'cpu'], ['Shrink', '', 'cpu'], ['BitShift', '', 'cpu'],
['LpPool', '', 'cpu'], ['GlobalLpPool', '', 'cpu'], ['MaxUnpool', '', 'cpu'], ['MaxRoiPool', '', 'cpu'], ['STFT', '', 'cpu'],
  ['RandomNormal', '', 'cpu'], ['RandomUniform', '', 'cpu'], ['RandomNormalLike', '', 'cpu'], ['RandomUniformLike', '', 'cpu'], ['Multinomial', '', 'cpu'],
];

function build(): Map<string, OpSupport> {
  const m = new Map<string, OpSupport>();
  const add = (domain: string, rows: Row[]) => {
    for (const [op, opsets, support, note] of rows) m.set(key(domain, op), { op, domain, support, ...(opsets ? { opsets } : {}), ...(note ? { note } : {}) });
  };
  add('', WEBGPU);
  add('com.microsoft', WEBGPU_MS);
  add('', CPU_ONLY);
  return m;
}

const key = (domain: string, op: string): string => (domain && domain !== 'ai.onnx' ? `${domain}:${op}` : op);

/** The whole table, keyed like ModelInfo.ops ('Conv', 'com.microsoft:FusedConv'). */
export const WEBGPU_OPS: ReadonlyMap<string, OpSupport> = build();

/** First and last opset version covered by an ORT range string ('7-12,13,14+' -> [7, Infinity]). */
export function opsetRange(opsets: string): [number, number] {
  const parts = opsets.split(',').map((p) => p.trim());
  const lo = parseInt(parts[0], 10);
  const last = parts[parts.length - 1];
  const hi = last.endsWith('+') ? Infinity : parseInt(last.split('-').pop()!, 10);
  return [lo, hi];
}

/**
 * Support of one op type (key as in ModelInfo.ops: 'Conv' or 'domain:Op'). With `opset` given,
 * an ai.onnx op whose WebGPU kernels do not cover that opset is 'cpu'. Ops missing from the table
 * are 'cpu' in the ai.onnx, ai.onnx.ml and com.microsoft domains and 'no' in any other domain
 * (custom ops: onnxruntime-web has no kernels for them).
 */
export function opSupport(opKey: string, opset?: number): OpSupport {
  const i = opKey.indexOf(':');
  const domain = i >= 0 ? opKey.slice(0, i) : '';
  const op = i >= 0 ? opKey.slice(i + 1) : opKey;
  const row = WEBGPU_OPS.get(opKey);
  if (row) {
    if (opset && !domain && row.opsets && row.support !== 'cpu') {
      const [lo, hi] = opsetRange(row.opsets);
      if (opset < lo || opset > hi) {
        return { ...row, support: 'cpu', note: `WebGPU kernels cover opset ${row.opsets}; this model uses opset ${opset}` };
      }
    }
    return row;
  }
  if (domain === '' || domain === 'ai.onnx.ml' || domain === 'com.microsoft') {
    return { op, domain, support: 'cpu', note: 'not in the WebGPU list: runs on the CPU (WASM) kernels inside the WebGPU session' };
  }
  return { op, domain, support: 'no', note: `custom domain '${domain}': onnxruntime-web has no kernel for it` };
}

// ---------------------------------------------------------------------------------------------
// verdict

export type VerdictKind = 'runs fully on WebGPU' | 'runs with listed ops on CPU' | 'will fail';

export interface Verdict {
  verdict: VerdictKind;
  /** Why, one line each: failing nodes first, then CPU ops. Empty when it runs fully on WebGPU. */
  reasons: string[];
  /** Op types that run on the CPU, with their counts. */
  cpuOps: Record<string, number>;
  /** Nodes that make the model fail on WebGPU. */
  failing: { node: string; op: string; reason: string }[];
  /** ConvTranspose nodes with 3D kernels (rewritable by rewriteConvTranspose3d). */
  convTranspose3d: number;
  /** Failing nodes that rewriteForWebGpu rewrites (rewritePlan.ts rewriteDecision: the same decision convert takes). */
  rewritable: number;
  /** Failing nodes that rewriteForWebGpu leaves as they are, and why. */
  notRewritable: { node: string; op: string; reason: string }[];
}

export interface VerdictOptions {
  /** Rank of each graph input when not declared (default: the declared dims). */
  inputRanks?: Record<string, number>;
  /** The WebGPU session's preferredLayout (ORT's default: 'NHWC'). 3D pools only run with 'NCHW'. */
  preferredLayout?: 'NHWC' | 'NCHW';
  /**
   * Whether the adapter has the 'shader-f16' feature. When false, a float16 model 'will fail':
   * onnxruntime-web builds f16 shaders anyway, their pipelines are invalid, and run() returns
   * zeros without an error (seen with SwiftShader). Unknown (undefined): not checked.
   */
  shaderF16?: boolean;
}

/** The rank of a node input when it can be told from initializers or Constant nodes. */
function constDims(info: ModelInfo): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const t of info.initializers ?? []) dims.set(t.name, t.dims);
  for (const n of info.nodes ?? []) {
    const v = n.attrs.value;
    if (n.op === 'Constant' && !n.domain && v && typeof v === 'object' && 'tensor' in v) dims.set(n.outputs[0], v.tensor.dims);
  }
  return dims;
}

const num = (v: NodeInfo['attrs'][string] | undefined, d: number): number => (typeof v === 'number' ? v : d);

/** A node-level problem on WebGPU for the 'partial' ops, or null. */
function nodeProblem(n: NodeInfo, dims: Map<string, number[]>, rank: Map<string, number>, layout: 'NHWC' | 'NCHW'): string | null {
  const wRank = (i: number) => dims.get(n.inputs[i])?.length ?? rank.get(n.inputs[i]);
  const xRank = () => rank.get(n.inputs[0]) ?? dims.get(n.inputs[0])?.length;
  const list = (v: NodeInfo['attrs'][string] | undefined): number[] | null => (Array.isArray(v) && v.length ? (v as number[]) : null);
  const autoPad = typeof n.attrs.auto_pad === 'string' ? n.attrs.auto_pad : 'NOTSET';
  const is3d = () => (list(n.attrs.kernel_shape)?.length ?? (xRank() === 5 ? 3 : 0)) === 3;
  switch (n.op) {
    case 'ConvTranspose':
      if (wRank(1) === 5 || xRank() === 5) return '3D ConvTranspose is not supported by the WebGPU backend (fails at run time)';
      return null;
    case 'Conv': {
      const r = wRank(1) ?? xRank();
      const bare = !list(n.attrs.kernel_shape) && !list(n.attrs.dilations);
      if (r !== 5) return bare && r ? `Conv without kernel_shape and dilations attributes fails on WebGPU ('dilations should be ${r - 2}D'); export it with them` : null;
      if (num(n.attrs.group, 1) > 1) return '3D Conv with groups: the WebGPU Conv3D shader ignores them (wrong numbers)';
      const pads = list(n.attrs.pads) ?? [0];
      if (autoPad === 'SAME_LOWER') return '3D Conv with auto_pad SAME_LOWER is not supported on WebGPU';
      if (autoPad === 'NOTSET' && pads.some((p) => p !== pads[0])) return `3D Conv with pads [${pads}]: the WebGPU Conv3D kernel needs all six pads equal`;
      if (bare) return "3D Conv without kernel_shape and dilations attributes fails on WebGPU ('dilations should be 3D')";
      return null;
    }
    case 'DequantizeLinear':
      // on an initializer ORT folds it into a float32 weight when the session is created
      return dims.has(n.inputs[0]) ? null : 'DequantizeLinear on a tensor computed at run time gives wrong numbers on WebGPU';
    case 'MaxPool':
    case 'AveragePool':
      if (is3d() && layout === 'NHWC') return `3D ${n.op} fails under WebGPU's default NHWC layout (runs with preferredLayout 'NCHW')`;
      if (num(n.attrs.ceil_mode, 0) === 1) return `${n.op} with ceil_mode=1 is not implemented on WebGPU`;
      if (n.op === 'MaxPool' && num(n.attrs.storage_order, 0) === 1) return 'MaxPool with storage_order=1 is not supported on WebGPU';
      if (n.op === 'MaxPool' && (list(n.attrs.dilations) ?? []).some((d) => d !== 1)) return 'MaxPool with dilations gives wrong numbers on WebGPU';
      return null;
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return xRank() === 5 && layout === 'NHWC' ? `3D ${n.op} fails under WebGPU's default NHWC layout (runs with preferredLayout 'NCHW')` : null;
    case 'BatchNormalization':
      return num(n.attrs.training_mode, 0) === 1 ? 'BatchNormalization in training mode is not supported on WebGPU' : null;
    case 'GridSample':
      return xRank() === 5 ? 'GridSample on a 5D (3D) input is not supported on WebGPU (4D only)' : null;
    case 'Resize':
      if (n.attrs.mode === 'cubic' && (xRank() ?? 4) > 4) return 'Resize cubic on a 3D volume is not supported on WebGPU (2D only)';
      return null;
    default:
      return null;
  }
}

/** Node-level problems of com.microsoft ops: [problem, 'cpu' when it runs on the CPU instead of failing]. */
function msNodeProblem(n: NodeInfo, types: Map<string, number>): [string, 'cpu' | 'fail'] | null {
  if (n.op === 'GatherBlockQuantized') {
    const t = types.get(n.inputs[0]);
    if (t === 2) return ['GatherBlockQuantized with uint8 data has no WebGPU kernel', 'cpu'];
    if (t === 21 || t === 22) return ['GatherBlockQuantized with 4-bit data gives wrong numbers on WebGPU (differs from the CPU kernel)', 'fail'];
  }
  if (n.op === 'GroupQueryAttention' && !n.inputs[3]) return ["GroupQueryAttention without past key/values fails on WebGPU ('Unsupported OrtValue type')", 'fail'];
  return null;
}

/**
 * Whether a model runs on onnxruntime-web's WebGPU backend, from its op types and (when the
 * ModelInfo has per-node info, as inspectModel gives) node-level checks: 3D ConvTranspose (the
 * weight's rank is 5), grouped 3D Conv, AveragePool ceil_mode, ...
 */
export function verdictFor(info: ModelInfo, opts: VerdictOptions = {}): Verdict {
  const failing: Verdict['failing'] = [];
  const cpuOps: Record<string, number> = {};
  const reasons: string[] = [];
  let ct3d = 0;
  /** Failing nodes the rewrite fixes, and why it leaves the others (default: it has no rewrite for them). */
  const fixed = new Set<Verdict['failing'][number]>();
  const leftBecause = new Map<Verdict['failing'][number], string>();
  for (const [k, count] of Object.entries(info.ops)) {
    const s = opSupport(k, info.opset);
    if (s.support === 'no') {
      failing.push({ node: `${count} node${count > 1 ? 's' : ''}`, op: k, reason: s.note ?? 'not supported' });
    } else if (s.support === 'cpu') cpuOps[k] = count;
  }
  if (info.nodes) {
    const dims = constDims(info);
    const r = tensorRanks(info, opts.inputRanks);
    const view = rewriteView(info, r);
    const types = new Map((info.initializers ?? []).map((t) => [t.name, t.dataType] as const));
    for (const n of info.nodes) {
      if (n.domain === 'com.microsoft') {
        const p = msNodeProblem(n, types);
        if (p && p[1] === 'cpu') cpuOps[`${n.domain}:${n.op}`] = (cpuOps[`${n.domain}:${n.op}`] ?? 0) + 1;
        else if (p) failing.push({ node: n.name || n.outputs[0], op: `${n.domain}:${n.op}`, reason: p[0] });
      }
      if (n.domain) continue;
      // an op whose WebGPU kernels do not cover this opset runs on the CPU: no WebGPU limits apply
      if (opSupport(n.op, info.opset).support === 'cpu') continue;
      const p = nodeProblem(n, dims, r, opts.preferredLayout ?? 'NHWC');
      if (p) {
        const f = { node: n.name || n.outputs[0], op: n.op, reason: p };
        failing.push(f);
        const d = rewriteDecision(n, view);
        if (d === 'rewrite') fixed.add(f);
        else if (d !== 'keep') leftBecause.set(f, d.skip);
      }
      if (n.op === 'ConvTranspose' && ((dims.get(n.inputs[1])?.length ?? r.get(n.inputs[0])) === 5)) ct3d++;
    }
  } else if (info.ops.ConvTranspose && info.inputs.some((i) => i.dims.length === 5)) {
    failing.push({ node: 'ConvTranspose', op: 'ConvTranspose', reason: 'the model takes a 3D volume and has ConvTranspose nodes, which the WebGPU backend runs in 1D/2D only' });
  }
  if (opts.shaderF16 === false) {
    const half = (info.initializers ?? []).filter((t) => t.dataType === 10).length + info.inputs.filter((i) => i.type === 'float16').length;
    if (half) failing.push({ node: `${half} float16 tensor${half > 1 ? 's' : ''}`, op: 'float16', reason: "float16 model on an adapter without 'shader-f16' (WebGPU returns zeros without an error)" });
  }
  const byReason = new Map<string, string[]>();
  for (const f of failing) byReason.set(f.reason, [...(byReason.get(f.reason) ?? []), f.node]);
  for (const [reason, nodes] of byReason) {
    const shown = nodes.slice(0, 3).map((n) => `'${n}'`).join(', ') + (nodes.length > 3 ? `, ... (${nodes.length} nodes)` : '');
    reasons.push(`${reason}: ${shown}`);
  }
  const cpu = Object.entries(cpuOps);
  if (cpu.length) reasons.push(`on the CPU: ${cpu.map(([k, v]) => `${k} x${v}`).join(', ')} (each costs a GPU-CPU round trip of its tensors)`);
  const verdict: VerdictKind = failing.length ? 'will fail' : cpu.length ? 'runs with listed ops on CPU' : 'runs fully on WebGPU';
  const rewritable = fixed.size;
  const notRewritable = failing.filter((f) => !fixed.has(f)).map((f) => ({ node: f.node, op: f.op, reason: leftBecause.get(f) ?? 'convert --webgpu has no rewrite for it' }));
  if (rewritable) {
    const left = failing.length - rewritable;
    const leftNodes = notRewritable.slice(0, 3).map((x) => `'${x.node}' (${x.reason})`).join(', ') + (notRewritable.length > 3 ? ', ...' : '');
    reasons.push(
      `rewriteForWebGpu (voxelbench convert --webgpu) fixes ${left ? rewritable : 'all'} of the ${failing.length} failing node${failing.length > 1 ? 's' : ''}` +
        (left ? `; ${left} will still fail${leftNodes ? `: ${leftNodes}` : ''}` : ''),
    );
  }
  return { verdict, reasons, cpuOps, failing, convTranspose3d: ct3d, rewritable, notRewritable };
}

/** What one op type of a model does on WebGPU, as the model's verdict found it (the inspector's op list). */
export interface OpInModel {
  /** 'yes': runs on WebGPU in this model (a 'partial' op whose nodes are all within its limits); 'partial': has limits not checked (no per-node info). */
  support: Support;
  /** Says the same as the verdict: 'WebGPU', 'WebGPU (within its limits)', 'CPU', 'fails here'. */
  text: string;
}

/**
 * The op's status in this model, agreeing with `verdict`: a 'partial' op (WebGPU kernels with
 * limits) whose nodes all passed the node-level checks runs on WebGPU here; one with a failing node
 * fails here; an op in the verdict's CPU list runs on the CPU. Without per-node info the limits
 * are not checked and the op stays 'partial'.
 */
export function opInModel(op: string, info: ModelInfo, verdict: Verdict): OpInModel {
  if (verdict.failing.some((f) => f.op === op)) return { support: 'no', text: 'fails here' };
  if (verdict.cpuOps[op] !== undefined) return { support: 'cpu', text: 'CPU' };
  const s = opSupport(op, info.opset).support;
  if (s === 'partial') return info.nodes ? { support: 'yes', text: 'WebGPU (within its limits)' } : { support: 'partial', text: 'WebGPU (limits not checked)' };
  return { support: s, text: s === 'yes' ? 'WebGPU' : s === 'cpu' ? 'CPU' : 'fails here' };
}
