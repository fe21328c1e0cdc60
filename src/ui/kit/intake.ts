/**
 * What a preset page does with files: one `addFiles` for everything dropped, picked or fetched
 * (the preset's `inputs.sort` says what is what), model cards applied as the preset's values,
 * labels parsed by the preset, models loaded, and item sources queued to be read in the worker
 * (readInputs) one at a time; `ensureItem` gives an item's decoded value (from the cache, or read
 * again), an urgent one (the run or the view needs it) starting at once.
 */
import * as Comlink from 'comlink';
import { parseExpects, presetDefaults, presetParamsFromCard } from '../../core/preset/index';
import { getPath, type CardSource, type ParamSpecs } from '../../core/preset/params';
import type { InputFile, ReadProgress, ReadResult } from '../../core/preset/types';
import { throttle } from '../throttle';
import type { Origin, PickedFile } from './files';
import { errorText, isAbort, say, unsay } from './messages';
import { addModelFiles } from './models';
import { count, entryOf, listText, sortPicked, type SortedFiles } from './pure';
import { initialBatch, itemEntry, patchItem, untilReplaced, workerOf } from './store';
import type { WorkerInputFile } from '../../worker/protocol';
import type { AnyStore, ItemEntry, PageSource } from './types';

/** What an intake did: sources queued, and how many inputs could not be used (each said why). */
export interface IntakeReport {
  /** Ids of the sources queued. */
  ids: string[];
  failed: number;
  /** Paths of the files it took (as sources, models, cards or labels); the others were ignored. */
  used: string[];
  /** Paths that are none of the preset's inputs (each named in a message). */
  ignored: string[];
}

/** One handler for everything dropped, picked or fetched on a preset page. */
export async function addFiles(store: AnyStore, files: readonly PickedFile[], emptyFolders: readonly string[] = []): Promise<IntakeReport> {
  const { preset, config } = store;
  const sorted = withHeldItems(store, files, sortPicked(preset, files, emptyFolders));
  let failed = 0;
  for (const note of sorted.notes.slice(0, 3)) say('info', `Skipped ${note}.`);
  if (sorted.notes.length > 3) say('info', `Skipped ${sorted.notes.length - 3} more sources of the same ids.`);
  if (sorted.ignored.length > 0) {
    say('info', `Ignored ${count(sorted.ignored.length, 'file', 'files')} that ${sorted.ignored.length === 1 ? 'is' : 'are'} no ${config.texts.item}, model, card or labels: ${listText(sorted.ignored, 4)}.`);
  }
  for (const c of sorted.cards) if (!applyCardText(store, await c.file.text(), c.file.name, c.origin)) failed++;
  if (sorted.labels.length > 0) {
    if (sorted.labels.length > 1) say('warning', `Several CSV files: reading ${sorted.labels[0].path} as labels.`);
    if (!(await loadLabelsFile(store, sorted.labels[0].file, sorted.labels[0].origin))) failed++;
  }
  if (sorted.models.length > 0) failed += await addModelFiles(store, sorted.models);
  if (sorted.sources.length > 0) addSources(store, sorted.sources);
  if (files.length > 0 && sorted.sources.length + sorted.models.length + sorted.labels.length + sorted.cards.length === 0) {
    say('warning', `Nothing to open there: drop ${preset.inputs.hint}.`, `${config.key}-open`);
    failed++;
  }
  const used = [
    ...sorted.sources.flatMap((s) => [...s.source.paths, ...Object.values(s.source.extra ?? {})]),
    ...[...sorted.models, ...sorted.cards, ...sorted.labels.slice(0, 1)].map((f) => f.path),
  ];
  return { ids: sorted.sources.map((s) => s.source.id), failed, used, ignored: sorted.ignored };
}

/**
 * Files the preset's sort leaves out alone but that belong to an item the page holds (a cell mask
 * dropped after its field of view) are sorted again with that item's files: the item is read
 * again with them. Sources that take none of the left-out files are not touched.
 */
