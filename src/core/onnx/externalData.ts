/**
 * ONNX external data: initializers whose bytes live in side files (`onnx.save(...,
 * save_as_external_data=True)`, every model over 2 GB, many large exports).
 *
 * Two ways to run such a model:
 *  - give the runtime the side files: onnxruntime-web takes them as a session option,
 *    `InferenceSession.create(modelBytes, { externalData: [{ path: 'model.onnx.data', data }] })`
 *    where `path` is the location written in the model and `data` a Uint8Array or a URL
 *    (externalDataOption below builds that list). onnxruntime-node reads them itself when the
 *    model is opened from its path;
 *  - inline them (inlineExternalData): one self-contained model, for runtimes or code paths that
 *    take a single buffer, and for the graph rewrites here, which need the weights. A protobuf
 *    message, hence a self-contained .onnx file, cannot exceed 2 GB: larger models must keep
 *    their weights external.
 */
import { InputError } from '../volume';
import { all, first, lenField, str, sub, type Field } from './proto';
import { GRAPH, parseModelFields, TENSOR, tensorSummary, withGraph } from './graph';

/** Largest size of a protobuf message (and so of a self-contained ONNX file). */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface ExternalRef {
  /** Initializer name. */
  name: string;
  /** File name as written in the model (relative to the model's folder). */
  location: string;
  offset: number;
  /** Bytes; from the tensor's dims when the model leaves `length` out. */
  length: number;
  checksum?: string;
}

export interface ExternalFile {
  location: string;
  tensors: number;
  /** Bytes of the file the model reads (the end of its last tensor). */
  bytes: number;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function refOf(t: Field[]): ExternalRef | null {
  const s = tensorSummary(t);
  if (!s.external) return null;
  const kv: Record<string, string> = {};
  for (const e of all(t, TENSOR.externalData)) {
    const f = sub(e);
    const k = first(f, 1);
    const v = first(f, 2);
    if (k) kv[str(k)] = v ? str(v) : '';
  }
  if (!kv.location) throw new InputError(`tensor '${s.name}' is marked as external data but names no file`);
  return {
    name: s.name,
    location: kv.location,
    offset: kv.offset ? Number(kv.offset) : 0,
    length: kv.length ? Number(kv.length) : s.bytes,
    ...(kv.checksum ? { checksum: kv.checksum } : {}),
  };
}

/** The external-data references of a model's initializers, in file order. */
export function externalDataRefs(bytes: Uint8Array): ExternalRef[] {
  const { graph } = parse(bytes);
  const refs: ExternalRef[] = [];
  for (const f of all(graph, GRAPH.initializer)) {
    const r = refOf(sub(f));
    if (r) refs.push(r);
  }
  return refs;
}

/** The side files a model needs, with their sizes. */
export function externalDataFiles(refs: ExternalRef[]): ExternalFile[] {
  const m = new Map<string, ExternalFile>();
  for (const r of refs) {
    const f = m.get(r.location) ?? { location: r.location, tensors: 0, bytes: 0 };
    f.tensors++;
    f.bytes = Math.max(f.bytes, r.offset + r.length);
    m.set(r.location, f);
  }
  return [...m.values()];
}

const baseName = (p: string): string => p.replace(/\\/g, '/').split('/').pop() ?? p;

/** Finds a side file by its location, by the same path without './', or by its base name. */
function findFile(files: Map<string, Uint8Array>, location: string): Uint8Array | undefined {
  const clean = location.replace(/^\.\//, '');
  return files.get(location) ?? files.get(clean) ?? files.get(baseName(location)) ?? [...files].find(([k]) => baseName(k) === baseName(location))?.[1];
}

function parse(bytes: Uint8Array) {
  try {
    return parseModelFields(bytes);
  } catch (e) {
    throw new InputError(`not an ONNX model: ${(e as Error).message}`);
  }
}

/** Throws the message the user sees when side files are missing (then, with `limit`, when the result would pass 2 GB, then when a file is too short). */
function checkFiles(refs: ExternalRef[], files: Map<string, Uint8Array>, modelName: string, modelBytes?: number): void {
  const missing = externalDataFiles(refs).filter((f) => !findFile(files, f.location));
  if (missing.length) {
    const list = missing.map((f) => `'${f.location}' (${formatBytes(f.bytes)})`).join(', ');
    throw new InputError(`${modelName} needs ${list}: drop ${missing.length > 1 ? 'them' : 'it'} together with the model`);
  }
  if (modelBytes !== undefined) {
    const total = modelBytes + refs.reduce((a, r) => a + r.length + 16, 0);
    if (total > PROTOBUF_LIMIT) {
      throw new InputError(
        `${modelName} with its external data is ${formatBytes(total)}: a self-contained ONNX file is limited to 2 GB (protobuf), so keep the weights in their own file (onnxruntime-web: the externalData session option)`,
      );
    }
  }
  for (const r of refs) {
    const f = findFile(files, r.location)!;
    if (r.offset + r.length > f.length) {
      throw new InputError(`${modelName}: '${r.location}' is ${formatBytes(f.length)} but tensor '${r.name}' needs bytes ${r.offset}-${r.offset + r.length}: the file is truncated or belongs to another model`);
    }
  }
}

/**
 * A self-contained copy of the model: every external initializer gets its bytes as raw_data and
 * loses its external_data/data_location fields. `files` maps file names (the location as written
 * in the model, or just its base name) to their contents.
 */
export function inlineExternalData(bytes: Uint8Array, files: Map<string, Uint8Array>, opts: { modelName?: string } = {}): Uint8Array {
  const modelName = opts.modelName ?? 'the model';
  const { model, graph } = parse(bytes);
  const refs = externalDataRefs(bytes);
  if (!refs.length) return bytes;
  checkFiles(refs, files, modelName, bytes.length);
  const out = graph.map((f) => {
    if (f.no !== GRAPH.initializer) return f;
    const t = sub(f);
    const r = refOf(t);
    if (!r) return f;
    const data = findFile(files, r.location)!.subarray(r.offset, r.offset + r.length);
    const kept = t.filter((x) => x.no !== TENSOR.externalData && x.no !== TENSOR.dataLocation && x.no !== TENSOR.rawData);
    return lenField(GRAPH.initializer, [...kept, lenField(TENSOR.rawData, data)]);
  });
  return withGraph(model, out);
}

/**
 * The `externalData` session option of onnxruntime-web for this model: one entry per side file,
 * `path` as written in the model. Throws the same messages as inlineExternalData when files are missing.
 */
export function externalDataOption(bytes: Uint8Array, files: Map<string, Uint8Array>, opts: { modelName?: string } = {}): { path: string; data: Uint8Array }[] {
  const refs = externalDataRefs(bytes);
  checkFiles(refs, files, opts.modelName ?? 'the model');
  return externalDataFiles(refs).map((f) => ({ path: f.location, data: findFile(files, f.location)! }));
}
