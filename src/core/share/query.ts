/**
 * Share links: the state of a page as a readable, versioned query string (pure, no DOM).
 *
 *   ?v=1&demo=motors&quantile=0.6&tomo=tomo_sim_003&slice=axial&xyz=0.41,0.52,0.3&zoom=1.5
 *   ?v=1&preset=workbench&model=https://…/model.onnx&data=https://…/t1.nii.gz&roi=128,128,128
 *
 * `v` is the format version; `demo` (a bundled demo) or `preset` (a page) says what to open;
 * `model`, `data` (each may repeat) and `labels` are URLs to fetch; every other key is a value of
 * the preset or of the view, written only when it differs from its default. The type of each value
 * comes from its default: number, boolean (1/0), string, or comma-separated lists of them. A state
 * whose query would be longer than COMPACT_LIMIT is written as `?v=1&z=<deflated JSON, base64url>`.
 */
import { deflateSync, strFromU8, strToU8 } from 'fflate';
import { z } from '../zod';
import { inflateCapped } from '../io/binary';
import { LIMITS } from '../io/limits';

export const LINK_VERSION = 1;
/** Queries longer than this are written in the compact form (`z=`). */
export const COMPACT_LIMIT = 1800;
/** Keys that are not preset or view values. */
export const RESERVED_KEYS = ['v', 'preset', 'demo', 'model', 'data', 'labels', 'z', 'gallery'] as const;

export type ShareValue = number | boolean | string | number[] | string[];
export type ShareValues = Record<string, ShareValue>;

/** Extra rules for a value (its type comes from its default). */
export interface ShareField {
  /** Allowed strings (for a string or a list of strings). */
  choices?: readonly string[];
  min?: number;
  max?: number;
  integer?: boolean;
  /** A list of any length (by default a list keeps its default's length). */
  anyLength?: boolean;
}

/** What a page's values are: their defaults (which also give their types) and optional rules. */
export interface ShareSpec {
  defaults: ShareValues;
  fields?: Record<string, ShareField>;
}

export interface LinkState {
  /** Page id (`preset=`); omitted when a demo names the page. */
  preset?: string;
  /** Bundled demo name (`demo=`). */
  demo?: string;
  models: string[];
  data: string[];
  labels?: string;
  /** Preset and view values (only those differing from the defaults are written). */
  values: ShareValues;
}

export interface DecodedLink {
  state: LinkState;
  /** Version the link was written with. */
  version: number;
  /** Messages for the user: bad values, unknown keys, a newer version (the rest of the link still applies). */
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// values

const fmtNumber = (n: number): string => (Object.is(n, -0) ? '0' : String(n));

export function formatValue(v: ShareValue): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'string') return v;
  return (v as (number | string)[]).map((x) => (typeof x === 'number' ? fmtNumber(x) : x)).join(',');
}

export function sameValue(a: ShareValue | undefined, b: ShareValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function parseNumber(key: string, s: string, f: ShareField): number {
  const t = s.trim();
  const n = t === '' ? NaN : Number(t);
  if (!Number.isFinite(n)) throw new Error(`${key}: expected a number, got "${s}"`);
  if (f.integer && !Number.isInteger(n)) throw new Error(`${key}: expected a whole number, got "${s}"`);
  if (f.min !== undefined && n < f.min) throw new Error(`${key}: ${n} is below the minimum ${f.min}`);
  if (f.max !== undefined && n > f.max) throw new Error(`${key}: ${n} is above the maximum ${f.max}`);
  return n;
}

function parseString(key: string, s: string, f: ShareField): string {
  if (f.choices && !f.choices.includes(s)) throw new Error(`${key}: "${s}" is not one of ${f.choices.join(', ')}`);
  return s;
}

/** Parses one query value by the type of its default; throws an Error naming the key. */
export function parseValue(key: string, raw: string, def: ShareValue, field: ShareField = {}): ShareValue {
  if (typeof def === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`${key}: expected 1 or 0, got "${raw}"`);
  }
  if (typeof def === 'number') return parseNumber(key, raw, field);
  if (typeof def === 'string') return parseString(key, raw, field);
  const parts = raw === '' ? [] : raw.split(',', LIMITS.maxLinkListItems + 1);
  if (parts.length > LIMITS.maxLinkListItems) throw new Error(`${key}: more than ${LIMITS.maxLinkListItems} values`);
  if (!field.anyLength && parts.length !== def.length) {
    throw new Error(`${key}: expected ${def.length} comma-separated value${def.length === 1 ? '' : 's'}, got "${raw}"`);
  }
  const numeric = def.length > 0 ? typeof def[0] === 'number' : !field.choices;
  return numeric ? parts.map((p) => parseNumber(key, p, field)) : parts.map((p) => parseString(key, p, field));
}

