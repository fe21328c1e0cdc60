/**
 * The batch runner of a preset page: every item whose result is missing or stale (runKey) runs
 * through the worker's runPreset one after another, with progress and an ETA; errors stay in
 * their rows and the rest still run; Esc cancels, and a worker that does not answer within
 * HARD_STOP_MS is terminated, started again and given its models back, as is a worker in which
 * WebGPU failed, before a run that may use WebGPU (onnxruntime-web's WebGPU backend can stay
 * broken in that worker: see src/worker/inference.worker.ts). Rows, the batch step and
 * the exports come from the preset (rows → preset.finish → export.write).
 */
import * as Comlink from 'comlink';
import { missingModels, validatePreset } from '../../core/preset/index';
import { getPath } from '../../core/preset/params';
import type { MetricReport, RunProgress } from '../../core/preset/types';
import type { ModelInfo } from '../../core/onnx/model';
import { checkPresetMemory, pageBudget, type MemoryBudget } from '../../core/memoryGuard';
import { download, downloadText } from '../save';
import { throttle } from '../throttle';
import { ensureItem } from './intake';
import { lendItem, lendable } from './lend';
import { errorText, isAbort, say, unsay } from './messages';
import { modelIdsByRole, reloadModels } from './models';
import { batchClock, batchFraction, ETA_START, isRunnable, itemsToRun, nextEta, runKey, type ProgressFraction } from './pure';
import { dropWorker, patchItem, untilReplaced, workerOf } from './store';
import type { AnyStore, ItemEntry } from './types';
import { WorkerFaultError, isWorkerFault, type WorkerClient } from '../../worker/client';

/**
 * How long a cancelled run may take to stop before the worker is terminated (one constant for
 * every page: long enough for one slow model call on WASM, short enough to feel like a stop).
 */
export const HARD_STOP_MS = 3000;

/** How an item (kit) or a run (workbench) that a worker fault interrupted is marked: its error starts with this. */
export const INTERRUPTED = 'interrupted: ';

/** Whether an error says that a worker fault interrupted the run (its row and the run panel offer Re-run). */
export const isInterrupted = (error: string | undefined | null): boolean => !!error?.startsWith(INTERRUPTED);

/** The run key of the page's current values, models and backend. */
export function currentRunKey(store: AnyStore): string {
  const s = store.getState();
  return runKey(store.preset.params, s.params, s.models, s.backend);
}

/** The page's fraction of an item's run (config.progressFraction), for batchFraction. */
export const progressFractionOf = (store: AnyStore): ProgressFraction | undefined => store.config.progressFraction as ProgressFraction | undefined;

/** The batch's elapsed time and smoothed ETA (nextEta), after a progress report or a tick of the clock. */
function updateClock(store: AnyStore): void {
  const s = store.getState();
  if (s.batch.status !== 'running') return;
  const fraction = batchFraction(s.batch.ids, s.items, progressFractionOf(store));
  const { elapsedMs } = batchClock(s.batch, fraction, Date.now());
  const eta = nextEta(s.batch.eta ?? ETA_START, fraction, elapsedMs);
  store.setState({ batch: { ...s.batch, elapsedMs, etaMs: eta.etaMs ?? 0, eta } });
}

/** Why the page cannot run now (a message), or null. */
function blocker(store: AnyStore): string | null {
  const { preset, config } = store;
  const s = store.getState();
  const counts: Record<string, number> = {};
  for (const m of s.models) counts[m.role] = (counts[m.role] ?? 0) + 1;
  const missing = missingModels(preset, counts);
  const noItems = s.items.length === 0;
  if (missing && noItems) return `Add ${config.texts.items} and ${missing.replace(/^add /, '')} first.`;
  if (missing) return `${missing[0].toUpperCase()}${missing.slice(1)} first.`;
  if (noItems) return `Add ${config.texts.items} first.`;
  if (!s.items.some(isRunnable)) return `None of the ${config.texts.items} could be loaded; see the queue for why.`;
  return null;
}

/**
 * Runs every item whose result is missing or was made with other settings (all of them when
 * everything is up to date), one after another. Resolves when the batch is over.
 */
