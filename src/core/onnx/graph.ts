/**
 * ONNX building blocks on top of the wire codec (./proto): field numbers of onnx.proto, tensor
 * reading and writing, node and attribute readers and builders. Used by the inspector, the graph
 * rewrites, float16 conversion and external-data inlining. Pure TS, no DOM, no onnxruntime.
 */
import { all, bytesOf, decode, encode, first, int, lenField, readVarint, str, sub, varField, Wire, type Field } from './proto';

// ---------------------------------------------------------------------------------------------
// field numbers (onnx/onnx.proto)

export const MODEL = { irVersion: 1, producer: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opset: 8, metadata: 14, functions: 25 } as const;
export const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 } as const;
export const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, tensors: 10, graphs: 11, type: 20 } as const;
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8, rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14 } as const;
/** TensorProto.DataType */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

export const ELEM_NAME: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};
export const ELEM_SIZE: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

// ---------------------------------------------------------------------------------------------
// repeated scalars (packed or not)

export function readPackedVarints(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const [v, next] = readVarint(buf, pos);
    out.push(v);
    pos = next;
  }
  return out;
}

/** A repeated int64 field, packed or not, as numbers (signed). */
export function repeatedInts(fields: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of all(fields, no)) {
    if (f.wire === Wire.Len) for (const v of readPackedVarints(f.value as Uint8Array)) out.push(Number(BigInt.asIntN(64, v)));
    else out.push(int(f));
  }
  return out;
}

/** A repeated float (fixed32) field, packed or not. */
function repeatedFloats(fields: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of all(fields, no)) {
    const b = f.value as Uint8Array;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i + 4 <= b.byteLength; i += 4) out.push(dv.getFloat32(i, true));
  }
  return out;
}

function repeatedDoubles(fields: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of all(fields, no)) {
    const b = f.value as Uint8Array;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i + 8 <= b.byteLength; i += 8) out.push(dv.getFloat64(i, true));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// float16

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half bits, round to nearest even; overflow to +-inf, NaN kept. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---------------------------------------------------------------------------------------------
// tensors

export interface TensorSummary {
  name: string;
  dataType: number;
  dims: number[];
  /** Number of elements. */
  size: number;
  /** Bytes of the data (from the dims and element size), wherever it is stored. */
  bytes: number;
  external: boolean;
}

export function tensorSummary(t: Field[]): TensorSummary {
  const dims = repeatedInts(t, TENSOR.dims);
  const dt = first(t, TENSOR.dataType);
  const dataType = dt ? int(dt) : 0;
  const size = dims.reduce((a, b) => a * b, 1);
  const loc = first(t, TENSOR.dataLocation);
  const name = first(t, TENSOR.name);
  return { name: name ? str(name) : '', dataType, dims, size, bytes: size * (ELEM_SIZE[dataType] ?? 4), external: loc ? int(loc) === 1 : false };
}

/** The numeric contents of a tensor as float64 numbers (float, half, double, ints); throws on external data. */
export function tensorValues(t: Field[]): number[] {
  const s = tensorSummary(t);
  if (s.external) throw new Error(`tensor '${s.name}' keeps its data in an external file`);
  const raw = first(t, TENSOR.rawData);
  if (raw) {
    const b = raw.value as Uint8Array;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out: number[] = new Array(s.size);
    const es = ELEM_SIZE[s.dataType];
    if (!es || b.byteLength < s.size * es) throw new Error(`tensor '${s.name}': raw data of ${b.byteLength} bytes for ${s.size} elements of type ${ELEM_NAME[s.dataType] ?? s.dataType}`);
    for (let i = 0; i < s.size; i++) {
      switch (s.dataType) {
        case DT.FLOAT: out[i] = dv.getFloat32(i * 4, true); break;
        case DT.DOUBLE: out[i] = dv.getFloat64(i * 8, true); break;
        case DT.FLOAT16: out[i] = fromHalf(dv.getUint16(i * 2, true)); break;
        case DT.INT64: out[i] = Number(dv.getBigInt64(i * 8, true)); break;
        case DT.UINT64: out[i] = Number(dv.getBigUint64(i * 8, true)); break;
        case DT.INT32: out[i] = dv.getInt32(i * 4, true); break;
        case DT.UINT32: out[i] = dv.getUint32(i * 4, true); break;
        case DT.INT16: out[i] = dv.getInt16(i * 2, true); break;
        case DT.UINT16: out[i] = dv.getUint16(i * 2, true); break;
        case DT.INT8: out[i] = dv.getInt8(i); break;
        case DT.UINT8: case DT.BOOL: out[i] = dv.getUint8(i); break;
        default: throw new Error(`tensor '${s.name}': unsupported type ${ELEM_NAME[s.dataType] ?? s.dataType}`);
      }
    }
    return out;
  }
  switch (s.dataType) {
    case DT.FLOAT: return repeatedFloats(t, TENSOR.floatData);
    case DT.DOUBLE: return repeatedDoubles(t, TENSOR.doubleData);
    case DT.INT64: return repeatedInts(t, TENSOR.int64Data);
    case DT.UINT64: return all(t, TENSOR.uint64Data).flatMap((f) => (f.wire === Wire.Len ? readPackedVarints(f.value as Uint8Array) : [f.value as bigint]).map(Number));
    case DT.FLOAT16: return repeatedInts(t, TENSOR.int32Data).map(fromHalf);
    case DT.BFLOAT16: return repeatedInts(t, TENSOR.int32Data).map((v) => {
      u32[0] = v << 16;
      return f32[0];
    });
    default: return repeatedInts(t, TENSOR.int32Data);
  }
}

