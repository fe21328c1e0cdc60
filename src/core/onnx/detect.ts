/**
 * What a model says about itself, read from its graph (ModelInfo): a leading division by 255
 * (input scaling done inside the model), the input layout, fixed dims, outputs and their stride.
 * Used by `voxelbench card` (src/cli/card.ts) to write a starter model card, and by presets to
 * pick their input scaling. Pure: no onnxruntime, no DOM.
 */
import type { Dim, ModelInfo, NodeInfo, TensorInfo } from './model';

export interface InputScalingFound {
  /** 'div255': the model divides its input by 255 itself (feed 0..255 as float). */
  scaling: 'div255';
  /** The node that does it, its op and constant ('Div' by 255 or 'Mul' by 1/255). */
  node: string;
  op: 'Div' | 'Mul';
  value: number;
}

/** Ops that may come between the graph input and its scaling without changing values. */
const TRANSPARENT = new Set(['Cast', 'Identity']);

/** The scalar value of a constant input of a node (initializer or Constant), or undefined. */
function scalar(info: ModelInfo, name: string): number | undefined {
  const v = info.constants?.[name];
  return v && v.length === 1 ? v[0] : undefined;
}

/**
 * A leading Div by 255 or Mul by 1/255 on `input` (default: the first input), through Cast or
 * Identity nodes, with the constant as the second operand; null when the model does not scale
 * its input that way.
 */
export function detectInputScaling(info: ModelInfo, input = info.inputs[0]?.name): InputScalingFound | null {
  if (!input || !info.nodes) return null;
  let cur = input;
  for (let hops = 0; hops < 4; hops++) {
    const users = info.nodes.filter((n) => !n.domain && n.inputs.includes(cur));
    if (users.length !== 1) return null;
    const n: NodeInfo = users[0];
    if (TRANSPARENT.has(n.op)) {
      cur = n.outputs[0];
      continue;
    }
    if ((n.op !== 'Div' && n.op !== 'Mul') || n.inputs[0] !== cur) return null;
    const v = scalar(info, n.inputs[1]);
    if (v === undefined) return null;
    const ok = n.op === 'Div' ? Math.abs(v - 255) < 1e-3 : Math.abs(v * 255 - 1) < 1e-5;
    return ok ? { scaling: 'div255', node: n.name || n.outputs[0], op: n.op, value: v } : null;
  }
  return null;
}

export type Layout = 'NCDHW' | 'NCHW' | 'NHWC' | 'NDHWC' | 'NSCHW' | 'NCW' | 'NC' | 'unknown';

const small = (d: Dim | undefined, max: number): d is number => typeof d === 'number' && d > 0 && d <= max;

/**
 * The layout of an input, from its rank and which dims are small fixed numbers:
 *  - rank 5 (N, S, C, H, W) 'NSCHW' when dim 2 is fixed and <= 16 and dim 1 is symbolic or a larger
 *    fixed number (a sequence of 2D images: 15 slices of 6 channels), 'NDHWC' when only the last dim
 *    is a small channel count, else 'NCDHW';
 *  - rank 4 'NHWC' when only the last dim is a small channel count (<= 4), else 'NCHW'.
 */
export function inputLayout(t: TensorInfo): Layout {
  const d = t.dims;
  if (d.length === 5) {
    if (small(d[2], 16) && (typeof d[1] === 'string' || (typeof d[1] === 'number' && d[1] > d[2]))) return 'NSCHW';
    if (small(d[4], 4) && !small(d[1], 4)) return 'NDHWC';
    return 'NCDHW';
  }
  if (d.length === 4) return small(d[3], 4) && !small(d[1], 4) ? 'NHWC' : 'NCHW';
  if (d.length === 3) return 'NCW';
  if (d.length === 2) return 'NC';
  return 'unknown';
}

/** Axis names of a layout ('NCDHW' -> ['batch', 'channels', 'depth', 'height', 'width']). */
export function layoutAxes(layout: Layout, rank: number): string[] {
  const name: Record<string, string> = { N: 'batch', C: 'channels', D: 'depth', H: 'height', W: 'width', S: 'slices' };
  if (layout === 'unknown' || layout.length !== rank) return Array.from({ length: rank }, (_, i) => `dim${i}`);
  return [...layout].map((c) => name[c]);
}

export interface OutputSummary {
  name: string;
  dims: Dim[];
  /** 'logits' (N, K), 'per-item logits' (N, S) or (N, S, 1), 'maps' (N, K, H, W), 'volume' (N, K, D, H, W). */
  kind: 'logits' | 'maps' | 'volume' | 'other';
  /** Spatial stride against the input where both declare fixed spatial sizes (e.g. 8 for a heatmap at stride 8). */
  stride?: number[];
}

export interface ModelSummary {
  input: { name: string; type: string; dims: Dim[]; layout: Layout; axes: string[] };
  /** Dims the model fixes, by axis name (batch included). */
  fixed: Record<string, number>;
  /** The fixed spatial size (D, H, W or H, W), when every spatial dim is fixed. */
  fixedSpatial?: number[];
  scaling: InputScalingFound | null;
  outputs: OutputSummary[];
  /** Inputs after the first (the workbench and presets feed one). */
  extraInputs: string[];
}