export async function runBatch(store: AnyStore): Promise<void> {
  const { preset, config } = store;
  const s = store.getState();
  if (s.batch.status === 'running') return;
  const vkey = `${config.key}-validate`;
  unsay(vkey);
  const problems = validatePreset(preset, s.params);
  if (problems.length > 0) {
    say('error', `Fix the preset values first: ${problems.join('; ')}.`, vkey);
    return;
  }
  const why = blocker(store);
  if (why) {
    say('warning', why, vkey);
    return;
  }
  // models that do not fit the values are named before anything runs
  const misfits = s.models.flatMap((m) => preset.models.find((r) => r.role === m.role)?.check(m.info, m.name, s.params) ?? []);
  if (misfits.length > 0) {
    say('error', `The models do not fit the preset values: ${misfits.join('; ')}.`, vkey);
    return;
  }
  const key = currentRunKey(store);
  const ids = itemsToRun(s.items, key);
  const seq = s.runSeq + 1;
  store.setState((st) => ({
    items: st.items.map((t) =>
      ids.includes(t.id) ? { ...t, status: t.status === 'loading' ? 'loading' : 'waiting', error: undefined, progress: undefined, result: undefined, row: undefined, runKey: undefined, edits: undefined } : t,
    ),
    batch: { status: 'running', ids, startedAt: Date.now(), elapsedMs: 0, etaMs: 0, eta: ETA_START, cancelRequested: false },
    runSeq: seq,
    runs: st.runs + 1,
  }));
  const live = () => store.getState().runSeq === seq;
  // the memory guard: what the values alone size, before any input is read or anything allocated
  // (after the batch is marked running, so that the page says at once that Run was taken)
  const budget = await memoryBudget(store);
  if (!live()) return;
  const infos = modelInfosByRole(store);
  const upFront = checkPresetMemory(preset, s.params, null, infos, budget);
  if (upFront) {
    // every item would need it: each says why in its row, nothing is read or run
    for (const id of ids) patchItem(store, id, { status: 'error', error: upFront, progress: undefined, result: undefined, row: undefined, runKey: undefined });
    finishBatch(store, 'done', ids.length, true);
    say('error', upFront, vkey);
    return;
  }
  const clock = setInterval(() => (live() ? updateClock(store) : clearInterval(clock)), 500);
  let cancelled = false;
  let faulted = false;
  let failed = 0;
  try {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!live() || store.getState().batch.cancelRequested) {
        cancelled = true;
        break;
      }
      // an item the page does not hold is read for the run alone (motors: the slices the resize reads)
      const item = await ensureItem(store, id, true, true);
      if (!live()) return;
      // a source read for the first time became several items: the batch takes the ones that run in its place
      const parts = splitInto(store, id);
      if (parts) {
        ids.splice(i, 1, ...parts);
        store.setState((st) => ({ batch: { ...st.batch, ids: [...ids] } }));
        i--;
        continue;
      }
      if (item === null) {
        failed++;
        continue; // its row says why it could not be read
      }
      const worker = await workerForRun(store);
      if (!live()) return;
      const st = store.getState();
      if (!st.items.some((t) => t.id === id)) continue;
      // this item's run against what this browser can give: refused before the worker allocates anything
      const refusal = checkPresetMemory(preset, st.params, item, infos, budget);
      if (refusal) {
        failed++;
        patchItem(store, id, { status: 'error', error: refusal, progress: undefined });
        continue;
      }
      store.setState({ currentId: id });
      patchItem(store, id, { status: 'running', progress: undefined });
      const t0 = performance.now();
      let steps: number | undefined;
      const shown = throttle((p: RunProgress) => {
        if (!live() || store.getState().items.find((t) => t.id === id)?.status !== 'running') return;
        patchItem(store, id, { progress: p });
        updateClock(store);
      }, 100);
      const onProgress = (p: RunProgress) => {
        steps = p.total;
        shown(p);
      };
      // a large item is lent to the worker (transferred; it comes back with the result) instead of copied
      const lent = lendable(preset.transferables?.(item));
      const giveBack = lent ? lendItem(store.getState(), id, () => ensureItem(store, id, true)) : null;
      try {
        const req = { item, models: modelIdsByRole(st.models), params: st.params, backend: st.backend, ...(lent ? { lend: true } : {}) };
        const r = await untilReplaced(store, worker, () => worker.api.runPreset(preset.id, lent ? Comlink.transfer(req, lent) : req, Comlink.proxy(onProgress)));
        // what came back is cached again, unless the values it was read with changed meanwhile
        const back = lent ? (r.item ?? null) : item;
        giveBack?.(sameRead(store, st.params) ? back : null);
        if (!live()) return;
        const row = preset.row(back ?? item, r.result, st.params);
        patchItem(store, id, { status: 'done', progress: undefined, result: r.result, row, runKey: key, backend: r.backend, backendReason: r.backendReason, wallMs: performance.now() - t0, steps });
        if (store.getState().selected === null) store.setState({ selected: id });
      } catch (e) {
        if (!live()) return;
        if (worker.fault || isWorkerFault(e)) {
          // the worker died under this item (src/ui/kit/recovery.ts starts a fresh one): it is marked, the batch stops
          const fault = worker.fault ? new WorkerFaultError(worker.fault) : (e as Error);
          patchItem(store, id, { status: 'error', error: `${INTERRUPTED}${fault.message}; re-run it`, progress: undefined });
          faulted = true;
          break;
        }
        if (isAbort(e)) {
          patchItem(store, id, { status: 'cancelled', progress: undefined });
          cancelled = true;
          break;
        }
        failed++;
        patchItem(store, id, { status: 'error', error: errorText(e), progress: undefined });
      } finally {
        // not given back (the run failed, was cancelled, or its worker died or was restarted): read again when needed
        giveBack?.(null);
        if (live()) store.setState({ currentId: null });
      }
    }
  } finally {
    clearInterval(clock);
  }
  if (!live()) return;
  finishBatch(store, cancelled || faulted ? 'cancelled' : 'done', failed, faulted);
}

