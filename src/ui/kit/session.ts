/**
 * Session files of a kit page (the `page` part of session.json, src/ui/share/sessionFile.ts):
 * the models, every item's own files, the labels' text, each result (its typed arrays as entries
 * of the zip), the values and the view. Opening checks everything first — the envelope and the
 * values with zod (parseSessionParams), every file, every result array, the labels (parsed again)
 * and the models (loaded into the worker) — and only then replaces what the page has. Nothing runs.
 */
import { z } from '../../core/zod';
import { parseSessionParams, sessionValueProblems } from '../../core/preset/derive';
import { inputFactsSchema, parseExpects, type InputExpects } from '../../core/preset/expects';
import { presetDefaults } from '../../core/preset/index';
import type { ItemSource } from '../../core/preset/types';
import { readTensor, tensorEntry, type TensorArray, type TensorRef } from '../../core/share/session';
import type { SessionSave } from '../share/types';
import type { Origin, PickedFile } from './files';
import { clearItems } from './intake';
import { errorText, say } from './messages';
import { roleFor } from './models';
import { initialBatch, workerOf } from './store';
import type { AnyStore, ItemEntry, KitModel } from './types';

const TENSOR = '$tensor';

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/**
 * A result as JSON: every typed array becomes `{ $tensor: ref }` and its bytes an entry under
 * `path`; an array the result holds twice (brain: the labels of a kept volume) is written once.
 */
export function packTensors(v: unknown, path: string, files: Map<string, Uint8Array>, seen = new Map<unknown, TensorRef>()): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const ref = seen.get(v) ?? tensorEntry(`${path}.bin`, v as TensorArray, files);
    seen.set(v, ref);
    return { [TENSOR]: ref };
  }
  if (Array.isArray(v)) return v.map((x, i) => packTensors(x, `${path}_${i}`, files, seen));
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, packTensors(x, `${path}_${k}`, files, seen)]));
  return v;
}

/** The inverse of packTensors (throws naming a missing or damaged entry); an entry named twice gives one array. */
export function unpackTensors(v: unknown, files: Map<string, Uint8Array>, name: string, read = new Map<string, TensorArray>()): unknown {
  if (Array.isArray(v)) return v.map((x) => unpackTensors(x, files, name, read));
  if (isPlain(v)) {
    if (TENSOR in v) {
      const ref = v[TENSOR] as TensorRef;
      const a = read.get(ref.path) ?? readTensor(ref, files, name);
      read.set(ref.path, a);
      return a;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unpackTensors(x, files, name, read)]));
  }
  return v;
}

const originSchema = z.union([z.literal('dropped'), z.object({ url: z.string() }), z.object({ demo: z.string() })]);
const fileSchema = z.object({ path: z.string(), entry: z.string(), type: z.string(), origin: originSchema.optional() });
const statusSchema = z.enum(['loading', 'waiting', 'running', 'done', 'error', 'cancelled']);

const sessionSchema = z.object({
  kit: z.literal(1),
  models: z.array(z.object({ name: z.string(), role: z.string(), path: z.string(), origin: originSchema })),
  items: z.array(
    z.object({
      id: z.string(),
      source: z.object({ source: z.object({ id: z.string(), kind: z.string(), paths: z.array(z.string()), extra: z.record(z.string(), z.string()).optional() }), files: z.array(fileSchema) }).nullable(),
      origin: originSchema,
      part: z.string().optional(),
      sourceLabel: z.string(),
      status: statusSchema,
      meta: z.unknown().optional(),
      error: z.string().optional(),
      loadFailed: z.boolean().optional(),
      warnings: z.array(z.string()),
      facts: inputFactsSchema.nullable().optional(),
      result: z.unknown().optional(),
      row: z.unknown().optional(),
      runKey: z.string().optional(),
      backend: z.enum(['webgpu', 'wasm']).optional(),
      backendReason: z.string().optional(),
      wallMs: z.number().optional(),
      excluded: z.boolean().optional(),
      edits: z.unknown().optional(),
    }),
  ),
  params: z.unknown(),
  defaults: z.unknown(),
  paramsFrom: z.string(),
  labels: z.object({ name: z.string(), path: z.string(), origin: originSchema }).nullable(),
  cards: z.array(z.object({ name: z.string(), origin: originSchema, expects: z.unknown().optional() })).optional(),
  backend: z.enum(['auto', 'wasm', 'webgpu']),
  batch: z.object({ status: z.enum(['idle', 'running', 'done', 'cancelled', 'error']), ids: z.array(z.string()), startedAt: z.number(), elapsedMs: z.number(), etaMs: z.number() }),
  selected: z.string().nullable(),
  view: z.record(z.string(), z.unknown()),
});

