/**
 * What the fuzz suite (tools/fuzz.ts) feeds: every reader of src/core, its bundled samples, how a
 * case is mutated from them, and what a sane result of the reader is (the invariants every field
 * must hold). A reader passes a case when it returns a sane result or throws one InputError that
 * names the file; anything else (a raw JS error, an insane result, a hang, a crash) is a finding.
 *
 * Shared by the main thread (samples and mutations) and the worker (runs and checks). Node only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, gunzipSync, gzipSync, strToU8, unzipSync, zipSync } from 'fflate';
import { readVolume } from '../src/core/io';
import { affineProblem, LIMITS } from '../src/core/io/limits';
import { InputError, product, type Volume } from '../src/core/volume';
import { readDicomSeries } from '../src/core/spine/dicom';
import { readSpectrogramParquet } from '../src/core/eeg/parquet';
import { decodeGrayImage, readTiffStack } from '../src/core/motors/decode';
import { readMrcTomogram, type Tomogram } from '../src/core/motors/tomogram';
import { decodeChannelImage, readRgbyTiff } from '../src/core/protein/images';
import { inspectModel, type ModelInfo } from '../src/core/onnx/model';
import { externalDataRefs, inlineExternalData } from '../src/core/onnx/externalData';
import { parseCardText, type WorkbenchCard } from '../src/core/onnx/card';
import { decode, encode, lenField, str, sub, type Field } from '../src/core/onnx/proto';
import { readSession, readTensor, tensorEntry, writeSession, type TensorRef } from '../src/core/share/session';
import { decodeLink, encodeLink, type ShareSpec, type ShareValue } from '../src/core/share/query';
import { paramsShareSpec, presetDefaults, presetParamsFromCard, validatePreset, type AnyPreset } from '../src/core/preset';
import { PRESET_DEFS } from '../src/core/presets';
import { mutateBytes, mutateJson, mutateText, type Rng } from './fuzzMutate';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, p)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const untext = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface FuzzFile {
  name: string;
  bytes: Uint8Array;
}

/** One case: the files given to the reader (most readers take one). */
export interface FuzzInput {
  files: FuzzFile[];
}

export interface FuzzTarget {
  name: string;
  /** What the row of the table says. */
  label: string;
  /** The unmutated inputs (bundled samples and fixtures). */
  samples(): FuzzInput[];
  /** A mutated copy of a sample (default: byte mutations of one of its files). */
  mutate?(sample: FuzzInput, rng: Rng): FuzzInput;
  run(input: FuzzInput): unknown;
  /** Why a result is not sane, or null. */
  insane(result: unknown, input: FuzzInput): string | null;
  /** A clean error must name one of the files (default true). */
  named?: boolean;
}

/** Byte mutations of one file of the sample. */
function mutateOneFile(sample: FuzzInput, rng: Rng): FuzzInput {
  const k = rng.int(sample.files.length);
  return { files: sample.files.map((f, i) => (i === k ? { name: f.name, bytes: mutateBytes(f.bytes, rng) } : f)) };
}

const one = (name: string, bytes: Uint8Array): FuzzInput => ({ files: [{ name, bytes }] });
/** A file's name without its extension: the item id the presets give a one-file item. */
export const stem = (name: string): string => name.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
const file = (p: string): FuzzInput => one(p.split('/').pop()!, read(p));

// ---------------------------------------------------------------------------------------------
// invariants

const KNOWN_ARRAYS = [Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array];

export function volumeProblem(v: Volume): string | null {
  if (!v || typeof v !== 'object') return 'not a volume';
  const s = v.shape;
  if (!Array.isArray(s) || s.length < 3 || s.length > 4) return `shape [${String(s)}]`;
  if (s.some((d) => !Number.isSafeInteger(d) || d < 1 || d > LIMITS.maxVolumeSide)) return `shape [${s.join(', ')}]`;
  if (!KNOWN_ARRAYS.some((C) => v.data instanceof C)) return 'unknown data type';
  if (product(s) !== v.data.length) return `shape [${s.join(', ')}] but ${v.data.length} values`;
  if (v.data.length > LIMITS.maxVoxels) return `${v.data.length} voxels`;
  if (!Array.isArray(v.spacing) || v.spacing.length !== 3 || v.spacing.some((x) => !Number.isFinite(x) || !(x > 0))) return `spacing [${String(v.spacing)}]`;
  const a = affineProblem(v.affine);
  if (a) return `affine: ${a} ${JSON.stringify(v.affine)}`;
  if (!['mm', 'angstrom', 'unknown'].includes(v.unit)) return `unit ${String(v.unit)}`;
  return null;
}

function imageProblem(w: number, h: number, n: number): string | null {
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(h) || w < 1 || h < 1) return `size ${w} x ${h}`;
  if (w > LIMITS.maxImageSide || h > LIMITS.maxImageSide || w * h > LIMITS.maxImagePixels) return `size ${w} x ${h} past the limits`;
  if (n !== w * h) return `${n} pixels for ${w} x ${h}`;
  return null;
}