function withHeldItems(store: AnyStore, files: readonly PickedFile[], sorted: SortedFiles): SortedFiles {
  if (sorted.ignored.length === 0) return sorted;
  const left = files.filter((f) => sorted.ignored.includes(f.path));
  const items = store.getState().items;
  const held = [...new Set(items.flatMap((t) => t.source?.files ?? []))];
  if (left.length === 0 || held.length === 0) return sorted;
  const ids = new Set(items.map((t) => t.source?.source.id));
  const attached = sortPicked(store.preset, [...held, ...left]).sources.filter((src) => ids.has(src.source.id) && src.files.some((f) => left.includes(f)));
  if (attached.length === 0) return sorted;
  const taken = new Set(attached.flatMap((src) => src.files.filter((f) => left.includes(f)).map((f) => f.path)));
  say('info', `Added ${listText([...taken])} to ${listText(attached.map((src) => src.source.id))}.`);
  return { ...sorted, sources: [...sorted.sources, ...attached], ignored: sorted.ignored.filter((p) => !taken.has(p)) };
}

// ---------------------------------------------------------------------------------------------
// items

const defaultLabel = (src: PageSource): string => count(src.source.paths.length, 'file', 'files');

/** Adds sources to the queue (replacing items with the same id) and queues their reads. */
export function addSources(store: AnyStore, sources: readonly PageSource[]): void {
  const { config } = store;
  const label = (src: PageSource) => config.sourceLabel?.(src.source) ?? defaultLabel(src);
  const fresh: ItemEntry[] = sources.map((src) => entryOf(src, label(src)));
  const ids = new Set(fresh.map((t) => t.id));
  const s = store.getState();
  const replaced = s.items.filter((t) => ids.has(t.id));
  const running = replaced.find((t) => t.status === 'running');
  if (s.batch.status === 'running' && running) {
    say('warning', `Cannot replace ${running.id} while it runs; cancel first.`);
    return;
  }
  for (const t of replaced) forgetItem(store, t.id);
  if (replaced.length > 0) say('info', `Replaced ${replaced.map((t) => t.id).join(', ')} with the newly added ${replaced.length === 1 ? 'source' : 'sources'}.`);
  store.setState((st) => ({ items: [...st.items.filter((t) => !ids.has(t.id)), ...fresh], selected: st.selected ?? fresh[0]?.id ?? null }));
  for (const t of fresh) void ensureItem(store, t.id);
}

/** Drops an item's decoded value and stops its read, if any (a source added again under its id is read afresh). */
function forgetItem(store: AnyStore, id: string): void {
  const { cache, reads, worker } = store.getState();
  cache.delete(id);
  const r = reads.pending.get(id);
  if (r) {
    void worker?.api.cancelRead(r.readId);
    reads.pending.delete(id);
  }
}

/**
 * The item's decoded value: from the cache, or read (again) from its source in the worker. Null
 * when it cannot be read (its row then says why). Reads queue one after another; an urgent one
 * (the run or the view needs it now) starts at once. `forRun`: only a run needs it, so an item the
 * page does not hold is read for the run alone where the preset can (`inputs.modelOnly`: a motors
 * slice folder decodes the slices the resize reads, 126 of 300, as the CLI does), and such an item
 * serves while the values it was read for hold; a view or an export gets an item read whole.
 */
export async function ensureItem(store: AnyStore, id: string, urgent = false, forRun = false): Promise<unknown> {
  const { cache, reads } = store.getState();
  const have = cache.get(id);
  if (have !== undefined && serves(store, have, forRun)) return have;
  const p = reads.pending.get(id);
  if (p) {
    if (urgent) p.start();
    const item = await p.promise;
    // a read for a run alone (or for other values) that does not serve this: read it again as needed
    return item === null || serves(store, item, forRun) ? item : ensureItem(store, id, urgent, forRun);
  }
  const readId = reads.nextReadId();
  const modelOnly = forRun && store.preset.inputs.modelOnly !== undefined;
  return reads.enqueue(id, readId, () => readItem(store, id, readId, modelOnly), urgent);
}

