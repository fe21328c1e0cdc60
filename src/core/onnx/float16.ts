/**
 * float32 -> float16 conversion of a model, for WebGPU adapters with the `shader-f16` feature:
 * half the weight memory and bandwidth.
 *
 * What changes: float32 initializers and Constant/ConstantOfShape tensors become float16 (round to
 * nearest even; values beyond +-65504 become +-inf, which `toFloat16` reports), Cast(to=float)
 * becomes Cast(to=float16), and value_info (cached intermediate types) is dropped. With
 * keepIoTypes (the default) the graph's float32 inputs and outputs stay float32: a Cast to
 * float16 follows each input and a Cast to float32 precedes each output, so callers feed and read
 * float32 as before. Inputs that ONNX requires in float32 whatever the data type (Resize scales
 * and roi, Upsample scales) keep float32 constants, or get a Cast back to float32.
 *
 * Not supported (throws): control flow (If/Loop/Scan subgraphs), quantized ops, external data
 * (inline it first).
 */
import { all, bytesOf, first, lenField, str, sub, varField, type Field } from './proto';
import {
  ATTR,
  attrInt,
  attrTensor,
  DT,
  float16Raw,
  GRAPH,
  makeNode,
  makeTensor,
  nameMaker,
  NODE,
  parseModelFields,
  readNode,
  TENSOR,
  tensorSummary,
  tensorValues,
  valueInfoElemType,
  valueInfoName,
  withElemType,
  withGraph,
} from './graph';

export interface Float16Options {
  /** Keep float32 graph inputs and outputs (Cast nodes at the edges). Default true. */
  keepIoTypes?: boolean;
}

export interface Float16Result {
  bytes: Uint8Array;
  /** Initializers converted. */
  initializers: number;
  /** Constant / ConstantOfShape tensors converted. */
  constants: number;
  /** Cast nodes added at the inputs, outputs and float32-only inputs. */
  casts: number;
  /** Weights whose magnitude exceeds the float16 range (65504) and became infinite. */
  overflow: number;
  /** Largest relative rounding error of a converted weight (|w16 - w| / max |w| per tensor). */
  maxWeightRelError: number;
}

/** Op inputs that must stay float32 (by op, input index), with the opset they apply from. */
function float32Inputs(op: string, opset: number): number[] {
  if (op === 'Resize') return opset >= 11 ? [1, 2] : [1];
  if (op === 'Upsample') return [1];
  return [];
}

const QUANTIZED = /^(QuantizeLinear|DequantizeLinear|DynamicQuantizeLinear|QLinear.*|MatMulInteger|ConvInteger)$/;

function toHalfTensor(t: Field[], stats: { overflow: number; rel: number }): Field[] {
  const v = tensorValues(t);
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const raw = float16Raw(v);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < v.length; i++) {
    const h = dv.getUint16(i * 2, true);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(v[i])) stats.overflow++;
    else if (max > 0) {
      const e = (h & 0x7c00) >> 10;
      const m = h & 0x3ff;
      const back = (h & 0x8000 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
      stats.rel = Math.max(stats.rel, Math.abs(back - v[i]) / max);
    }
  }
  const s = tensorSummary(t);
  const kept = t.filter((f) => f.no === TENSOR.name || f.no === 12 /* doc_string */);
  return [...s.dims.map((d) => varField(TENSOR.dims, d)), varField(TENSOR.dataType, DT.FLOAT16), ...kept, lenField(TENSOR.rawData, raw)];
}