function grayProblem(r: unknown): string | null {
  const g = r as ReturnType<typeof decodeGrayImage>;
  return g.gray instanceof Uint8Array ? imageProblem(g.width, g.height, g.gray.length) : 'not 8-bit';
}

function modelInfoProblem(m: ModelInfo): string | null {
  const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!int(m.irVersion) || !int(m.opset)) return `irVersion ${m.irVersion}, opset ${m.opset}`;
  for (const t of [...m.inputs, ...m.outputs]) {
    if (typeof t.name !== 'string' || typeof t.type !== 'string') return 'a tensor without a name or type';
    if (t.dims.length > 64) return `rank ${t.dims.length}`;
    const bad = t.dims.find((d) => !(typeof d === 'string' || int(d)));
    if (bad !== undefined) return `tensor ${t.name} dim ${bad}`;
  }
  if (!int(m.parameters) || !int(m.weightBytes)) return `parameters ${m.parameters}, weight bytes ${m.weightBytes}`;
  for (const t of m.initializers ?? []) {
    if (!int(t.size) || !int(t.bytes) || t.dims.some((d) => !int(d))) return `initializer ${t.name}: dims [${t.dims.join(', ')}], ${t.size} elements, ${t.bytes} bytes`;
  }
  for (const [k, c] of Object.entries(m.ops)) if (!int(c)) return `op ${k} count ${c}`;
  return null;
}

/** Numbers anywhere in a JSON-like value must be finite. */
function nonFinite(v: unknown, path = ''): string | null {
  if (typeof v === 'number') return Number.isFinite(v) || Number.isNaN(v) ? null : `${path} = ${v}`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nonFinite(v[i], `${path}[${i}]`);
      if (p) return p;
    }
  } else if (v instanceof Map) {
    for (const [k, x] of v) {
      const p = nonFinite(x, `${path}.${String(k)}`);
      if (p) return p;
    }
  } else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = nonFinite(x, `${path}.${k}`);
      if (p) return p;
    }
  }
  return null;
}

/** Values a preset's parameters may not take whatever the card says: sizes that allocate. */
function paramsProblem(preset: AnyPreset, p: Record<string, unknown>): string | null {
  const problems = validatePreset(preset, p);
  if (problems.length) return `accepted but invalid: ${problems[0]}`;
  for (const k of ['roi', 'inputSize', 'size', 'conformShape']) {
    const v = p[k];
    const sides = Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v] : null;
    if (!sides) continue;
    if (sides.some((x) => x > LIMITS.maxRoiSide)) return `${k} ${sides.join(',')} past ${LIMITS.maxRoiSide}`;
    if (product(sides) > LIMITS.maxRoiVoxels) return `${k} ${sides.join(',')}: ${product(sides)} voxels`;
  }
  for (const k of ['swBatch', 'cropBatch', 'sliceCount', 'cropSize', 'cropSlices', 'maxPeaks', 'windowRows', 'trainedRows']) {
    const v = p[k];
    if (typeof v === 'number' && v > LIMITS.maxRoiSide) return `${k} ${v}`;
  }
  if (typeof p.sigmaScale === 'number' && p.sigmaScale > LIMITS.maxSigmaScale) return `sigmaScale ${p.sigmaScale}`;
  for (const k of ['occlusion', 'occlusionParams']) {
    const o = p[k] as { batch?: number; patch?: number[]; stride?: number[] } | undefined;
    if (o && ((o.batch ?? 0) > LIMITS.maxSwBatch || (o.patch ?? []).some((x) => x > LIMITS.maxRoiSide) || (o.stride ?? []).some((x) => x > LIMITS.maxRoiSide))) return `${k} ${JSON.stringify(o)}`;
  }
  return nonFinite(p);
}

