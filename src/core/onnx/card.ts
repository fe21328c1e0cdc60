/**
 * Model cards for the generic workbench: a JSON next to the model (`<model>.json`, the format of
 * public/models/*.json and public/demo/meshnet/card.json) or inside the ONNX file's
 * metadata_props under CARD_METADATA_KEY. The workbench takes the sliding-window and
 * preprocessing values from it: roi, overlap, blend mode, sigma scale, sw batch, padding value,
 * intensity scaling, label names and whether to relax fixed dims. Values may sit at the top level
 * (the demo card) or under `inference` (the preset cards); `classes` is read as the label names.
 */
import { all, bytesOf, decode, encode, first, lenField, str, sub } from './proto';
import { MODEL } from './graph';
import { InputError } from '../volume';
import { LIMITS } from '../io/limits';

/** metadata_props key of a card written into an ONNX file (`voxelbench convert --card card.json`). */
export const CARD_METADATA_KEY = 'voxelbench.card';

/** The workbench's intensity scalings (src/ui/overlay.ts IntensityScaling). */
export type CardIntensity = 'none' | 'minmax' | 'div255';

export interface WorkbenchCard {
  name?: string;
  preset?: string;
  roi?: [number, number, number];
  overlap?: number | [number, number, number];
  mode?: 'constant' | 'gaussian';
  sigmaScale?: number;
  swBatch?: number;
  cval?: number;
  intensity?: CardIntensity;
  labels?: string[];
  relaxDims?: boolean;
}

const INTENSITIES: readonly string[] = ['none', 'minmax', 'div255'];

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The workbench values of a card (parsed JSON). Throws an InputError naming `source` and the
 * field for a value of the wrong kind; fields the workbench does not use are ignored.
 */
export function parseCard(json: unknown, source: string): WorkbenchCard {
  if (!isObj(json)) throw new InputError(`${source}: a model card is a JSON object`);
  const inf = isObj(json.inference) ? json.inference : {};
  const pick = (k: string): unknown => (json[k] !== undefined ? json[k] : inf[k]);
  const bad = (k: string, what: string): never => {
    throw new InputError(`${source}: '${k}' must be ${what}, got ${String(JSON.stringify(pick(k))).slice(0, 120)}`);
  };
  const card: WorkbenchCard = {};
  if (typeof json.name === 'string') card.name = json.name.slice(0, LIMITS.maxLabelLength);
  if (typeof json.preset === 'string') card.preset = json.preset.slice(0, LIMITS.maxLabelLength);
  const roi = pick('roi');
  if (roi !== undefined) {
    if (!Array.isArray(roi) || roi.length < 2 || roi.length > 3 || !roi.every((v) => Number.isInteger(v) && (v > 0 || v === -1))) bad('roi', '2 or 3 positive integers (or -1)');
    const r = roi as number[];
    if (r.some((v) => v > LIMITS.maxRoiSide) || r.reduce((a, v) => a * Math.max(1, v), 1) > LIMITS.maxRoiVoxels) {
      bad('roi', `at most ${LIMITS.maxRoiSide} per side and ${LIMITS.maxRoiVoxels} voxels in all`);
    }
    card.roi = r.length === 3 ? [r[0], r[1], r[2]] : [1, r[0], r[1]];
  }
  const ov = pick('overlap');
  if (ov !== undefined) {
    const ok = (v: unknown) => typeof v === 'number' && v >= 0 && v < 1;
    if (ok(ov)) card.overlap = ov as number;
    else if (Array.isArray(ov) && (ov.length === 3 || ov.length === 2) && ov.every(ok)) card.overlap = ov.length === 3 ? [ov[0], ov[1], ov[2]] : [0, ov[0], ov[1]];
    else bad('overlap', 'a number in [0, 1) or 3 of them');
  }
  const mode = pick('mode');
  if (mode !== undefined) {
    if (mode !== 'constant' && mode !== 'gaussian') bad('mode', "'constant' or 'gaussian'");
    card.mode = mode as 'constant' | 'gaussian';
  }
  const num = (k: 'sigmaScale' | 'swBatch' | 'cval', check: (v: number) => boolean, what: string) => {
    const v = pick(k);
    if (v === undefined) return;
    if (typeof v !== 'number' || !check(v)) bad(k, what);
    card[k] = v as number;
  };
  num('sigmaScale', (v) => v > 0, 'a positive number');
  num('swBatch', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  if (card.sigmaScale !== undefined && card.sigmaScale > LIMITS.maxSigmaScale) bad('sigmaScale', `at most ${LIMITS.maxSigmaScale}`);
  if (card.swBatch !== undefined && card.swBatch > LIMITS.maxSwBatch) bad('swBatch', `at most ${LIMITS.maxSwBatch}`);
  num('cval', Number.isFinite, 'a number');
  const intensity = pick('intensity');
  if (intensity !== undefined) {
    if (typeof intensity !== 'string' || !INTENSITIES.includes(intensity)) bad('intensity', `one of ${INTENSITIES.join(', ')}`);
    card.intensity = intensity as CardIntensity;
  }
  const labels = json.labels ?? json.classes;
  if (labels !== undefined) {
    const key = json.labels !== undefined ? 'labels' : 'classes';
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) bad(key, 'a list of names');
    if ((labels as string[]).length > LIMITS.maxLabels || (labels as string[]).some((l) => l.length > LIMITS.maxLabelLength)) {
      bad(key, `at most ${LIMITS.maxLabels} names of at most ${LIMITS.maxLabelLength} characters`);
    }
    card.labels = labels as string[];
  }
  const relax = pick('relaxDims');
  if (relax !== undefined) {
    if (typeof relax !== 'boolean') bad('relaxDims', 'true or false');
    card.relaxDims = relax as boolean;
  }
  return card;
}

