/**
 * What a model expects of its input, declared once in its model card (`expects`), and what an
 * item says of itself (`InputFacts`, from its preset's `inputs.facts`). An item outside what a card
 * declares gets one line with the numbers ("t1: outside what card.json expects: intensity -1024 to
 * 700 (1st-99th percentile; expects >= 0)"): the page shows it with the item and in the run panel,
 * before and after a run, and the CLI prints it. Nothing is refused: the line says the results may
 * not mean anything. Pure, no DOM.
 *
 * A card's block (every key optional):
 *
 *   "expects": {
 *     "modality": ["CT"],                              DICOM Modality (checked when the file gives one)
 *     "intensity": { "min": 0, "max": 4095, "unit": "" },   1st..99th percentile of the values
 *     "spacing": { "min": 0.25, "max": 1.6, "unit": "mm" }, every axis (mm, um or Å; converted)
 *     "orientation": ["axial"],                        the slice plane (axial, coronal, sagittal)
 *     "minShape": [null, 256, 256],                    per axis of the item's shape (null: any)
 *     "slices": { "min": 60 }                          number of slices
 *   }
 */
import { z } from '../zod';
import { sessionZ } from './derive';

export interface ValueRange {
  min?: number;
  max?: number;
}

export interface InputExpects {
  /** Modalities the model was made for (DICOM Modality: 'CT', 'MR'…); compared without case. */
  modality?: string[];
  /** Range the values' 1st and 99th percentiles must lie in. */
  intensity?: ValueRange & { unit?: string };
  /** Range every axis's voxel spacing must lie in. */
  spacing?: ValueRange & { unit?: string };
  /** Slice planes the model was made for ('axial', 'coronal', 'sagittal'). */
  orientation?: string[];
  /** Smallest size per axis of the item's shape (null: any). */
  minShape?: (number | null)[];
  /** Range of the number of slices. */
  slices?: ValueRange;
}

/** What an item says of itself (what its reader knows; a fact left out is not checked). */
export interface InputFacts {
  /** From the file's header (DICOM Modality), when it gives one. */
  modality?: string;
  /** 1st and 99th percentile of the values (robustRange). */
  intensity?: [number, number];
  intensityUnit?: string;
  /** Voxel spacing per axis, in `spacingUnit`. */
  spacing?: number[];
  spacingUnit?: string;
  /** What the spacing is of, when not of the file ('after the resize to 64 × 192 × 192'). */
  spacingOf?: string;
  /** The slice plane ('axial', 'coronal', 'sagittal'). */
  orientation?: string;
  shape?: number[];
  slices?: number;
}

/**
 * InputFacts as a session file gives them back (JSON: a number may come back null, as JSON writes
 * NaN): what a session's saved facts of an item must be before a page takes them.
 */
export const inputFactsSchema: z.ZodType<InputFacts> = z.object({
  modality: z.string().optional(),
  intensity: z.tuple([sessionZ.num, sessionZ.num]).optional(),
  intensityUnit: z.string().optional(),
  spacing: sessionZ.nums.optional(),
  spacingUnit: z.string().optional(),
  spacingOf: z.string().optional(),
  orientation: z.string().optional(),
  shape: sessionZ.nums.optional(),
  slices: sessionZ.num.optional(),
});

/** A card's declarations and the card's name (for the line). */
export interface CardExpects {
  card: string;
  expects: InputExpects;
}

const range = z.object({ min: z.number().finite().optional(), max: z.number().finite().optional() }).strict();
const expectsSchema = z
  .object({
    modality: z.array(z.string().min(1)).min(1).optional(),
    intensity: range.extend({ unit: z.string().optional() }).strict().optional(),
    spacing: range.extend({ unit: z.string().optional() }).strict().optional(),
    orientation: z.array(z.enum(['axial', 'coronal', 'sagittal'])).min(1).optional(),
    minShape: z.array(z.number().int().positive().nullable()).min(1).optional(),
    slices: range.optional(),
  })
  .strict();

