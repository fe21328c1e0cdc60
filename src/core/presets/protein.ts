/**
 * The "Protein localisation" preset: HPA 2021 single-cell classification with class activation
 * maps (Puzzle-CAM style), spec `pipelines.md` section 4. Plain data, JSON-serialisable; every value
 * is editable. The per-cell rule is the pipeline's; the Negative confidence of an unlabelled cell
 * and the simple built-in segmentation are this workbench's own choices (documented below).
 */

export const HPA_CLASSES: readonly string[] = [
  'Nucleoplasm',
  'Nuclear membrane',
  'Nucleoli',
  'Nucleoli fibrillar center',
  'Nuclear speckles',
  'Nuclear bodies',
  'Endoplasmic reticulum',
  'Golgi apparatus',
  'Intermediate filaments',
  'Actin filaments',
  'Microtubules',
  'Mitotic spindle',
  'Centrosome',
  'Plasma membrane',
  'Mitochondria',
  'Aggresome',
  'Cytosol',
  'Vesicles and punctate cytosolic patterns',
  'Negative',
];

/** Channel order of the model input (HPA file suffixes). */
export const PROTEIN_CHANNELS = ['red', 'green', 'blue', 'yellow'] as const;
export type ProteinChannel = (typeof PROTEIN_CHANNELS)[number];

export interface ProteinSegmentationParams {
  /** Nuclei: blue above this fraction of Otsu's threshold (after a 5 x 5 box blur). */
  nucleusThresholdFactor: number;
  /** Nuclei smaller than this (pixels at 512 x 512; scaled with the image area) are dropped. */
  minNucleusArea: number;
  /** Cell area: (red + yellow + blue, each scaled by its 99th percentile) above this fraction of Otsu's threshold. */
  cellThresholdFactor: number;
}

export interface ProteinOcclusionParams {
  /** Patch [h, w] in model-input pixels (512 x 512). */
  patch: [number, number];
  stride: [number, number];
  /** Value of the masked patch in the normalised input (0 = the channel mean of the training data). */
  fill: number;
  /** Masked inputs per model call. */
  batch: number;
}

export interface ProteinParams {
  /** Class names in model-output order; the model must give exactly this many. */
  classes: string[];
  /** Index of Negative: cells that no class keeps get it. */
  negativeClass: number;
  /** Model input size [H, W]: anti-aliased bilinear resize (PyTorch antialias=True), skipped when equal. */
  inputSize: [number, number];
  /** Per channel (red, green, blue, yellow), after scaling to [0, 1]: (x - mean) / std. */
  mean: [number, number, number, number];
  std: [number, number, number, number];
  /** CAM: relu(f - eps) / (max + eps) per class. */
  camEps: number;
  /** Classes with an image probability above this are tested per cell. */
  minProbability: number;
  /** Percentile (numpy 'linear') of the CAM over the image (Q) and inside a cell (q). */
  percentile: number;
  /** Keep a class for a cell when conf / p > keepRatio, conf = clip(q p / Q, 0, p). */
  keepRatio: number;
  /** Metric: a predicted cell matches a ground-truth cell at mask IoU >= this. */
  iouThreshold: number;
  segmentation: ProteinSegmentationParams;
  /** Used for models with logits only (no class-map output). */
  occlusion: ProteinOcclusionParams;
}

export const proteinPreset: ProteinParams = {
  classes: [...HPA_CLASSES],
  negativeClass: 18,
  inputSize: [512, 512],
  mean: [0.485, 0.456, 0.406, 0.485],
  std: [0.229, 0.224, 0.225, 0.229],
  camEps: 1e-5,
  minProbability: 0.01,
  percentile: 99,
  keepRatio: 0.02,
  iouThreshold: 0.6,
  segmentation: { nucleusThresholdFactor: 1, minNucleusArea: 150, cellThresholdFactor: 0.5 },
  occlusion: { patch: [64, 64], stride: [32, 32], fill: 0, batch: 8 },
};

