/**
 * The cervical-spine pipeline (spec section 2) (placeholder; being implemented).
 */
import type { OutputsPredictor } from '../ortPredictor';
import type { Predictor } from '../slidingWindow';
import type { VoxelArray } from '../volume';
import type { SpineParams } from '../presets/spine';

export interface VertebraRow {
  name: string;
  present: boolean;
  voxels: number;
  volumeMl: number;
  /** In the original series' slice indices. */
  sliceRange: [number, number] | null;
  meanProb: number;
  fracture?: number;
  /** Voxel [d, h, w] in the CT grid. */
  centre?: [number, number, number];
}

export interface SpineResult {
  /** 0 = background, k = C_k, on the ORIGINAL CT grid [D, H, W]. */
  labels: Uint8Array;
  /** Optional [7, D, H, W]. */
  probs?: Float32Array;
  /** 7 rows, C1..C7. */
  vertebrae: VertebraRow[];
  /** When classifier models are given. */
  patientOverall?: number;
  timings: { preprocessMs: number; segMs: number; clsMs: number };
}

export interface SpineProgress {
  stage: 'preprocess' | 'segment' | 'crops' | 'classify';
  done: number;
  total: number;
}

export type SpinePredictor = Predictor | OutputsPredictor;

export interface SpineRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: SpineProgress) => void;
}

export async function runSpinePipeline(
  stored: VoxelArray,
  shape: [number, number, number],
  spacing: number[],
  seg: readonly SpinePredictor[],
  cls: readonly SpinePredictor[],
  params: SpineParams,
  opts: SpineRunOptions = {},
): Promise<SpineResult> {
  void [stored, shape, spacing, seg, cls, params, opts];
  throw new Error('not implemented yet');
}
