/**
 * Preset parameters as data: one `ParamSpec` per value (key, label, unit, default, range or
 * choices, per axis or not, help, link key, CLI flag, model-card paths). Everything else about a
 * value is derived from its spec here: defaults, validation messages, parsing from text (CLI flags
 * and links), defaults from a model card, and the session schema (./schema.ts). Pure, no DOM.
 *
 * Keys may be dotted paths into nested parameter objects ('occlusion.patch').
 */

import { InputError } from '../volume';

export type ParamValue = number | boolean | string | number[] | string[];

interface SpecBase {
  /** Property path in the preset's parameter object ('roi', 'occlusion.patch'). */
  key: string;
  /** Short label for forms and messages ('roi', 'sw batch'); messages use it as is. */
  label: string;
  /** One line for the form's tooltip and the CLI usage. */
  help?: string;
  unit?: string;
  /** Section of the form ('inference', 'post-processing', 'metric'…). */
  group?: string;
  /** Key in share links (default: `key`); false = never in links. */
  link?: string | false;
  /** CLI flag without dashes (default: the key in kebab case); false = no flag. */
  cli?: string | false;
  /** Values (by key) that giving this flag also sets: EEG's `--window 100` is a start row and the window mode. */
  cliSets?: Readonly<Record<string, ParamValue>>;
  /** Where a model card gives this value (dotted paths, first found wins), or a reader. */
  card?: CardSource | readonly CardSource[];
  /** Changing it does not change the models' outputs (applied live, no new run needed). */
  live?: boolean;
  /** Shown folded under "more" in the form. */
  advanced?: boolean;
}

/** A model-card source: a dotted path, optionally mapped (return undefined to skip). */
export type CardSource = string | { path: string; read: (v: unknown, card: Record<string, unknown>) => ParamValue | undefined };

export interface NumberBounds {
  min?: number;
  max?: number;
  /** The bound itself is not allowed. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
  /**
   * Past this a value cannot be meant: a size or count that allocates (roi 1e9, sw batch 1e308 in
   * a card). Checked with its own message ("at most"); the rule text keeps the other bounds.
   */
  limit?: number;
}

export type NumberSpec = SpecBase & NumberBounds & { type: 'number'; default: number; step?: number };
export type BooleanSpec = SpecBase & { type: 'boolean'; default: boolean };
export type ChoiceSpec = SpecBase & { type: 'choice'; default: string; choices: readonly string[]; choiceLabels?: Readonly<Record<string, string>> };
export type TextSpec = SpecBase & { type: 'text'; default: string };
/** Numbers per axis (`axes` gives their labels and count) or a list (`anyLength`). */
export type NumbersSpec = SpecBase &
  NumberBounds & {
    type: 'numbers';
    default: number[];
    /** Axis labels ('Z', 'Y', 'X'); their count is the length. */
    axes?: readonly string[];
    /** Any length (at least `minCount`). */
    anyLength?: boolean;
    minCount?: number;
    /** One number stands for every axis (overlap 0.5 = 0.5, 0.5, 0.5). */
    broadcast?: boolean;
  };
/** Several of a fixed set (TTA passes). */
export type ChoicesSpec = SpecBase & { type: 'choices'; default: string[]; choices: readonly string[]; choiceLabels?: Readonly<Record<string, string>>; minCount?: number };
/** Free list of names (class names). */
export type StringsSpec = SpecBase & { type: 'strings'; default: string[]; minCount?: number };

export type ParamSpec = NumberSpec | BooleanSpec | ChoiceSpec | TextSpec | NumbersSpec | ChoicesSpec | StringsSpec;
export type ParamSpecs = readonly ParamSpec[];

// ---------------------------------------------------------------------------------------------
// paths

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** The value at a dotted path (undefined when a step is missing). */
export function getPath(obj: unknown, path: string): unknown {
  let o: unknown = obj;
  for (const p of path.split('.')) {
    if (!isObj(o) || !Object.prototype.hasOwnProperty.call(o, p)) return undefined;
    o = o[p];
  }
  return o;
}

/** A copy of `obj` with the value at a dotted path replaced (nested objects copied on the way). */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const parts = path.split('.');
  const root: Obj = { ...(obj as Obj) };
  let o = root;
  for (const p of parts.slice(0, -1)) {
    const next = isObj(o[p]) ? { ...(o[p] as Obj) } : {};
    o[p] = next;
    o = next;
  }
  o[parts[parts.length - 1]] = Array.isArray(value) ? [...value] : value;
  return root as T;
}

const copyValue = (v: ParamValue): ParamValue => (Array.isArray(v) ? ([...v] as ParamValue) : v);