// ---------------------------------------------------------------------------------------------
// links

/** The values that differ from their defaults, in the defaults' key order (then any others). */
export function changedValues(values: ShareValues, defaults: ShareValues): ShareValues {
  const out: ShareValues = {};
  const keys = [...Object.keys(defaults), ...Object.keys(values).filter((k) => !(k in defaults))];
  for (const k of keys) if (k in values && !sameValue(values[k], defaults[k])) out[k] = values[k];
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/**
 * The query for a state ('?v=1&…'), leaving out values equal to `defaults`. Long states are
 * written compactly unless `compact` is false.
 */
export function encodeLink(state: LinkState, defaults: ShareValues = {}, opts: { compact?: boolean } = {}): string {
  const q = new URLSearchParams();
  q.set('v', String(LINK_VERSION));
  if (state.demo) q.set('demo', state.demo);
  else if (state.preset) q.set('preset', state.preset);
  for (const m of state.models) q.append('model', m);
  for (const d of state.data) q.append('data', d);
  if (state.labels) q.set('labels', state.labels);
  const changed = changedValues(state.values, defaults);
  for (const [k, v] of Object.entries(changed)) {
    if ((RESERVED_KEYS as readonly string[]).includes(k)) throw new Error(`share: "${k}" is a reserved key and cannot be a value`);
    q.set(k, formatValue(v));
  }
  // keep ',' and ':' '/' readable in the address bar (all are allowed in a query)
  const readable = '?' + q.toString().replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%2F/gi, '/');
  if (opts.compact === false || readable.length <= COMPACT_LIMIT) return readable;
  const packed = { ...(state.demo ? { demo: state.demo } : { preset: state.preset }), model: state.models, data: state.data, labels: state.labels, values: changed };
  return `?v=${LINK_VERSION}&z=${toBase64Url(deflateSync(strToU8(JSON.stringify(packed)), { level: 9 }))}`;
}

/**
 * Reads a link. `specFor` gives the values' defaults and rules for the page the link names
 * (by preset id or demo name; null when unknown). Bad values are dropped with a problem each.
 */