/** Everything `voxelbench card` writes about a model. */
export function summarizeModel(info: ModelInfo): ModelSummary {
  const inp = info.inputs[0];
  if (!inp) throw new Error('the model has no inputs');
  const layout = inputLayout(inp);
  const axes = layoutAxes(layout, inp.dims.length);
  const fixed: Record<string, number> = {};
  inp.dims.forEach((d, i) => {
    if (typeof d === 'number' && d > 0) fixed[axes[i]] = d;
  });
  const spatialIdx = axes.map((a, i) => (['depth', 'height', 'width'].includes(a) ? i : -1)).filter((i) => i >= 0);
  const spatial = spatialIdx.map((i) => inp.dims[i]);
  const fixedSpatial = spatial.length && spatial.every((d) => typeof d === 'number' && d > 0) ? (spatial as number[]) : undefined;
  const outputs = info.outputs.map((o): OutputSummary => {
    const r = o.dims.length;
    const kind: OutputSummary['kind'] = r === 2 ? 'logits' : r === 4 ? 'maps' : r === 5 ? 'volume' : 'other';
    const out: OutputSummary = { name: o.name, dims: o.dims, kind };
    const os = o.dims.slice(2);
    if (fixedSpatial && os.length === fixedSpatial.length && os.every((d) => typeof d === 'number' && d > 0)) {
      const s = fixedSpatial.map((d, i) => d / (os[i] as number));
      if (s.every((x) => Number.isInteger(x))) out.stride = s;
    }
    return out;
  });
  return {
    input: { name: inp.name, type: inp.type, dims: inp.dims, layout, axes },
    fixed,
    ...(fixedSpatial ? { fixedSpatial } : {}),
    scaling: detectInputScaling(info, inp.name),
    outputs,
    extraInputs: info.inputs.slice(1).map((i) => i.name),
  };
}

/**
 * A starter model card (the format of public/models/*.json: name, file, inputs, outputs,
 * preprocessing, inference) from what the model says, with `notes` on what the user must check or
 * fill in. The inference values are the ones parseCard (./card.ts) and the presets read:
 * intensity 'none' when the model divides by 255 itself, roi = the fixed spatial size, swBatch =
 * the fixed batch, relaxDims false.
 */
export function starterCard(info: ModelInfo, file: string): Record<string, unknown> {
  const s = summarizeModel(info);
  const name = file.replace(/\.onnx$/i, '');
  const notes: string[] = [];
  const inputNote: string[] = [];
  const inference: Record<string, unknown> = {};
  if (s.scaling) {
    inputNote.push(`the model divides its input by 255 itself (${s.scaling.op} '${s.scaling.node}' by ${s.scaling.op === 'Div' ? s.scaling.value : `1/${Math.round(1 / s.scaling.value)}`}): feed 0..255 as float`);
    inference.intensity = 'none';
  } else {
    notes.push("no scaling by 255 found at the model's input: set inference.intensity to how the model was fed in training ('none': values as they are, 'div255', 'minmax')");
  }
  if (s.fixedSpatial && s.input.layout === 'NCDHW') {
    inference.roi = s.fixedSpatial;
    notes.push(`the model fixes its input size ${s.fixedSpatial.join(' x ')}: that is the roi (sliding-window size); 'voxelbench convert --relax-dims' makes it accept other sizes if the network allows`);
  } else if (s.fixedSpatial) {
    notes.push(`the model fixes its image size ${s.fixedSpatial.join(' x ')}: inputs are resized to it`);
  }
  if (typeof s.fixed.batch === 'number') {
    inference.swBatch = s.fixed.batch;
    if (s.fixed.batch > 1) notes.push(`the model fixes its batch at ${s.fixed.batch}: it takes exactly ${s.fixed.batch} items per call`);
  }
  if (s.input.layout === 'NSCHW') notes.push(`the input is a sequence (batch, ${s.input.dims[1]} items, ${s.input.dims[2]} channels, height, width): one item per sequence of ${s.input.dims[1]} images`);
  if (s.extraInputs.length) notes.push(`the model has more inputs (${s.extraInputs.join(', ')}); the workbench and presets feed only '${s.input.name}'`);
  for (const o of s.outputs) if (/^\d+$|^onnx::/.test(o.name)) notes.push(`output '${o.name}' has an exporter's default name: describe what it is (or export with output_names)`);
  notes.push("set 'preset' (motors, spine, eeg, protein) to use a pipeline, and 'classes' to the label names");
  return {
    name,
    file,
    description: '',
    inputs: [
      {
        name: s.input.name,
        shape: s.input.dims,
        dtype: s.input.type,
        layout: s.input.layout,
        axes: s.input.axes,
        ...(inputNote.length ? { note: inputNote.join('; ') } : {}),
      },
    ],
    outputs: s.outputs.map((o) => ({ name: o.name, shape: o.dims, kind: o.kind, ...(o.stride ? { stride: o.stride.every((x) => x === o.stride![0]) ? o.stride[0] : o.stride } : {}) })),
    preprocessing: { inputScaling: s.scaling ? 'inside the model (x / 255)' : 'unknown' },
    inference: { ...inference, relaxDims: false },
    notes,
  };
}
