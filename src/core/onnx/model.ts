/** Reading and small edits of ONNX models (ModelProto) without a generated schema. */
import { all, bytesOf, decode, encode, first, int, lenField, ProtoError, str, sub, type Field, Wire } from './proto';
import { InputError } from '../volume';
import { LIMITS } from '../io/limits';
import { attrTensorFields, readNode, readPackedVarints, tensorSummary, tensorValues, type NodeInfo, type TensorSummary } from './graph';

export type { NodeInfo, TensorSummary };

export type Dim = number | string;

export interface TensorInfo {
  name: string;
  /** Element type name (float32, float16, int64, ...). */
  type: string;
  /** Declared dims: a number when fixed, a string when symbolic, '?' when unknown. */
  dims: Dim[];
}

export interface ModelInfo {
  irVersion: number;
  opset: number;
  producer: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** op type -> count, default domain and others ("domain:Op"). */
  ops: Record<string, number>;
  parameters: number;
  /** Bytes of weights stored inside the file. */
  weightBytes: number;
  /** Initializers whose data lives in external files. */
  externalData: string[];
  metadata: Record<string, string>;
  /** Main-graph nodes in file (topological) order: op, domain, inputs, outputs, attributes. */
  nodes?: NodeInfo[];
  /** Initializers: name, element type, dims, size in bytes, whether the data is external. */
  initializers?: TensorSummary[];
  /** Values of small (<= 64 elements) numeric initializers and Constant outputs: shapes, scales, axes. */
  constants?: Record<string, number[]>;
}

const ELEM: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};
const ELEM_SIZE: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

// field numbers of onnx.proto
const M = { irVersion: 1, producer: 2, graph: 7, opset: 8, metadata: 14 } as const;
const G = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
const N = { opType: 4, domain: 7 } as const;

function parseModel(bytes: Uint8Array): Field[] {
  let fields: Field[];
  try {
    fields = decode(bytes);
  } catch (e) {
    throw new InputError(`not an ONNX model: ${(e as Error).message}`);
  }
  const graph = first(fields, M.graph);
  if (!graph || graph.wire !== Wire.Len || !first(fields, M.irVersion)) {
    throw new InputError('not an ONNX model: no graph or IR version found');
  }
  return fields;
}

function readValueInfo(f: Field): TensorInfo {
  const vi = sub(f);
  const name = first(vi, 1);
  const type = first(vi, 2);
  const info: TensorInfo = { name: name ? str(name) : '', type: '?', dims: [] };
  if (!type) return info;
  const tensor = first(sub(type), 1);
  if (!tensor) return info;
  const t = sub(tensor);
  const elem = first(t, 1);
  if (elem) info.type = ELEM[int(elem)] ?? `type${int(elem)}`;
  const shape = first(t, 2);
  if (shape) {
    info.dims = all(sub(shape), 1).map((d) => {
      const df = sub(d);
      const v = first(df, 1);
      if (v) {
        const d = int(v);
        return d >= 0 ? d : '?'; // a negative size is not a size (some exporters write -1 for "any")
      }
      const p = first(df, 2);
      return p ? str(p) : '?';
    });
  }
  return info;
}

function tensorSize(t: Field[]): { n: number; bytes: number; external: boolean; name: string } {
  let n = 1;
  for (const d of all(t, 1)) {
    if (d.wire === Wire.Len) {
      // packed int64 dims
      for (const v of readPackedVarints(d.value as Uint8Array)) n *= Number(v);
    } else n *= int(d);
  }
  const dt = first(t, 2);
  const external = (first(t, 14) ? int(first(t, 14)!) : 0) === 1;
  const name = first(t, 8);
  return { n, bytes: external ? 0 : n * (ELEM_SIZE[dt ? int(dt) : 1] ?? 4), external, name: name ? str(name) : '' };
}

/**
 * What an ONNX model declares: inputs, outputs, ops, weights, metadata, nodes and small constants.
 * A file that is not a model, or a damaged one (fields of the wrong type, negative or absurd
 * sizes), is an InputError.
 */