function cardProblem(c: WorkbenchCard): string | null {
  if (c.roi && (c.roi.some((x) => !(x === -1 || (Number.isSafeInteger(x) && x >= 1 && x <= LIMITS.maxRoiSide))) || product(c.roi.map((x) => Math.max(1, x))) > LIMITS.maxRoiVoxels)) return `roi ${c.roi.join(',')}`;
  if (c.swBatch !== undefined && !(Number.isSafeInteger(c.swBatch) && c.swBatch >= 1 && c.swBatch <= LIMITS.maxSwBatch)) return `swBatch ${c.swBatch}`;
  if (c.sigmaScale !== undefined && !(c.sigmaScale > 0 && c.sigmaScale <= LIMITS.maxSigmaScale)) return `sigmaScale ${c.sigmaScale}`;
  if (c.cval !== undefined && !Number.isFinite(c.cval)) return `cval ${c.cval}`;
  const ov = c.overlap === undefined ? [] : Array.isArray(c.overlap) ? c.overlap : [c.overlap];
  if (ov.some((x) => !(x >= 0 && x < 1))) return `overlap ${String(c.overlap)}`;
  if (c.labels && (c.labels.length > LIMITS.maxLabels || c.labels.some((l) => typeof l !== 'string' || l.length > LIMITS.maxLabelLength))) return `${c.labels.length} labels`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// readers

const volumeTarget = (name: string, label: string, paths: string[], mutate?: FuzzTarget['mutate']): FuzzTarget => ({
  name,
  label,
  samples: () => paths.map(file),
  mutate,
  run: (i) => readVolume(i.files[0].bytes, i.files[0].name),
  insane: (r) => volumeProblem(r as Volume),
});

/** Half of the cases mutate the content inside the gzip and compress it again (so lying headers get through). */
function mutateInsideGzip(sample: FuzzInput, rng: Rng): FuzzInput {
  const f = sample.files[0];
  if (rng.chance(0.5)) return mutateOneFile(sample, rng);
  return one(f.name, gzipSync(mutateBytes(gunzipSync(f.bytes), rng), { level: 1 }));
}

const tiffOffsets = (b: Uint8Array): { le: boolean; ifds: number[] } => {
  const le = b[0] === 0x49;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ifds: number[] = [];
  let o = v.getUint32(4, le);
  while (o > 0 && o + 2 <= b.length && ifds.length < 64 && !ifds.includes(o)) {
    ifds.push(o);
    const n = v.getUint16(o, le);
    if (o + 2 + 12 * n + 4 > b.length) break;
    o = v.getUint32(o + 2 + 12 * n, le);
  }
  return { le, ifds };
};

/** TIFF structure: an IFD chain that loops back, tag counts of 2^31 - 1, offsets past the end; else byte mutations. */
function mutateTiff(sample: FuzzInput, rng: Rng): FuzzInput {
  const f = sample.files[0];
  const { le, ifds } = tiffOffsets(f.bytes);
  if (!ifds.length || rng.chance(0.6)) return mutateOneFile(sample, rng);
  const b = f.bytes.slice();
  const v = new DataView(b.buffer);
  const ifd = rng.pick(ifds);
  const n = v.getUint16(ifd, le);
  const r = rng.next();
  if (r < 0.35) v.setUint32(ifd + 2 + 12 * n, rng.pick([ifds[0], ifd, ...ifds]), le); // next pointer loops back
  else if (n > 0) {
    const e = ifd + 2 + 12 * rng.int(n);
    if (r < 0.7) v.setUint32(e + 4, rng.pick([0x7fffffff, 0xffffffff, 65536, 1 << 24, 0]), le); // count
    else if (r < 0.85) v.setUint32(e + 8, rng.pick([b.length, b.length - 1, 0xfffffff0, 0x7fffffff]), le); // value offset
    else v.setUint16(e + 2, rng.pick([0, 6, 13, 16, 255, 12, 5, 10]), le); // type
  }
  return one(f.name, b);
}

function dicomSet(dir: string, names: string[]): FuzzInput {
  return { files: names.map((n) => ({ name: `${dir.split('/').pop()}/${n}`, bytes: read(`${dir}/${n}`) })) };
}

// ONNX: the external-data entries of a model, rewritten (offset, length, location)
function mutateExternal(sample: FuzzInput, rng: Rng): FuzzInput {
  const [model, data] = sample.files;
  const r = rng.next();
  if (r < 0.3) return mutateOneFile(sample, rng);
  if (r < 0.4) return { files: [model, { name: data.name, bytes: data.bytes.slice(0, rng.int(data.bytes.length)) }] };
  const fields = decode(model.bytes);
  const pickValue = (k: string, v: string): string => {
    const n = Number(v);
    if (k === 'location') return rng.pick(['', '../../etc/passwd', 'other.data', v, v + 'x']);
    return rng.pick([String(-864), '-1', String(n + 4), String(n - 4), '1e9', '9007199254740993', 'abc', '', String(data.bytes.length), '0x10', ' 12', String(n * 2), '4294967296']);
  };
  const editTensor = (t: Field[]): Field[] =>
    t.map((tf) => {
      if (tf.no !== 13 || !rng.chance(0.5)) return tf;
      const kv = sub(tf);
      const k = kv.find((x) => x.no === 1);
      const v = kv.find((x) => x.no === 2);
      if (!k || !v) return tf;
      return lenField(13, [k, lenField(2, text(pickValue(str(k), str(v))))]);
    });
  const out = fields.map((mf) => (mf.no !== 7 ? mf : lenField(7, sub(mf).map((gf) => (gf.no === 5 ? lenField(5, editTensor(sub(gf))) : gf)))));
  return { files: [{ name: model.name, bytes: encode(out) }, data] };
}

function externalProblem(result: unknown, input: FuzzInput): string | null {
  const [model, data] = input.files;
  const refs = externalDataRefs(model.bytes);
  for (const r of refs) {
    if (!Number.isSafeInteger(r.offset) || r.offset < 0 || !Number.isSafeInteger(r.length) || r.length < 0 || r.offset + r.length > data.bytes.length) {
      return `accepted tensor '${r.name}' at offset ${r.offset}, length ${r.length} of a ${data.bytes.length}-byte file`;
    }
  }
  const info = inspectModel(result as Uint8Array);
  for (const t of info.initializers ?? []) if (t.external) return `tensor ${t.name} still external`;
  const p = modelInfoProblem(info);
  if (p) return p;
  // the weights of each inlined tensor are the file's bytes at its offset, and as many as its dims say
  for (const t of info.initializers ?? []) {
    const ref = refs.find((r) => r.name === t.name);
    if (ref && ref.length !== t.bytes) return `tensor ${t.name}: ${ref.length} bytes inlined, its dims need ${t.bytes}`;
  }
  return null;
}

// sessions: a small one written by writeSession, like the page's
function sampleSession(): Uint8Array {
  const files = new Map<string, Uint8Array>();
  files.set('model.onnx', read('tests/fixtures/models/tiny3d.onnx'));
  files.set('volume.nii.gz', read('tests/fixtures/volumes/ball_int16.nii.gz'));
  const result = tensorEntry('result.f32', Float32Array.from({ length: 512 }, (_, i) => Math.sin(i)), files);
  const labels = tensorEntry('labels.u8', Uint8Array.from({ length: 512 }, (_, i) => i % 3), files);
  const state = { settings: { roi: [8, 8, 8], overlap: 0.25, swBatch: 1 }, view: { opacity: 0.5 }, labels: ['a', 'b'], tensors: [result, labels] };
  return writeSession({ preset: 'workbench', state, files, link: '?v=1&preset=workbench&roi=8,8,8' }, '2025-01-01T00:00:00.000Z');
}

function mutateSession(sample: FuzzInput, rng: Rng): FuzzInput {
  const f = sample.files[0];
  const r = rng.next();
  if (r < 0.5) return mutateOneFile(sample, rng);
  const entries: Record<string, Uint8Array> = unzipSync(f.bytes);
  if (r < 0.8) {
    const json = JSON.parse(untext(entries['session.json'])) as unknown;
    entries['session.json'] = rng.chance(0.8) ? text(JSON.stringify(mutateJson(json, rng))) : text(mutateText(JSON.stringify(json), rng));
  } else if (r < 0.9) {
    // an entry that inflates far past its size: a bomb
    entries['result.f32'] = new Uint8Array(1 << (20 + rng.int(4)));
  } else {
    const k = rng.pick(Object.keys(entries));
    entries[k] = mutateBytes(entries[k], rng);
  }
  return one(f.name, zipSync(entries, { level: 6 }));
}

function sessionProblem(r: ReturnType<typeof readSession>): string | null {
  const m = r.manifest;
  if (typeof r.preset !== 'string' || typeof r.createdAt !== 'string' || (r.link !== undefined && typeof r.link !== 'string')) return 'manifest fields of the wrong type';
  if (m.format !== 'voxelbench-session' || !Number.isSafeInteger(m.version) || m.version < 1) return `format ${String(m.format)} version ${String(m.version)}`;
  if (!Array.isArray(m.files)) return 'files is not a list';
  let total = 0;
  for (const f of m.files) {
    const b = r.files.get(f.path);
    if (typeof f.path !== 'string' || !b || b.byteLength !== f.bytes) return `file ${String(f.path)}`;
    total += b.byteLength;
  }
  if (total > LIMITS.maxSessionBytes) return `${total} bytes`;
  return null;
}

// links: the workbench's kind of spec, and a preset's from its ParamSpecs
const WORKBENCH_SPEC: ShareSpec = {
  defaults: { roi: [128, 128, 128], overlap: 0.25, mode: 'constant', swBatch: 1, sigmaScale: 0.125, names: [] as string[], opacity: 0.5, slice: 'axial', xyz: [0.5, 0.5, 0.5], flip: false },
  fields: {
    roi: { min: 1, max: LIMITS.maxRoiSide, integer: true },
    overlap: { min: 0, max: 0.99 },
    mode: { choices: ['constant', 'gaussian'] },
    swBatch: { min: 1, max: LIMITS.maxSwBatch, integer: true },
    sigmaScale: { min: 0.001, max: LIMITS.maxSigmaScale },
    names: { anyLength: true },
    opacity: { min: 0, max: 1 },
    slice: { choices: ['axial', 'coronal', 'sagittal'] },
    xyz: { min: 0, max: 1 },
  },
};

function specFor(page: { preset?: string; demo?: string }): ShareSpec | null {
  if (page.preset === 'workbench') return WORKBENCH_SPEC;
  const preset = PRESET_DEFS[(page.demo ?? page.preset ?? '') as keyof typeof PRESET_DEFS];
  return preset ? paramsShareSpec(preset.params, presetDefaults(preset)) : null;
}

const LINKS = [
  '?v=1&demo=motors&quantile=0.6&tomo=tomo_sim_003&slice=axial&xyz=0.41,0.52,0.3&zoom=1.5',
  '?v=1&preset=workbench&model=https://example.org/model.onnx&data=https://example.org/t1.nii.gz&roi=128,128,64&overlap=0.5&mode=gaussian&labels=a,b,c',
  '?v=1&preset=motors&roi=64,128,128&swBatch=2&overlap=0.5,0.25,0.25',
  '?v=1&preset=eeg&start=10&rows=300',
];

/** The sample links, and one in the compact form (a long label list). */
const linkSamples = (): FuzzInput[] => [
  ...LINKS.map((q) => one('link', text(q))),
  one('link', text(encodeLink({ preset: 'workbench', models: ['https://example.org/m.onnx'], data: [], values: { roi: [64, 64, 64], names: Array.from({ length: 300 }, (_, i) => `label ${i}`) } }, WORKBENCH_SPEC.defaults))),
];

function mutateLink(sample: FuzzInput, rng: Rng): FuzzInput {
  const q = untext(sample.files[0].bytes);
  const r = rng.next();
  let out: string;
  if (r < 0.35) out = mutateText(q, rng);
  else if (r < 0.75) {
    const key = rng.pick(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'roi', 'overlap', 'swBatch', 'labels', 'mode', 'v', 'z', 'model', 'data', 'preset', 'demo', 'quantile', 'xyz', 'valueOf', 'flip']);
    const value = rng.pick(['', '1', '-1', '0', 'NaN', '1e9', '1e308', '1000,1000,1000', 'abc', ',,,', '1,2', Array(5000).fill('1').join(','), 'x'.repeat(10000), 'javascript:alert(1)', 'https://evil.example/', '%00', 'true', '[object Object]', '0.5,0.5']);
    out = `${q}&${key}=${encodeURIComponent(value)}`;
  } else {
    // a compact link with odd JSON inside
    const base = { preset: rng.pick(['workbench', 'motors', 'eeg', 'x']), model: ['https://example.org/m.onnx'], data: [], values: { roi: [64, 64, 64], overlap: 0.5 } };
    const json = mutateJson(base, rng);
    out = `?v=1&z=${Buffer.from(deflateRaw(JSON.stringify(json))).toString('base64url')}`;
  }
  return one('link', text(out));
}

