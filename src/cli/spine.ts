/**
 * `voxelbench spine`: the cervical-spine preset (RSNA 2022 pipeline) over a folder of studies with
 * onnxruntime-node (the same core as the page). Per study: <out>/<StudyUID>.nii.gz label masks
 * (0 = background, k = C_k) with the CT's shape and affine, the per-vertebra table on stdout; with
 * --cls: <out>/submission.csv (row_id,fractured); with --labels: the RSNA 2022 weighted log loss.
 * A bad study is reported with its name and skipped; the others still run.
 *
 * --studies DIR: one subfolder of DICOM files per study, or DIR itself is one study, or .nii/.nii.gz
 * files (the study id is then the file name).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sessionOutputsPredictor, sessionPredictor } from '../core/ortPredictor';
import { readVolume, writeNifti } from '../core/io';
import { InputError, type Affine, type Volume, type VoxelArray } from '../core/volume';
import { checkSpineModel, spineParamsFromCard, spinePreset, validateSpineParams, type SpineLayout, type SpineOrder, type SpineParams } from '../core/presets/spine';
import { readDicomSeries, type DicomFile } from '../core/spine/dicom';
import { runSpinePipeline, type SpineResult } from '../core/spine/pipeline';
import { parseSpineLabelsCsv, spineMetric, spineSubmissionCsv, type SpineStudyPrediction } from '../core/spine/export';
import { orientHeadFirst } from '../core/spine/orient';
import { inspectModel } from '../core/onnx/model';

export const SPINE_USAGE = `  voxelbench spine --seg s1.onnx[,s2.onnx...] [--cls c1.onnx[,c2.onnx...]] --studies DIR --out DIR
                   [--labels labels.csv] [--order position|filename] [--threshold t] [--fallback t]
                   [--layout slices-last|slices-first] [--card seg.json] [--quiet]`;

interface Study {
  id: string;
  path: string;
  kind: 'dicom' | 'nifti';
}

const NIFTI = /\.nii(\.gz)?$/i;

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function findStudies(dir: string): Study[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new InputError(`cannot read studies '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const studies: Study[] = [];
  const vis = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of vis) {
    if (e.isDirectory()) studies.push({ id: e.name, path: join(dir, e.name), kind: 'dicom' });
    else if (e.isFile() && NIFTI.test(e.name)) studies.push({ id: e.name.replace(NIFTI, ''), path: join(dir, e.name), kind: 'nifti' });
  }
  const hasLooseFiles = vis.some((e) => e.isFile() && !NIFTI.test(e.name) && !/\.(csv|json|md|txt)$/i.test(e.name));
  if (studies.length === 0 || (hasLooseFiles && !vis.some((e) => e.isDirectory()))) {
    // the folder itself is one study
    return [{ id: basename(dir), path: dir, kind: 'dicom' }];
  }
  return studies;
}

function models(list: string, what: string): { path: string; session: Promise<ort.InferenceSession> }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((path) => {
      if (!existsSync(path)) throw new InputError(`--${what}: no such model file '${path}'`);
      const session = ort.InferenceSession.create(path, { intraOpNumThreads: 2 }).catch((e: Error) => {
        throw new InputError(`${basename(path)}: onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
      });
      session.catch(() => undefined); // awaited later; a usage error thrown first must not leave it unhandled
      return { path, session };
    });
}

interface LoadedStudy {
  id: string;
  stored: VoxelArray;
  shape: [number, number, number];
  spacing: number[];
  /** The CT volume as read (written back with its shape and affine). */
  affine: Affine;
  /** Maps labels in the pipeline's orientation back to the CT's voxel order. */
  restore: (labels: Uint8Array) => Uint8Array;
  warnings: string[];
  source: string;
}

