/**
 * What links, sessions and the command line know of a preset's values, derived from its
 * ParamSpecs (./params.ts): nothing here names a preset's value by hand.
 */
import { z } from '../zod';
import type { ShareField, ShareSpec, ShareValues } from '../share/query';
import {
  checkParam,
  cliFlag,
  formatParam,
  getPath,
  kebab,
  linkKey,
  numbersLength,
  parseParamText,
  setPath,
  type NumberBounds,
  type ParamSpec,
  type ParamSpecs,
  type ParamValue,
} from './params';

// ---------------------------------------------------------------------------------------------
// links

function boundsField(b: NumberBounds): ShareField {
  const f: ShareField = {};
  if (b.min !== undefined) f.min = b.min;
  if (b.max !== undefined) f.max = b.max;
  if (b.integer) f.integer = true;
  return f;
}

function shareField(s: ParamSpec): ShareField {
  switch (s.type) {
    case 'number':
      return boundsField(s);
    case 'numbers':
      // a broadcast value may come as one number (`patch=32` for 32, 32)
      return { ...boundsField(s), ...(numbersLength(s) === null || s.broadcast ? { anyLength: true } : {}) };
    case 'choice':
      return { choices: s.choices };
    case 'choices':
      return { choices: s.choices, anyLength: true };
    case 'strings':
      return { anyLength: true };
    default:
      return {};
  }
}

/** The link spec of a preset's values: defaults from `defaults` (a card's values, say), rules from the specs. */
export function paramsShareSpec(specs: ParamSpecs, defaults: unknown): ShareSpec {
  const out: ShareSpec = { defaults: {}, fields: {} };
  for (const s of specs) {
    const k = linkKey(s);
    if (!k) continue;
    out.defaults[k] = getPath(defaults, s.key) as ParamValue;
    const f = shareField(s);
    if (Object.keys(f).length) out.fields![k] = f;
  }
  return out;
}

/** The values of a parameter object as link values (by link key). */
export function paramsShareValues(specs: ParamSpecs, p: unknown): ShareValues {
  const out: ShareValues = {};
  for (const s of specs) {
    const k = linkKey(s);
    if (k) out[k] = getPath(p, s.key) as ParamValue;
  }
  return out;
}

/** One number given for a broadcast 'numbers' value stands for every axis. */
function broadcastOne(s: ParamSpec, v: ParamValue): ParamValue {
  if (s.type !== 'numbers' || !s.broadcast || !Array.isArray(v) || v.length !== 1) return v;
  const n = numbersLength(s);
  return n === null ? v : (Array(n).fill(v[0]) as number[]);
}

/**
 * `base` with the link's values applied (only those the link had); values that break a rule the
 * link decoder cannot know (an exclusive bound, say) are left out with a problem each.
 */
export function paramsFromShareValues<P>(specs: ParamSpecs, values: ShareValues, base: P): { params: P; problems: string[] } {
  let params = base;
  const problems: string[] = [];
  for (const s of specs) {
    const k = linkKey(s);
    if (!k || !(k in values)) continue;
    const v = broadcastOne(s, values[k]);
    const e = checkParam(s, v);
    if (e) problems.push(`${k}: ${e}; the current value is kept.`);
    else params = setPath(params, s.key, v);
  }
  return { params, problems };
}

// ---------------------------------------------------------------------------------------------
// command line

export interface CliOption {
  type: 'string' | 'boolean';
}

/** parseArgs options for the specs' flags (booleans also get `--no-<flag>`). */
export function paramCliOptions(specs: ParamSpecs): Record<string, CliOption> {
  const out: Record<string, CliOption> = {};
  for (const s of specs) {
    const f = cliFlag(s);
    if (!f) continue;
    if (s.type === 'boolean') {
      out[f] = { type: 'boolean' };
      out[`no-${f}`] = { type: 'boolean' };
    } else out[f] = { type: 'string' };
  }
  return out;
}

/** `base` with the flags given on the command line; throws an Error naming the flag. */
export function paramsFromCli<P>(specs: ParamSpecs, values: Record<string, string | boolean | undefined>, base: P): P {
  let p = base;
  for (const s of specs) {
    const f = cliFlag(s);
    if (!f) continue;
    const also = (): void => {
      for (const [k, v] of Object.entries(s.cliSets ?? {})) p = setPath(p, k, v);
    };
    if (s.type === 'boolean') {
      if (values[f] === true) p = setPath(p, s.key, true);
      if (values[`no-${f}`] === true) p = setPath(p, s.key, false);
      if (values[f] === true || values[`no-${f}`] === true) also();
      continue;
    }
    const raw = values[f];
    if (typeof raw !== 'string') continue;
    try {
      p = setPath(p, s.key, parseParamText(s, raw));
    } catch (e) {
      throw new Error(`--${f}: ${(e as Error).message}`, { cause: e });
    }
    also();
  }
  return p;
}

