/**
 * What rewriteForWebGpu (./rewrite.ts) does with each node, decided from a ModelInfo alone: the
 * rewrite asks rewriteDecision for every node and rewrites exactly the nodes it says 'rewrite'
 * for, and the inspector (./webgpuOps.ts verdictFor) counts the failing nodes it says 'rewrite'
 * for. So the inspector's promise ("convert --webgpu fixes k of the N failing nodes") is what
 * convert then does. Pure, no onnxruntime.
 */
import type { ModelInfo, NodeInfo, TensorSummary } from './model';

export interface RewriteView {
  opset: number;
  /** Summary of a constant tensor (initializer or Constant output), or undefined. */
  tensor(name: string): TensorSummary | undefined;
  /** Rank of a tensor where known (inputs, initializers, rank-preserving ops). */
  rank(name: string): number | undefined;
}

/** 'keep': nothing to do; 'rewrite': the rewrite replaces it; { skip }: it needs one but is left as it is, and why. */
export type RewriteDecision = 'keep' | 'rewrite' | { skip: string };

const RANK_KEEPING = new Set(['Conv', 'ConvTranspose', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Gelu', 'Erf', 'Clip', 'Add', 'Sub', 'Mul', 'Div', 'Pow',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'Concat', 'Resize', 'Upsample', 'Pad', 'Slice', 'Softmax', 'Dropout', 'Identity', 'Cast', 'Sqrt', 'Exp', 'Neg', 'Abs', 'PRelu', 'HardSigmoid',
  'HardSwish', 'Softplus', 'Where', 'Max', 'Min', 'Sum', 'Mean', 'Split', 'GridSample', 'Tile', 'Expand', 'Reciprocal']);

/** Tensor ranks propagated through the graph where cheap: rank-preserving ops keep their first input's rank. */
export function tensorRanks(info: ModelInfo, inputRanks?: Record<string, number>): Map<string, number> {
  const r = new Map<string, number>();
  for (const i of info.inputs) r.set(i.name, inputRanks?.[i.name] ?? i.dims.length);
  for (const t of info.initializers ?? []) r.set(t.name, t.dims.length);
  for (const n of info.nodes ?? []) {
    const x = r.get(n.inputs[0]);
    if (x !== undefined && RANK_KEEPING.has(n.op) && !n.domain) for (const o of n.outputs) r.set(o, x);
  }
  return r;
}

/** A RewriteView of a model (ranks: tensorRanks, plus `ranks` given, which win). */
export function rewriteView(info: ModelInfo, ranks: Map<string, number> = tensorRanks(info)): RewriteView {
  const consts = new Map<string, TensorSummary>();
  for (const t of info.initializers ?? []) consts.set(t.name, t);
  for (const n of info.nodes ?? []) {
    const v = n.attrs.value;
    if (n.op === 'Constant' && !n.domain && v && typeof v === 'object' && 'tensor' in v) consts.set(n.outputs[0], v.tensor);
  }
  return { opset: info.opset, tensor: (name) => consts.get(name), rank: (name) => ranks.get(name) };
}

type Attr = NodeInfo['attrs'][string] | undefined;
export const intsAttr = (v: Attr, n: number, dflt: number): number[] => (Array.isArray(v) && v.length ? (v as number[]).slice() : Array(n).fill(dflt));
export const intAttr = (v: Attr, dflt: number): number => (typeof v === 'number' ? v : dflt);
export const autoPadOf = (n: NodeInfo): string => (typeof n.attrs.auto_pad === 'string' && n.attrs.auto_pad ? n.attrs.auto_pad : 'NOTSET');

const skip = (reason: string): RewriteDecision => ({ skip: reason });

/** Why a constant cannot be read as float32 weights, or null. */
function floatConstProblem(v: RewriteView, name: string, what: string): string | null {
  const t = v.tensor(name);
  if (!t) return `its ${what} is not an initializer or Constant`;
  if (t.external) return `its ${what} is in an external data file (inline the external data first)`;
  if (t.dataType !== 1) return `its ${what} is ${t.dataType === 10 ? 'float16' : `of type ${t.dataType}`} (float32 only; convert to float16 after the rewrite)`;
  return null;
}

function convTransposeDecision(n: NodeInfo, v: RewriteView): RewriteDecision {
  const wt = v.tensor(n.inputs[1]);
  if ((wt ? wt.dims.length : v.rank(n.inputs[0])) !== 5) return 'keep';
  if (v.opset < 10) return skip(`opset ${v.opset} (the rewrite needs opset >= 10)`);
  const wp = floatConstProblem(v, n.inputs[1], 'weight');
  if (wp) return skip(wp);
  const k = wt!.dims.slice(2);
  const group = intAttr(n.attrs.group, 1);
  if (group !== 1) return skip(`group ${group} (only group 1)`);
  const autoPad = autoPadOf(n);
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return skip(`auto_pad ${autoPad} (only NOTSET or VALID)`);
  if (Array.isArray(n.attrs.output_shape) && n.attrs.output_shape.length) return skip('it sets output_shape (give pads and output_padding instead)');
  if (Array.isArray(n.attrs.kernel_shape) && (n.attrs.kernel_shape as number[]).some((x, i) => x !== k[i])) return skip(`kernel_shape [${n.attrs.kernel_shape}] does not match the weight's [${k}]`);
  const lens = [intsAttr(n.attrs.strides, 3, 1).length, intsAttr(n.attrs.dilations, 3, 1).length, intsAttr(n.attrs.pads, 6, 0).length, intsAttr(n.attrs.output_padding, 3, 0).length];
  if (lens.join() !== '3,3,6,3') return skip('attribute lengths do not fit a 3D ConvTranspose');
  if (n.inputs[2]) {
    const bp = floatConstProblem(v, n.inputs[2], 'bias');
    if (bp) return skip(bp);
    if (v.tensor(n.inputs[2])!.size !== wt!.dims[1]) return skip(`its bias has ${v.tensor(n.inputs[2])!.size} values for ${wt!.dims[1]} channels`);
  }
  return 'rewrite';
}