async function loadStudy(s: Study, order: SpineOrder): Promise<LoadedStudy> {
  if (s.kind === 'nifti') {
    const vol: Volume = readVolume(new Uint8Array(readFileSync(s.path)), basename(s.path));
    if (vol.shape.length !== 3) throw new InputError(`${basename(s.path)}: expected a 3D CT volume, got shape [${vol.shape.join(', ')}]`);
    const o = orientHeadFirst(vol);
    return {
      id: s.id,
      stored: o.data,
      shape: o.shape,
      spacing: o.spacing,
      affine: vol.affine,
      restore: o.restore,
      warnings: o.warnings,
      source: basename(s.path),
    };
  }
  const names = listFiles(s.path);
  const files: DicomFile[] = names.map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(s.path, n))) }));
  const { series } = await readDicomSeries(files, { order }).catch((e: Error) => {
    throw e instanceof InputError ? new InputError(`${s.id}: ${e.message}`) : e;
  });
  const ser = series[0];
  const warnings = [...ser.warnings];
  if (series.length > 1) {
    warnings.push(`${series.length} series in this folder: using the largest (${ser.files.length} slices${ser.description ? `, ${ser.description}` : ''}); left out: ${series.slice(1).map((x) => `${x.description || x.seriesUid} (${x.files.length} slices)`).join(', ')}`);
  }
  return {
    id: ser.studyUid || s.id,
    stored: ser.stored,
    shape: ser.volume.shape as [number, number, number],
    spacing: ser.volume.spacing,
    affine: ser.volume.affine,
    restore: (l) => l,
    warnings,
    source: `${s.id}/ (${ser.files.length} DICOM files)`,
  };
}

const f3 = (v: number): string => v.toFixed(3);

function table(id: string, r: SpineResult): string {
  const lines = [`${id}`, '  vertebra  voxels   volume_ml  slices      mean_prob  fracture'];
  for (const v of r.vertebrae) {
    const range = v.sliceRange ? `${v.sliceRange[0]}..${v.sliceRange[1]}` : '-';
    lines.push(
      `  ${v.name.padEnd(8)}  ${String(v.voxels).padStart(7)}  ${v.volumeMl.toFixed(2).padStart(9)}  ${range.padEnd(10)}  ${f3(v.meanProb).padStart(9)}  ${v.fracture === undefined ? '-' : f3(v.fracture)}`,
    );
  }
  if (r.patientOverall !== undefined) {
    lines.push(`  patient_overall ${f3(r.patientOverall)} (${r.patientSource === 'head' ? "the models' patient head" : '1 - prod(1 - C_k): no patient head'})`);
  }
  return lines.join('\n');
}