const deflateRaw = (s: string): Uint8Array => deflateSync(strToU8(s), { level: 9 });

function linkProblem(r: ReturnType<typeof decodeLink>): string | null {
  const s = r.state;
  if (!Array.isArray(s.models) || !Array.isArray(s.data) || !s.models.every((u) => typeof u === 'string') || !s.data.every((u) => typeof u === 'string')) return 'models/data are not lists of strings';
  if ((s.preset !== undefined && typeof s.preset !== 'string') || (s.demo !== undefined && typeof s.demo !== 'string') || (s.labels !== undefined && typeof s.labels !== 'string')) return 'page or labels not a string';
  if (Object.getPrototypeOf(s.values) !== Object.prototype) return 'values lost their prototype';
  const spec = specFor({ preset: s.preset, demo: s.demo });
  for (const [k, v] of Object.entries(s.values)) {
    if (!spec || !Object.prototype.hasOwnProperty.call(spec.defaults, k)) return `value for unknown key ${k}`;
    const def = spec.defaults[k];
    const f = spec.fields?.[k] ?? {};
    const okNum = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && (f.min === undefined || x >= f.min) && (f.max === undefined || x <= f.max) && (!f.integer || Number.isInteger(x));
    const okStr = (x: unknown) => typeof x === 'string' && (!f.choices || f.choices.includes(x));
    const vv = v as ShareValue;
    if (typeof def === 'number' && !okNum(vv)) return `${k} = ${JSON.stringify(vv)}`;
    if (typeof def === 'boolean' && typeof vv !== 'boolean') return `${k} = ${JSON.stringify(vv)}`;
    if (typeof def === 'string' && !okStr(vv)) return `${k} = ${JSON.stringify(vv)}`;
    if (Array.isArray(def)) {
      if (!Array.isArray(vv)) return `${k} = ${JSON.stringify(vv)}`;
      if (vv.length > LIMITS.maxLinkListItems) return `${k}: ${vv.length} items`;
      const numeric = def.length > 0 ? typeof def[0] === 'number' : !f.choices && k !== 'names';
      if (!(vv as unknown[]).every((x) => (numeric ? okNum(x) : okStr(x)))) return `${k} = ${JSON.stringify(vv).slice(0, 80)}`;
    }
  }
  if (!r.problems.every((p) => typeof p === 'string')) return 'a problem that is not a string';
  return null;
}

