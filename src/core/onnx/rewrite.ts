/**
 * Graph rewrites that make models run on onnxruntime-web's WebGPU backend (the JSEP build that
 * the `onnxruntime-web` default import loads). What the backend cannot do, found by running
 * one-op models in Chromium (SwiftShader) with onnxruntime-web 1.30 and reading its kernels
 * (see webgpuOps.ts): 3D ConvTranspose; 3D Conv with pads that are not all equal, without explicit
 * strides/dilations attributes, or with groups (wrong numbers); 3D pools under the default NHWC
 * layout.
 *
 * rewriteConvTranspose3d: every 3D ConvTranspose becomes a sub-pixel ("phase") decomposition:
 *
 *   ConvTranspose(x, W, B; stride s, kernel k, dilation d, pads pb/pe, output_padding op)
 *     = Slice(DepthToSpace3D(Conv(x, W', B'; kernel M, pads P)))
 *
 * per spatial axis, with ke = (k - 1) d + 1 the dilated kernel extent and M = ceil(ke / s):
 *   y_full[q s + r] = sum_m x[q - m] w[r + m s]        (t = q s + r, 0 <= r < s)
 * i.e. for each phase r a plain convolution of x with the flipped sub-kernel w[r + (M-1-u) s]
 * (zero where r + (M-1-u) s >= ke). All s_d s_h s_w phases of all C_out channels are computed by
 * ONE Conv with C_out s_d s_h s_w output channels (channel = ((c s_d + r_d) s_h + r_h) s_w + r_w),
 * bias folded in (every output voxel of a ConvTranspose gets the bias, padding included).
 * Exact pads would be a = M - 1 - qs at the start (qs = min(floor(pb / s), M - 1, b) phases
 * skipped) and b = max(0, floor((ke - pe + op - 1) / s)) at the end; WebGPU's Conv3D needs all six
 * pads equal, so the Conv uses P = max over axes of a and b, and the extra (P - a) and (P - b)
 * phases are cut off by the final Slice. Depth-to-space: Reshape to 8D (N, C, s_d, s_h, s_w,
 * J_d, J_h, J_w), Transpose to (N, C, J_d, s_d, J_h, s_h, J_w, s_w), Reshape to 5D; the 8D/5D
 * targets are computed at run time from Shape(conv output), so dynamic input sizes work. The Slice
 * removes start = pb - qs s + (P - a) s voxels at the start and tail = (b + 1) s - ke + pe - op +
 * (P - b) s at the end, both independent of the input size, leaving (L - 1) s + ke - pb - pe + op
 * voxels per axis. With stride 1 on every axis it is one Conv (plus a Slice where pads differ).
 * New weights are computed here from the original float32 initializer; the original initializers
 * are dropped when nothing else uses them.
 *
 * rewriteForWebGpu: the above, plus
 *  - 3D Conv: explicit kernel_shape/strides/dilations; pads that are not all equal become equal
 *    pads + a Slice of the output where the strides allow, else a Pad node that also adds a zero
 *    channel (read with zero weights) so that ORT's PadFusion does not fold it back into the Conv;
 *    group > 1 becomes Split + one Conv per group + Concat;
 *  - 3D MaxPool/AveragePool (no dilations): two 2D pools, over (H, W) on (N, C*D, H, W) and over
 *    D on (N, C, D, H'*W'), exact because max and box averages are separable (also with
 *    count_include_pad = 0: the count of a box is a product of per-axis counts);
 *    GlobalAveragePool/GlobalMaxPool on 5D: ReduceMean/ReduceMax over axes 2, 3, 4;
 *  - MaxPool/AveragePool with ceil_mode=1 (1D, 2D, 3D): ceil_mode=0 with larger end pads
 *    (rewritePlan.ts ceilModePads); for AveragePool with count_include_pad=1 and non-zero pads,
 *    the pads become a Pad node (zeros, counted) and the pool gets count_include_pad=0, so that
 *    only the ceil overhang is left out of the divisor, as in onnxruntime and PyTorch.
 * Which nodes are rewritten is decided by rewritePlan.ts rewriteDecision, which the inspector's
 * verdict uses too.
 */
