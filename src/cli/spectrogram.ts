/**
 * `voxelbench spectrogram`: `run eeg` (./run.ts) with the flags and lines the command always had:
 * --inputs DIR or one .parquet file, --out submission.csv (the file), --votes, --window <start row>,
 * --window-rows, --no-occlusion; the table of each file's probabilities and top class (and KL), the
 * line of what was written and the mean KL.
 */
import { dirname } from 'node:path';
import { scoreEeg } from '../core/eeg/metric';
import { presetDef } from '../core/presets';
import type { EegParams, EegRow, EegVotes } from '../core/presets/eeg';
import { commaList, UsageError } from './args';
import { metricLines, parseAlias, plural, warn } from './alias';
import { paramFlags, runBatch } from './run';

export const SPECTROGRAM_USAGE = `  voxelbench spectrogram --models m1.onnx[,m2.onnx...] --inputs DIR --out submission.csv
                         [--votes votes.csv] [--window start] [--window-rows n] [--no-occlusion] [--quiet]   (= run eeg)`;

export async function spectrogram(argv: string[]): Promise<number> {
  const preset = presetDef('eeg');
  const v = parseAlias(preset, argv, { models: { type: 'string' }, inputs: { type: 'string' }, out: { type: 'string' }, votes: { type: 'string' } });
  const out = v.out as string | undefined;
  if (!v.models || !v.inputs || !out) throw new UsageError('spectrogram needs --models, --inputs and --out');
  const quiet = v.quiet === true;
  const models = commaList(v.models as string);
  const { code, outcome, params, labels } = await runBatch(
    preset,
    {
      inputs: [v.inputs as string],
      models: { model: models },
      card: v.card as string | undefined,
      labels: v.votes as string | undefined,
      outDir: dirname(out),
      exportPaths: { 'submission.csv': out },
      flags: paramFlags(preset, v),
      relaxDims: v['relax-dims'] === true,
      quiet,
    },
    { noun: 'file', onItem: ({ row }) => (row as EegRow).warnings.forEach(warn) },
  );
  const votes = labels as EegVotes | null;
  votes?.warnings.forEach(warn);
  if (!outcome) return code;
  const p = params as EegParams;
  const rows = outcome.rows as EegRow[];
  const lines: string[] = [];
  if (!quiet) {
    const klOf = votes ? new Map(scoreEeg(rows, votes, p.klEpsilon).perFile.map((r) => [r.eegId, r.kl])) : null;
    lines.push(['eeg_id', 'rows', ...p.classes, 'top', ...(klOf ? ['KL'] : [])].join('\t'));
    for (const r of rows) {
      const kl = klOf?.get(r.eegId);
      const n = `${r.window.rows}${r.window.rows !== r.rows ? `/${r.rows}` : ''}`;
      lines.push([r.eegId, n, ...r.probabilities.map((x) => x.toFixed(4)), r.top, ...(klOf ? [kl === undefined ? '-' : kl.toFixed(4)] : [])].join('\t'));
    }
    lines.push(`wrote ${out}: ${plural(rows.length, 'file')}, ${plural(models.length, 'model')} (mean of the softmax)${outcome.failed.length ? `; ${outcome.failed.length} failed` : ''}`);
  }
  // the per-file KL is in the table; what has no votes or no file on stderr; the mean KL on stdout
  if (outcome.metric) lines.push(...metricLines(outcome.metric, true, (l) => !/\tKL /.test(l)));
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return code;
}