/** The compact part (`z=`): what it may hold, checked before any of it is used. */
const SHARE_VALUE = z.union([z.number(), z.boolean(), z.string(), z.array(z.union([z.number(), z.string()])).max(LIMITS.maxLinkListItems)]);
const COMPACT = z.object({
  preset: z.string().optional(),
  demo: z.string().optional(),
  labels: z.string().optional(),
  model: z.array(z.string()).max(64).optional(),
  data: z.array(z.string()).max(LIMITS.maxLinkListItems).optional(),
  values: z.record(z.string(), SHARE_VALUE).optional(),
});

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function decodeLink(query: string | URLSearchParams, specFor: (page: { preset?: string; demo?: string }) => ShareSpec | null): DecodedLink {
  const problems: string[] = [];
  const length = typeof query === 'string' ? query.length : query.toString().length;
  if (length > LIMITS.maxLinkLength) {
    return { state: { models: [], data: [], values: {} }, version: LINK_VERSION, problems: [`The link is ${length} characters long, more than the ${LIMITS.maxLinkLength} a link may have; it was not opened.`] };
  }
  const q = typeof query === 'string' ? new URLSearchParams(query) : query;
  const vRaw = q.get('v');
  let version = LINK_VERSION;
  if (vRaw !== null) {
    const n = Number(vRaw);
    if (!Number.isInteger(n) || n < 1) problems.push(`v: "${vRaw}" is not a link version; reading it as version ${LINK_VERSION}`);
    else if (n > LINK_VERSION) problems.push(`This link was made by a newer Voxelbench (link version ${n}); reading it as version ${LINK_VERSION}, some settings may be ignored.`);
    else version = n;
  }
  let raw: Map<string, string[]>;
  const zq = q.get('z');
  if (zq !== null) {
    raw = new Map();
    try {
      const json = strFromU8(inflateCapped('deflate', fromBase64Url(zq), 'link', { cap: LIMITS.maxLinkLength, what: 'the compact part' }));
      const o = COMPACT.parse(JSON.parse(json));
      for (const k of ['preset', 'demo', 'labels'] as const) if (o[k] !== undefined) raw.set(k, [o[k]]);
      for (const k of ['model', 'data'] as const) if (o[k] !== undefined) raw.set(k, o[k]);
      for (const [k, v] of Object.entries(o.values ?? {})) raw.set(k, [formatValue(v as ShareValue)]);
    } catch {
      problems.push('z: the compact part of the link is damaged (cut off when copied?); opening without it');
      raw = new Map();
    }
  } else {
    raw = new Map();
    for (const [k, v] of q) {
      const list = raw.get(k);
      if (list) list.push(v);
      else raw.set(k, [v]);
    }
  }
  const one = (k: string): string | undefined => raw.get(k)?.[0];
  const state: LinkState = { models: raw.get('model') ?? [], data: raw.get('data') ?? [], values: {} };
  const preset = one('preset');
  const demo = one('demo');
  if (preset !== undefined) state.preset = preset;
  if (demo !== undefined) state.demo = demo;
  const labels = one('labels');
  if (labels !== undefined) state.labels = labels;
  for (const k of ['model', 'data', 'labels']) {
    for (const u of raw.get(k) ?? []) if (!isFetchableUrl(u)) problems.push(`${k}: "${u}" is not an http(s) address`);
  }
  state.models = state.models.filter(isFetchableUrl);
  state.data = state.data.filter(isFetchableUrl);
  if (state.labels !== undefined && !isFetchableUrl(state.labels)) delete state.labels;

  const spec = specFor({ preset: state.preset, demo: state.demo });
  if (!spec) {
    if (state.demo !== undefined || state.preset !== undefined) problems.push(`There is no ${state.demo !== undefined ? `demo "${state.demo}"` : `page "${state.preset}"`} in this version of Voxelbench.`);
    return { state, version, problems };
  }
  let unknown = 0;
  for (const [k, vals] of raw) {
    if ((RESERVED_KEYS as readonly string[]).includes(k)) continue;
    // own keys only: `toString=` or `__proto__=` are no settings
    const def = own(spec.defaults, k) ? spec.defaults[k] : undefined;
    if (def === undefined) {
      if (unknown++ < 20) problems.push(`Unknown setting "${k.slice(0, 60)}" in the link; ignored.`);
      continue;
    }
    try {
      state.values[k] = parseValue(k, vals[vals.length - 1], def, spec.fields && own(spec.fields, k) ? spec.fields[k] : undefined);
    } catch (e) {
      problems.push(`${(e as Error).message.slice(0, 300)}; the default ${formatValue(def) || '(none)'} is used.`);
    }
  }
  if (unknown > 20) problems.push(`… and ${unknown - 20} more unknown settings.`);
  return { state, version, problems };
}

/** http(s) URLs, or a path relative to the app ('models/x.onnx'). */
export function isFetchableUrl(u: string): boolean {
  if (/^https?:\/\//i.test(u)) return true;
  return /^[\w.\-~][\w.\-~/%]*$/.test(u) && !u.includes('..');
}