import { all, first, lenField, str, sub, type Field } from './proto';
import {
  attrInt,
  attrInts,
  attrString,
  attrTensorFields,
  DT,
  floatTensor,
  GRAPH,
  int64Tensor,
  makeNode,
  nameMaker,
  NODE,
  parseModelFields,
  readNode,
  tensorFloat32,
  TENSOR,
  valueInfoName,
  withGraph,
  type NodeInfo,
} from './graph';
import { inspectModel } from './model';
import { autoPadOf, ceilModePads, conv3dPlan, intAttr, intsAttr as ints, rewriteDecision, rewriteView, tensorRanks, type RewriteView } from './rewritePlan';

export { checkRewrite, type CheckResult, type ModelRunner, type RunFeed, type RunOutput } from './check';

export interface RewriteResult {
  bytes: Uint8Array;
  /** Number of nodes replaced. */
  rewritten: number;
  /** What was replaced: node name, op, and what it became. */
  changes: { node: string; op: string; to: string }[];
  /** Nodes that needed a rewrite but were left as they were, and why. */
  skipped: { node: string; op: string; reason: string }[];
}

interface AxisPlan {
  s: number;
  M: number;
  a: number;
  b: number;
  start: number;
  tail: number;
}

/** Per-axis parameters of the ConvTranspose decomposition with exact pads a/b (see the file comment). */
export function planAxis(k: number, s: number, d: number, pb: number, pe: number, op: number): AxisPlan {
  const ke = (k - 1) * d + 1;
  const M = Math.ceil(ke / s);
  const b = Math.max(0, Math.floor((ke - pe + op - 1) / s));
  const qs = Math.max(0, Math.min(Math.floor(pb / s), M - 1, b));
  return { s, M, a: M - 1 - qs, b, start: pb - qs * s, tail: (b + 1) * s - ke + pe - op };
}

interface Ctx {
  opset: number;
  /** TensorProto fields of an initializer or Constant output, if constant. */
  fields(name: string): Field[] | undefined;
  newName(base: string): string;
  /** The model as rewriteDecision sees it. */
  view: RewriteView;
}

interface Emitted {
  nodes: Field[];
  inits: Field[][];
  to: string;
}

/** int64 initializer + its name. */
function constI64(ctx: Ctx, inits: Field[][], base: string, values: number[]): string {
  const n = ctx.newName(base);
  inits.push(int64Tensor(n, [values.length], values));
  return n;
}