/** Whether the values that reading depends on (config.readParams) are still those of `params`. */
function sameRead(store: AnyStore, params: unknown): boolean {
  const now = store.getState().params;
  return now === params || (store.config.readParams ?? []).every((k) => JSON.stringify(getPath(now, k)) === JSON.stringify(getPath(params, k)));
}

/** The models' infos by role, for the memory guard. */
function modelInfosByRole(store: AnyStore): Record<string, ModelInfo[]> {
  const out: Record<string, ModelInfo[]> = {};
  for (const m of store.getState().models) (out[m.role] ??= []).push(m.info);
  return out;
}

/** What this browser can give a run (the workbench's budget: navigator.deviceMemory, wasm32's heap, the WebGPU adapter's limits as the worker found them). */
async function memoryBudget(store: AnyStore): Promise<MemoryBudget> {
  const worker = workerOf(store);
  const rt = await untilReplaced(store, worker, () => worker.api.runtime()).catch(() => null);
  const gb = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return pageBudget({ ...(typeof gb === 'number' ? { deviceMemoryGb: gb } : {}), gpu: rt?.webgpu.available ? rt.webgpu : null }, store.getState().backend);
}

/** The runnable items a source (by its id) became on its first read, or null when it is still one item. */
function splitInto(store: AnyStore, id: string): string[] | null {
  const items = store.getState().items;
  if (items.some((t) => t.id === id)) return null;
  const parts = items.filter((t) => t.part !== undefined && t.source?.source.id === id);
  return parts.length > 0 ? parts.filter(isRunnable).map((t) => t.id) : null;
}

/** `quiet`: no message (a worker fault has its own notice). */
function finishBatch(store: AnyStore, status: 'done' | 'cancelled', failed: number, quiet = false): void {
  const many = store.config.texts.items;
  const s = store.getState();
  const elapsedMs = Date.now() - s.batch.startedAt;
  const ids = s.batch.ids;
  const done = s.items.filter((t) => ids.includes(t.id) && t.status === 'done').length;
  store.setState({
    items: s.items.map((t) => (status === 'cancelled' && ids.includes(t.id) && (t.status === 'waiting' || t.status === 'running') ? { ...t, status: 'cancelled', progress: undefined } : t)),
    batch: { ...s.batch, status, elapsedMs, etaMs: 0, cancelRequested: false },
    currentId: null,
  });
  const secs = (elapsedMs / 1000).toFixed(1);
  if (quiet) return;
  if (status === 'cancelled') say('info', `Run cancelled after ${done} of ${ids.length} ${many} (${secs} s).`);
  else say(failed > 0 ? 'warning' : 'info', `Run finished: ${done} of ${ids.length} ${many} in ${secs} s${failed > 0 ? `; ${failed} failed (see the queue)` : ''}.`);
}

/**
 * The worker for the next run: when WebGPU failed in the current one (its WebGPU backend may stay
 * broken there) and the run may use WebGPU, a fresh worker with the models loaded again.
 */