/** float32 tensor contents (float32 or float16 or float64 tensors). */
export function tensorFloat32(t: Field[]): Float32Array {
  return Float32Array.from(tensorValues(t));
}

function dimsFields(dims: readonly number[]): Field[] {
  return dims.map((d) => varField(TENSOR.dims, d));
}

/** A TensorProto with raw_data. */
export function makeTensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Field[] {
  return [...dimsFields(dims), varField(TENSOR.dataType, dataType), lenField(TENSOR.name, bytesOf(name)), lenField(TENSOR.rawData, raw)];
}

export function float32Raw(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return out;
}

export function float16Raw(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, toHalf(values[i]), true);
  return out;
}

export function int64Raw(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setBigInt64(i * 8, BigInt(values[i]), true);
  return out;
}

export const floatTensor = (name: string, dims: readonly number[], values: ArrayLike<number>): Field[] => makeTensor(name, DT.FLOAT, dims, float32Raw(values));
export const int64Tensor = (name: string, dims: readonly number[], values: ArrayLike<number>): Field[] => makeTensor(name, DT.INT64, dims, int64Raw(values));

// ---------------------------------------------------------------------------------------------
// nodes and attributes

export type AttrValue = number | string | number[] | string[] | { tensor: TensorSummary } | { graph: true };

