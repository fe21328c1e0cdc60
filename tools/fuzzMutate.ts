/**
 * Seeded mutations for the fuzz suite (tools/fuzz.ts): a small PRNG and byte-, text- and
 * JSON-level mutators. Every case is reproducible from (seed, target, index).
 */

/** mulberry32: a fast 32-bit PRNG; `next()` in [0, 1). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A 32-bit hash of a string and numbers (FNV-1a), for per-case seeds. */
export function caseSeed(seed: number, target: string, index: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const c of `${target}#${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

const INTERESTING_32 = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1023, 1024, 4096, 32767, 32768, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, -864 >>> 0, 100000, 1 << 20, 1 << 24, 1 << 30, 20000, 1e9];
const INTERESTING_16 = [0, 1, 2, 3, 4, 8, 16, 255, 256, 0x7fff, 0x8000, 0xffff, 0xfffe, 20000, 1024];
const INTERESTING_F = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 1e-30, 1e-45, 3.4e38, -1, 1e9];

/** An offset biased to the header (first KiB) and the trailer (last KiB), where the structure lives. */
function offset(rng: Rng, len: number, width = 1): number {
  if (len <= width) return 0;
  const max = len - width;
  const r = rng.next();
  if (r < 0.45) return rng.int(Math.min(max + 1, 1024));
  if (r < 0.7) return Math.max(0, max - rng.int(Math.min(max + 1, 1024)));
  return rng.int(max + 1);
}

type ByteMutator = (b: Uint8Array, rng: Rng) => Uint8Array;

const truncate: ByteMutator = (b, rng) => b.slice(0, rng.chance(0.5) ? rng.int(Math.min(b.length, 2048) + 1) : rng.int(b.length + 1));
const flipBits: ByteMutator = (b, rng) => {
  const o = b.slice();
  for (let k = 1 + rng.int(8); k > 0 && o.length; k--) o[offset(rng, o.length)] ^= 1 << rng.int(8);
  return o;
};
const randomBytes: ByteMutator = (b, rng) => {
  const o = b.slice();
  for (let k = 1 + rng.int(16); k > 0 && o.length; k--) o[offset(rng, o.length)] = rng.int(256);
  return o;
};
const int32: ByteMutator = (b, rng) => {
  if (b.length < 4) return b.slice();
  const o = b.slice();
  const at = offset(rng, o.length, 4);
  const p = rng.chance(0.6) ? at & ~3 : at;
  new DataView(o.buffer).setUint32(Math.min(p, o.length - 4), rng.chance(0.8) ? rng.pick(INTERESTING_32) >>> 0 : rng.int(2 ** 32), rng.chance(0.7));
  return o;
};
const int16: ByteMutator = (b, rng) => {
  if (b.length < 2) return b.slice();
  const o = b.slice();
  const at = offset(rng, o.length, 2);
  new DataView(o.buffer).setUint16(rng.chance(0.6) ? at & ~1 : at, rng.pick(INTERESTING_16), rng.chance(0.7));
  return o;
};
const float: ByteMutator = (b, rng) => {
  const o = b.slice();
  const wide = rng.chance(0.3);
  const w = wide ? 8 : 4;
  if (o.length < w) return o;
  const at = offset(rng, o.length, w) & ~(w - 1);
  const v = new DataView(o.buffer);
  if (wide) v.setFloat64(at, rng.pick(INTERESTING_F), rng.chance(0.7));
  else v.setFloat32(at, rng.pick(INTERESTING_F), rng.chance(0.7));
  return o;
};
const fill: ByteMutator = (b, rng) => {
  const o = b.slice();
  const at = offset(rng, o.length);
  o.fill(rng.pick([0, 0xff, rng.int(256)]), at, at + 1 + rng.int(64));
  return o;
};
const splice: ByteMutator = (b, rng) => {
  // delete, duplicate or insert a run of bytes (shifts everything after it)
  const at = offset(rng, b.length);
  const n = 1 + rng.int(rng.chance(0.8) ? 16 : 1024);
  const r = rng.next();
  if (r < 0.4) return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
  if (r < 0.7) return concat(b.subarray(0, at), b.subarray(at, at + n), b.subarray(at));
  const ins = new Uint8Array(n);
  for (let i = 0; i < n; i++) ins[i] = rng.chance(0.5) ? 0 : rng.int(256);
  return concat(b.subarray(0, at), ins, b.subarray(at));
};

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const BYTE_MUTATORS: [ByteMutator, number][] = [
  [truncate, 1],
  [flipBits, 3],
  [randomBytes, 2],
  [int32, 4],
  [int16, 2],
  [float, 2],
  [fill, 1],
  [splice, 1],
];

function weighted<T>(rng: Rng, items: readonly [T, number][]): T {
  const total = items.reduce((a, [, w]) => a + w, 0);
  let r = rng.next() * total;
  for (const [x, w] of items) if ((r -= w) < 0) return x;
  return items[items.length - 1][0];
}

/** One to three byte-level mutations (a truncation, if any, comes last). */
export function mutateBytes(b: Uint8Array, rng: Rng): Uint8Array {
  let o = b;
  const n = 1 + (rng.chance(0.6) ? 0 : rng.int(3));
  for (let i = 0; i < n; i++) o = weighted(rng, BYTE_MUTATORS)(o, rng);
  return o;
}

// ---------------------------------------------------------------------------------------------
// text

const TEXT_PIECES = ['"', '""', ',', '\n', '\r\n', '\r', ' ', '\t', '\0', 'NaN', 'nan', 'Infinity', '-inf', '1e308', '-1e308', '1e-320', '-1', '0', '9'.repeat(40), 'x'.repeat(300), '\ufeff', 'é', '\ud800', ';', '"a,b"', '-0', '0x10', '  12  ', ''];

/** Byte-level mutations of the UTF-8 text, or text-level ones (quotes, separators, odd numbers, lines). */
export function mutateText(text: string, rng: Rng): string {
  if (rng.chance(0.25)) return new TextDecoder().decode(mutateBytes(new TextEncoder().encode(text), rng));
  let s = text;
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const at = rng.int(s.length + 1);
    if (r < 0.35) s = s.slice(0, at) + rng.pick(TEXT_PIECES) + s.slice(at + (rng.chance(0.5) ? rng.int(8) : 0));
    else if (r < 0.5) {
      // replace a number with an odd one
      const m = [...s.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/gi)];
      if (m.length) {
        const x = rng.pick(m);
        s = s.slice(0, x.index) + rng.pick(['NaN', '1e308', '-1', '0', '1e9', '2147483648', '-864', '', 'abc', '1.5', '99999999999999999999']) + s.slice(x.index + x[0].length);
      }
    } else if (r < 0.65) {
      // duplicate, drop or shuffle lines
      const lines = s.split('\n');
      const k = rng.int(lines.length);
      const q = rng.next();
      if (q < 0.4) lines.splice(k, 0, ...Array(1 + rng.int(rng.chance(0.1) ? 2000 : 5)).fill(lines[k]));
      else if (q < 0.7) lines.splice(k, 1);
      else lines.splice(k, 0, lines.splice(rng.int(lines.length), 1)[0] ?? '');
      s = lines.join('\n');
    } else if (r < 0.8) s = s.slice(0, at);
    else if (r < 0.9) s = s.slice(0, at) + rng.pick(TEXT_PIECES).repeat(1 + rng.int(rng.chance(0.1) ? 10000 : 20)) + s.slice(at);
    else s = s.slice(0, at) + s.slice(at + rng.int(40));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// JSON

const JSON_VALUES: unknown[] = [null, true, false, 0, -1, 1, 1e9, 1e308, -1e308, 1e-320, 0.5, 2147483648, 'abc', '', '1e9', [], {}, [1e9, 1e9, 1e9], [0, 0, 0], [-1, -1, -1], [1, 2], ['a', {}], [[1]], { a: 1 }, Array(5000).fill(1), 'x'.repeat(5000), { toString: 1 }, [null], [true]];

function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 2000) return out;
  if (Array.isArray(v)) v.slice(0, 20).forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/** A copy of a JSON value with one to three values replaced by odd ones, or keys dropped or added. */
export function mutateJson(value: unknown, rng: Rng): unknown {
  let root = structuredClone(value) as unknown;
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const all = paths(root);
    const p = rng.pick(all);
    const v = rng.pick(JSON_VALUES);
    if (p.length === 0) {
      if (rng.chance(0.1)) root = v;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = p[p.length - 1];
    const r = rng.next();
    if (r < 0.7) parent[last] = structuredClone(v);
    else if (r < 0.85 && !Array.isArray(parent)) delete parent[last];
    else if (!Array.isArray(parent)) parent[rng.pick(['__proto__', 'constructor', 'toString', 'extra', 'roi', 'swBatch', 'labels'])] = structuredClone(v);
  }
  return root;
}