function valueHint(s: ParamSpec): string {
  switch (s.type) {
    case 'number':
      return s.integer ? 'n' : 'x';
    case 'numbers': {
      const n = numbersLength(s);
      if (s.axes) return s.axes.join(',') + (s.broadcast ? ' | a' : '');
      return n === null ? 'a,b,…' : Array.from({ length: n }, (_, i) => 'abc'[i] ?? 'x').join(',');
    }
    case 'choice':
      return s.choices.join('|');
    case 'choices':
      return s.choices.join(',');
    case 'strings':
      return 'a,b,…';
    default:
      return 'text';
  }
}

/** Usage lines of the specs' flags: `--roi Z,Y,X  roi (voxels): help [default 64,672,672]`. */
export function paramCliUsage(specs: ParamSpecs, defaults: unknown): string[] {
  const rows: [string, string][] = [];
  for (const s of specs) {
    const f = cliFlag(s);
    if (!f) continue;
    const flag = s.type === 'boolean' ? `--[no-]${f}` : `--${f} ${valueHint(s)}`;
    const def = formatParam(getPath(defaults, s.key) as ParamValue);
    rows.push([flag, `${s.label}${s.unit ? ` (${s.unit})` : ''}${s.help ? `: ${s.help}` : ''} [default ${def === '' ? 'none' : def}]`]);
  }
  const w = Math.min(34, Math.max(0, ...rows.map((r) => r[0].length)));
  return rows.map(([a, b]) => `    ${a.padEnd(w)}  ${b}`);
}

export { kebab };

// ---------------------------------------------------------------------------------------------
// sessions

function leafSchema(s: ParamSpec): z.ZodType {
  return z.unknown().superRefine((v, ctx) => {
    const e = checkParam(s, v);
    if (e) ctx.addIssue({ code: 'custom', message: e });
  });
}

/**
 * A zod schema of the parameter object (nested by the dotted keys, unknown keys dropped): what a
 * session file's values must be before anything on the page is replaced.
 */
export function paramsSchema(specs: ParamSpecs): z.ZodType {
  type Tree = { [k: string]: Tree | ParamSpec };
  const tree: Tree = {};
  for (const s of specs) {
    const parts = s.key.split('.');
    let t = tree;
    for (const p of parts.slice(0, -1)) t = (t[p] ??= {}) as Tree;
    t[parts[parts.length - 1]] = s;
  }
  const build = (t: Tree): z.ZodType =>
    z.object(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, 'type' in v && typeof v.type === 'string' && 'label' in v ? leafSchema(v as ParamSpec) : build(v as Tree)])));
  return build(tree);
}

/**
 * A session's parameter object checked against the specs: the parameters, or an Error listing what
 * is wrong. With `fill`, a value the session does not have at all (one added to the preset after the
 * session was saved) is taken from `fill` (the preset's defaults); a value it has must be valid.
 */
export function parseSessionParams<P>(specs: ParamSpecs, raw: unknown, what = 'params', fill?: P): P {
  let given = raw;
  if (fill !== undefined && typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const s of specs) if (getPath(given, s.key) === undefined) given = setPath(given, s.key, getPath(fill, s.key));
  }
  const r = paramsSchema(specs).safeParse(given);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${[what, ...i.path].join('.')}: ${i.message}`);
    throw new Error(issues.join('; '));
  }
  // keep every spec'd value (zod keeps them; unknown keys are dropped)
  let p = {} as P;
  for (const s of specs) p = setPath(p, s.key, getPath(r.data, s.key));
  return p;
}

// ---------------------------------------------------------------------------------------------
// results and rows in sessions

/**
 * Pieces for a preset's `session` schemas (types.ts): what its results and rows hold as a session
 * file gives them back (JSON, the typed arrays unpacked by their dtype). A number may come back
 * null: JSON writes NaN and ±Infinity so.
 */
const num = z.custom<number>((v) => typeof v === 'number' || v === null, { message: 'expected a number' });
export const sessionZ = {
  num,
  nums: z.array(num),
  point3: z.tuple([num, num, num]),
  strs: z.array(z.string()),
  /** A typed array of this class (a session stores its dtype). */
  typed: <T>(cls: abstract new (...args: never[]) => T) => z.custom<T>((v) => v instanceof cls, { message: `expected a ${cls.name}` }),
};

/**
 * What is wrong with a session's saved result or row (`what`: 'result' or 'row'), by path, or [].
 * The schema is the preset's own (its `session` declaration); with none, nothing is checked.
 */
export function sessionValueProblems(schema: z.ZodType | undefined, value: unknown, path: string): string[] {
  if (!schema || value === undefined) return [];
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.slice(0, 3).map((i) => `${[path, ...i.path].join('.')}: ${i.message}`);
}