/** float32 weights of a constant (rewriteDecision has checked that they are float32 and inline). */
function floatWeights(ctx: Ctx, name: string): { w: Float32Array; dims: number[] } {
  const t = ctx.fields(name);
  const s = ctx.view.tensor(name);
  if (!t || !s || s.dataType !== DT.FLOAT || s.external) throw new Error(`'${name}' is not an inline float32 constant`);
  return { w: tensorFloat32(t), dims: s.dims };
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose 3D

function rewriteConvTranspose(n: NodeInfo, ctx: Ctx): Emitted {
  const { w, dims: wd } = floatWeights(ctx, n.inputs[1]);
  const [cin, coutG, ...k] = wd;
  const autoPad = autoPadOf(n);
  const strides = ints(n.attrs.strides, 3, 1);
  const dil = ints(n.attrs.dilations, 3, 1);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0, 0, 0] : ints(n.attrs.pads, 6, 0);
  const outPad = ints(n.attrs.output_padding, 3, 0);
  const cout = coutG;
  const plan = [0, 1, 2].map((i) => planAxis(k[i], strides[i], dil[i], pads[i], pads[i + 3], outPad[i]));
  // WebGPU's Conv3D wants all six pads equal: pad P everywhere, cut the extra phases off in the Slice
  const P = Math.max(...plan.map((p) => Math.max(p.a, p.b)));
  for (const p of plan) {
    p.start += (P - p.a) * p.s;
    p.tail += (P - p.b) * p.s;
  }
  const [sd, sh, sw] = strides;
  const S = sd * sh * sw;
  const [Md, Mh, Mw] = plan.map((p) => p.M);
  const ked = k.map((v, i) => (v - 1) * dil[i] + 1);

  // W: (Cin, Cout, kd, kh, kw) -> W': (Cout S, Cin, Md, Mh, Mw)
  const wp = new Float32Array(cout * S * cin * Md * Mh * Mw);
  const [kd, kh, kw] = k;
  for (let c = 0; c < cout; c++)
    for (let rd = 0; rd < sd; rd++)
      for (let rh = 0; rh < sh; rh++)
        for (let rw = 0; rw < sw; rw++) {
          const oc = ((c * sd + rd) * sh + rh) * sw + rw;
          for (let ci = 0; ci < cin; ci++)
            for (let ud = 0; ud < Md; ud++) {
              const td = rd + (Md - 1 - ud) * sd;
              if (td >= ked[0] || td % dil[0]) continue;
              for (let uh = 0; uh < Mh; uh++) {
                const th = rh + (Mh - 1 - uh) * sh;
                if (th >= ked[1] || th % dil[1]) continue;
                for (let uw = 0; uw < Mw; uw++) {
                  const tw = rw + (Mw - 1 - uw) * sw;
                  if (tw >= ked[2] || tw % dil[2]) continue;
                  const src = (((ci * cout + c) * kd + td / dil[0]) * kh + th / dil[1]) * kw + tw / dil[2];
                  wp[(((oc * cin + ci) * Md + ud) * Mh + uh) * Mw + uw] = w[src];
                }
              }
            }
        }
  const base = n.name || n.outputs[0];
  const y = n.outputs[0];
  const nodes: Field[] = [];
  const inits: Field[][] = [];
  const wName = ctx.newName(`${base}_phase_W`);
  inits.push(floatTensor(wName, [cout * S, cin, Md, Mh, Mw], wp));
  const convIn = [n.inputs[0], wName];
  if (n.inputs[2]) {
    const { w: bv } = floatWeights(ctx, n.inputs[2]);
    const bp = new Float32Array(cout * S);
    for (let c = 0; c < cout; c++) bp.fill(bv[c], c * S, (c + 1) * S);
    const bName = ctx.newName(`${base}_phase_B`);
    inits.push(floatTensor(bName, [cout * S], bp));
    convIn.push(bName);
  }
  const needSlice = plan.some((p) => p.start > 0 || p.tail > 0);
  const convAttrs = [attrInts('kernel_shape', [Md, Mh, Mw]), attrInts('pads', [P, P, P, P, P, P]), attrInts('strides', [1, 1, 1]), attrInts('dilations', [1, 1, 1]), attrInt('group', 1)];
  let cur: string;
  const parts = ['Conv'];
  if (S === 1) {
    cur = needSlice ? ctx.newName(`${base}_conv`) : y;
    nodes.push(makeNode('Conv', convIn, [cur], ctx.newName(`${base}_phase_conv`), convAttrs));
  } else {
    const z = ctx.newName(`${base}_phases`);
    nodes.push(makeNode('Conv', convIn, [z], ctx.newName(`${base}_phase_conv`), convAttrs));
    const zs = ctx.newName(`${base}_phases_shape`);
    nodes.push(makeNode('Shape', [z], [zs], ctx.newName(`${base}_shape`)));
    const nN = ctx.newName(`${base}_n`);
    const j3 = ctx.newName(`${base}_j`);
    nodes.push(makeNode('Gather', [zs, constI64(ctx, inits, `${base}_i0`, [0])], [nN], ctx.newName(`${base}_gather_n`), [attrInt('axis', 0)]));
    nodes.push(makeNode('Gather', [zs, constI64(ctx, inits, `${base}_i234`, [2, 3, 4])], [j3], ctx.newName(`${base}_gather_j`), [attrInt('axis', 0)]));
    const t8 = ctx.newName(`${base}_shape8`);
    nodes.push(makeNode('Concat', [nN, constI64(ctx, inits, `${base}_c8`, [cout, sd, sh, sw]), j3], [t8], ctx.newName(`${base}_concat8`), [attrInt('axis', 0)]));
    const z8 = ctx.newName(`${base}_phases8`);
    nodes.push(makeNode('Reshape', [z, t8], [z8], ctx.newName(`${base}_reshape8`)));
    const zt = ctx.newName(`${base}_interleaved`);
    nodes.push(makeNode('Transpose', [z8], [zt], ctx.newName(`${base}_transpose`), [attrInts('perm', [0, 1, 5, 2, 6, 3, 7, 4])]));
    const js = ctx.newName(`${base}_js`);
    nodes.push(makeNode('Mul', [j3, constI64(ctx, inits, `${base}_strides`, [sd, sh, sw])], [js], ctx.newName(`${base}_mul`)));
    const t5 = ctx.newName(`${base}_shape5`);
    nodes.push(makeNode('Concat', [nN, constI64(ctx, inits, `${base}_cout`, [cout]), js], [t5], ctx.newName(`${base}_concat5`), [attrInt('axis', 0)]));
    cur = needSlice ? ctx.newName(`${base}_full`) : y;
    nodes.push(makeNode('Reshape', [zt, t5], [cur], ctx.newName(`${base}_reshape5`)));
    parts.push('depth-to-space');
  }
  if (needSlice) {
    const axes = [0, 1, 2].filter((i) => plan[i].start > 0 || plan[i].tail > 0);
    const st = constI64(ctx, inits, `${base}_starts`, axes.map((i) => plan[i].start));
    const en = constI64(ctx, inits, `${base}_ends`, axes.map((i) => (plan[i].tail > 0 ? -plan[i].tail : Number.MAX_SAFE_INTEGER)));
    const ax = constI64(ctx, inits, `${base}_axes`, axes.map((i) => i + 2));
    nodes.push(makeNode('Slice', [cur, st, en, ax], [y], ctx.newName(`${base}_slice`)));
    parts.push('Slice');
  }
  return { nodes, inits, to: parts.join(' + ') };
}