export const proteinPresetInfo = {
  id: 'protein',
  name: 'Protein localisation',
  task: 'per-cell protein localisation (19 HPA classes, multi-label) from RGBY fields of view',
  source: 'Human Protein Atlas - Single Cell Classification 2021 (Puzzle-CAM style solution)',
  notes: [
    'Scale: divide by 65535 if the maximum over the four channels is above 255, else by 255 (float32).',
    'Folds: logits and class maps are averaged over the models before the sigmoid and the CAM.',
    'Per cell: for each class with p > minProbability, Q = percentile of the CAM over the image, q = the same percentile inside the cell, conf = clip(q p / Q, 0, p) (0 when Q = 0); kept when conf / p > keepRatio.',
    'A cell that keeps no class is Negative with confidence 1 - (its largest conf over the tested classes), or 1 when no class was tested (a workbench choice: the pipeline gives no value).',
    'Models that give logits only get an occlusion map instead of the CAM (patches of the normalised input set to `fill`, drop of the sigmoid score).',
    'The built-in segmentation is simple (Otsu nuclei from blue, connected components, cells grown inside a red + yellow + blue foreground mask by nearest nucleus, geodesic); use a real cell segmenter (e.g. the HPA cell segmentator) and drop its label image for real work.',
  ],
};

export function validateProteinParams(p: ProteinParams): string[] {
  const out: string[] = [];
  if (!Array.isArray(p.classes) || p.classes.length < 1) out.push('classes must list at least one class');
  if (!Number.isInteger(p.negativeClass) || p.negativeClass < 0 || p.negativeClass >= p.classes.length) out.push(`negativeClass must be a class index 0..${p.classes.length - 1}`);
  if (!p.inputSize.every((v) => Number.isInteger(v) && v >= 8 && v <= 4096)) out.push('input size must be whole numbers from 8 to 4096');
  if (p.mean.length !== 4 || !p.mean.every(Number.isFinite)) out.push('mean needs 4 numbers');
  if (p.std.length !== 4 || !p.std.every((v) => Number.isFinite(v) && v > 0)) out.push('std needs 4 positive numbers');
  if (!(p.percentile >= 0 && p.percentile <= 100)) out.push('percentile must be in [0, 100]');
  if (!(p.minProbability >= 0 && p.minProbability < 1)) out.push('minimum probability must be in [0, 1)');
  if (!(p.keepRatio >= 0 && p.keepRatio <= 1)) out.push('keep ratio must be in [0, 1]');
  if (!(p.camEps >= 0)) out.push('CAM eps must be >= 0');
  if (!(p.iouThreshold > 0 && p.iouThreshold <= 1)) out.push('IoU threshold must be in (0, 1]');
  const o = p.occlusion;
  if (![...o.patch, ...o.stride].every((v) => Number.isInteger(v) && v >= 1) || !(o.batch >= 1)) out.push('occlusion patch, stride and batch must be positive whole numbers');
  return out;
}

/** Preset values from a model card (`classes`, `preprocessing.normalise`, `preprocessing.resize.size`). */
export interface ProteinModelCard {
  classes?: string[];
  preprocessing?: { normalise?: { mean?: number[]; std?: number[] }; resize?: { size?: number[] } };
}

export function proteinParamsFromCard(card: ProteinModelCard, base: ProteinParams = proteinPreset): ProteinParams {
  const p: ProteinParams = { ...base };
  if (Array.isArray(card.classes) && card.classes.length > 0) {
    p.classes = card.classes.map(String);
    const neg = p.classes.findIndex((c) => /^negative$/i.test(c));
    p.negativeClass = neg >= 0 ? neg : p.classes.length - 1;
  }
  const n = card.preprocessing?.normalise;
  if (n?.mean?.length === 4) p.mean = n.mean as ProteinParams['mean'];
  if (n?.std?.length === 4) p.std = n.std as ProteinParams['std'];
  const s = card.preprocessing?.resize?.size;
  if (s?.length === 2 && s.every((v) => Number.isInteger(v) && v > 0)) p.inputSize = [s[0], s[1]];
  return p;
}
