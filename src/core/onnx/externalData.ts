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
import { ELEM_SIZE, GRAPH, parseModelFields, TENSOR, tensorSummary, withGraph } from './graph';

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

/** A relative path inside the model's folder: no root, no drive, no '..' (ONNX Runtime refuses the same). */
const insideFolder = (p: string): boolean => p !== '' && !/^([/\\]|[a-z]:)/i.test(p) && !p.split(/[/\\]/).includes('..') && !p.includes('\0');

/**
 * An initializer's external-data entry, every value checked: a location inside the model's
 * folder, an offset and a length that are whole numbers, the length the tensor's dims need.
 */
function refOf(t: Field[], modelName: string): ExternalRef | null {
  const s = tensorSummary(t);
  if (!s.external) return null;
  const kv: Record<string, string> = {};
  for (const e of all(t, TENSOR.externalData)) {
    const f = sub(e);
    const k = first(f, 1);
    const v = first(f, 2);
    if (k) kv[str(k)] = v ? str(v) : '';
  }
  const bad = (what: string): never => {
    throw new InputError(`${modelName}: tensor '${s.name}' ${what}; the model is damaged`);
  };
  if (!kv.location) bad('is marked as external data but names no file');
  if (!insideFolder(kv.location)) bad(`keeps its data in '${kv.location}', outside the model's folder`);
  const whole = (k: 'offset' | 'length'): number | undefined => {
    const v = kv[k];
    if (v === undefined || v === '') return undefined;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) bad(`has an external-data ${k} of ${JSON.stringify(v)}, not a whole number of bytes`);
    return n;
  };
  if (!s.dims.every((d) => Number.isSafeInteger(d) && d >= 0) || !Number.isSafeInteger(s.bytes)) bad(`has dims [${s.dims.join(', ')}]`);
  const length = whole('length') ?? s.bytes;
  if (length !== s.bytes && ELEM_SIZE[s.dataType] !== undefined) bad(`has ${length} bytes of external data but its dims [${s.dims.join(', ')}] need ${s.bytes}`);
  return {
    name: s.name,
    location: kv.location,
    offset: whole('offset') ?? 0,
    length,
    ...(kv.checksum ? { checksum: kv.checksum } : {}),
  };
}

/** The external-data references of a model's initializers, in file order (an InputError naming `modelName` for a bad one). */
export function externalDataRefs(bytes: Uint8Array, modelName = 'the model'): ExternalRef[] {
  const { graph } = parse(bytes, modelName);
  const refs: ExternalRef[] = [];
  try {
    for (const f of all(graph, GRAPH.initializer)) {
      const r = refOf(sub(f), modelName);
      if (r) refs.push(r);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${modelName}: not a valid ONNX model: ${(e as Error).message}`);
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

function parse(bytes: Uint8Array, modelName = 'the model') {
  try {
    return parseModelFields(bytes);
  } catch (e) {
    throw new InputError(`${modelName}: not an ONNX model: ${(e as Error).message}`);
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
  const { model, graph } = parse(bytes, modelName);
  const refs = externalDataRefs(bytes, modelName);
  if (!refs.length) return bytes;
  checkFiles(refs, files, modelName, bytes.length);
  const out = graph.map((f) => {
    if (f.no !== GRAPH.initializer) return f;
    const t = sub(f);
    const r = refOf(t, modelName);
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
  const refs = externalDataRefs(bytes, opts.modelName);
  checkFiles(refs, files, opts.modelName ?? 'the model');
  return externalDataFiles(refs).map((f) => ({ path: f.location, data: findFile(files, f.location)! }));
}