type KitSession = z.infer<typeof sessionSchema>;

/** The item an issue's path is in, by its id (` (tomo_1)` for `items.0.facts.spacing`), or ''. */
function itemOf(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] !== 'items' || typeof path[1] !== 'number' || !isPlain(raw) || !Array.isArray(raw.items)) return '';
  const item: unknown = raw.items[path[1]];
  return isPlain(item) && typeof item.id === 'string' ? ` (${item.id})` : '';
}

const safe = (n: string): string => n.replace(/[^\w.\-/]+/g, '_').replace(/\.\.+/g, '.').replace(/\//g, '_');

/** The page's state and the bytes it needs. */
export async function saveKitSession(store: AnyStore): Promise<SessionSave<KitSession>> {
  const s = store.getState();
  if (s.batch.status === 'running') throw new Error('a run is going; wait for it or cancel it first');
  const files = new Map<string, Uint8Array>();
  const models = s.models.map((m, i) => {
    const path = `models/${i}_${safe(m.name)}`;
    files.set(path, m.bytes);
    return { name: m.name, role: m.role, path, origin: m.origin };
  });
  const items: KitSession['items'] = [];
  for (const [i, t] of s.items.entries()) {
    let source: KitSession['items'][number]['source'] = null;
    if (t.source) {
      const list: z.infer<typeof fileSchema>[] = [];
      for (const [j, f] of t.source.files.entries()) {
        const entry = `items/${i}/${j}_${safe(f.file.name)}`;
        files.set(entry, new Uint8Array(await f.file.arrayBuffer()));
        list.push({ path: f.path, entry, type: f.file.type, ...(f.origin ? { origin: f.origin } : {}) });
      }
      source = { source: t.source.source, files: list };
    }
    items.push({
      id: t.id,
      source,
      origin: t.origin,
      ...(t.part !== undefined ? { part: t.part } : {}),
      sourceLabel: t.sourceLabel,
      status: t.status === 'running' || t.status === 'loading' ? 'waiting' : t.status,
      ...(t.meta !== undefined ? { meta: t.meta } : {}),
      ...(t.error ? { error: t.error } : {}),
      ...(t.loadFailed ? { loadFailed: true } : {}),
      warnings: t.warnings,
      ...(t.facts ? { facts: t.facts } : {}),
      ...(t.result !== undefined ? { result: packTensors(t.result, `results/${i}`, files) } : {}),
      ...(t.row !== undefined ? { row: t.row } : {}),
      ...(t.runKey !== undefined ? { runKey: t.runKey } : {}),
      ...(t.backend ? { backend: t.backend } : {}),
      ...(t.backendReason !== undefined ? { backendReason: t.backendReason } : {}),
      ...(t.wallMs !== undefined ? { wallMs: t.wallMs } : {}),
      ...(t.excluded ? { excluded: true } : {}),
      ...(t.edits !== undefined ? { edits: packTensors(t.edits, `edits/${i}`, files) } : {}),
    });
  }
  let labels: KitSession['labels'] = null;
  if (s.labels) {
    const path = `labels/${safe(s.labels.name)}`;
    files.set(path, new TextEncoder().encode(s.labels.text));
    labels = { name: s.labels.name, path, origin: s.labels.origin };
  }
  const { cancelRequested: _c, ...batch } = s.batch;
  return {
    state: {
      kit: 1,
      models,
      items,
      params: s.params,
      defaults: s.defaults,
      paramsFrom: s.paramsFrom,
      labels,
      cards: s.cards,
      backend: s.backend,
      batch,
      selected: s.selected,
      view: s.view as Record<string, unknown>,
    },
    files,
  };
}

const need = (files: Map<string, Uint8Array>, path: string, name: string): Uint8Array => {
  const b = files.get(path);
  if (!b) throw new Error(`${name}: ${path} is missing`);
  return b;
};

/**
 * Where a saved view value differs in kind from the page's own (a number where the page has a
 * string, an object where it has a list…): `view.opacity: expected number, got string`.
 * Keys the page does not have are left for the caller to drop.
 */
export function viewProblems(saved: unknown, current: unknown, path = 'view'): string[] {
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'list' : ArrayBuffer.isView(v) ? 'typed array' : typeof v);
  // a value the page does not have, or may leave empty (null: JSON also writes NaN so), is not checked
  if (current === undefined || current === null || saved === null) return [];
  if (kind(saved) !== kind(current)) return [`${path}: expected ${kind(current)}, got ${kind(saved)}`];
  if (Array.isArray(current) && Array.isArray(saved)) {
    const item = current.find((x) => x !== undefined);
    return item === undefined ? [] : saved.flatMap((x, i) => viewProblems(x, item, `${path}.${i}`));
  }
  if (isPlain(current) && isPlain(saved)) return Object.entries(saved).flatMap(([k, x]) => viewProblems(x, current[k], `${path}.${k}`));
  return [];
}

