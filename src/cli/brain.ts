/**
 * `voxelbench brain`: `run brain` (./run.ts) with --model as another name for --models, and a line
 * per volume with its tissue volumes and the labels file it wrote.
 */
import { presetDef } from '../core/presets';
import type { BrainRow } from '../core/presets/brain';
import { commaList, UsageError } from './args';
import { parseAlias } from './alias';
import { listFlag, paramFlags, runBatch } from './run';

export const BRAIN_USAGE = `  voxelbench brain --inputs T1.nii.gz[,...] --model M.onnx[,...] --out DIR [--card card.json] [--relax-dims]
                   [--roi D,H,W] [--overlap a,b,c] [--conform auto|always] [--quiet]            (= run brain)`;

export async function brain(argv: string[]): Promise<number> {
  const preset = presetDef('brain');
  const v = parseAlias(preset, argv, { inputs: { type: 'string', multiple: true }, model: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' } });
  const models = [...commaList(v.model as string | undefined), ...commaList(v.models as string | undefined)];
  const inputs = listFlag(v.inputs as string[] | undefined);
  if (inputs.length === 0 || models.length === 0 || !v.out) throw new UsageError('brain needs --inputs, --model and --out');
  const quiet = v.quiet === true;
  const lines: string[] = [];
  const { code, outcome } = await runBatch(
    preset,
    {
      inputs,
      models: { model: models },
      card: v.card as string | undefined,
      outDir: v.out as string,
      flags: paramFlags(preset, v),
      relaxDims: v['relax-dims'] === true,
      quiet,
    },
    {
      noun: 'volume',
      onItem: ({ row, files }) => {
        const r = row as BrainRow;
        lines.push([r.id, ...r.tissues.map((t) => `${t.name} ${t.ml.toFixed(3)} mL (${t.voxels} voxels)`), `-> ${files.join(', ')}`].join('\t'));
      },
    },
  );
  if (!outcome) return code;
  if (!quiet) process.stdout.write([...lines, `wrote ${outcome.written.join(', ')}: ${outcome.rows.length} volume${outcome.rows.length === 1 ? '' : 's'}${outcome.failed.length ? `; ${outcome.failed.length} failed` : ''}`].join('\n') + '\n');
  return code;
}