/** Whether an item as read serves: read whole, or (for a run) read for the run alone with the current values. */
function serves(store: AnyStore, item: unknown, forRun: boolean): boolean {
  const fit = store.preset.inputs.modelOnly;
  const of = fit?.of(item as never) ?? null;
  return of === null || (forRun && of === fit!.key(store.getState().params as never));
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A source's files for readInputs, with what to transfer: unread Files for a preset that reads on
 * demand (the worker reads one slice or slab at a time), else every file's bytes.
 */
async function inputFiles(store: AnyStore, src: PageSource): Promise<{ files: WorkerInputFile[]; transfer: ArrayBuffer[] }> {
  if (store.preset.inputs.readsOnDemand) return { files: src.files.map((f) => ({ path: f.path, file: f.file })), transfer: [] };
  const files: InputFile[] = await Promise.all(src.files.map(async (f) => ({ path: f.path, bytes: new Uint8Array(await f.file.arrayBuffer()) })));
  return { files, transfer: files.map((f) => f.bytes.buffer as ArrayBuffer) };
}

/**
 * Reads each source in the worker without adding it (a link's files are all checked before any of
 * them is added, src/ui/kit/share.ts): the first that cannot be read, as one line naming its file
 * and why, or null. The page's items are not touched.
 */
export async function unreadableSource(store: AnyStore, sources: readonly PageSource[]): Promise<string | null> {
  const client = workerOf(store);
  for (const src of sources) {
    const name = src.files[0]?.path ?? src.source.id;
    try {
      const { files, transfer } = await inputFiles(store, src);
      const res = await client.api.readInputs(
        store.preset.id,
        src.source,
        Comlink.transfer(files, transfer),
        store.getState().params,
        Comlink.proxy(() => undefined),
        store.getState().reads.nextReadId(),
      );
      if (res.items.length === 0) return `${name}: nothing to read in it`;
    } catch (e) {
      const why = errorText(e);
      return src.files.some((f) => why.includes(f.path.slice(f.path.lastIndexOf('/') + 1))) ? why : `${name}: ${why}`;
    }
  }
  return null;
}

/** The entry's first read was cancelled (cancelReads): it is not read until its source is added again. */
const readCancelled = (t: ItemEntry | undefined): boolean => t?.status === 'cancelled' && t.loadFailed === true;

async function readItem(store: AnyStore, id: string, readId: string, modelOnly = false): Promise<unknown> {
  const { preset, config } = store;
  const entry = itemEntry(store, id);
  if (!entry?.source || readCancelled(entry)) return null;
  const have = store.getState().cache.get(id);
  if (have !== undefined && serves(store, have, modelOnly)) return have;
  const src = entry.source;
  const first = entry.meta === undefined;
  const client = workerOf(store);
  const onProgress = throttle((p: ReadProgress) => {
    if (first && itemEntry(store, id)?.source === src && p.total > 0) patchItem(store, id, { loadProgress: p.done / p.total });
  }, 100);
  let res: ReadResult<unknown>;
  try {
    const { files, transfer } = await inputFiles(store, src);
    res = await untilReplaced(store, client, () =>
      client.api.readInputs(preset.id, src.source, Comlink.transfer(files, transfer), store.getState().params, Comlink.proxy(onProgress), readId, modelOnly),
    );
    if (res.items.length === 0) throw new Error(`${id}: nothing to read in it`);
  } catch (e) {
    const cur = itemEntry(store, id);
    if (cur?.source !== src) return null; // replaced or removed meanwhile
    // the worker was restarted under the read (a hard stop): read again with the new one
    if (store.getState().worker !== client) return readItem(store, id, readId, modelOnly);
    if (isAbort(e)) return null;
    patchItem(store, id, { status: 'error', loadFailed: true, error: errorText(e).replace(new RegExp(`^${escapeRe(id)}: `), ''), loadProgress: undefined });
    // show an item that can be shown, not the broken one
    const s = store.getState();
    if (s.selected === id) store.setState({ selected: s.items.find((t) => !t.loadFailed)?.id ?? id });
    return null;
  }
  const cur = itemEntry(store, id);
  if (cur?.source !== src || readCancelled(cur)) return null;
  return keepRead(store, cur, res, first, config.meta);
}

/** Caches what a read gave and, the first time, fills in the entry (a source of several items becomes one entry each). */
function keepRead(store: AnyStore, entry: ItemEntry, res: ReadResult<unknown>, first: boolean, meta: (item: never) => unknown): unknown {
  const { preset, config } = store;
  const { cache } = store.getState();
  const src = entry.source!.source;
  const partIds = res.items.map((item, i) => config.partId?.(src, item as never, i) ?? preset.inputs.itemId(item));
  const warnings = [...res.warnings];
  if (res.skipped.length > 0) {
    const names = res.skipped.map((s) => s.path.slice(s.path.lastIndexOf('/') + 1));
    const reasons = [...new Set(res.skipped.map((s) => s.reason))].join('; ');
    warnings.push(`skipped ${count(names.length, 'file', 'files')} (${reasons}): ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`);
  }
  const facts = (i: number) => res.facts?.[i] ?? null;
  if (res.items.length === 1 || (!first && entry.part === undefined)) {
    const item = res.items[0];
    cache.set(entry.id, item);
    if (first) patchItem(store, entry.id, { meta: meta(item as never), facts: facts(0), loadProgress: undefined, warnings, ...(entry.status === 'loading' ? { status: 'waiting' } : {}) });
    else if (entry.facts === undefined) patchItem(store, entry.id, { facts: facts(0) });
    return item;
  }
  if (!first) {
    for (const [i, item] of res.items.entries()) {
      if (!store.getState().items.some((t) => t.id === partIds[i])) continue;
      cache.set(partIds[i], item);
      if (itemEntry(store, partIds[i])?.facts === undefined) patchItem(store, partIds[i], { facts: facts(i) });
    }
    return res.items[partIds.indexOf(entry.part ?? '')] ?? null;
  }
  // the first read of a source with several items: one entry per item, in place of the source's
  // (a page with onePerSource runs the first of them unless the user picks another)
  const parts: ItemEntry[] = res.items.map((item, i) => ({
    ...entry,
    id: partIds[i],
    part: partIds[i],
    meta: meta(item as never),
    facts: facts(i),
    loadProgress: undefined,
    warnings,
    status: 'waiting',
    ...(config.onePerSource && i > 0 ? { excluded: true } : {}),
  }));
  for (const [i, item] of res.items.entries()) cache.set(parts[i].id, item);
  store.setState((s) => ({
    items: s.items.flatMap((t) => (t.id === entry.id ? parts : [t])),
    selected: s.selected === entry.id ? parts[0].id : s.selected,
  }));
  return res.items[0];
}

/** The items that came from the same source as `t` (itself included). */
export const siblings = (items: readonly ItemEntry[], t: ItemEntry): ItemEntry[] =>
  t.part === undefined || !t.source ? [t] : items.filter((x) => x.part !== undefined && x.source?.source.id === t.source!.source.id);

/** Picks which of a source's items runs (onePerSource): the others are left out of runs and exports; it is shown. */
export function choosePart(store: AnyStore, id: string): void {
  const s = store.getState();
  const t = s.items.find((x) => x.id === id);
  if (!t || s.batch.status === 'running') return;
  const group = new Set(siblings(s.items, t).map((x) => x.id));
  store.setState({ items: s.items.map((x) => (group.has(x.id) ? { ...x, excluded: x.id === id ? undefined : true } : x)), selected: id });
}

/**
 * Stops the first reads of the sources still being read (Esc): each says so in its row and is not
 * read until it is added again. Reads of items already read (for a run or the view) go on.
 */
export function cancelReads(store: AnyStore): void {
  const { reads, worker, items } = store.getState();
  const loading = items.filter((t) => t.status === 'loading');
  if (loading.length === 0) return;
  const verb = (store.config.texts.reading ?? 'reading').toLowerCase();
  for (const t of loading) {
    const r = reads.pending.get(t.id);
    if (r) void worker?.api.cancelRead(r.readId);
  }
  const ids = new Set(loading.map((t) => t.id));
  store.setState((st) => ({
    items: st.items.map((t) => (ids.has(t.id) ? { ...t, status: 'cancelled', loadFailed: true, loadProgress: undefined, error: `${verb} cancelled; add it again to read it` } : t)),
  }));
}

export function removeItem(store: AnyStore, id: string): void {
  const s = store.getState();
  const t = s.items.find((x) => x.id === id);
  if (!t || t.status === 'running') return;
  forgetItem(store, id);
  // the item that ran for its source goes: the next of the source's items runs in its place
  const next = !t.excluded ? siblings(s.items, t).find((x) => x.id !== id) : undefined;
  const items = s.items.filter((x) => x.id !== id).map((x) => (x === next ? { ...x, excluded: undefined } : x));
  store.setState({ items, selected: s.selected === id ? (items[0]?.id ?? null) : s.selected });
}

export function clearItems(store: AnyStore): void {
  const s = store.getState();
  if (s.batch.status === 'running') return;
  for (const t of s.items) forgetItem(store, t.id);
  store.setState({ items: [], selected: null, batch: initialBatch });
}

// ---------------------------------------------------------------------------------------------
// cards and labels

const cardPaths = (specs: ParamSpecs): string[] =>
  specs.flatMap((s) => (s.card ? ((Array.isArray(s.card) ? s.card : [s.card]) as readonly CardSource[]).map((c) => (typeof c === 'string' ? c : c.path)) : []));

/**
 * Applies a model card (JSON text) as the preset's values and as what Reset goes back to, and
 * keeps its name and origin (links name it); says what it did. False when it could not be read (a
 * card that gives none of the values is only noted).
 */
export function applyCardText(store: AnyStore, text: string, name: string, origin: Origin = 'dropped'): boolean {
  const { preset, config } = store;
  try {
    const card = JSON.parse(text) as unknown;
    if (!card || typeof card !== 'object' || Array.isArray(card)) throw new Error('expected a JSON object');
    if (!parseExpects(card) && !preset.fromCard && !cardPaths(preset.params).some((p) => getPath(card, p) !== undefined)) {
      say('info', `${name} gives none of the ${config.key} values; not used as a model card.`);
      return true;
    }
    applyCard(store, card, name, origin);
    say('info', `Preset values from the model card ${name}.`);
    return true;
  } catch (e) {
    say('error', `Could not read the model card ${name}: ${errorText(e)}`, `${config.key}-card`);
    return false;
  }
}

/**
 * A card's values over the preset's defaults become the values and the defaults (with
 * `cardsAddUp`, over the cards' before it: 'a.json + b.json'). Throws on a bad value.
 */
export function applyCard(store: AnyStore, card: unknown, name: string, origin: Origin = 'dropped'): void {
  const s = store.getState();
  const addUp = store.config.cardsAddUp === true && s.paramsFrom !== 'preset';
  const params = presetParamsFromCard(store.preset, card, addUp ? s.defaults : presetDefaults(store.preset));
  // what the card says its model expects of the input: items outside it are named (QueuePanel, RunPanel)
  const expects = parseExpects(card);
  const entry = { name, origin, ...(expects ? { expects } : {}) };
  const cards = addUp ? [...s.cards.filter((c) => c.name !== name), entry] : [entry];
  store.setState({ params, defaults: params, paramsFrom: cards.map((c) => c.name).join(' + '), cards });
}

/** Parses labels with the preset and keeps them; says what they hold, or why not. */
export function loadLabelsText(store: AnyStore, text: string, name: string, origin: Origin = 'dropped'): boolean {
  const { preset, config } = store;
  const key = `${config.key}-labels`;
  if (!preset.labels) {
    say('warning', `The ${config.key} page takes no labels; ${name} is not used.`, key);
    return false;
  }
  try {
    const parsed = preset.labels.parse(text, name, store.getState().params);
    store.setState({ labels: { name, text, parsed, origin } });
    unsay(key);
    const summary = config.texts.labelsSummary?.(parsed);
    say('info', `Labels ${name}${summary ? `: ${summary}` : ' loaded'}.`);
    return true;
  } catch (e) {
    say('error', `Could not read the labels ${name}: ${errorText(e)}`, key);
    return false;
  }
}

export async function loadLabelsFile(store: AnyStore, file: File, origin: Origin = 'dropped'): Promise<boolean> {
  return loadLabelsText(store, await file.text(), file.name, origin);
}

export function clearLabels(store: AnyStore): void {
  store.setState({ labels: null });
}
