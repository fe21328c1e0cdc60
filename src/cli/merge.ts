/**
 * `voxelbench merge DIR|shard.json ... [--out DIR] [--labels F] [--quiet]`: puts the shard files of
 * `run <preset> --shard K/N` back together. The shards must belong together (same preset, values,
 * models, sources and N; every K once); their rows go back in batch order, the preset's batch step
 * runs over all of them (motors: the quantile cutoff over the whole batch), and the batch exports
 * and the metric are written and printed as one run would: byte-identical files.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PRESET_DEFS, presetDef } from '../core/presets';
import type { AnyPreset } from '../core/preset';
import { parseCli, readText, UsageError, type CliOptions } from './args';
import { batchReport, finishBatch, inBatchOrder, readLabels, stableJson, type BatchRow, type ShardFile } from './batch';

const SHARD_NAME = /^shard-(\d+)-of-(\d+)\.json$/;

/** The shard files a path stands for: a shard file itself, or every shard-K-of-N.json in a folder. */
function shardPaths(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((n) => SHARD_NAME.test(n))
    .sort()
    .map((n) => join(path, n));
}

function readShard(path: string): ShardFile {
  let s: ShardFile;
  try {
    s = JSON.parse(readText(path, 'shard file')) as ShardFile;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: not a shard file (${(e as Error).message})`, { cause: e });
  }
  if (s?.voxelbench !== 'shard' || s.version !== 1 || !Array.isArray(s.rows) || !Array.isArray(s.sources)) throw new UsageError(`${path}: not a voxelbench shard file (version 1)`);
  return s;
}

/** The shards' common preset, values and sources, or a UsageError naming the first shard that differs. */
export function checkShards(shards: readonly { path: string; s: ShardFile }[]): { preset: AnyPreset; params: unknown; n: number } {
  const [first, ...rest] = shards;
  const n = first.s.shard.n;
  for (const { path, s } of rest) {
    const differs = (what: string) => new UsageError(`${basename(path)} does not belong with ${basename(first.path)}: different ${what}`);
    if (s.preset !== first.s.preset) throw differs(`preset (${s.preset}, ${first.s.preset})`);
    if (s.shard.n !== n) throw differs(`shard count (${s.shard.n}, ${n})`);
    if (stableJson(s.params) !== stableJson(first.s.params)) throw differs('values (params)');
    if (stableJson(s.models) !== stableJson(first.s.models)) throw differs('models');
    if (stableJson(s.sources) !== stableJson(first.s.sources)) throw differs('inputs');
  }
  const seen = new Map<number, string>();
  for (const { path, s } of shards) {
    const prev = seen.get(s.shard.k);
    if (prev) throw new UsageError(`shard ${s.shard.k} of ${n} is given twice: ${prev} and ${path}`);
    seen.set(s.shard.k, path);
    const stray = s.rows.find((r) => r.source % n !== s.shard.k - 1 || r.source >= s.sources.length);
    if (stray) throw new UsageError(`${basename(path)}: row ${stray.id} at position ${stray.source} is not in shard ${s.shard.k} of ${n}`);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length) throw new UsageError(`missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n}`);
  let preset: AnyPreset;
  try {
    preset = presetDef(first.s.preset);
  } catch (e) {
    throw new UsageError(`${basename(first.path)}: ${(e as Error).message}`, { cause: e });
  }
  return { preset, params: first.s.params, n };
}

export async function merge(argv: string[]): Promise<number> {
  // --labels, and every registered preset's own labels flag (--votes...): the preset is known once the shards are read
  const options: CliOptions = { out: { type: 'string' }, labels: { type: 'string' }, quiet: { type: 'boolean', default: false } };
  for (const p of Object.values(PRESET_DEFS)) if (p?.labels) options[p.labels.cli] = { type: 'string' };
  const { values, positionals } = parseCli(argv, options, true);
  const v = values as Record<string, string | boolean | undefined>;
  if (positionals.length === 0) throw new UsageError('merge needs the shard files or the folders that hold them');
  const paths = positionals.flatMap(shardPaths);
  if (paths.length === 0) throw new UsageError(`no shard-K-of-N.json files in ${positionals.join(', ')}`);
  const shards = paths.map((path) => ({ path, s: readShard(path) }));
  const { preset, params } = checkShards(shards);
  const quiet = v.quiet === true;

  const labelsPath = (preset.labels && (v[preset.labels.cli] as string | undefined)) ?? (v.labels as string | undefined);
  const labels = labelsPath ? readLabels(preset, labelsPath, params) : null;

  const rows: BatchRow[] = inBatchOrder(shards.flatMap(({ s }) => s.rows));
  const failed = shards.flatMap(({ s }) => s.failed).sort((a, b) => a.source - b.source);
  for (const f of failed) process.stderr.write(`voxelbench: ${f.error}\n`);
  const total = shards[0].s.sources.length;
  if (rows.length === 0) {
    process.stderr.write(`voxelbench: none of the ${total} items could be processed in the shards; nothing written\n`);
    return 1;
  }
  const positional = positionals[0];
  const outDir = (v.out as string | undefined) ?? (statSync(positional).isDirectory() ? positional : dirname(positional));
  const done = finishBatch(preset, params, rows, labels, outDir);
  const itemFiles = shards.reduce((a, { s }) => a + s.itemFiles.length, 0);
  if (!quiet) process.stderr.write(`merged ${shards.length} shards of ${preset.id}: ${rows.length} rows from ${total} inputs\n`);
  const lines = batchReport({ ...done, failed, itemFiles }, quiet);
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
