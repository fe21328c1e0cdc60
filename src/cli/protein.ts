/**
 * `voxelbench protein`: `run protein` (./run.ts) with the flags and lines the command always had:
 * --inputs DIR, --cells DIR (cell masks `<id>_cells.png` or `<id>.tif`, the preset's extra inputs),
 * --out cells.csv (the file), --submission FILE (only then submission.csv), --labels, --rle,
 * --segment; each field of view's cells and top classes, the line of what was written and the cell mAP.
 */
import { dirname } from 'node:path';
import type { ModelInfo } from '../core/onnx/model';
import { presetDef } from '../core/presets';
import type { ProteinParams, ProteinRow } from '../core/presets/protein';
import { commaList, UsageError, withId } from './args';
import { metricLines, parseAlias, plural, warn } from './alias';
import { paramFlags, runBatch } from './run';

export const PROTEIN_USAGE = `  voxelbench protein --models m1.onnx[,m2.onnx...] --inputs DIR [--cells DIR] --out cells.csv
                     [--rle hpa|counts] [--submission submission.csv] [--labels cell_labels.csv]
                     [--segment] [--card model.json] [--relax-dims] [--quiet]   (= run protein)`;

/** The model's static class count from its outputs ([N, K] or [N, K, h, w]), if declared. */
function declaredClasses(info: ModelInfo): number | null {
  for (const o of info.outputs) if ((o.dims.length === 2 || o.dims.length === 4) && typeof o.dims[1] === 'number' && o.dims[1] > 0) return o.dims[1];
  return null;
}

export async function protein(argv: string[]): Promise<number> {
  const preset = presetDef('protein');
  const v = parseAlias(preset, argv, {
    models: { type: 'string' },
    inputs: { type: 'string' },
    cells: { type: 'string' },
    out: { type: 'string' },
    submission: { type: 'string' },
    labels: { type: 'string' },
  });
  const out = v.out as string | undefined;
  if (!v.models || !v.inputs || !out) throw new UsageError('protein needs --models, --inputs and --out');
  const quiet = v.quiet === true;
  const { code, outcome, params } = await runBatch(
    preset,
    {
      inputs: [v.inputs as string],
      extras: { cells: v.cells ? [v.cells as string] : [] },
      models: { model: commaList(v.models as string) },
      card: v.card as string | undefined,
      labels: v.labels as string | undefined,
      outDir: dirname(out),
      exportPaths: { 'cells.csv': out, 'submission.csv': (v.submission as string | undefined) ?? null },
      flags: paramFlags(preset, v),
      relaxDims: v['relax-dims'] === true,
      quiet,
    },
    {
      noun: 'field of view',
      nouns: 'fields of view',
      // a model with the wrong number of classes, as the command always said it
      refused: ({ name, info, problem, params: p }) => {
        const [k, K] = [declaredClasses(info), (p as ProteinParams).classes.length];
        return k !== null && k !== K ? `${name}: the model gives ${k} classes; the protein preset needs ${K} (the HPA classes, Negative last)` : withId(name, problem);
      },
      onItem: ({ row }) => {
        if (!quiet) for (const n of (row as ProteinRow).notes) process.stderr.write(`${(row as ProteinRow).id}: ${n}\n`);
      },
    },
  );
  if (!outcome) return code;
  const p = params as ProteinParams;
  const rows = outcome.rows as ProteinRow[];
  const lines: string[] = [];
  if (!quiet) {
    for (const r of rows) {
      const top = r.probabilities
        .map((x, k) => [x, k] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([x, k]) => `${p.classes[k]} ${x.toFixed(4)}`)
        .join(', ');
      lines.push(`${r.id}\t${r.cellCount} cells (${r.cellsSource})\t${r.cells.length} cell labels\ttop: ${top}`);
    }
    const cellRows = rows.reduce((a, r) => a + r.cells.length, 0);
    lines.push(
      `wrote ${out}: ${cellRows} rows for ${plural(rows.length, 'field', 'fields')} of view (${p.rle === 'hpa' ? 'HPA RLE' : 'uncompressed RLE counts'})${outcome.failed.length ? `; ${outcome.failed.length} failed` : ''}`,
    );
  }
  // what is left out of the score on stderr; the mAP line on stdout when a field of view was scored
  const m = outcome.metric;
  if (m && Number.isNaN(m.score)) m.lines.forEach(warn);
  else if (m) lines.push(...metricLines(m, true, () => true));
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return code;
}
