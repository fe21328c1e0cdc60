/**
 * `voxelbench spine`: `run spine` (./run.ts) with the flags and lines the command always had:
 * --studies DIR (a folder of studies, one subfolder or .nii/.nii.gz file each, listed from DIR
 * itself so that a study keeps its folder's name; or DIR itself is one study), --out DIR, the masks
 * <StudyUID>.nii.gz; each study's vertebra table and times, the submission.csv line and the
 * weighted log loss. As before, a folder with several series runs its largest one, the fallback
 * threshold is at most the threshold, and a study that fails makes the exit code 1.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { presetDef } from '../core/presets';
import { spineStudyPredictions, type SpineItemResult, type SpineParams, type SpineRow } from '../core/presets/spine';
import type { SpineItem } from '../core/spine/item';
import { commaList, UsageError } from './args';
import { parseAlias, warn } from './alias';
import { paramFlags, runBatch } from './run';

export const SPINE_USAGE = `  voxelbench spine --seg s1.onnx[,s2.onnx...] [--cls c1.onnx[,c2.onnx...]] --studies DIR --out DIR
                   [--labels labels.csv] [--order position|filename] [--threshold t] [--fallback t]
                   [--layout slices-last|slices-first] [--card seg.json] [--relax-dims] [--quiet]   (= run spine)`;

const f3 = (v: number): string => v.toFixed(3);

function table(id: string, r: SpineItemResult): string {
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

/** A folder with subfolders is a folder of studies (listed from itself); one without is one study (listed from its parent: the study is named after it). */
function isFolderOfStudies(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => !n.startsWith('.') && statSync(join(dir, n), { throwIfNoEntry: false })?.isDirectory());
  } catch {
    return false;
  }
}

export async function spine(argv: string[]): Promise<number> {
  const preset = presetDef('spine');
  const v = parseAlias(preset, argv, { seg: { type: 'string' }, cls: { type: 'string' }, studies: { type: 'string' }, out: { type: 'string' }, labels: { type: 'string' } });
  const [studies, out] = [v.studies as string | undefined, v.out as string | undefined];
  if (!v.seg || !studies || !out) throw new UsageError('spine needs --seg, --studies and --out');
  const cls = commaList(v.cls as string | undefined);
  if (v.labels && cls.length === 0) throw new UsageError('--labels needs --cls (fracture probabilities) to compute the metric');
  const quiet = v.quiet === true;
  const log = (s: string) => {
    if (!quiet) process.stdout.write(s + '\n');
  };
  const { code, outcome } = await runBatch(
    preset,
    {
      inputs: [studies],
      inputsWithin: isFolderOfStudies(studies),
      models: { seg: commaList(v.seg as string), cls },
      card: v.card as string | undefined,
      labels: v.labels as string | undefined,
      outDir: out,
      flags: paramFlags(preset, v),
      relaxDims: v['relax-dims'] === true,
      quiet,
    },
    {
      noun: 'study',
      nouns: 'studies',
      failedLine: (id, msg) => `${id}: skipped: ${msg}`,
      params: (p) => ({ ...(p as SpineParams), fallbackThreshold: Math.min((p as SpineParams).fallbackThreshold, (p as SpineParams).threshold) }),
      keepItem: (x) => {
        const item = x as SpineItem;
        if (item.seriesIndex > 0) warn(`${item.source}: series ${item.description || item.seriesUid} (${item.files.length} slices) left out: spine runs the largest series of a folder (run spine runs every series)`);
        return item.seriesIndex === 0;
      },
      onItem: ({ item: x, result, files, ms }) => {
        const item = x as SpineItem;
        const r = result as SpineItemResult;
        for (const w of item.warnings) warn(`${item.id}: warning: ${w}`);
        const source = item.kind === 'nifti' ? basename(item.files[0]) : `${item.source}/ (${item.files.length} DICOM files)`;
        const t = r.timings;
        log(table(item.id, r));
        log(
          `  ${source}: ${item.shape.join(' x ')}; preprocess ${t.preprocessMs.toFixed(0)} ms, segmentation ${t.segMs.toFixed(0)} ms${cls.length ? `, fracture ${t.clsMs.toFixed(0)} ms` : ''}, total ${ms.toFixed(0)} ms -> ${files.join(', ')}`,
        );
      },
    },
  );
  if (!outcome) return code;
  const submission = outcome.written.find((f) => basename(f) === 'submission.csv');
  if (submission) log(`wrote ${submission} (${spineStudyPredictions(outcome.rows as SpineRow[]).length * 8} rows)`);
  else log('no --cls models: no fracture probabilities, so no submission.csv (masks only)');
  if (outcome.metric) process.stdout.write(outcome.metric.lines[outcome.metric.lines.length - 1] + '\n');
  return outcome.failed.length ? 1 : code;
}