/**
 * Checks a session whole — the envelope and values (zod, parseSessionParams), every item's facts
 * (inputFactsSchema), the view against the page's, every file, every result array, every result
 * and row against the preset's schemas, every meta and edits against the page's (`metaSchema`,
 * `editsSchema`), the cards' expects, the labels (parsed again) and the models (loaded into the
 * worker) — without changing the page, and returns what replaces the page's state with
 * it (nothing runs). Throws naming what is wrong; then the page is as it was.
 */
export async function openKitSession(store: AnyStore, raw: unknown, files: Map<string, Uint8Array>, name: string): Promise<() => void> {
  const { preset, config } = store;
  const cur = store.getState();
  if (cur.batch.status === 'running') throw new Error('a run is going; cancel it before opening a session');
  const parsed = sessionSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${['state', ...i.path].join('.')}${itemOf(raw, i.path)}: ${i.message}`);
    throw new Error(`${name}: the ${config.key} state in session.json is not one this version reads (${issues.join('; ')})`);
  }
  const st = parsed.data;
  const viewIssues = viewProblems(st.view, config.view);
  if (viewIssues.length > 0) throw new Error(`${name}: the ${config.key} view in session.json is not one this version reads (${viewIssues.slice(0, 3).join('; ')})`);
  // values added to the preset since the session was saved take their defaults
  const params = parseSessionParams(preset.params, st.params, 'params', presetDefaults(preset));
  const defaults = parseSessionParams(preset.params, st.defaults, 'defaults', presetDefaults(preset));
  // every item, its files and its result
  const entries: ItemEntry[] = st.items.map((t) => {
    let source: ItemEntry['source'] = null;
    if (t.source) {
      const picked: PickedFile[] = t.source.files.map((f) => ({
        path: f.path,
        file: new File([need(files, f.entry, name) as BlobPart], f.path.slice(f.path.lastIndexOf('/') + 1), { type: f.type }),
        origin: (f.origin ?? t.origin) as Origin,
      }));
      source = { source: t.source.source as ItemSource, files: picked };
    }
    const result = t.result !== undefined ? unpackTensors(t.result, files, name) : undefined;
    const edits = t.edits !== undefined ? unpackTensors(t.edits, files, name) : undefined;
    const e: ItemEntry = { ...t, source, origin: t.origin as Origin, facts: t.facts ?? undefined, result, edits, status: t.status };
    if (e.facts === undefined) delete e.facts;
    if (result === undefined) delete e.result;
    if (edits === undefined) delete e.edits;
    return e;
  });
  // every saved result and row against the preset's own schemas, every meta and edits against the
  // page's (a wrong kind would throw later, in the page)
  const wrong = entries.flatMap((t, i) => [
    ...sessionValueProblems(preset.session.result, t.result, `items.${i}(${t.id}).result`),
    ...sessionValueProblems(preset.session.row, t.row, `items.${i}(${t.id}).row`),
    ...sessionValueProblems(config.metaSchema, t.meta, `items.${i}(${t.id}).meta`),
    ...(config.editsSchema
      ? sessionValueProblems(config.editsSchema(t.result), t.edits, `items.${i}(${t.id}).edits`)
      : t.edits !== undefined
        ? [`items.${i}(${t.id}).edits: this page keeps no edits`]
        : []),
  ]);
  if (wrong.length > 0) throw new Error(`${name}: the ${config.key} items in session.json are not ones this version reads (${wrong.slice(0, 3).join('; ')})`);
  // the model cards, with what their models expect of the input
  const cards = (st.cards ?? []).map((c) => {
    let expects: InputExpects | null;
    try {
      expects = c.expects !== undefined ? parseExpects({ expects: c.expects }) : null;
    } catch (e) {
      throw new Error(`${name}: the card ${c.name}: ${errorText(e)}`, { cause: e });
    }
    return { name: c.name, origin: c.origin as Origin, ...(expects ? { expects } : {}) };
  });
  // the labels, parsed again by the preset
  let labels = null;
  if (st.labels && preset.labels) {
    const text = new TextDecoder().decode(need(files, st.labels.path, name));
    try {
      labels = { name: st.labels.name, text, parsed: preset.labels.parse(text, st.labels.name, params), origin: st.labels.origin as Origin };
    } catch (e) {
      throw new Error(`${name}: its labels ${st.labels.name} cannot be read: ${errorText(e)}`, { cause: e });
    }
  }
  // the models, loaded into the worker (and dropped again if one cannot be used)
  const worker = workerOf(store);
  const models: KitModel[] = [];
  try {
    for (const m of st.models) {
      const bytes = need(files, m.path, name);
      const loaded = await worker.api.loadModel(bytes.slice(), m.name, config.relaxDims ?? false);
      models.push({ name: m.name, role: m.role, bytes, info: loaded.info, workerId: loaded.id, origin: m.origin as Origin });
      const role = preset.models.find((r) => r.role === m.role) ?? roleFor(preset.models, loaded.info);
      const problems = role ? role.check(loaded.info, m.name, params) : ['no role of the preset takes it'];
      if (problems.length > 0) throw new Error(`its model ${m.name} cannot be used: ${problems.join('; ')}`);
    }
  } catch (e) {
    for (const m of models) void worker.api.unloadModel(m.workerId).catch(() => undefined);
    throw new Error(`${name}: ${errorText(e).replace(`${name}: `, '')}`, { cause: e });
  }
  // everything checked: what replaces the page's state
  return () => {
    clearItems(store);
    for (const m of store.getState().models) void worker.api.unloadModel(m.workerId).catch(() => undefined);
    store.setState({
      items: entries,
      models,
      params,
      defaults,
      paramsFrom: st.paramsFrom,
      labels,
      cards,
      backend: st.backend,
      batch: { ...initialBatch, ...st.batch, status: st.batch.status === 'running' ? 'done' : st.batch.status, cancelRequested: false },
      selected: st.selected,
      // only the view values this page has (a newer page's extra ones are left out)
      view: { ...(config.view as Record<string, unknown>), ...Object.fromEntries(Object.entries(st.view).filter(([k]) => k in (config.view as object))) },
    });
    const done = entries.filter((t) => t.status === 'done').length;
    say('info', `Opened the session ${name}: ${entries.length} ${entries.length === 1 ? config.texts.item : config.texts.items}, ${done} with results (not run again).`);
  };
}