export interface NodeInfo {
  name: string;
  op: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export function readAttr(f: Field[]): [string, AttrValue] {
  const name = first(f, ATTR.name);
  const n = name ? str(name) : '';
  const tf = first(f, ATTR.type);
  let type = tf ? int(tf) : 0;
  if (!type) {
    // old writers leave the type out: infer it from the field present
    if (first(f, ATTR.ints)) type = ATTR_TYPE.INTS;
    else if (first(f, ATTR.floats)) type = ATTR_TYPE.FLOATS;
    else if (first(f, ATTR.strings)) type = ATTR_TYPE.STRINGS;
    else if (first(f, ATTR.t)) type = ATTR_TYPE.TENSOR;
    else if (first(f, ATTR.g)) type = ATTR_TYPE.GRAPH;
    else if (first(f, ATTR.s)) type = ATTR_TYPE.STRING;
    else if (first(f, ATTR.f)) type = ATTR_TYPE.FLOAT;
    else type = ATTR_TYPE.INT;
  }
  switch (type) {
    case ATTR_TYPE.FLOAT: {
      const v = first(f, ATTR.f);
      return [n, v ? new DataView((v.value as Uint8Array).slice().buffer).getFloat32(0, true) : 0];
    }
    case ATTR_TYPE.INT: {
      const v = first(f, ATTR.i);
      return [n, v ? int(v) : 0];
    }
    case ATTR_TYPE.STRING: {
      const v = first(f, ATTR.s);
      return [n, v ? str(v) : ''];
    }
    case ATTR_TYPE.TENSOR: {
      const v = first(f, ATTR.t);
      return [n, { tensor: tensorSummary(v ? sub(v) : []) }];
    }
    case ATTR_TYPE.FLOATS:
      return [n, repeatedFloats(f, ATTR.floats)];
    case ATTR_TYPE.INTS:
      return [n, repeatedInts(f, ATTR.ints)];
    case ATTR_TYPE.STRINGS:
      return [n, all(f, ATTR.strings).map(str)];
    default:
      return [n, { graph: true }];
  }
}

export function readNode(fields: Field[]): NodeInfo {
  const attrs: Record<string, AttrValue> = {};
  for (const a of all(fields, NODE.attribute)) {
    const [k, v] = readAttr(sub(a));
    attrs[k] = v;
  }
  const op = first(fields, NODE.opType);
  const dom = first(fields, NODE.domain);
  const d = dom ? str(dom) : '';
  const name = first(fields, NODE.name);
  return {
    name: name ? str(name) : '',
    op: op ? str(op) : '?',
    domain: d === 'ai.onnx' ? '' : d,
    inputs: all(fields, NODE.input).map(str),
    outputs: all(fields, NODE.output).map(str),
    attrs,
  };
}

/** The TensorProto fields of a node attribute of type TENSOR (e.g. Constant's value). */
export function attrTensorFields(node: Field[], attrName: string): Field[] | undefined {
  for (const a of all(node, NODE.attribute)) {
    const af = sub(a);
    const n = first(af, ATTR.name);
    if (n && str(n) === attrName) {
      const t = first(af, ATTR.t);
      return t ? sub(t) : undefined;
    }
  }
  return undefined;
}

export const attrInt = (name: string, v: number): Field => lenField(NODE.attribute, [lenField(ATTR.name, bytesOf(name)), varField(ATTR.i, v), varField(ATTR.type, ATTR_TYPE.INT)]);
export const attrInts = (name: string, v: readonly number[]): Field =>
  lenField(NODE.attribute, [lenField(ATTR.name, bytesOf(name)), ...v.map((x) => varField(ATTR.ints, x)), varField(ATTR.type, ATTR_TYPE.INTS)]);
export const attrString = (name: string, v: string): Field => lenField(NODE.attribute, [lenField(ATTR.name, bytesOf(name)), lenField(ATTR.s, bytesOf(v)), varField(ATTR.type, ATTR_TYPE.STRING)]);
export const attrFloat = (name: string, v: number): Field => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return lenField(NODE.attribute, [lenField(ATTR.name, bytesOf(name)), { no: ATTR.f, wire: Wire.I32, value: b }, varField(ATTR.type, ATTR_TYPE.FLOAT)]);
};
export const attrTensor = (name: string, t: Field[]): Field => lenField(NODE.attribute, [lenField(ATTR.name, bytesOf(name)), lenField(ATTR.t, t), varField(ATTR.type, ATTR_TYPE.TENSOR)]);

export function makeNode(op: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: Field[] = [], domain = ''): Field {
  return lenField(GRAPH.node, [
    ...inputs.map((i) => lenField(NODE.input, bytesOf(i))),
    ...outputs.map((o) => lenField(NODE.output, bytesOf(o))),
    lenField(NODE.name, bytesOf(name)),
    lenField(NODE.opType, bytesOf(op)),
    ...attrs,
    ...(domain ? [lenField(NODE.domain, bytesOf(domain))] : []),
  ]);
}

/** Replaces the node's inputs (in order) and keeps every other field. */
export function withInputs(node: Field[], inputs: readonly string[]): Field[] {
  const out: Field[] = [];
  let k = 0;
  for (const f of node) {
    if (f.no === NODE.input) out.push(lenField(NODE.input, bytesOf(inputs[k++] ?? '')));
    else out.push(f);
  }
  return out;
}