// ---------------------------------------------------------------------------------------------
// Conv 3D: explicit attributes, equal pads, no groups

function rewriteConv3d(n: NodeInfo, ctx: Ctx): Emitted {
  const { wd, group, pads, strides, sameUpper, equalPads, explicit, P, sliceable } = conv3dPlan(n, ctx.view);
  const k = wd!.slice(2);
  const dil = ints(n.attrs.dilations, 3, 1);
  const base = n.name || n.outputs[0];
  const nodes: Field[] = [];
  const inits: Field[][] = [];
  const parts: string[] = [];
  let x = n.inputs[0];
  let convPads = pads;
  let slice: { starts: number[]; ends: number[]; axes: number[] } | null = null;
  let zeroChannel = false;
  if (!equalPads) {
    // WebGPU's Conv3D needs all six pads equal. Where the strides allow, pad P = max everywhere
    // and Slice the surplus off the output; else pad in a Pad node. ORT's PadFusion would fold
    // that Pad back into the Conv's pads, unless it also pads a non-spatial dim: so it adds one
    // zero channel, which the Conv reads with zero weights.
    if (sliceable) {
      convPads = [P, P, P, P, P, P];
      const axes = [0, 1, 2].filter((i) => pads[i] !== P || pads[i + 3] !== P);
      slice = {
        starts: axes.map((i) => (P - pads[i]) / strides[i]),
        ends: axes.map((i) => (pads[i + 3] < P ? -(P - pads[i + 3]) : Number.MAX_SAFE_INTEGER)),
        axes: axes.map((i) => i + 2),
      };
    } else {
      const px = ctx.newName(`${base}_padded`);
      nodes.push(makeNode('Pad', [x, constI64(ctx, inits, `${base}_pads`, [0, 0, pads[0], pads[1], pads[2], 0, 1, pads[3], pads[4], pads[5]])], [px], ctx.newName(`${base}_pad`)));
      x = px;
      convPads = [0, 0, 0, 0, 0, 0];
      zeroChannel = true;
      parts.push('Pad (+ a zero channel)');
    }
  }
  const attrs = () => [
    attrInts('kernel_shape', k),
    attrInts('strides', strides),
    attrInts('dilations', dil),
    attrInt('group', 1),
    ...(sameUpper ? [attrString('auto_pad', 'SAME_UPPER')] : [attrInts('pads', convPads)]),
  ];
  const y = n.outputs[0];
  const convOut = slice ? ctx.newName(`${base}_unsliced`) : y;
  const kk = k[0] * k[1] * k[2];
  /** A weight (co, ci + 1, k) with a zero last input channel. */
  const withZeroChannel = (w: Float32Array, co: number, ci: number): Float32Array => {
    const out = new Float32Array(co * (ci + 1) * kk);
    for (let o = 0; o < co; o++) out.set(w.subarray(o * ci * kk, (o + 1) * ci * kk), o * (ci + 1) * kk);
    return out;
  };
  if (group === 1) {
    let wName = n.inputs[1];
    if (zeroChannel) {
      const { w, dims } = floatWeights(ctx, n.inputs[1]);
      wName = ctx.newName(`${base}_W`);
      inits.push(floatTensor(wName, [dims[0], dims[1] + 1, ...k], withZeroChannel(w, dims[0], dims[1])));
    }
    nodes.push(makeNode('Conv', [x, wName, ...(n.inputs[2] ? [n.inputs[2]] : [])], [convOut], ctx.newName(`${base}_conv`), attrs()));
    parts.push(explicit ? 'Conv' : 'Conv with explicit attributes');
  } else {
    // groups: Split the input channels, one Conv per group, Concat the outputs
    const { w, dims } = floatWeights(ctx, n.inputs[1]);
    const [cout, cinG] = dims;
    const coutG = cout / group;
    const per = coutG * cinG * kk;
    const bias = n.inputs[2] ? floatWeights(ctx, n.inputs[2]).w : null;
    const xs = Array.from({ length: group }, (_, g) => ctx.newName(`${base}_x${g}`));
    const sizes = Array.from({ length: group }, (_, g) => cinG + (zeroChannel && g === group - 1 ? 1 : 0));
    const splitAttrs = ctx.opset >= 13 ? [] : [attrInts('split', sizes)];
    const splitIn = ctx.opset >= 13 ? [x, constI64(ctx, inits, `${base}_split`, sizes)] : [x];
    nodes.push(makeNode('Split', splitIn, xs, ctx.newName(`${base}_split_node`), [attrInt('axis', 1), ...splitAttrs]));
    const ys: string[] = [];
    for (let g = 0; g < group; g++) {
      const wn = ctx.newName(`${base}_W${g}`);
      const wg = w.subarray(g * per, (g + 1) * per);
      inits.push(sizes[g] > cinG ? floatTensor(wn, [coutG, cinG + 1, ...k], withZeroChannel(wg, coutG, cinG)) : floatTensor(wn, [coutG, cinG, ...k], wg));
      const ins = [xs[g], wn];
      if (bias) {
        const bn = ctx.newName(`${base}_B${g}`);
        inits.push(floatTensor(bn, [coutG], bias.subarray(g * coutG, (g + 1) * coutG)));
        ins.push(bn);
      }
      const yg = ctx.newName(`${base}_y${g}`);
      nodes.push(makeNode('Conv', ins, [yg], ctx.newName(`${base}_conv${g}`), attrs()));
      ys.push(yg);
    }
    nodes.push(makeNode('Concat', ys, [convOut], ctx.newName(`${base}_concat`), [attrInt('axis', 1)]));
    parts.push(`Split + ${group} Convs + Concat`);
  }
  if (slice) {
    nodes.push(makeNode('Slice', [convOut, constI64(ctx, inits, `${base}_starts`, slice.starts), constI64(ctx, inits, `${base}_ends`, slice.ends), constI64(ctx, inits, `${base}_axes`, slice.axes)], [y], ctx.newName(`${base}_slice`)));
    parts.push('Slice');
  }
  return { nodes, inits, to: parts.join(' + ') };
}