/** Parses a card file's text (JSON). */
export function parseCardText(text: string, source: string): WorkbenchCard {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return parseCard(json, source);
}

/** The card stored in a model's metadata_props (ModelInfo.metadata), or null. */
export function cardFromMetadata(metadata: Record<string, string>, modelName: string): WorkbenchCard | null {
  const text = metadata[CARD_METADATA_KEY];
  return text === undefined ? null : parseCardText(text, `${modelName} (metadata_props '${CARD_METADATA_KEY}')`);
}

/** The fields a card sets, as "roi 64×64×64, overlap 0.5, ..." for the message shown to the user. */
export function describeCard(card: WorkbenchCard): string {
  const parts: string[] = [];
  if (card.roi) parts.push(`roi ${card.roi.join('×')}`);
  if (card.overlap !== undefined) parts.push(`overlap ${Array.isArray(card.overlap) ? card.overlap.join('/') : card.overlap}`);
  if (card.mode) parts.push(`${card.mode} blending`);
  if (card.sigmaScale !== undefined) parts.push(`sigma scale ${card.sigmaScale}`);
  if (card.swBatch !== undefined) parts.push(`sw batch ${card.swBatch}`);
  if (card.cval !== undefined) parts.push(`padding value ${card.cval}`);
  if (card.intensity) parts.push(`intensity ${card.intensity}`);
  if (card.labels) parts.push(`${card.labels.length} label names`);
  if (card.relaxDims) parts.push('symbolic spatial dims');
  return parts.join(', ');
}

/**
 * Writes `cardJson` (the card's JSON text) into the model's metadata_props under
 * CARD_METADATA_KEY, replacing a card already there. Everything else stays byte-for-byte.
 */
export function withCardMetadata(bytes: Uint8Array, cardJson: string, source = 'card'): Uint8Array {
  parseCardText(cardJson, source);
  let fields;
  try {
    fields = decode(bytes);
  } catch (e) {
    throw new InputError(`not an ONNX model: ${(e as Error).message}`);
  }
  if (!first(fields, MODEL.graph)) throw new InputError('not an ONNX model: no graph');
  const kept = fields.filter((f) => {
    if (f.no !== MODEL.metadata) return true;
    const k = first(sub(f), 1);
    return !k || str(k) !== CARD_METADATA_KEY;
  });
  const entry = lenField(MODEL.metadata, [lenField(1, bytesOf(CARD_METADATA_KEY)), lenField(2, bytesOf(cardJson))]);
  // after the last metadata entry, else at the end
  const last = kept.reduce((at, f, i) => (f.no === MODEL.metadata ? i : at), -1);
  const out = [...kept];
  out.splice(last >= 0 ? last + 1 : out.length, 0, entry);
  return encode(out);
}

/** All metadata_props keys of a model (for tests and the CLI). */
export const metadataKeys = (bytes: Uint8Array): string[] =>
  all(decode(bytes), MODEL.metadata).map((f) => {
    const k = first(sub(f), 1);
    return k ? str(k) : '';
  });