/** The parameter object of the specs' defaults (nested by the dotted keys). */
export function paramDefaults<P>(specs: ParamSpecs): P {
  let p: Obj = {};
  for (const s of specs) p = setPath(p, s.key, copyValue(s.default));
  return p as P;
}

/** A deep copy of a parameter object (plain data). */
export function cloneParams<P>(p: P): P {
  return structuredClone(p);
}

export const linkKey = (s: ParamSpec): string | null => (s.link === false ? null : (s.link ?? s.key));
export const cliFlag = (s: ParamSpec): string | null => (s.cli === false ? null : (s.cli ?? kebab(s.key)));
export const kebab = (key: string): string => key.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The length a 'numbers' value must have (null for any length). */
export function numbersLength(s: NumbersSpec): number | null {
  if (s.anyLength) return null;
  return s.axes?.length ?? s.default.length;
}

// ---------------------------------------------------------------------------------------------
// validation

/** A value as a message shows it, whatever it is (a card's `{"toString": 1}` cannot be String()-ed). */
const fmt = (v: unknown): string => {
  if (Array.isArray(v)) return v.map(fmt).join(', ');
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    try {
      return JSON.stringify(v).slice(0, 200);
    } catch {
      return 'an object';
    }
  }
  return String(v);
};

/** "in [0, 1)", ">= 1", "> 0"… for a bound set; '' when unbounded. */
export function boundsText(b: NumberBounds): string {
  const { min, max } = b;
  if (min !== undefined && max !== undefined) return `in ${b.minExclusive ? '(' : '['}${min}, ${max}${b.maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return `${b.minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${b.maxExclusive ? '<' : '<='} ${max}`;
  return '';
}

function inBounds(x: number, b: NumberBounds): boolean {
  if (!Number.isFinite(x)) return false;
  if (b.integer && !Number.isInteger(x)) return false;
  if (b.min !== undefined && (b.minExclusive ? !(x > b.min) : !(x >= b.min))) return false;
  if (b.max !== undefined && (b.maxExclusive ? !(x < b.max) : !(x <= b.max))) return false;
  return true;
}

/** What one number must be: "a positive integer", "a whole number >= 0", "in (0, 1]", "a number". */
export function numberRule(b: NumberBounds): string {
  if (b.integer) {
    if (b.min === 1 && b.max === undefined && !b.minExclusive) return 'a positive integer';
    const r = boundsText(b);
    return r ? `a whole number ${r}` : 'a whole number';
  }
  return boundsText(b) || 'a finite number';
}

/** `${label} must be at most …` when a value (or one of them) passes its rules but not its limit. */
function overLimit(s: ParamSpec & NumberBounds, v: unknown): string | null {
  if (s.limit === undefined) return null;
  const over = (Array.isArray(v) ? v : [v]).find((x) => typeof x === 'number' && x > s.limit!);
  return over === undefined ? null : `${s.label} must be at most ${s.limit}${s.unit ? ` ${s.unit}` : ''}, got ${over}`;
}

/** The problem with one value, as `${label} must be …, got …`; null when fine. */
export function checkParam(s: ParamSpec, v: unknown): string | null {
  const got = `, got ${fmt(v).slice(0, 200)}`;
  switch (s.type) {
    case 'number': {
      if (typeof v === 'number' && inBounds(v, s)) return overLimit(s, v);
      const rule = numberRule(s);
      return `${s.label} must be ${rule.startsWith('in ') || rule.startsWith('>') || rule.startsWith('<') ? rule : rule}${got}`;
    }
    case 'boolean':
      return typeof v === 'boolean' ? null : `${s.label} must be true or false${got}`;
    case 'text':
      return typeof v === 'string' ? null : `${s.label} must be text${got}`;
    case 'choice':
      return typeof v === 'string' && s.choices.includes(v) ? null : `${s.label} must be one of ${s.choices.join(', ')}${got}`;
    case 'numbers': {
      const n = numbersLength(s);
      const min = s.minCount ?? 1;
      const ok = Array.isArray(v) && (n === null ? v.length >= min : v.length === n) && v.every((x) => typeof x === 'number' && inBounds(x, s));
      if (ok) return overLimit(s, v);
      const rule = numberRule(s);
      const count = n === null ? `at least ${min}` : String(n);
      const what = rule === 'a positive integer' ? 'positive integers' : rule === 'a finite number' ? 'numbers' : rule.startsWith('a whole number') ? `whole numbers${rule.slice('a whole number'.length)}` : `values ${rule}`;
      return `${s.label} must be ${count} ${what}${got}`;
    }
    case 'choices': {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return `${s.label} must be a list of ${s.choices.join(', ')}${got}`;
      const bad = v.filter((x) => !s.choices.includes(x));
      if (bad.length) return `unknown ${s.label} ${bad.join(', ')}; known: ${s.choices.join(', ')}`;
      if (v.length < (s.minCount ?? 0)) return `${s.label}: at least ${s.minCount} needed`;
      return null;
    }
    case 'strings': {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return `${s.label} must be a list of names${got}`;
      if (v.length < (s.minCount ?? 0)) return `${s.label}: at least ${s.minCount} needed`;
      return null;
    }
  }
}

/** Every problem of a parameter object against its specs (empty when fine). */
export function validateParams(specs: ParamSpecs, p: unknown): string[] {
  const out: string[] = [];
  for (const s of specs) {
    const e = checkParam(s, getPath(p, s.key));
    if (e) out.push(e);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// text (CLI flags, links)

/** Parses one value from text (a CLI flag's or a link's); throws an Error naming the label. */
export function parseParamText(s: ParamSpec, raw: string): ParamValue {
  const text = raw.trim();
  const num = (t: string): number => {
    const n = t.trim() === '' ? NaN : Number(t.trim());
    if (!Number.isFinite(n)) throw new Error(`${s.label}: expected a number, got "${raw}"`);
    return n;
  };
  let v: ParamValue;
  switch (s.type) {
    case 'number':
      v = num(text);
      break;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) v = true;
      else if (/^(0|false|no|off)$/i.test(text)) v = false;
      else throw new Error(`${s.label}: expected 1 or 0, got "${raw}"`);
      break;
    case 'text':
    case 'choice':
      v = text;
      break;
    case 'numbers': {
      const parts = text === '' ? [] : text.split(',').map(num);
      const n = numbersLength(s);
      v = s.broadcast && n !== null && parts.length === 1 ? Array(n).fill(parts[0]) : parts;
      break;
    }
    case 'choices':
    case 'strings':
      v = text === '' ? [] : text.split(',').map((x) => x.trim());
      break;
  }
  const e = checkParam(s, v);
  if (e) throw new Error(e);
  return v;
}

const fmtNumber = (n: number): string => (Object.is(n, -0) ? '0' : String(n));

/** One value as text (the inverse of parseParamText). */
export function formatParam(v: ParamValue): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'string') return v;
  return (v as (number | string)[]).map((x) => (typeof x === 'number' ? fmtNumber(x) : x)).join(',');
}

export function sameParam(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The keys whose values differ between two parameter objects. */
export function changedParams(specs: ParamSpecs, a: unknown, b: unknown): string[] {
  return specs.filter((s) => !sameParam(getPath(a, s.key), getPath(b, s.key))).map((s) => s.key);
}

// ---------------------------------------------------------------------------------------------
// model cards

/**
 * The parameters a model card gives, applied over `base`. A value the card gives in a wrong form
 * throws an InputError naming the card path; values the card does not mention keep `base`'s.
 */
export function paramsFromCard<P>(specs: ParamSpecs, card: unknown, base: P): P {
  if (!isObj(card)) throw new InputError('model card: expected a JSON object');
  let p = cloneParams(base);
  for (const s of specs) {
    if (!s.card) continue;
    const sources = (Array.isArray(s.card) ? s.card : [s.card]) as readonly CardSource[];
    for (const src of sources) {
      const path = typeof src === 'string' ? src : src.path;
      const raw = getPath(card, path);
      if (raw === undefined || raw === null) continue;
      let v: ParamValue | undefined;
      try {
        v = typeof src === 'string' ? coerceCardValue(s, raw) : src.read(raw, card);
      } catch (e) {
        throw new InputError(`model card: ${path}: ${(e as Error).message}`);
      }
      if (v === undefined) continue;
      const e = checkParam(s, v);
      if (e) throw new InputError(`model card: ${path}: ${e.slice(0, 300)}`);
      p = setPath(p, s.key, v);
      break;
    }
  }
  return p;
}

/** A card value in the spec's form: a scalar broadcast over axes, numbers kept as they are. */
function coerceCardValue(s: ParamSpec, raw: unknown): ParamValue {
  if (s.type === 'numbers' && typeof raw === 'number') {
    const n = numbersLength(s);
    return n === null ? [raw] : Array(n).fill(raw);
  }
  return raw as ParamValue;
}

/** The spec of a key, or throws (a programming error). */
export function specOf(specs: ParamSpecs, key: string): ParamSpec {
  const s = specs.find((x) => x.key === key);
  if (!s) throw new Error(`no parameter "${key}"`);
  return s;
}