// ---------------------------------------------------------------------------------------------
// pools: 3D ones as 2D pools, ceil_mode as end pads

function rewritePool(n: NodeInfo, ctx: Ctx): Emitted {
  const base = n.name || n.outputs[0];
  const nodes: Field[] = [];
  const inits: Field[][] = [];
  if (n.op === 'GlobalAveragePool' || n.op === 'GlobalMaxPool') {
    const op = n.op === 'GlobalAveragePool' ? 'ReduceMean' : 'ReduceMax';
    // ReduceMean takes axes as an input from opset 18 (ReduceMax too)
    if (ctx.opset >= 18) nodes.push(makeNode(op, [n.inputs[0], constI64(ctx, inits, `${base}_axes`, [2, 3, 4])], [n.outputs[0]], ctx.newName(`${base}_reduce`), [attrInt('keepdims', 1)]));
    else nodes.push(makeNode(op, [n.inputs[0]], [n.outputs[0]], ctx.newName(`${base}_reduce`), [attrInts('axes', [2, 3, 4]), attrInt('keepdims', 1)]));
    return { nodes, inits, to: op };
  }
  const k = n.attrs.kernel_shape as number[];
  const nd = k.length;
  const s = ints(n.attrs.strides, nd, 1);
  let p = autoPadOf(n) === 'VALID' ? Array(2 * nd).fill(0) : ints(n.attrs.pads, 2 * nd, 0);
  let cip = intAttr(n.attrs.count_include_pad, 0);
  let x = n.inputs[0];
  const parts: string[] = [];
  if (intAttr(n.attrs.ceil_mode, 0)) {
    if (n.op === 'AveragePool' && cip && p.some((v) => v > 0)) {
      // explicit pads counted in the average: real zeros from a Pad node; only the ceil overhang is left out
      const px = ctx.newName(`${base}_padded`);
      nodes.push(makeNode('Pad', [x, constI64(ctx, inits, `${base}_pads`, [0, 0, ...p.slice(0, nd), 0, 0, ...p.slice(nd)])], [px], ctx.newName(`${base}_pad`)));
      x = px;
      p = [...Array(nd).fill(0), ...ceilModePads(k, s, p).slice(nd).map((e, i) => e - p[nd + i])];
      parts.push('Pad');
    } else p = ceilModePads(k, s, p);
    // the overhang is padding, which count_include_pad=0 leaves out (with zero pads both counts agree)
    cip = 0;
    parts.push('end pads for ceil_mode');
  }
  const extra = n.op === 'AveragePool' ? [attrInt('count_include_pad', cip)] : [];
  if (nd < 3) {
    nodes.push(makeNode(n.op, [x], [n.outputs[0]], ctx.newName(`${base}_pool`), [attrInts('kernel_shape', k), attrInts('strides', s), attrInts('pads', p), ...extra]));
    return { nodes, inits, to: `${n.op} without ceil_mode (${parts.join(', ')})` };
  }
  const done = (to: string) => ({ nodes, inits, to: parts.length ? `${to} (${parts.join(', ')})` : to });
  const xs = ctx.newName(`${base}_in_shape`);
  nodes.push(makeNode('Shape', [x], [xs], ctx.newName(`${base}_shape_in`)));
  const g = (idx: number[], what: string) => {
    const o = ctx.newName(`${base}_${what}`);
    nodes.push(makeNode('Gather', [xs, constI64(ctx, inits, `${base}_i_${what}`, idx)], [o], ctx.newName(`${base}_gather_${what}`), [attrInt('axis', 0)]));
    return o;
  };
  const n0 = g([0], 'n');
  const nc = g([0, 1], 'nc');
  const d = g([2], 'd');
  const hw = g([3, 4], 'hw');
  const minus1 = constI64(ctx, inits, `${base}_m1`, [-1]);
  // (N, C, D, H, W) -> (N, C*D, H, W) -> pool over H, W
  const t1 = ctx.newName(`${base}_t1`);
  nodes.push(makeNode('Concat', [n0, minus1, hw], [t1], ctx.newName(`${base}_concat1`), [attrInt('axis', 0)]));
  const r1 = ctx.newName(`${base}_r1`);
  nodes.push(makeNode('Reshape', [x, t1], [r1], ctx.newName(`${base}_reshape1`)));
  const p1 = ctx.newName(`${base}_hw_pooled`);
  nodes.push(makeNode(n.op, [r1], [p1], ctx.newName(`${base}_pool_hw`), [attrInts('kernel_shape', [k[1], k[2]]), attrInts('strides', [s[1], s[2]]), attrInts('pads', [p[1], p[2], p[4], p[5]]), ...extra]));
  const ps = ctx.newName(`${base}_hw_shape`);
  nodes.push(makeNode('Shape', [p1], [ps], ctx.newName(`${base}_shape_hw`)));
  const hw2 = ctx.newName(`${base}_hw2`);
  nodes.push(makeNode('Gather', [ps, constI64(ctx, inits, `${base}_i23`, [2, 3])], [hw2], ctx.newName(`${base}_gather_hw2`), [attrInt('axis', 0)]));
  const trivialD = k[0] === 1 && s[0] === 1 && p[0] === 0 && p[3] === 0;
  if (trivialD) {
    const t = ctx.newName(`${base}_t_out`);
    nodes.push(makeNode('Concat', [nc, d, hw2], [t], ctx.newName(`${base}_concat_out`), [attrInt('axis', 0)]));
    nodes.push(makeNode('Reshape', [p1, t], [n.outputs[0]], ctx.newName(`${base}_reshape_out`)));
    return done(`2D ${n.op} over (H, W) + Reshapes`);
  }
  // (N, C*D, H', W') -> (N, C, D, H'*W') -> pool over D
  const t2 = ctx.newName(`${base}_t2`);
  nodes.push(makeNode('Concat', [nc, d, minus1], [t2], ctx.newName(`${base}_concat2`), [attrInt('axis', 0)]));
  const r2 = ctx.newName(`${base}_r2`);
  nodes.push(makeNode('Reshape', [p1, t2], [r2], ctx.newName(`${base}_reshape2`)));
  const p2 = ctx.newName(`${base}_d_pooled`);
  nodes.push(makeNode(n.op, [r2], [p2], ctx.newName(`${base}_pool_d`), [attrInts('kernel_shape', [k[0], 1]), attrInts('strides', [s[0], 1]), attrInts('pads', [p[0], 0, p[3], 0]), ...extra]));
  const t3 = ctx.newName(`${base}_t3`);
  nodes.push(makeNode('Concat', [nc, minus1, hw2], [t3], ctx.newName(`${base}_concat3`), [attrInt('axis', 0)]));
  nodes.push(makeNode('Reshape', [p2, t3], [n.outputs[0]], ctx.newName(`${base}_reshape3`)));
  return done(`2D ${n.op} over (H, W) and over D + Reshapes`);
}