/** The card's `expects` block, checked; null when it has none. Throws an Error naming the key when it is malformed. */
export function parseExpects(card: unknown): InputExpects | null {
  const raw = card && typeof card === 'object' && !Array.isArray(card) ? (card as Record<string, unknown>).expects : undefined;
  if (raw === undefined || raw === null) return null;
  const r = expectsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`model card: expects${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`);
  }
  const e = r.data as InputExpects;
  for (const [k, v] of [['intensity', e.intensity], ['spacing', e.spacing], ['slices', e.slices]] as const) {
    if (v && v.min !== undefined && v.max !== undefined && v.min > v.max) throw new Error(`model card: expects.${k}: min ${v.min} is above max ${v.max}`);
  }
  if (e.spacing?.unit !== undefined && unitScale(e.spacing.unit) === null) throw new Error(`model card: expects.spacing.unit: unknown unit '${e.spacing.unit}' (mm, um or Å)`);
  return e;
}

/** A card's declarations with its name, or null when it declares none. */
export function cardExpects(name: string, card: unknown): CardExpects | null {
  const expects = parseExpects(card);
  return expects ? { card: name, expects } : null;
}

// ---------------------------------------------------------------------------------------------
// facts

/**
 * The 1st and 99th percentile of the values (NaN left out), from at most `sample` values taken at
 * an even stride: robust to a few outliers, fast on a 512 x 512 x 600 CT.
 */
export function robustRange(data: ArrayLike<number>, lo = 0.01, hi = 0.99, sample = 200_000): [number, number] | undefined {
  const n = data.length;
  if (n === 0) return undefined;
  const step = Math.max(1, Math.floor(n / sample));
  const vals: number[] = [];
  for (let i = 0; i < n; i += step) {
    const v = data[i];
    if (Number.isFinite(v)) vals.push(v);
  }
  if (vals.length === 0) return undefined;
  const s = Float64Array.from(vals).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  return [at(lo), at(hi)];
}

/**
 * The plane of the slices from a NIfTI-convention affine (world = A [i, j, k, 1], k along the
 * slices): the world axis the slice direction runs along most (x: sagittal, y: coronal, z: axial).
 */
export function slicePlane(affine: readonly (readonly number[])[]): 'axial' | 'coronal' | 'sagittal' | undefined {
  const k = [0, 1, 2].map((r) => Math.abs(affine[r]?.[2] ?? 0));
  const m = Math.max(...k);
  if (!(m > 0)) return undefined;
  return k[2] === m ? 'axial' : k[1] === m ? 'coronal' : 'sagittal';
}

// ---------------------------------------------------------------------------------------------
// checking

/** Millimetres per unit ('mm', 'um', 'Å'/'angstrom'); null for an unknown unit. */
function unitScale(unit: string): number | null {
  const u = unit.trim().toLowerCase();
  if (u === 'mm') return 1;
  if (u === 'um' || u === 'µm' || u === 'μm') return 1e-3;
  if (u === 'å' || u === 'a' || u === 'angstrom' || u === 'ångström') return 1e-7;
  return null;
}

/** A number as the line says it: at most 4 significant digits, no trailing zeros. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(Math.abs(v) >= 1000 ? 6 : 4)));
}

const withUnit = (v: string, unit?: string): string => (unit ? `${v} ${unit}` : v);

/** "0.25-1.6 mm", ">= 60", "<= 3". */
export function rangeText(r: ValueRange, unit?: string): string {
  if (r.min !== undefined && r.max !== undefined) return withUnit(`${fmtNum(r.min)}-${fmtNum(r.max)}`, unit);
  if (r.min !== undefined) return withUnit(`>= ${fmtNum(r.min)}`, unit);
  if (r.max !== undefined) return withUnit(`<= ${fmtNum(r.max)}`, unit);
  return 'any';
}

const outside = (v: number, r: ValueRange): boolean => (r.min !== undefined && v < r.min) || (r.max !== undefined && v > r.max);