async function workerForRun(store: AnyStore): Promise<WorkerClient> {
  const worker = workerOf(store);
  if (store.getState().backend === 'wasm') return worker;
  const health = await untilReplaced(store, worker, async () => worker.api.webgpuHealth()).catch(() => null);
  if (!health?.failed) return worker;
  dropWorker(store);
  say('info', `WebGPU failed in the worker (${health.failed}); it was restarted and its models loaded again, so that WebGPU can run the next ${store.config.texts.item}.`);
  await reloadModels(store);
  return workerOf(store);
}

/** Cancel (Esc): the worker stops at its next model call, or is restarted if it does not answer within HARD_STOP_MS. */
export function cancelBatch(store: AnyStore): void {
  const s = store.getState();
  if (s.batch.status !== 'running' || s.batch.cancelRequested) return;
  store.setState({ batch: { ...s.batch, cancelRequested: true } });
  const seq = s.runSeq;
  s.worker?.cancel();
  setTimeout(() => {
    const st = store.getState();
    if (st.runSeq === seq && st.batch.status === 'running' && st.currentId !== null) void hardStop(store);
  }, HARD_STOP_MS);
}

/** Terminates the worker, starts a fresh one and loads the models into it again; the running item is cancelled. */
async function hardStop(store: AnyStore): Promise<void> {
  const s = store.getState();
  const id = s.currentId;
  store.setState({ runSeq: s.runSeq + 1, currentId: null }); // whatever the old run still reports is ignored
  dropWorker(store);
  if (id) patchItem(store, id, { status: 'cancelled', progress: undefined });
  finishBatch(store, 'cancelled', 0);
  say('info', 'The worker did not answer the cancel request, so it was restarted.');
  await reloadModels(store);
}

// ---------------------------------------------------------------------------------------------
// rows and exports

/** The finished items' rows in queue order, through the preset's batch step (`finish`). */
export function finishedRows<Row = unknown>(store: AnyStore, items: readonly ItemEntry[] = store.getState().items): Row[] {
  const rows = items.filter((t) => t.status === 'done' && t.row !== undefined && !t.excluded).map((t) => t.row);
  const p = store.getState().params;
  return (store.preset.finish ? store.preset.finish(rows, p) : rows) as Row[];
}

/** The preset's metric of the finished rows against the page's labels (null without labels or results). */
export function metricReport(store: AnyStore, items: readonly ItemEntry[] = store.getState().items): MetricReport | null {
  const s = store.getState();
  const rows = finishedRows(store, items);
  return store.preset.labels && s.labels && rows.length > 0 ? store.preset.labels.metric(rows, s.labels.parsed, s.params) : null;
}

/** The text of one of the preset's exports for the finished items. */
export function exportText(store: AnyStore, index = 0): string {
  const exp = store.preset.exports[index];
  if (!exp) throw new Error(`${store.preset.id} has no export ${index}`);
  const s = store.getState();
  return exp.write(finishedRows(store), s.params, s.labels?.parsed ?? null);
}

/** Downloads one of the preset's exports (submission.csv…). */
export function downloadExport(store: AnyStore, index = 0): void {
  const exp = store.preset.exports[index];
  downloadText(exportText(store, index), exp.file, exp.mime);
}

export interface ItemExportOptions {
  /** The result to write in place of the item's (spine: with the user's corrected masks). */
  result?: unknown;
  /** The page's file name from the preset's ('<uid>.nii.gz' → '<uid>_vertebrae.nii.gz'). */
  file?(name: string): string;
}

/** One item's export as a file (bytes, name, type) from a decoded item; null when it has no result. */
export function itemExportFile(store: AnyStore, id: string, item: unknown, index = 0, opts: ItemExportOptions = {}): { bytes: Uint8Array; name: string; mime: string } | null {
  const exp = store.preset.itemExports?.[index];
  const entry = store.getState().items.find((t) => t.id === id);
  const result = opts.result ?? entry?.result;
  if (!exp || item === null || item === undefined || result === undefined) return null;
  const name = exp.file(item, result);
  return { bytes: exp.write(item, result, store.getState().params), name: opts.file ? opts.file(name) : name, mime: exp.mime };
}

/** Downloads one item's export (a mask in the item's own space…); the item is read again if needed. */
export async function downloadItemExport(store: AnyStore, id: string, index = 0, opts: ItemExportOptions = {}): Promise<void> {
  const entry = store.getState().items.find((t) => t.id === id);
  if (!store.preset.itemExports?.[index] || !entry || (opts.result ?? entry.result) === undefined) return;
  const f = itemExportFile(store, id, await ensureItem(store, id, true), index, opts);
  if (f) download(f.bytes, f.name, f.mime);
}