// ---------------------------------------------------------------------------------------------
// driver

type Handler = (n: NodeInfo, ctx: Ctx) => Emitted;

/**
 * Rewrites the nodes whose op has a handler and for which rewriteDecision says 'rewrite'. `ranks`:
 * tensor ranks known from an earlier state of the graph (they win over the ones found here).
 */
function applyRewrites(bytes: Uint8Array, handlers: Record<string, Handler>, ranks?: Map<string, number>): RewriteResult & { ranks: Map<string, number> } {
  const { model, graph, opset } = parseModelFields(bytes);
  const inits = new Map<string, Field[]>();
  for (const f of all(graph, GRAPH.initializer)) {
    const t = sub(f);
    const nm = first(t, TENSOR.name);
    if (nm) inits.set(str(nm), t);
  }
  const constants = new Map<string, Field[]>();
  const uses = new Map<string, number>();
  for (const f of all(graph, GRAPH.node)) {
    const nf = sub(f);
    const n = readNode(nf);
    if (n.op === 'Constant' && !n.domain) {
      const t = attrTensorFields(nf, 'value');
      if (t) constants.set(n.outputs[0], t);
    }
    for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of all(graph, GRAPH.output)) uses.set(valueInfoName(o), (uses.get(valueInfoName(o)) ?? 0) + 1);
  const info = inspectModel(bytes);
  const allRanks = tensorRanks(info);
  for (const [k, v] of ranks ?? []) allRanks.set(k, v);
  const view = rewriteView(info, allRanks);
  const ctx: Ctx = {
    opset,
    fields: (name) => inits.get(name) ?? constants.get(name),
    newName: nameMaker(graph),
    view,
  };

  const changes: RewriteResult['changes'] = [];
  const skipped: RewriteResult['skipped'] = [];
  const newInits: Field[][] = [];
  const released = new Set<string>();
  const out: Field[] = [];
  for (const f of graph) {
    if (f.no !== GRAPH.node) {
      out.push(f);
      continue;
    }
    const n = readNode(sub(f));
    const h = n.domain ? undefined : handlers[n.op];
    const d = h ? rewriteDecision(n, view) : 'keep';
    if (!h || d === 'keep') {
      out.push(f);
      continue;
    }
    if (d !== 'rewrite') {
      skipped.push({ node: n.name || n.outputs[0], op: n.op, reason: d.skip });
      out.push(f);
      continue;
    }
    const e = h(n, ctx);
    out.push(...e.nodes);
    newInits.push(...e.inits);
    const stillUsed = new Set(e.nodes.flatMap((x) => all(sub(x), NODE.input).map(str)));
    for (const i of n.inputs) {
      if (stillUsed.has(i)) continue;
      uses.set(i, (uses.get(i) ?? 1) - 1);
      released.add(i);
    }
    changes.push({ node: n.name || n.outputs[0], op: n.op, to: e.to });
  }
  if (!changes.length) return { bytes, rewritten: 0, changes, skipped, ranks: allRanks };

  // drop initializers (and their legacy graph-input entries) and Constant nodes nothing uses any more
  const unused = (name: string) => released.has(name) && (inits.has(name) || constants.has(name)) && (uses.get(name) ?? 0) <= 0;
  const graphOut: Field[] = [];
  let lastInit = -1;
  for (const f of out) {
    if (f.no === GRAPH.node) {
      const nf = sub(f);
      const op = first(nf, NODE.opType);
      const outs = all(nf, NODE.output).map(str);
      if (op && str(op) === 'Constant' && !first(nf, NODE.domain) && outs.length === 1 && unused(outs[0])) continue;
      graphOut.push(f);
    } else if (f.no === GRAPH.initializer) {
      const nm = first(sub(f), TENSOR.name);
      if (nm && unused(str(nm))) continue;
      graphOut.push(f);
      lastInit = graphOut.length - 1;
    } else if (f.no === GRAPH.input && unused(valueInfoName(f))) continue;
    else graphOut.push(f);
  }
  const added = newInits.map((t) => lenField(GRAPH.initializer, t));
  if (lastInit >= 0) graphOut.splice(lastInit + 1, 0, ...added);
  else graphOut.push(...added);
  return { bytes: withGraph(model, graphOut), rewritten: changes.length, changes, skipped, ranks: allRanks };
}

