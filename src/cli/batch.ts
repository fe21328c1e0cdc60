/**
 * What `run` and `merge` share: the rows of a batch with their positions, the batch step (the
 * preset's `finish`, then its exports and metric), the lines printed at the end, and the shard
 * file a `run --shard K/N` writes and `merge` reads back. A merge of all shards finishes the same
 * rows in the same order as one run, so its exports are byte-identical to the run's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AnyPreset, MetricReport } from '../core/preset';
import { firstLine, readText, UsageError, withId } from './args';

/** A row with its place in the batch: the source's index in the sorted sources, the item's index in what the source read into. */
export interface BatchRow {
  source: number;
  item: number;
  id: string;
  row: unknown;
}

/** A source that could not be read or run. */
export interface BatchFailure {
  source: number;
  id: string;
  error: string;
}

export interface ModelRef {
  name: string;
  sha256: string;
}

/** `<out>/shard-K-of-N.json`: one shard's rows and what merge checks before it puts the shards together. */
export interface ShardFile {
  voxelbench: 'shard';
  version: 1;
  preset: string;
  shard: { k: number; n: number };
  /** The values every item ran with (defaults, card, flags). */
  params: unknown;
  /** Models by role: file name and SHA-256 of the bytes. */
  models: Record<string, ModelRef[]>;
  /** The model card the values came from (for the record). */
  card: string | null;
  /** Every source id of the whole batch, in batch order (every shard lists all of them). */
  sources: string[];
  rows: BatchRow[];
  failed: BatchFailure[];
  /** Item files this shard wrote, relative to its --out. */
  itemFiles: string[];
}

export const shardFileName = (k: number, n: number): string => `shard-${k}-of-${n}.json`;

/** The rows of a batch in batch order (source, then item). */
export const inBatchOrder = (rows: readonly BatchRow[]): BatchRow[] => [...rows].sort((a, b) => a.source - b.source || a.item - b.item);

/** A row as it is stored in a shard; one run uses the same copy so that run and merge finish identical data. */
export const jsonRow = (row: unknown): unknown => JSON.parse(JSON.stringify(row));

export interface BatchOutcome {
  rows: unknown[];
  failed: BatchFailure[];
  /** Batch export files written. */
  written: string[];
  /** Item files written (a run) or listed by the shards (a merge). */
  itemFiles: number;
  metric: MetricReport | null;
}

/**
 * The batch step: `finish` over the rows in batch order, every available batch export written
 * into `outDir` (or to the path `exportPaths` gives for its file name; none where it gives null), the
 * metric against labels.
 */
export function finishBatch(
  preset: AnyPreset,
  params: unknown,
  rows: readonly BatchRow[],
  labels: unknown,
  outDir: string,
  exportPaths: Readonly<Record<string, string | null>> = {},
): Pick<BatchOutcome, 'rows' | 'written' | 'metric'> {
  const ordered = inBatchOrder(rows).map((r) => r.row);
  const finished = preset.finish ? preset.finish(ordered, params) : ordered;
  const written: string[] = [];
  for (const e of preset.exports) {
    if ((e.available && !e.available(finished, params)) || exportPaths[e.file] === null) continue;
    const path = exportPaths[e.file] ?? join(outDir, e.file);
    writeOut(path, e.write(finished, params, labels ?? null));
    written.push(path);
  }
  const metric = labels != null && preset.labels ? preset.labels.metric(finished, labels, params) : null;
  return { rows: finished, written, metric };
}

/** A labels file parsed by the preset (errors name the file). */
export function readLabels(preset: AnyPreset, path: string, params: unknown): unknown {
  if (!preset.labels) throw new UsageError(`the ${preset.id} preset takes no labels`);
  const name = basename(path);
  try {
    return preset.labels.parse(readText(path, preset.labels.label), name, params);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(withId(name, firstLine(e)), { cause: e });
  }
}

export function writeOut(path: string, data: string | Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  } catch (e) {
    throw new UsageError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * What `run` and `merge` print on stdout: the files written and the counts, then the metric's lines
 * (with --quiet only the metric's last line, its score).
 */
export function batchReport(o: BatchOutcome, quiet: boolean): string[] {
  const lines: string[] = [];
  const m = o.metric;
  if (quiet) return m ? [m.lines[m.lines.length - 1] ?? `${m.name}: ${m.score}`] : [];
  const files = o.written.length ? `wrote ${o.written.join(', ')}` : 'no batch file to write';
  lines.push(`${files}: ${plural(o.rows.length, 'row')}${o.itemFiles ? `, ${plural(o.itemFiles, 'item file')}` : ''}${o.failed.length ? `; ${o.failed.length} failed` : ''}`);
  if (m) lines.push(...(m.lines.length ? m.lines : [`${m.name}: ${m.score}`]));
  return lines;
}

/** A stable JSON text (keys sorted) for comparing values across shards. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}