/** What does not fit, one phrase each with the numbers (empty when everything known fits). */
export function expectsMisfits(e: InputExpects, f: InputFacts): string[] {
  const out: string[] = [];
  if (e.modality && f.modality && !e.modality.some((m) => m.toLowerCase() === f.modality!.toLowerCase())) {
    out.push(`modality ${f.modality} (expects ${e.modality.join(' or ')})`);
  }
  if (e.slices && f.slices !== undefined && outside(f.slices, e.slices)) out.push(`${f.slices} slices (expects ${rangeText(e.slices)})`);
  if (e.orientation && f.orientation && !e.orientation.includes(f.orientation)) out.push(`${f.orientation} slices (expects ${e.orientation.join(' or ')})`);
  if (e.minShape && f.shape) {
    const small = e.minShape.some((m, k) => m !== null && f.shape![k] !== undefined && f.shape![k] < m);
    if (small) out.push(`size ${f.shape.join(' x ')} (expects at least ${e.minShape.map((m) => (m === null ? 'any' : String(m))).join(' x ')})`);
  }
  if (e.spacing && f.spacing && f.spacing.length > 0) {
    // compare in the card's unit
    const from = f.spacingUnit ? unitScale(f.spacingUnit) : 1;
    const to = e.spacing.unit ? unitScale(e.spacing.unit) : 1;
    if (from !== null && to !== null && (f.spacingUnit === undefined) === (e.spacing.unit === undefined)) {
      const sp = f.spacing.map((v) => (v * from) / to);
      if (sp.some((v) => outside(v, e.spacing!))) {
        out.push(`voxel spacing${f.spacingOf ? ` ${f.spacingOf}` : ''} ${withUnit(sp.map(fmtNum).join(' x '), e.spacing.unit)} (expects ${rangeText(e.spacing, e.spacing.unit)})`);
      }
    }
  }
  if (e.intensity && f.intensity) {
    const [lo, hi] = f.intensity;
    if (outside(lo, e.intensity) || outside(hi, e.intensity)) {
      out.push(`intensity ${withUnit(`${fmtNum(lo)} to ${fmtNum(hi)}`, f.intensityUnit)} (1st-99th percentile; expects ${rangeText(e.intensity, e.intensity.unit)})`);
    }
  }
  return out;
}

/** The misfits of an item by card (cards that find none are left out). */
export function scopeMisfits(facts: InputFacts | null | undefined, cards: readonly CardExpects[]): { card: string; misfits: string[] }[] {
  if (!facts) return [];
  return cards.map((c) => ({ card: c.card, misfits: expectsMisfits(c.expects, facts) })).filter((x) => x.misfits.length > 0);
}

/**
 * The one line for an item outside what its cards declare, or null when it fits (or says nothing
 * of itself): "<id>: outside what <card> expects: <misfit>; <misfit>; the results may not mean anything".
 */
export function scopeLine(id: string, facts: InputFacts | null | undefined, cards: readonly CardExpects[]): string | null {
  const m = scopeMisfits(facts, cards);
  if (m.length === 0) return null;
  const what = m.map((x) => `outside what ${x.card} expects: ${x.misfits.join('; ')}`).join('; ');
  return `${id}: ${what}; the results may not mean anything`;
}

// ---------------------------------------------------------------------------------------------
// fixed spatial dims

/**
 * The one sentence for a model that declares fixed spatial dims (D, H, W; null: symbolic) when the
 * volume is smaller on some axis, so each window would be padded up to the fixed size: what 'Make
 * spatial dims symbolic' does, and that it is recommended (with the caveat when the graph has ops
 * that may tie it to its size). Null when the volume fills the fixed size (windows tile it).
 */
export function fixedDimsAdvice(fixed: readonly (number | null)[], volume: readonly number[], sizeBoundOps: readonly string[] = []): string | null {
  const axes = fixed.map((f, k) => (f !== null && volume[k] !== undefined && volume[k] < f ? k : -1)).filter((k) => k >= 0);
  if (axes.length === 0) return null;
  const x = (a: readonly (number | null)[]) => a.map((d) => (d === null ? '?' : String(d))).join('×');
  const padded = volume.map((v, k) => Math.max(v, fixed[k] ?? v));
  const caveat = sizeBoundOps.length
    ? `recommended, though its ${sizeBoundOps.join(', ')} may tie it to ${x(fixed)} and then fail at run time`
    : 'recommended: it has no Reshape, Flatten, Gemm or MatMul, so it most likely runs at any size';
  return `The model declares a fixed input of ${x(fixed)} but the volume is ${x(volume)}, so it would run on the volume padded to ${x(padded)}; 'Make spatial dims symbolic' rewrites only the model's declared input size (its weights stay the same) so that it takes windows of the volume's own size — ${caveat}.`;
}
