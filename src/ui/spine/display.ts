/**
 * What the spine view shows, as plain data: the C1..C7 colours and Niivue label colormap (hidden
 * vertebrae transparent), the CT window presets (level / width in HU), the base volume as int16
 * when the HU values allow it (half the memory of float32), and label maps with hidden vertebrae
 * removed. No React, no Niivue: testable in Node.
 */
import { VERTEBRAE } from '../../core/presets/spine';
import { makeVolume, spatialShape, type Volume } from '../../core/volume';

/** One colour per vertebra C1..C7 (index 0 = C1), distinct on a gray CT. */
export const VERTEBRA_RGB: [number, number, number][] = [
  [230, 25, 75],
  [245, 130, 48],
  [255, 225, 25],
  [60, 180, 75],
  [70, 200, 240],
  [67, 99, 216],
  [220, 90, 240],
];

export const vertebraCss = (k: number): string => `rgb(${VERTEBRA_RGB[k].join(', ')})`;

/**
 * Niivue label colormap for labels 0..7 (0 = background, k = C_k); vertebrae with `visible[k-1]`
 * false are transparent.
 */
export function vertebraColormap(visible: readonly boolean[] = VERTEBRAE.map(() => true)) {
  const R = [0];
  const G = [0];
  const B = [0];
  const A = [0];
  const I = [0];
  const labels = ['background'];
  VERTEBRAE.forEach((name, k) => {
    const [r, g, b] = VERTEBRA_RGB[k];
    R.push(r);
    G.push(g);
    B.push(b);
    A.push(visible[k] === false ? 0 : 255);
    I.push(k + 1);
    labels.push(name);
  });
  return { R, G, B, A, I, labels };
}

export interface CtWindow {
  id: string;
  label: string;
  /** Centre (HU). */
  level: number;
  /** Width (HU). */
  width: number;
}

/** Common CT windows (level / width, HU). */
export const CT_WINDOWS: CtWindow[] = [
  { id: 'bone', label: 'Bone', level: 400, width: 1800 },
  { id: 'soft', label: 'Soft tissue', level: 40, width: 400 },
  { id: 'brain', label: 'Brain', level: 40, width: 80 },
  { id: 'lung', label: 'Lung', level: -600, width: 1500 },
];

export const windowRange = (level: number, width: number): [number, number] => [level - width / 2, level + width / 2];

/**
 * The CT as Niivue gets it: int16 when every value is an integer in the int16 range (HU from
 * integer stored values with an integer slope and intercept), else float32 as is.
 */
export function displayCt(vol: Volume): Volume {
  const d = vol.data;
  if (d instanceof Int16Array) return vol;
  let fits = true;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v !== Math.round(v) || v < -32768 || v > 32767) {
      fits = false;
      break;
    }
  }
  if (!fits) return vol;
  return makeVolume(Int16Array.from(d), [...spatialShape(vol)], { spacing: vol.spacing, unit: vol.unit, affine: vol.affine, source: vol.source });
}

/** Voxels per label 1..7 (index 0 = C1). */
export function vertebraCounts(labels: Uint8Array): number[] {
  const n = new Array<number>(VERTEBRAE.length).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= 1 && l <= n.length) n[l - 1]++;
  }
  return n;
}

/** Voxels whose label differs between two maps of the same grid. */
export function changedVoxels(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`label maps of ${a.length} and ${b.length} voxels`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/**
 * Niivue keeps a drawing in its RAS-reoriented voxel order; this puts it back into the volume's own
 * order (what NVImage.saveToDisk does for drawings): native index = sum over axes of
 * start + r * step, with img2RASstart / img2RASstep / dimsRAS of the base image.
 */
export function drawingToNative(
  drawing: Uint8Array,
  ras: { start: readonly number[]; step: readonly number[]; dimsRAS: readonly number[] },
  nVox: number,
): Uint8Array {
  const { start, step, dimsRAS } = ras;
  const out = new Uint8Array(nVox);
  let r = 0;
  for (let z = 0; z < dimsRAS[3]; z++) {
    const zi = start[2] + z * step[2];
    for (let y = 0; y < dimsRAS[2]; y++) {
      const yi = start[1] + y * step[1];
      for (let x = 0; x < dimsRAS[1]; x++) {
        const idx = start[0] + x * step[0] + yi + zi;
        if (idx >= 0 && idx < nVox) out[idx] = drawing[r];
        r++;
      }
    }
  }
  return out;
}

/** A label map as a volume on the CT's grid: same shape, spacing and affine. */
export function labelsVolume(ct: Volume, labels: Uint8Array, name: string): Volume {
  return makeVolume(labels, [...spatialShape(ct)], { spacing: ct.spacing, unit: ct.unit, affine: ct.affine, source: { name, format: 'nifti' } });
}