/**
 * Replaces every 3D ConvTranspose (group 1, any stride/kernel/pads/output_padding/dilation,
 * with or without bias, auto_pad NOTSET or VALID, float32 weights in an initializer or Constant)
 * by Conv + Shape/Gather/Concat/Mul + Reshape/Transpose/Reshape + Slice. Other nodes and fields
 * are kept byte for byte. Nodes it cannot rewrite are listed in `skipped`.
 */
export function rewriteConvTranspose3d(bytes: Uint8Array): RewriteResult {
  const { ranks: _r, ...r } = applyRewrites(bytes, { ConvTranspose: rewriteConvTranspose });
  return r;
}

/**
 * All rewrites for the WebGPU backend: 3D ConvTranspose, 3D Conv (attributes, pads, groups), 3D
 * pools, pools with ceil_mode. What it rewrites and what it leaves: rewritePlan.ts rewriteDecision.
 */
export function rewriteForWebGpu(bytes: Uint8Array): RewriteResult {
  // two passes (ConvTranspose first), with the ranks of the original graph in the second
  const a = applyRewrites(bytes, { ConvTranspose: rewriteConvTranspose });
  const b = applyRewrites(a.bytes, { Conv: rewriteConv3d, MaxPool: rewritePool, AveragePool: rewritePool, GlobalAveragePool: rewritePool, GlobalMaxPool: rewritePool }, a.ranks);
  return { bytes: b.bytes, rewritten: a.rewritten + b.rewritten, changes: [...a.changes, ...b.changes], skipped: [...a.skipped, ...b.skipped] };
}

/** Number of nodes of one op type (default domain) in a model's main graph. */
export function countOps(bytes: Uint8Array, op: string): number {
  const { graph } = parseModelFields(bytes);
  return all(graph, GRAPH.node).filter((f) => {
    const t = first(sub(f), NODE.opType);
    return t && str(t) === op;
  }).length;
}
