/**
 * `voxelbench motors`: `run motors` (./run.ts) with the flags and lines the command always had:
 * --tomograms = --inputs, --out is the CSV file, `--quantile none` = `--cutoff none`, one number for
 * --input-size / --roi is every axis; each tomogram's score, point and verdict, and the cutoff.
 */
import { basename, dirname } from 'node:path';
import { presetDef } from '../core/presets';
import type { MotorsParams, MotorsRow } from '../core/presets/motors';
import { commaList, isNumberList, UsageError } from './args';
import { metricLines, parseAlias, plural, type AliasValues } from './alias';
import { paramFlags, runBatch } from './run';

export const MOTORS_USAGE = `  voxelbench motors --models m1.onnx[,m2.onnx...] --tomograms DIR --out submission.csv
                    [--quantile q | none] [--labels labels.csv] [--input-size D,H,W] [--roi D,H,W]
                    [--overlap a,b,c] [--sw-batch n] [--tta identity,flipD,flipH] [--max-peaks k]
                    [--min-peak-distance d] [--card model.json] [--relax-dims] [--quiet]     (= run motors)`;

/** `--quantile none` (no cutoff) and one number for --input-size / --roi, as the motors command always took them. */
function motorsAliasFlags(values: AliasValues): AliasValues {
  const flags = { ...values };
  if (flags.quantile === 'none') {
    flags.quantile = undefined;
    flags.cutoff = 'none';
  }
  for (const k of ['input-size', 'roi']) {
    const v = flags[k];
    if (typeof v === 'string' && isNumberList(v) && !v.includes(',')) flags[k] = [v, v, v].join(',');
  }
  return flags;
}

export async function motors(argv: string[]): Promise<number> {
  const preset = presetDef('motors');
  const v = parseAlias(preset, argv, { models: { type: 'string' }, tomograms: { type: 'string' }, out: { type: 'string' }, labels: { type: 'string' } });
  const out = v.out as string | undefined;
  if (!v.models || !v.tomograms || !out) throw new UsageError('motors needs --models, --tomograms and --out');
  const quiet = v.quiet === true;
  const { code, outcome, params } = await runBatch(
    preset,
    {
      inputs: [v.tomograms as string],
      models: { model: commaList(v.models as string) },
      card: v.card as string | undefined,
      labels: v.labels as string | undefined,
      outDir: dirname(out),
      exportPaths: { 'submission.csv': out },
      flags: paramFlags(preset, motorsAliasFlags(v)),
      relaxDims: v['relax-dims'] === true,
      quiet,
    },
    {
      noun: 'tomogram',
      skippedLine: (id, skipped) =>
        `${id}: skipped ${skipped.length} non-image file${skipped.length > 1 ? 's' : ''} (${skipped.slice(0, 3).map((s) => `'${basename(s.path)}'`).join(', ')}${skipped.length > 3 ? ', ...' : ''})`,
    },
  );
  if (!outcome) return code;
  const p = params as MotorsParams;
  const rows = outcome.rows as MotorsRow[];
  const lines: string[] = [];
  if (!quiet) {
    for (const r of [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      lines.push(`${r.id}\tscore ${r.score.toFixed(4)}\t(${r.point.map((x) => x.toFixed(1)).join(', ')})\t${r.passes ? 'motor' : 'below cutoff'}`);
    }
    lines.push(
      `wrote ${out}: ${plural(rows.length, 'tomogram')}, ${rows.filter((r) => r.passes).length} with a motor` +
        (p.cutoff === 'none'
          ? ' (no cutoff)'
          : p.cutoff === 'score'
            ? ` (cutoff ${p.scoreThreshold} = a fixed score threshold)`
            : ` (cutoff ${rows[0].cutoff!.toFixed(4)} = quantile ${p.quantile} of the scores)`) +
        (outcome.failed.length ? `; ${outcome.failed.length} failed` : ''),
    );
  }
  // per-tomogram lines and the F-beta line on stdout (the F-beta line only with --quiet); what is left out of the score on stderr
  if (outcome.metric) lines.push(...metricLines(outcome.metric, quiet, (l) => /left out of the score/.test(l)));
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return code;
}
