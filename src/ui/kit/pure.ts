/**
 * The kit's pure parts (no store, no worker, no DOM): the run key a result is made with, a batch's
 * progress and ETA, and how sorted files become the page's sources. Unit-tested in kit.test.ts.
 */
import { getPath, type ParamSpecs } from '../../core/preset/params';
import type { AnyPreset, RunProgress, SortedInputs } from '../../core/preset/types';
import type { Origin, PickedFile } from './files';
import type { BatchState, ItemEntry, KitModel, PageSource } from './types';

/**
 * What a result depends on: the values that are not `live` (live ones are applied to the rows
 * without running), the models (role, name and size) and the backend choice. Results whose key
 * differs are stale.
 */
export function runKey(specs: ParamSpecs, params: unknown, models: readonly Pick<KitModel, 'role' | 'name' | 'bytes'>[], backend: string): string {
  const values: Record<string, unknown> = {};
  for (const s of specs) if (!s.live) values[s.key] = getPath(params, s.key);
  return JSON.stringify({ values, models: models.map((m) => `${m.role}:${m.name}:${m.bytes.length}`), backend });
}

/** Fraction (0..1) of an item's run from its progress: done / total unless the page says otherwise. */
export type ProgressFraction = (p: RunProgress) => number;

const doneOfTotal: ProgressFraction = (p) => (p.total > 0 ? Math.min(1, p.done / p.total) : 0);

/** Time per progress step (ms) of the last finished run on this backend that reported its steps, or null (the run panel's estimate). */
export function msPerStep(items: readonly Pick<ItemEntry, 'status' | 'steps' | 'wallMs' | 'backend'>[], backend: string): number | null {
  const done = items.filter((t) => t.status === 'done' && t.steps && t.wallMs !== undefined && (backend === 'auto' || t.backend === backend));
  const last = done[done.length - 1];
  return last ? last.wallMs! / last.steps! : null;
}

/** Overall progress of a batch (0..1): finished items plus the running one's fraction. */
export function batchFraction(ids: readonly string[], items: readonly Pick<ItemEntry, 'id' | 'status' | 'progress'>[], fraction: ProgressFraction = doneOfTotal): number {
  if (ids.length === 0) return 0;
  let f = 0;
  for (const id of ids) {
    const t = items.find((x) => x.id === id);
    if (!t) continue;
    if (t.status === 'done' || t.status === 'error') f += 1;
    else if (t.status === 'running' && t.progress) f += Math.max(0, Math.min(1, fraction(t.progress as RunProgress)));
  }
  return f / ids.length;
}

/** The batch's elapsed time and ETA at `now` (ETA from the fraction done; 0 until something is done). */
export function batchClock(batch: Pick<BatchState, 'startedAt'>, fraction: number, now: number): { elapsedMs: number; etaMs: number } {
  const elapsedMs = Math.max(0, now - batch.startedAt);
  const etaMs = fraction > 0 ? (elapsedMs * (1 - fraction)) / fraction : 0;
  return { elapsedMs, etaMs };
}

/** Items a run can take: readable, and not left out (one of a source's items that is not the chosen one). */
export const isRunnable = (t: Pick<ItemEntry, 'loadFailed' | 'excluded'>): boolean => !t.loadFailed && !t.excluded;

/** The ids a run takes: the runnable items whose result is missing or stale; all of them when none is. */
export function itemsToRun(items: readonly Pick<ItemEntry, 'id' | 'status' | 'loadFailed' | 'runKey' | 'excluded'>[], key: string): string[] {
  const runnable = items.filter(isRunnable);
  const stale = runnable.filter((t) => t.runKey !== key || t.status !== 'done');
  return (stale.length > 0 ? stale : runnable).map((t) => t.id);
}

/** What the page does with dropped files: `preset.inputs.sort` on their paths, mapped back to the files. */
export interface SortedFiles {
  sources: PageSource[];
  models: PickedFile[];
  cards: PickedFile[];
  labels: PickedFile[];
  ignored: string[];
  notes: string[];
}

/** Sorts files with the preset's rules (paths only) and hands back the files of each part. */
export function sortPicked(preset: AnyPreset, files: readonly PickedFile[], emptyFolders: readonly string[] = []): SortedFiles {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const sorted: SortedInputs = preset.inputs.sort(
    files.map((f) => f.path),
    emptyFolders,
  );
  const pick = (paths: readonly string[]): PickedFile[] => paths.map((p) => byPath.get(p)).filter((f): f is PickedFile => f !== undefined);
  return {
    // a source's files: its paths, then its secondary files (a field of view's cell mask)
    sources: sorted.sources.map((source) => ({ source, files: pick([...source.paths, ...Object.values(source.extra ?? {})]) })),
    models: pick(sorted.models),
    cards: pick(sorted.cards),
    labels: pick(sorted.labels),
    ignored: sorted.ignored,
    notes: sorted.notes,
  };
}

/** The origin of a source: its files' (the first one's; 'dropped' when it has none). */
export const originOf = (src: PageSource): Origin => src.files[0]?.origin ?? 'dropped';

/** A new queue entry for a source, waiting to be read. */
export function entryOf(src: PageSource, label: string): ItemEntry<never, never, never, never> {
  return { id: src.source.id, source: src, origin: originOf(src), sourceLabel: label, status: 'loading', warnings: [] };
}

/** "a, b, c and 2 more". */
export function listText(names: readonly string[], shown = 3): string {
  return names.slice(0, shown).join(', ') + (names.length > shown ? ` and ${names.length - shown} more` : '');
}

/** "1 tomogram" / "3 tomograms". */
export const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