/** The 3D Conv facts both the decision and the rewrite use. */
export function conv3dPlan(n: NodeInfo, v: RewriteView) {
  const wd = v.tensor(n.inputs[1])?.dims;
  const rank = wd?.length ?? v.rank(n.inputs[0]);
  const group = intAttr(n.attrs.group, 1);
  const autoPad = autoPadOf(n);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0, 0, 0] : intsAttr(n.attrs.pads, 6, 0);
  const strides = intsAttr(n.attrs.strides, 3, 1);
  const explicit = ['kernel_shape', 'strides', 'dilations'].every((a) => Array.isArray(n.attrs[a]) && (n.attrs[a] as number[]).length === 3);
  const sameUpper = autoPad === 'SAME_UPPER';
  const equalPads = sameUpper || pads.every((p) => p === pads[0]);
  const P = Math.max(...pads);
  // unequal pads: equal pads P + a Slice where the strides allow, else a Pad node (+ a zero channel)
  const sliceable = [0, 1, 2].every((i) => (P - pads[i]) % strides[i] === 0 && (strides[i] === 1 || pads[i + 3] === P));
  return { wd, rank, group, autoPad, pads, strides, explicit, sameUpper, equalPads, P, sliceable, needed: !(explicit && equalPads && group === 1) };
}

function conv3dDecision(n: NodeInfo, v: RewriteView): RewriteDecision {
  const c = conv3dPlan(n, v);
  if (c.rank !== 5 || !c.needed) return 'keep';
  if (!c.wd) return skip('its weight is not an initializer or Constant');
  if (c.autoPad === 'SAME_LOWER' || (c.sameUpper && c.group > 1)) return skip(`auto_pad ${c.autoPad} (give explicit pads)`);
  const zeroChannel = !c.equalPads && !c.sliceable;
  if (zeroChannel && v.opset < 11) return skip(`opset ${v.opset} (a Pad with a pads input needs opset >= 11)`);
  if (c.group > 1 && v.opset < 11) return skip(`opset ${v.opset} (the group rewrite needs opset >= 11)`);
  if (zeroChannel || c.group > 1) {
    const wp = floatConstProblem(v, n.inputs[1], 'weight');
    if (wp) return skip(wp);
  }
  if (c.group > 1) {
    if (c.wd[0] % c.group) return skip(`${c.wd[0]} output channels do not split into ${c.group} groups`);
    if (n.inputs[2]) {
      const bp = floatConstProblem(v, n.inputs[2], 'bias');
      if (bp) return skip(bp);
    }
  }
  return 'rewrite';
}

function poolDecision(n: NodeInfo, v: RewriteView): RewriteDecision {
  if (n.op === 'GlobalAveragePool' || n.op === 'GlobalMaxPool') return v.rank(n.inputs[0]) === 5 ? 'rewrite' : 'keep';
  const k = Array.isArray(n.attrs.kernel_shape) ? (n.attrs.kernel_shape as number[]) : [];
  const ceil = intAttr(n.attrs.ceil_mode, 0) === 1;
  if (k.length !== 3 && !(ceil && k.length >= 1)) return 'keep';
  if (v.opset < 11) return skip(`opset ${v.opset} (the rewrite needs opset >= 11)`);
  if (n.outputs.length > 1 && n.outputs[1]) return skip('it outputs Indices');
  if (intsAttr(n.attrs.dilations, k.length, 1).some((d) => d !== 1)) return skip('dilations (WebGPU MaxPool gives wrong numbers with dilations)');
  if (intAttr(n.attrs.storage_order, 0)) return skip('storage_order=1');
  const autoPad = autoPadOf(n);
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return skip(`auto_pad ${autoPad} (give explicit pads)`);
  return 'rewrite';
}

/** The ops rewriteForWebGpu has rewrites for. */
export const REWRITE_OPS = ['ConvTranspose', 'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool'] as const;

/** What rewriteForWebGpu does with one node (default domain; other domains: 'keep'). */
export function rewriteDecision(n: NodeInfo, v: RewriteView): RewriteDecision {
  if (n.domain) return 'keep';
  switch (n.op) {
    case 'ConvTranspose':
      return convTransposeDecision(n, v);
    case 'Conv':
      return conv3dDecision(n, v);
    case 'MaxPool':
    case 'AveragePool':
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return poolDecision(n, v);
    default:
      return 'keep';
  }
}

/**
 * Pads of a pool with ceil_mode=1 as a pool without it: per axis, the end pad grows by
 * min(s - 1, k - pe - 1). Windows then end where ceil_mode's do, and a last window that would
 * start in the end padding (which ceil_mode drops, as PyTorch and onnxruntime do) is not made:
 * with d = k - pe < s the count floor((L + pb - 1) / s) + 1 is exactly that. The added pads are
 * padding, so they are ignored by MaxPool and by AveragePool with count_include_pad=0.
 */
export function ceilModePads(k: readonly number[], s: readonly number[], pads: readonly number[]): number[] {
  const nd = k.length;
  const out = pads.slice();
  for (let i = 0; i < nd; i++) out[nd + i] += Math.max(0, Math.min(s[i] - 1, k[i] - pads[nd + i] - 1));
  return out;
}