// CSV labels of the presets
const csvTarget = (presetId: keyof typeof PRESET_DEFS, path: string): FuzzTarget => ({
  name: `csv-${presetId}`,
  label: `CSV labels (${presetId})`,
  samples: () => [file(path)],
  mutate: (s, rng) => one(s.files[0].name, text(mutateText(untext(s.files[0].bytes), rng))),
  run: (i) => {
    const preset = PRESET_DEFS[presetId]!;
    return preset.labels!.parse(untext(i.files[0].bytes), i.files[0].name, presetDefaults(preset));
  },
  insane: (r) => (r === undefined || r === null ? 'no result' : nonFinite(r)),
});

const cardSamples = ['public/demo/meshnet/card.json', 'public/models/motor_heatmap.json', 'public/models/eeg_spectrogram.json', 'public/models/protein_localisation.json', 'public/models/spine_seg.json'];

export const TARGETS: FuzzTarget[] = [
  volumeTarget('nifti', 'NIfTI', ['tests/fixtures/io/nifti1_bigendian.nii', 'tests/fixtures/io/nifti1_nocodes.nii', 'tests/fixtures/io/nifti1_qform_only.nii', 'tests/fixtures/io/nifti2_float64.nii']),
  volumeTarget('gzip', 'gzip (.nii.gz, .map.gz)', ['tests/fixtures/volumes/ball_int16.nii.gz', 'tests/fixtures/io/nifti1_rot_scl.nii.gz', 'tests/fixtures/io/nifti1_4d_uint8.nii.gz', 'tests/fixtures/io/emd_3197.map.gz'], mutateInsideGzip),
  volumeTarget('npy', 'npy', ['tests/fixtures/volumes/ball_int16_tiny3d_whole.npy', 'tests/fixtures/onnx/unet_input.npy', 'tests/fixtures/protein/tiff_pages16.npy']),
  volumeTarget('mrc', 'MRC', ['tests/fixtures/io/mode0_imod_uint8.mrc', 'tests/fixtures/io/mode12_float16.mrc', 'tests/fixtures/io/mode1_int16.mrc', 'tests/fixtures/io/mode2_bigendian.mrc', 'tests/fixtures/io/mode2_exthdr_origin.mrc', 'tests/fixtures/io/mode6_uint16.mrc', 'tests/fixtures/io/EMD-3197.map']),
  {
    // the slab-by-slab reader (motors in the CLI and the page): one z section per slab, so that every slab path is taken
    name: 'mrc-tomogram',
    label: 'MRC tomogram (slabs)',
    samples: () => ['tests/fixtures/io/mode0_imod_uint8.mrc', 'tests/fixtures/io/mode12_float16.mrc', 'tests/fixtures/io/mode1_int16.mrc', 'tests/fixtures/io/mode2_bigendian.mrc', 'tests/fixtures/io/mode2_exthdr_origin.mrc', 'tests/fixtures/io/mode6_uint16.mrc'].map(file),
    run: async (i) => {
      const b = i.files[0].bytes;
      const t = await readMrcTomogram({ size: b.length, read: (o, n) => b.slice(o, o + n) }, stem(i.files[0].name), i.files[0].name, { slabBytes: 1 });
      return t ?? 'gzip';
    },
    insane: (r) => {
      if (r === 'gzip') return null;
      const t = r as Tomogram;
      if (!(t.data instanceof Uint8Array)) return 'not uint8';
      if (t.shape.length !== 3 || t.shape.some((d) => !Number.isSafeInteger(d) || d < 1 || d > LIMITS.maxVolumeSide)) return `shape [${t.shape.join(', ')}]`;
      if (product(t.shape) !== t.data.length) return `shape [${t.shape.join(', ')}] but ${t.data.length} values`;
      if (t.spacing !== undefined && !(Number.isFinite(t.spacing) && t.spacing > 0)) return `spacing ${t.spacing}`;
      return null;
    },
  },
  {
    name: 'dicom',
    label: 'DICOM series',
    samples: () => [
      dicomSet('tests/fixtures/spine/syntaxes/implicit', ['30.dcm', '31.dcm', '32.dcm']),
      dicomSet('tests/fixtures/spine/syntaxes/bigendian', ['30.dcm', '31.dcm', '32.dcm']),
      dicomSet('tests/fixtures/spine/syntaxes/rle', ['30.dcm', '31.dcm', '32.dcm']),
      dicomSet('public/samples/ct/real_totalseg_j2k', ['CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573.dcm', 'CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016574.dcm']),
    ],
    run: (i) => readDicomSeries(i.files.map((f) => ({ name: f.name, bytes: f.bytes }))),
    insane: (r) => {
      const { series } = r as Awaited<ReturnType<typeof readDicomSeries>>;
      if (!series.length) return 'no series and no error';
      for (const s of series) {
        const p = volumeProblem(s.volume);
        if (p) return p;
        if (s.stored.length !== s.volume.data.length) return `${s.stored.length} stored values for ${s.volume.data.length} voxels`;
        if (s.files.length !== s.volume.shape[0]) return `${s.files.length} files for ${s.volume.shape[0]} slices`;
      }
      return null;
    },
  },
  {
    name: 'tiff-stack',
    label: 'TIFF stack (motors)',
    samples: () => ['stack_u8.tif', 'stack_u16.tif', 'stack_u8_lzw.tif', 'stack_mixed.tif'].map((n) => file(`tests/fixtures/motors/${n}`)),
    mutate: mutateTiff,
    run: (i) => readTiffStack(i.files[0].bytes, stem(i.files[0].name), i.files[0].name),
    insane: (r) => {
      const t = r as ReturnType<typeof readTiffStack>;
      if (t.shape.some((d) => !Number.isSafeInteger(d) || d < 1)) return `shape [${t.shape.join(', ')}]`;
      if (!(t.data instanceof Uint8Array) || t.data.length !== product(t.shape)) return `${t.data.length} voxels for [${t.shape.join(', ')}]`;
      if (t.data.length > LIMITS.maxVoxels) return 'too many voxels';
      if (t.spacing !== undefined && !(Number.isFinite(t.spacing) && t.spacing > 0)) return `spacing ${t.spacing}`;
      return imageProblem(t.shape[2], t.shape[1], t.shape[1] * t.shape[2]);
    },
  },
  {
    name: 'tiff-protein',
    label: 'protein TIFF',
    samples: () => [file('tests/fixtures/protein/tiff_rgba8.tif'), file('tests/fixtures/protein/tiff_pages16.tif')],
    mutate: mutateTiff,
    run: (i) => readRgbyTiff(i.files[0].bytes, stem(i.files[0].name), i.files[0].name),
    insane: (r) => {
      const f = r as ReturnType<typeof readRgbyTiff>;
      if (f.channels.length !== 4) return `${f.channels.length} channels`;
      for (const c of f.channels) {
        const p = imageProblem(f.width, f.height, c.length);
        if (p) return p;
        if (f.bits === 16 ? !(c instanceof Uint16Array) : !(c instanceof Uint8Array)) return `bits ${f.bits} but ${c.constructor.name}`;
      }
      return null;
    },
  },
  {
    name: 'png-slice',
    label: 'PNG slices (motors)',
    samples: () => ['png_gray16.png', 'png_gray8.png', 'png_palette.png', 'png_rgb.png', 'png_rgba.png'].map((n) => file(`tests/fixtures/motors/${n}`)),
    run: (i) => decodeGrayImage(i.files[0].bytes, i.files[0].name),
    insane: grayProblem,
  },
  {
    name: 'png-protein',
    label: 'protein PNG',
    samples: () => [file('tests/fixtures/protein/png16_red.png'), file('public/samples/protein/sim_protein_001_cells.png'), file('tests/fixtures/motors/png_palette.png'), file('tests/fixtures/motors/png_rgba.png')],
    run: (i) => decodeChannelImage(i.files[0].bytes, i.files[0].name),
    insane: (r) => {
      const c = r as ReturnType<typeof decodeChannelImage>;
      if (c.bits === 16 ? !(c.data instanceof Uint16Array) : !(c.data instanceof Uint8Array)) return `bits ${c.bits} but ${c.data.constructor.name}`;
      return imageProblem(c.width, c.height, c.data.length);
    },
  },
  {
    name: 'jpeg',
    label: 'JPEG slices',
    samples: () => [file('tests/fixtures/motors/slice_gray.jpg'), file('public/samples/tomograms/tomo_sim_001/slice_0000.jpg')],
    run: (i) => decodeGrayImage(i.files[0].bytes, i.files[0].name),
    insane: grayProblem,
  },
  {
    name: 'parquet',
    label: 'parquet (EEG)',
    samples: () => [file('tests/fixtures/eeg/nulls_double.parquet'), file('public/samples/eeg/real_eegmmidb_S001R03.parquet'), file('tests/fixtures/eeg/wrong_columns.parquet')],
    run: (i) => readSpectrogramParquet(i.files[0].bytes, i.files[0].name),
    insane: (r) => {
      const s = r as Awaited<ReturnType<typeof readSpectrogramParquet>>;
      if (!Number.isSafeInteger(s.rows) || s.rows < 1 || s.rows > LIMITS.maxTableRows) return `${s.rows} rows`;
      if (s.data.length !== 400 * s.rows || s.time.length !== s.rows) return `data ${s.data.length}, time ${s.time.length} for ${s.rows} rows`;
      if (s.freqs.length !== 100 || s.freqs.some((f) => !Number.isFinite(f))) return 'frequencies';
      if (!Number.isSafeInteger(s.nanCount) || s.nanCount > s.data.length) return `nanCount ${s.nanCount}`;
      return null;
    },
  },
  csvTarget('motors', 'public/samples/tomograms/labels.csv'),
  csvTarget('eeg', 'public/samples/eeg/votes.csv'),
  csvTarget('protein', 'public/samples/protein/cell_labels.csv'),
  csvTarget('spine', 'public/samples/ct/sim_neck_labels.csv'),
  {
    name: 'onnx',
    label: 'ONNX (inspect)',
    samples: () => ['tests/fixtures/models/tiny3d.onnx', 'tests/fixtures/motors/tiny_motor.onnx', 'tests/fixtures/eeg/tiny_eeg_logits.onnx', 'tests/fixtures/protein/tiny_protein.onnx', 'tests/fixtures/onnx/resize3d.onnx'].map(file),
    run: (i) => inspectModel(i.files[0].bytes),
    insane: (r) => modelInfoProblem(r as ModelInfo),
    named: false,
  },
  {
    name: 'onnx-external',
    label: 'ONNX external data',
    samples: () => [{ files: [{ name: 'unet_ext.onnx', bytes: read('tests/fixtures/onnx/external/unet_ext.onnx') }, { name: 'unet_ext.onnx.data', bytes: read('tests/fixtures/onnx/external/unet_ext.onnx.data') }] }],
    mutate: mutateExternal,
    run: (i) => {
      // as the page and the CLI do: the model is inspected when it is opened, then its weights inlined
      try {
        inspectModel(i.files[0].bytes);
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${i.files[0].name}: ${e.message}`) : e;
      }
      return inlineExternalData(i.files[0].bytes, new Map([[i.files[1].name, i.files[1].bytes]]), { modelName: i.files[0].name });
    },
    insane: externalProblem,
  },
  {
    name: 'card',
    label: 'model card',
    samples: () => cardSamples.map(file),
    mutate: (s, rng) => {
      const f = s.files[0];
      if (rng.chance(0.2)) return one(f.name, text(mutateText(untext(f.bytes), rng)));
      return one(f.name, text(JSON.stringify(mutateJson(JSON.parse(untext(f.bytes)), rng))));
    },
    run: (i) => {
      const t = untext(i.files[0].bytes);
      const card = parseCardText(t, i.files[0].name);
      const json = JSON.parse(t) as { preset?: unknown };
      // a preset named by a string only (as `voxelbench run` and the page read it): an object there is no preset
      const preset = typeof json?.preset === 'string' && Object.hasOwn(PRESET_DEFS, json.preset) ? PRESET_DEFS[json.preset as keyof typeof PRESET_DEFS] : undefined;
      try {
        // as `voxelbench run` does: the preset's values from the card, errors under the card's name
        return { card, preset, params: preset ? presetParamsFromCard(preset, json, presetDefaults(preset)) : null };
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${i.files[0].name}: ${e.message}`) : e;
      }
    },
    insane: (r) => {
      const { card, preset, params } = r as { card: WorkbenchCard; preset?: AnyPreset; params: Record<string, unknown> | null };
      return cardProblem(card) ?? (preset && params ? paramsProblem(preset, params) : null);
    },
  },
  {
    name: 'session',
    label: 'session zip',
    samples: () => [one('sample.vbsession', sampleSession())],
    mutate: mutateSession,
    run: (i) => {
      const r = readSession(i.files[0].bytes, i.files[0].name);
      // the page reads its state through the preset's own schema; here: the typed arrays it names
      const refs = (r.state as { tensors?: unknown } | null)?.tensors;
      const tensors = (Array.isArray(refs) ? (refs as TensorRef[]) : []).map((t) => readTensor(t, r.files, i.files[0].name));
      return { r, tensors };
    },
    insane: (x) => {
      const { r, tensors } = x as { r: ReturnType<typeof readSession>; tensors: ReturnType<typeof readTensor>[] };
      return sessionProblem(r) ?? (tensors.some((t) => !ArrayBuffer.isView(t)) ? 'a tensor that is not a typed array' : null);
    },
  },
  {
    name: 'link',
    label: 'share-link query',
    samples: linkSamples,
    mutate: mutateLink,
    run: (i) => decodeLink(untext(i.files[0].bytes), specFor),
    insane: (r) => linkProblem(r as ReturnType<typeof decodeLink>),
    named: false,
  },
];

export const targetByName = (name: string): FuzzTarget => {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target '${name}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
};

/** Case `index` of a target: a mutated copy of one of its samples (deterministic in the seed). */
export function makeCase(t: FuzzTarget, samples: FuzzInput[], rng: Rng): FuzzInput {
  const s = rng.pick(samples);
  return (t.mutate ?? mutateOneFile)(s, rng);
}