export function inspectModel(bytes: Uint8Array): ModelInfo {
  let info: ModelInfo;
  try {
    info = inspect(bytes);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not a valid ONNX model: ${(e as Error).message}`);
  }
  const whole = (x: number) => Number.isSafeInteger(x) && x >= 0;
  if (!whole(info.irVersion)) throw new InputError(`not a valid ONNX model: IR version ${info.irVersion}`);
  if (!whole(info.opset)) throw new InputError(`not a valid ONNX model: opset ${info.opset}`);
  for (const t of info.initializers ?? []) {
    if (!t.dims.every(whole) || !whole(t.size) || t.size > LIMITS.maxTensorElements || !whole(t.bytes)) {
      throw new InputError(`not a valid ONNX model: initializer '${t.name}' has dims [${t.dims.join(', ')}]`);
    }
  }
  if (!whole(info.parameters) || !whole(info.weightBytes)) throw new InputError(`not a valid ONNX model: ${info.parameters} parameters`);
  return info;
}

function inspect(bytes: Uint8Array): ModelInfo {
  const model = parseModel(bytes);
  const graph = sub(first(model, M.graph)!);
  let opset = 0;
  for (const o of all(model, M.opset)) {
    const of = sub(o);
    const dom = first(of, 1);
    const d = dom ? str(dom) : '';
    if (d === '' || d === 'ai.onnx') opset = int(first(of, 2) ?? { no: 2, wire: Wire.Varint, value: 0n });
  }
  const inits = all(graph, G.initializer).map((f) => tensorSize(sub(f)));
  const initNames = new Set(inits.map((i) => i.name));
  const ops: Record<string, number> = {};
  for (const nf of all(graph, G.node)) {
    const node = sub(nf);
    const op = first(node, N.opType);
    const dom = first(node, N.domain);
    const key = (dom && str(dom) && str(dom) !== 'ai.onnx' ? `${str(dom)}:` : '') + (op ? str(op) : '?');
    ops[key] = (ops[key] ?? 0) + 1;
  }
  const nodes = all(graph, G.node).map((nf) => readNode(sub(nf)));
  const initializers = all(graph, G.initializer).map((f) => tensorSummary(sub(f)));
  const constants: Record<string, number[]> = {};
  const small = (t: Field[], name: string) => {
    const s = tensorSummary(t);
    if (s.size <= 64 && !s.external && s.dataType !== 8) {
      try {
        constants[name] = tensorValues(t);
      } catch {
        // unreadable small tensor: leave it out
      }
    }
  };
  for (const f of all(graph, G.initializer)) {
    const t = sub(f);
    small(t, tensorSummary(t).name);
  }
  all(graph, G.node).forEach((nf, i) => {
    if (nodes[i].op !== 'Constant' || nodes[i].domain) return;
    const t = attrTensorFields(sub(nf), 'value');
    if (t) small(t, nodes[i].outputs[0]);
  });
  const metadata: Record<string, string> = {};
  for (const m of all(model, M.metadata)) {
    const kv = sub(m);
    const k = first(kv, 1);
    const v = first(kv, 2);
    if (k) metadata[str(k)] = v ? str(v) : '';
  }
  const producer = first(model, M.producer);
  return {
    irVersion: int(first(model, M.irVersion)!),
    opset,
    producer: producer ? str(producer) : '',
    inputs: all(graph, G.input)
      .map(readValueInfo)
      .filter((i) => !initNames.has(i.name)),
    outputs: all(graph, G.output).map(readValueInfo),
    ops,
    parameters: inits.reduce((a, i) => a + i.n, 0),
    weightBytes: inits.reduce((a, i) => a + i.bytes, 0),
    externalData: inits.filter((i) => i.external).map((i) => i.name),
    metadata,
    nodes,
    initializers,
    constants,
  };
}

function relaxValueInfo(f: Field, names: string[], fromDim: number, batch = 'batch'): Field {
  const vi = sub(f);
  const out = vi.map((vf) => {
    if (vf.no !== 2) return vf;
    const type = sub(vf).map((tf) => {
      if (tf.no !== 1) return tf;
      const tensor = sub(tf).map((sf) => {
        if (sf.no !== 2) return sf;
        let k = 0;
        const dims = sub(sf).map((df) => {
          if (df.no !== 1) return df;
          const i = k++;
          if (i < fromDim && i !== 0) return df;
          const param = i === 0 ? batch : (names[i - fromDim] ?? `dim${i}`);
          return lenField(1, [lenField(2, bytesOf(param))]);
        });
        return lenField(2, dims);
      });
      return lenField(1, tensor);
    });
    return lenField(2, type);
  });
  return lenField(f.no, out);
}

/**
 * Make the batch dim and the spatial dims (index >= 2) of every graph input and output
 * symbolic, and drop the graph's value_info (cached intermediate shapes), so that a fully
 * convolutional model declared with fixed sizes accepts any roi. Outputs get symbols of their
 * own (out_batch, out_D, ...; out1_batch, ... for the second output): an output need not have
 * the input's size (a heatmap at stride 8) nor its batch (a model that folds 15 slices into one
 * item).
 */
export function relaxSpatialDims(bytes: Uint8Array): Uint8Array {
  const model = parseModel(bytes);
  const names = ['D', 'H', 'W'];
  const out = model.map((mf) => {
    if (mf.no !== M.graph) return mf;
    let outputs = 0;
    const graph = sub(mf)
      .filter((gf) => gf.no !== G.valueInfo)
      .map((gf) => {
        if (gf.no !== G.input && gf.no !== G.output) return gf;
        const info = readValueInfo(gf);
        const spatial = info.dims.length - 2;
        const local = spatial === 3 ? names : spatial === 2 ? names.slice(1) : names.slice(2);
        if (gf.no === G.input) return relaxValueInfo(gf, local, 2);
        const prefix = outputs === 0 ? 'out_' : `out${outputs}_`;
        outputs++;
        return relaxValueInfo(gf, local.map((x) => prefix + x), 2, `${prefix}batch`);
      });
    return lenField(M.graph, graph);
  });
  return encode(out);
}

/** True when an input declares fixed numbers for its spatial dims (index >= 2). */
export function hasFixedSpatialDims(t: TensorInfo): boolean {
  return t.dims.slice(2).some((d) => typeof d === 'number' && d > 0);
}

export { ProtoError };