export function withOutputs(node: Field[], outputs: readonly string[]): Field[] {
  const out: Field[] = [];
  let k = 0;
  for (const f of node) {
    if (f.no === NODE.output) out.push(lenField(NODE.output, bytesOf(outputs[k++] ?? '')));
    else out.push(f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// model-level helpers

export interface ParsedModel {
  model: Field[];
  graph: Field[];
  opset: number;
}

export function parseModelFields(bytes: Uint8Array): ParsedModel {
  const model = decode(bytes);
  const g = first(model, MODEL.graph);
  if (!g || g.wire !== Wire.Len || !first(model, MODEL.irVersion)) throw new Error('not an ONNX model: no graph or IR version found');
  return { model, graph: sub(g), opset: defaultOpset(model) };
}

export function defaultOpset(model: Field[]): number {
  let opset = 0;
  for (const o of all(model, MODEL.opset)) {
    const of = sub(o);
    const dom = first(of, 1);
    const d = dom ? str(dom) : '';
    const v = first(of, 2);
    if ((d === '' || d === 'ai.onnx') && v) opset = int(v);
  }
  return opset;
}

/** Re-assembles a model with a new graph (fields of the model other than the graph are kept in place). */
export function withGraph(model: Field[], graph: Field[]): Uint8Array {
  return encode(model.map((f) => (f.no === MODEL.graph ? lenField(MODEL.graph, graph) : f)));
}

/** The name of a graph input/output/value_info (ValueInfoProto). */
export function valueInfoName(f: Field): string {
  const n = first(sub(f), 1);
  return n ? str(n) : '';
}

/** The element type of a ValueInfoProto's tensor type (0 when absent). */
export function valueInfoElemType(f: Field): number {
  const type = first(sub(f), 2);
  if (!type) return 0;
  const tensor = first(sub(type), 1);
  if (!tensor) return 0;
  const e = first(sub(tensor), 1);
  return e ? int(e) : 0;
}

/** A ValueInfoProto with its tensor element type changed (shape kept). */
export function withElemType(f: Field, elem: number): Field {
  const vi = sub(f).map((vf) => {
    if (vf.no !== 2) return vf;
    const type = sub(vf).map((tf) => {
      if (tf.no !== 1) return tf;
      return lenField(1, sub(tf).map((sf) => (sf.no === 1 ? varField(1, elem) : sf)));
    });
    return lenField(2, type);
  });
  return lenField(f.no, vi);
}

/** A ValueInfoProto with a new name. */
export function withName(f: Field, name: string): Field {
  return lenField(f.no, sub(f).map((vf) => (vf.no === 1 ? lenField(1, bytesOf(name)) : vf)));
}

/** Unique-name generator that avoids every name already in the graph. */
export function nameMaker(graph: Field[]): (base: string) => string {
  const used = new Set<string>();
  for (const f of graph) {
    if (f.no === GRAPH.node) {
      const n = sub(f);
      for (const x of [...all(n, NODE.input), ...all(n, NODE.output), ...all(n, NODE.name)]) used.add(str(x));
    } else if (f.no === GRAPH.initializer) {
      const nm = first(sub(f), TENSOR.name);
      if (nm) used.add(str(nm));
    } else if (f.no === GRAPH.input || f.no === GRAPH.output || f.no === GRAPH.valueInfo) used.add(valueInfoName(f));
  }
  return (base: string) => {
    let n = base;
    for (let k = 1; used.has(n); k++) n = `${base}_${k}`;
    used.add(n);
    return n;
  };
}

/** A tensor ValueInfoProto (graph input/output) with numeric or symbolic dims. */
export function makeValueInfo(no: number, name: string, elemType: number, dims: (number | string)[]): Field {
  const dimFields = dims.map((d) => lenField(1, typeof d === 'number' ? [varField(1, d)] : [lenField(2, bytesOf(d))]));
  return lenField(no, [lenField(1, bytesOf(name)), lenField(2, [lenField(1, [varField(1, elemType), lenField(2, dimFields)])])]);
}

/** A ModelProto from nodes, initializers, inputs and outputs (IR 8, one default-domain opset). */
export function makeModel(p: { nodes: Field[]; initializers?: Field[][]; inputs: Field[]; outputs: Field[]; opset?: number; producer?: string }): Uint8Array {
  const graph: Field[] = [
    ...p.nodes,
    lenField(GRAPH.name, bytesOf('graph')),
    ...(p.initializers ?? []).map((t) => lenField(GRAPH.initializer, t)),
    ...p.inputs,
    ...p.outputs,
  ];
  return encode([
    varField(MODEL.irVersion, 8),
    lenField(MODEL.producer, bytesOf(p.producer ?? 'voxelbench')),
    lenField(MODEL.graph, graph),
    lenField(MODEL.opset, [lenField(1, bytesOf('')), varField(2, p.opset ?? 17)]),
  ]);
}