export async function spine(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seg: { type: 'string' },
      cls: { type: 'string' },
      studies: { type: 'string' },
      out: { type: 'string' },
      labels: { type: 'string' },
      order: { type: 'string' },
      threshold: { type: 'string' },
      fallback: { type: 'string' },
      layout: { type: 'string' },
      card: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (!values.seg || !values.studies || !values.out) throw new InputError('spine needs --seg, --studies and --out');
  const seg = models(values.seg, 'seg');
  const cls = values.cls ? models(values.cls, 'cls') : [];
  if (seg.length === 0) throw new InputError('--seg: no model given');

  let params: SpineParams = { ...spinePreset };
  // the stage-1 card: --card, or <model>.json next to the first --seg model
  const cardPath = values.card ?? join(dirname(seg[0].path), basename(seg[0].path).replace(/\.onnx$/i, '') + '.json');
  if (existsSync(cardPath)) {
    try {
      params = { ...params, ...spineParamsFromCard(JSON.parse(readFileSync(cardPath, 'utf8'))) };
    } catch (e) {
      throw new InputError(`${basename(cardPath)}: ${(e as Error).message}`);
    }
  } else if (values.card) throw new InputError(`--card: no such file '${values.card}'`);
  if (cls.length) {
    const c2 = join(dirname(cls[0].path), basename(cls[0].path).replace(/\.onnx$/i, '') + '.json');
    if (existsSync(c2)) {
      try {
        params = { ...params, ...spineParamsFromCard(JSON.parse(readFileSync(c2, 'utf8'))) };
      } catch (e) {
        throw new InputError(`${basename(c2)}: ${(e as Error).message}`);
      }
    }
  }
  if (values.order !== undefined) {
    if (values.order !== 'position' && values.order !== 'filename') throw new InputError(`--order must be position or filename, got '${values.order}'`);
    params.order = values.order;
  }
  if (values.layout !== undefined) {
    if (values.layout !== 'slices-last' && values.layout !== 'slices-first') throw new InputError(`--layout must be slices-last or slices-first, got '${values.layout}'`);
    params.layout = values.layout as SpineLayout;
  }
  const num = (s: string | undefined, what: string): number | undefined => {
    if (s === undefined) return undefined;
    const v = Number(s);
    if (!Number.isFinite(v)) throw new InputError(`--${what} expects a number, got '${s}'`);
    return v;
  };
  params.threshold = num(values.threshold, 'threshold') ?? params.threshold;
  params.fallbackThreshold = Math.min(num(values.fallback, 'fallback') ?? params.fallbackThreshold, params.threshold);
  const problems = validateSpineParams(params);
  if (problems.length) throw new InputError(problems[0]);
  if (values.labels && !cls.length) throw new InputError('--labels needs --cls (fracture probabilities) to compute the metric');
  let labelsText: string | null = null;
  if (values.labels) {
    try {
      labelsText = readFileSync(values.labels, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read --labels '${values.labels}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const labels = labelsText !== null ? parseSpineLabelsCsv(labelsText, basename(values.labels as string)) : null;

  for (const [list, role] of [[seg, 'seg'], [cls, 'cls']] as const) {
    for (const m of list) {
      let info;
      try {
        info = inspectModel(new Uint8Array(readFileSync(m.path)));
      } catch (e) {
        throw new InputError(`${basename(m.path)}: not a readable ONNX model: ${(e as Error).message}`);
      }
      const problems = checkSpineModel({ name: basename(m.path), inputs: info.inputs, outputs: info.outputs }, role, params);
      if (problems.length) throw new InputError(`--${role}: ${problems[0]}`);
    }
  }
  const studies = findStudies(values.studies);
  const segSessions = await Promise.all(seg.map((m) => m.session));
  const clsSessions = await Promise.all(cls.map((m) => m.session));
  const makeTensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);
  const segPreds = segSessions.map((s) => sessionPredictor(s, makeTensor, s.inputNames[0], s.outputNames[0]));
  const clsPreds = clsSessions.map((s) => sessionOutputsPredictor(s, makeTensor, s.inputNames[0]));
  mkdirSync(values.out, { recursive: true });
  const log = (s: string) => {
    if (!values.quiet) process.stdout.write(s + '\n');
  };
  const preds: SpineStudyPrediction[] = [];
  let failed = 0;
  for (const s of studies) {
    let st: LoadedStudy;
    try {
      st = await loadStudy(s, params.order);
    } catch (e) {
      failed++;
      process.stderr.write(`voxelbench: ${s.id}: skipped: ${(e as Error).message}\n`);
      continue;
    }
    for (const w of st.warnings) process.stderr.write(`voxelbench: ${st.id}: warning: ${w}\n`);
    const t0 = performance.now();
    const r = await runSpinePipeline(st.stored, st.shape, st.spacing, segPreds, clsPreds, params, { keepGridProbs: false });
    const ms = performance.now() - t0;
    const labelsCt = st.restore(r.labels);
    const file = join(values.out, `${st.id}.nii.gz`);
    writeFileSync(
      file,
      writeNifti(
        { shape: [...st.shape], data: labelsCt, spacing: st.spacing as [number, number, number], unit: 'mm', affine: st.affine },
        { description: 'voxelbench spine: 0 background, 1..7 = C1..C7' },
      ),
    );
    log(table(st.id, r));
    log(`  ${st.source}: ${st.shape.join(' x ')}; preprocess ${r.timings.preprocessMs.toFixed(0)} ms, segmentation ${r.timings.segMs.toFixed(0)} ms${clsPreds.length ? `, fracture ${r.timings.clsMs.toFixed(0)} ms` : ''}, total ${ms.toFixed(0)} ms -> ${file}`);
    preds.push({ studyUid: st.id, vertebrae: r.vertebrae, patientOverall: r.patientOverall });
  }
  if (clsPreds.length && preds.length) {
    const csv = join(values.out, 'submission.csv');
    writeFileSync(csv, spineSubmissionCsv(preds));
    log(`wrote ${csv} (${preds.length * 8} rows)`);
  } else if (preds.length) {
    log(`no --cls models: no fracture probabilities, so no submission.csv (masks only)`);
  }
  if (labels) {
    const m = spineMetric(labels, preds);
    if (m.rows === 0) throw new InputError(`--labels: none of the ${preds.length} studies is in ${basename(values.labels as string)}`);
    process.stdout.write(`RSNA 2022 weighted log loss: ${m.loss.toFixed(4)} (${m.perStudy.length} studies, ${m.rows} rows${m.missing.length ? `; ${m.missing.length} labelled studies not predicted` : ''})\n`);
  }
  if (preds.length === 0) {
    process.stderr.write(`voxelbench: no study could be processed (${failed} failed)\n`);
    return 1;
  }
  return failed ? 1 : 0;
}