/** Converts a float32 model to float16 (see the file comment). */
export function toFloat16(bytes: Uint8Array, opts: Float16Options = {}): Float16Result {
  const keepIo = opts.keepIoTypes ?? true;
  const { model, graph, opset } = parseModelFields(bytes);
  const stats = { overflow: 0, rel: 0 };
  const newName = nameMaker(graph);
  /** Constants kept float32 (only float32-only consumers), and float32 twins of converted ones. */
  const fp32Constants = new Set<string>();
  const constantTwins = new Map<string, string>();
  const isFp32Constant = (name: string): boolean => fp32Constants.has(name) || constantTwins.has(name);
  const nodesIn = all(graph, GRAPH.node).map((f) => sub(f));
  const infos = nodesIn.map(readNode);
  for (const n of infos) {
    if (Object.values(n.attrs).some((a) => typeof a === 'object' && a !== null && 'graph' in a)) throw new Error(`float16: node '${n.name || n.op}' (${n.op}) has a subgraph; models with control flow are not supported`);
    if (!n.domain && QUANTIZED.test(n.op)) throw new Error(`float16: the model is quantized (${n.op}); convert the float32 model instead`);
  }

  // which float32 tensors feed float32-only inputs, and which feed anything else
  const fp32Uses = new Map<string, number>();
  const otherUses = new Map<string, number>();
  infos.forEach((n) => {
    const keep = n.domain ? [] : float32Inputs(n.op, opset);
    n.inputs.forEach((x, i) => {
      if (!x) return;
      const m = keep.includes(i) ? fp32Uses : otherUses;
      m.set(x, (m.get(x) ?? 0) + 1);
    });
  });

  // initializers
  let initializers = 0;
  const extraInits: Field[] = [];
  const renamedForHalf = new Map<string, string>();
  const graphOut: Field[] = [];
  for (const f of graph) {
    if (f.no !== GRAPH.initializer) continue;
    const t = sub(f);
    const s = tensorSummary(t);
    if (s.dataType !== DT.FLOAT) continue;
    if (s.external) throw new Error(`float16: initializer '${s.name}' is in an external data file; inline the external data first`);
  }
  for (const f of graph) {
    if (f.no === GRAPH.valueInfo) continue;
    if (f.no !== GRAPH.initializer) {
      graphOut.push(f);
      continue;
    }
    const t = sub(f);
    const s = tensorSummary(t);
    if (s.dataType !== DT.FLOAT) {
      graphOut.push(f);
      continue;
    }
    const as32 = fp32Uses.has(s.name);
    const as16 = otherUses.has(s.name) || !as32;
    if (as32 && as16) {
      // used both ways: keep this one float32, add a float16 copy for the other consumers
      const copy = newName(`${s.name}_fp16`);
      renamedForHalf.set(s.name, copy);
      const half = toHalfTensor(t, stats).map((x) => (x.no === TENSOR.name ? lenField(TENSOR.name, bytesOf(copy)) : x));
      extraInits.push(lenField(GRAPH.initializer, half));
      graphOut.push(f);
      initializers++;
    } else if (as16) {
      graphOut.push(lenField(GRAPH.initializer, toHalfTensor(t, stats)));
      initializers++;
    } else graphOut.push(f);
  }

  // graph inputs and outputs
  const inputs = all(graph, GRAPH.input);
  const initNames = new Set(all(graph, GRAPH.initializer).map((f) => str(first(sub(f), TENSOR.name)!)));
  const inputRename = new Map<string, string>();
  const headCasts: Field[] = [];
  let casts = 0;
  for (const vi of inputs) {
    const name = valueInfoName(vi);
    if (initNames.has(name) || valueInfoElemType(vi) !== DT.FLOAT) continue;
    if (keepIo) {
      const h = newName(`${name}_fp16`);
      inputRename.set(name, h);
      headCasts.push(makeNode('Cast', [name], [h], newName(`${name}_to_fp16`), [attrInt('to', DT.FLOAT16)]));
      casts++;
    }
  }
  const outputRename = new Map<string, string>();
  const tailCasts: Field[] = [];
  for (const vi of all(graph, GRAPH.output)) {
    const name = valueInfoName(vi);
    if (valueInfoElemType(vi) !== DT.FLOAT || !keepIo) continue;
    if (inputRename.has(name) || initNames.has(name)) continue;
    const h = newName(`${name}_fp16`);
    outputRename.set(name, h);
    tailCasts.push(makeNode('Cast', [h], [name], newName(`${name}_to_fp32`), [attrInt('to', DT.FLOAT)]));
    casts++;
  }

  // nodes
  let constants = 0;
  const nodesOut: Field[] = [...headCasts];
  infos.forEach((n, idx) => {
    const nf = nodesIn[idx];
    const keep = n.domain ? [] : float32Inputs(n.op, opset);
    const pre: Field[] = [];
    let k = 0;
    let fields = nf.map((f) => {
      if (f.no === NODE.input) {
        const i = k++;
        let x = str(f);
        if (!x) return f;
        x = inputRename.get(x) ?? outputRename.get(x) ?? x;
        if (keep.includes(i)) {
          // float32-only input: constants were kept float32; computed values come back to float32
          if (!initNames.has(x) && !isFp32Constant(x)) {
            const c = newName(`${x}_fp32`);
            pre.push(makeNode('Cast', [x], [c], newName(`${x}_to_fp32`), [attrInt('to', DT.FLOAT)]));
            casts++;
            x = c;
          }
        } else x = renamedForHalf.get(x) ?? x;
        return lenField(NODE.input, bytesOf(x));
      }
      if (f.no === NODE.output) {
        const o = str(f);
        return lenField(NODE.output, bytesOf(outputRename.get(o) ?? o));
      }
      return f;
    });
    if (!n.domain && n.op === 'Cast' && n.attrs.to === DT.FLOAT) fields = fields.map((f) => (f.no === NODE.attribute && attrName(f) === 'to' ? attrInt('to', DT.FLOAT16) : f));
    if (!n.domain && (n.op === 'Constant' || n.op === 'ConstantOfShape')) {
      const onlyFp32 = n.op === 'Constant' && fp32Uses.has(n.outputs[0]) && !otherUses.has(n.outputs[0]);
      if (!onlyFp32) {
        let changed = false;
        fields = fields.map((f) => {
          if (f.no !== NODE.attribute) return f;
          const name = attrName(f);
          const af = sub(f);
          if (name === 'value') {
            const t = first(af, ATTR.t);
            if (t && tensorSummary(sub(t)).dataType === DT.FLOAT) {
              changed = true;
              return attrTensor('value', toHalfTensor(sub(t), stats));
            }
          } else if (name === 'value_float' || name === 'value_floats') {
            const vals = name === 'value_float' ? [readFloat(first(af, ATTR.f))] : all(af, ATTR.floats).flatMap(readFloats);
            changed = true;
            return attrTensor('value', makeTensor('', DT.FLOAT16, name === 'value_float' ? [] : [vals.length], float16Raw(vals)));
          }
          return f;
        });
        if (n.op === 'ConstantOfShape' && !n.attrs.value) {
          fields.push(attrTensor('value', makeTensor('', DT.FLOAT16, [1], float16Raw([0]))));
          changed = true;
        }
        if (changed) constants++;
        if (n.op === 'Constant' && fp32Uses.has(n.outputs[0]) && changed) {
          // also used as a float32-only input: keep a float32 twin
          const twin = newName(`${n.outputs[0]}_fp32`);
          constantTwins.set(n.outputs[0], twin);
          pre.push(makeNode('Cast', [outputRename.get(n.outputs[0]) ?? n.outputs[0]], [twin], newName(`${n.outputs[0]}_twin`), [attrInt('to', DT.FLOAT)]));
        }
      } else fp32Constants.add(n.outputs[0]);
    }
    nodesOut.push(...pre, lenField(GRAPH.node, fields));
  });
  // float32-only inputs fed by a Constant that also had other uses: point them at the twin
  const fixed = nodesOut.map((nf) => {
    if (!constantTwins.size) return nf;
    const f = sub(nf);
    const n = readNode(f);
    const keep = n.domain ? [] : float32Inputs(n.op, opset);
    if (!keep.length) return nf;
    let k = 0;
    return lenField(GRAPH.node, f.map((x) => {
      if (x.no !== NODE.input) return x;
      const i = k++;
      const v = str(x);
      return keep.includes(i) && constantTwins.has(v) ? lenField(NODE.input, bytesOf(constantTwins.get(v)!)) : x;
    }));
  });
  nodesOut.length = 0;
  nodesOut.push(...fixed, ...tailCasts);

  // assemble: nodes in place of the old ones, extra initializers after the last initializer
  const final: Field[] = [];
  let nodesPlaced = false;
  for (const f of graphOut) {
    if (f.no === GRAPH.node) {
      if (!nodesPlaced) {
        final.push(...nodesOut);
        nodesPlaced = true;
      }
      continue;
    }
    if (f.no === GRAPH.input && !keepIo && valueInfoElemType(f) === DT.FLOAT && !initNames.has(valueInfoName(f))) {
      final.push(withElemType(f, DT.FLOAT16));
      continue;
    }
    if (f.no === GRAPH.output && !keepIo && valueInfoElemType(f) === DT.FLOAT) {
      final.push(withElemType(f, DT.FLOAT16));
      continue;
    }
    final.push(f);
  }
  if (!nodesPlaced) final.push(...nodesOut);
  const lastInit = final.map((f) => f.no).lastIndexOf(GRAPH.initializer);
  final.splice(lastInit >= 0 ? lastInit + 1 : final.length, 0, ...extraInits);
  return { bytes: withGraph(model, final), initializers, constants, casts, overflow: stats.overflow, maxWeightRelError: stats.rel };
}

function attrName(f: Field): string {
  const n = first(sub(f), ATTR.name);
  return n ? str(n) : '';
}

function readFloat(f: Field | undefined): number {
  if (!f) return 0;
  const b = f.value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}

function readFloats(f: Field): number[] {
  const b = f.value as Uint8Array;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.byteLength; i += 4) out.push(dv.getFloat32(i, true));
  return out;
}

