/**
 * What the subcommands that are aliases of `run <preset>` (motors, spine, spectrogram, protein,
 * brain) share: their flags are their own names for the runner's (./run.ts) plus every parameter
 * flag of the preset, --card, --relax-dims and --quiet; the old commands' wording for a choice
 * flag with an unknown value; the metric's lines split between stdout and stderr as the old
 * commands printed them.
 */
import { cliFlag, paramCliOptions, type AnyPreset, type MetricReport } from '../core/preset';
import { parseCli, UsageError, type CliOptions } from './args';

export type AliasValues = Record<string, string | boolean | undefined>;

/** The flags every alias takes besides its own and the preset's parameters. */
const COMMON = {
  card: { type: 'string' },
  'relax-dims': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
} as const satisfies CliOptions;

/** An alias's argv parsed: its own flags, the common ones and the preset's parameter flags (a clash is the alias's mistake). */
export function parseAlias(preset: AnyPreset, argv: readonly string[], own: CliOptions): AliasValues {
  const options: CliOptions = { ...COMMON, ...own };
  for (const [k, o] of Object.entries(paramCliOptions(preset.params))) {
    if (k in options) throw new Error(`the ${preset.id} preset's parameter flag --${k} clashes with a flag of its command`);
    options[k] = o;
  }
  const { values } = parseCli(argv, options);
  const v = values as AliasValues;
  for (const s of preset.params) {
    const f = cliFlag(s);
    const raw = f ? v[f] : undefined;
    if (s.type === 'choice' && typeof raw === 'string' && !s.choices.includes(raw.trim())) throw new UsageError(`--${f} must be ${orList(s.choices)}, got '${raw}'`);
  }
  return v;
}

/** 'a or b', 'a, b or c'. */
const orList = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);

export const warn = (m: string): void => {
  process.stderr.write(`voxelbench: ${m}\n`);
};

/**
 * A metric's lines as the old commands printed them: the score line (the last) on stdout; the lines
 * before it that say what is left out of the score (`toStderr`) on stderr; the others on stdout
 * unless quiet. Returns the stdout lines.
 */
export function metricLines(m: MetricReport, quiet: boolean, toStderr: (line: string) => boolean): string[] {
  const out: string[] = [];
  for (const l of m.lines.slice(0, -1)) {
    if (toStderr(l)) warn(l);
    else if (!quiet) out.push(l);
  }
  const last = m.lines[m.lines.length - 1];
  if (last !== undefined) out.push(last);
  return out;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
