/**
 * Conforming a brain MRI the way niivue-onnx and brainchop feed the MeshNet tissue models. Pure, no DOM.
 *
 * What they do (read at these commits):
 * - niivue-onnx main.js (niivue/niivue-onnx @ 00fd8b0a87add14bfe249e101dfde96f198cd5ed, the source of
 *   public/demo/meshnet): `ensureConformed()` keeps the volume as loaded when it is 256^3 and its
 *   orientation (niivue's permRAS) is L, I, A, and otherwise replaces it by `nv.conform(nii, false)`;
 *   the segment button then min-max scales the voxels to [0, 1] (`(v - mn) * (1 / (mx - mn))` in
 *   float32) and feeds the whole 256^3 volume, raw NIfTI voxel order (x fastest), as (1, 1, 256, 256, 256).
 *   https://github.com/niivue/niivue-onnx/blob/00fd8b0a87add14bfe249e101dfde96f198cd5ed/main.js
 * - brainchop (neuroneural/brainchop @ 4c87885f3a2a8835e260d521dcec922b58d91d41, main.js
 *   `ensureConformed`) does the same, except that it also re-conforms a 256^3 LIA volume that is not
 *   uint8; its model list sets `enableQuantileNorm: false` for this model (model5_gw_ae), so the model
 *   input is min-max scaled too (tensor-utils.js `minMaxNormalizeVolumeData`); the 5 %/95 % quantile
 *   scaling (`quantileNormalizeVolumeData`) is only for the models that set it. brainchop also crops and
 *   transposes for its tfjs models; the ONNX export takes the raw voxel order and is not cropped.
 *   https://github.com/neuroneural/brainchop/blob/4c87885f3a2a8835e260d521dcec922b58d91d41/main.js
 * - niivue's `conform(volume, toRAS = false, isLinear = true, asFloat32 = false, isRobustMinMax = false)`
 *   (a translation of FastSurfer conform.py; niivue 0.44.2, which niivue-onnx pins, and 0.69 compute
 *   the same, see below) is what this file reproduces, step by step:
 *   https://github.com/niivue/niivue/blob/0.44.2/src/niivue/index.ts (conformVox2Vox, conform, getScale)
 *   1. Output grid (conformVox2Vox): 256^3 voxels of 1 mm, orientation LIA (voxel x -> left, y ->
 *      inferior, z -> anterior; the FreeSurfer vox2ras [[-1,0,0],[0,0,1],[0,-1,0]]), placed so that the
 *      output voxel (128, 128, 128) = N/2 lands on the input's centre A * (nx/2, ny/2, nz/2, 1) (N/2, not
 *      (N-1)/2: FreeSurfer's c_ras). The matrices are gl-matrix mat4, i.e. Float32Array: the input
 *      affine, the centre, the translation, the output affine, its inverse, vox2vox = A * inv(out) and
 *      its inverse are each rounded to float32 on store; the arithmetic in between is double. The
 *      same formulas are used here (glInvert, glMultiply), so the sample positions match bit for bit.
 *   2. Resampling (isLinear): for each output voxel (x fastest), its input position p = invVox2vox *
 *      (x, y, z, 1); if floor(p) < 0 or ceil(p) >= dims on any axis the voxel stays 0 (no partial
 *      edge interpolation), else trilinear interpolation of the 8 neighbours of floor(p) (summed in a
 *      fixed order, in double) stored as float32. The input is read with scl_slope/scl_inter applied.
 *      (Nearest: round(p), half up, the same bounds.)
 *   3. Intensity (getScale, FreeSurfer/FastSurfer "robust" 0..0.999): a uint8 input is not rescaled
 *      (src_min = its minimum, scale 1). Otherwise, over the input's voxels: a 1000-bin histogram from
 *      min to max (bin = floor((v - min) / ((max - min) / 1000)), capped at 999) and its cumulative sum
 *      cs; src_min = min + bin_size * (first bin with cs >= floor(f_low * n)) (= min for f_low 0);
 *      src_max = min + bin_size * (first idx in [0, 998] with cs[idx + 1] >= n - floor((1 - f_high) *
 *      nz), else 999), nz = voxels with |v| >= 1e-15; scale = 255 / (src_max - src_min) (1 when equal).
 *      niivue 0.44.2 builds this histogram from the raw stored values even when scl_slope/scl_inter are
 *      set (a local that is never used); 0.69 applies them first, as here (the same for unscaled files).
 *   4. uint8 (scalecropUint8): u = trunc(clamp(0 + scale * (r - src_min), 0, 255)) for each resampled
 *      value r: truncation, not rounding (a Uint8Array store of a value in [0, 255]).
 *   5. Model input (niivue-onnx): x = (u - mn) * (1 / (mx - mn)) over the conformed volume's min mn and
 *      max mx, stored as float32.
 * Differences between the implementations that matter here: brainchop re-conforms non-uint8 256^3 LIA
 * volumes (`conform: 'always'` does that for every input); FastSurfer conform.py rounds (np.rint) where
 * niivue truncates, and resamples with scipy's spline order 1 (edges interpolated against 0) where
 * niivue leaves the border voxels 0; nibabel.processing.conform resamples with order 3 by default and
 * does no intensity scaling. We follow niivue (what niivue-onnx feeds the model).
 *
 * Axis order: a Volume is C-order [D, H, W] = [nz, ny, nx]; niivue's dims are [nx, ny, nz]. Both store x
 * fastest, so the conformed array here is niivue's img as is.
 */
import { type Affine, type Volume, type VoxelArray, InputError, product, range, spatialShape } from '../volume';

export interface ConformParams {
  /** 'auto': keep a volume that already is conformShape and LIA (niivue-onnx); 'always': conform every volume. */
  conform: 'auto' | 'always';
  /** Conformed size [D, H, W] (niivue: 256^3). */
  conformShape: [number, number, number];
  /** Conformed voxel size in mm (niivue: 1). */
  voxelSize: number;
  interpolation: 'linear' | 'nearest';
  /** Histogram fractions mapped to 0 and 255 (niivue / FreeSurfer: 0 and 0.999); uint8 inputs are not rescaled. */
  robustRange: [number, number];
}

export interface IntensityScale {
  /** u = trunc(clamp(scale * (v - srcMin), 0, 255)). */
  srcMin: number;
  srcMax: number;
  scale: number;
}

export interface ConformedVolume {
  /** The conformed volume: uint8 (niivue's conform), or the input's own voxels when it was kept. */
  volume: Volume;
  /** True when the input already was conformShape and LIA and was kept as it is ('auto'). */
  kept: boolean;
  /** The intensity mapping to uint8 (null when kept). */
  intensity: IntensityScale | null;
}

export interface Conformed extends ConformedVolume {
  /** The model input: the conformed voxels min-max scaled to [0, 1] (float32), [D, H, W]. */
  input: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// gl-matrix mat4 (column-major storage, Float32Array): the formulas of gl-matrix 3.4 invert/multiply

type Mat4 = Float32Array;

function glInvert(a: Mat4): Mat4 {
  const [a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33] = a;
  const b00 = a00 * a11 - a01 * a10;
  const b01 = a00 * a12 - a02 * a10;
  const b02 = a00 * a13 - a03 * a10;
  const b03 = a01 * a12 - a02 * a11;
  const b04 = a01 * a13 - a03 * a11;
  const b05 = a02 * a13 - a03 * a12;
  const b06 = a20 * a31 - a21 * a30;
  const b07 = a20 * a32 - a22 * a30;
  const b08 = a20 * a33 - a23 * a30;
  const b09 = a21 * a32 - a22 * a31;
  const b10 = a21 * a33 - a23 * a31;
  const b11 = a22 * a33 - a23 * a32;
  let det = b00 * b11 - b01 * b10 + b02 * b09 + b03 * b08 - b04 * b07 + b05 * b06;
  if (!det) throw new InputError('the volume affine is singular: it cannot be resliced');
  det = 1.0 / det;
  return Float32Array.of(
    (a11 * b11 - a12 * b10 + a13 * b09) * det,
    (a02 * b10 - a01 * b11 - a03 * b09) * det,
    (a31 * b05 - a32 * b04 + a33 * b03) * det,
    (a22 * b04 - a21 * b05 - a23 * b03) * det,
    (a12 * b08 - a10 * b11 - a13 * b07) * det,
    (a00 * b11 - a02 * b08 + a03 * b07) * det,
    (a32 * b02 - a30 * b05 - a33 * b01) * det,
    (a20 * b05 - a22 * b02 + a23 * b01) * det,
    (a10 * b10 - a11 * b08 + a13 * b06) * det,
    (a01 * b08 - a00 * b10 - a03 * b06) * det,
    (a30 * b04 - a31 * b02 + a33 * b00) * det,
    (a21 * b02 - a20 * b04 - a23 * b00) * det,
    (a11 * b07 - a10 * b09 - a12 * b06) * det,
    (a00 * b09 - a01 * b07 + a02 * b06) * det,
    (a31 * b01 - a30 * b03 - a32 * b00) * det,
    (a20 * b03 - a21 * b01 + a22 * b00) * det,
  );
}

function glMultiply(a: Mat4, b: Mat4): Mat4 {
  const out = new Float32Array(16);
  for (let c = 0; c < 4; c++) {
    const [b0, b1, b2, b3] = [b[4 * c], b[4 * c + 1], b[4 * c + 2], b[4 * c + 3]];
    for (let r = 0; r < 4; r++) out[4 * c + r] = b0 * a[r] + b1 * a[4 + r] + b2 * a[8 + r] + b3 * a[12 + r];
  }
  return out;
}

/**
 * niivue's conformVox2Vox (toRAS false): the LIA output affine (row-major, float32 values) and the
 * output-voxel -> input-voxel map (row-major 4x4 as stored by gl-matrix, float32).
 */
export function conformVox2Vox(inAffine: Affine, inDims: readonly number[], outDims: readonly number[], mm: number): { affine: Affine; invVox2Vox: Float32Array } {
  const a = Float32Array.from(inAffine.flat());
  const half = [inDims[0] / 2, inDims[1] / 2, inDims[2] / 2];
  // transformMat4(half, transpose(affine)): row r of the affine times (half, 1), stored as float32
  const centre = [0, 1, 2].map((r) => Math.fround(a[4 * r] * half[0] + a[4 * r + 1] * half[1] + a[4 * r + 2] * half[2] + a[4 * r + 3] * 1));
  // Mdc * delta * dims / 2 with Mdc = [[-1,0,0],[0,0,1],[0,-1,0]]
  const volCentre = [Math.fround(-mm * outDims[0]) * 0.5, Math.fround(mm * outDims[2]) * 0.5, Math.fround(-mm * outDims[1]) * 0.5];
  const t = centre.map((c, i) => Math.fround(c - volCentre[i]));
  const out = Float32Array.of(-mm, 0, 0, t[0], 0, 0, mm, t[1], 0, -mm, 0, t[2], 0, 0, 0, 1);
  const vox2vox = glMultiply(a, glInvert(out));
  const affine: Affine = [
    [out[0], out[1], out[2], out[3]],
    [out[4], out[5], out[6], out[7]],
    [out[8], out[9], out[10], out[11]],
    [0, 0, 0, 1],
  ];
  return { affine, invVox2Vox: glInvert(vox2vox) };
}

// ---------------------------------------------------------------------------------------------
// orientation

/**
 * The voxel axes' directions as RAS letters, niivue's permRAS rule (calculateRAS): x takes the world
 * axis its affine column leans on most, y the larger of the two left, z the last; the sign of that
 * entry picks R/L, A/P, S/I. 'LIA' is FreeSurfer's conformed orientation.
 */
export function orientation(affine: Affine): string {
  const abs = (r: number, c: number) => Math.abs(affine[r][c]);
  let x = 0;
  if (abs(1, 0) > abs(0, 0)) x = 1;
  if (abs(2, 0) > abs(0, 0) && abs(2, 0) > abs(1, 0)) x = 2;
  const [p, q] = [0, 1, 2].filter((r) => r !== x);
  const y = abs(p, 1) > abs(q, 1) ? p : q;
  const z = 3 - x - y;
  const letters = ['LR', 'PA', 'IS'];
  return [x, y, z].map((r, c) => letters[r][affine[r][c] > 0 ? 1 : 0]).join('');
}

/** True when niivue-onnx would feed the volume as it is: its grid is `shape` and its orientation LIA. */
export function isConformed(vol: Pick<Volume, 'shape' | 'affine'>, shape: readonly number[]): boolean {
  const s = spatialShape(vol);
  return s.every((d, i) => d === shape[i]) && orientation(vol.affine) === 'LIA';
}

// ---------------------------------------------------------------------------------------------
// resampling and intensity

/** The first 3D volume of a [D, H, W] or [C, D, H, W] volume (a view, no copy). */
export function firstVolume(vol: Volume): VoxelArray {
  const n = product(spatialShape(vol));
  return vol.data.length === n ? vol.data : vol.data.subarray(0, n);
}

/**
 * Resamples `src` ([D, H, W] = [nz, ny, nx], x fastest) onto the output grid through `inv` (output
 * voxel -> input voxel, row-major): niivue's resampleVolume, float32 out, 0 outside.
 */
export function resample(src: VoxelArray, inShape: readonly number[], outShape: readonly number[], inv: Float32Array, linear: boolean): Float32Array {
  const [dimZ, dimY, dimX] = inShape;
  const [outZ, outY, outX] = outShape;
  const dimXY = dimX * dimY;
  const img = src instanceof Float32Array ? src : Float32Array.from(src);
  const out = new Float32Array(outZ * outY * outX);
  const [i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11] = inv;
  let i = -1;
  for (let z = 0; z < outZ; z++)
    for (let y = 0; y < outY; y++) {
      const ixYZ = y * i1 + z * i2 + i3;
      const iyYZ = y * i5 + z * i6 + i7;
      const izYZ = y * i9 + z * i10 + i11;
      for (let x = 0; x < outX; x++) {
        const ix = x * i0 + ixYZ;
        const iy = x * i4 + iyYZ;
        const iz = x * i8 + izYZ;
        i++;
        if (!linear) {
          const [rx, ry, rz] = [Math.round(ix), Math.round(iy), Math.round(iz)];
          if (rx < 0 || ry < 0 || rz < 0 || rx >= dimX || ry >= dimY || rz >= dimZ) continue;
          out[i] = img[rx + ry * dimX + rz * dimXY];
          continue;
        }
        const fx = Math.floor(ix);
        const fy = Math.floor(iy);
        const fz = Math.floor(iz);
        if (fx < 0 || fy < 0 || fz < 0) continue;
        if (Math.ceil(ix) >= dimX || Math.ceil(iy) >= dimY || Math.ceil(iz) >= dimZ) continue;
        const rcx = ix - fx;
        const rcy = iy - fy;
        const rcz = iz - fz;
        const rfx = 1 - rcx;
        const rfy = 1 - rcy;
        const rfz = 1 - rcz;
        const f = fx + fy * dimX + fz * dimXY;
        let v = 0;
        v += img[f] * rfx * rfy * rfz;
        v += img[f + dimXY] * rfx * rfy * rcz;
        v += img[f + dimX] * rfx * rcy * rfz;
        v += img[f + dimX + dimXY] * rfx * rcy * rcz;
        v += img[f + 1] * rcx * rfy * rfz;
        v += img[f + 1 + dimXY] * rcx * rfy * rcz;
        v += img[f + 1 + dimX] * rcx * rcy * rfz;
        v += img[f + 1 + dimX + dimXY] * rcx * rcy * rcz;
        out[i] = v;
      }
    }
  return out;
}

/** niivue's getScale(volume, 0, 255, fLow, fHigh): see step 3 above. */
export function robustScale(data: VoxelArray, [fLow, fHigh]: readonly [number, number]): IntensityScale {
  const [min, max] = range(data);
  if (!(min <= max)) return { srcMin: 0, srcMax: 0, scale: 1 }; // no finite voxel
  if (data instanceof Uint8Array || (fLow === 0 && fHigh === 1)) return { srcMin: min, srcMax: max, scale: 1 };
  const n = data.length;
  let nz = 0;
  for (let i = 0; i < n; i++) if (Math.abs(data[i]) >= 1e-15) nz++;
  const bins = 1000;
  const binSize = (max - min) / bins;
  const cs = new Float64Array(bins);
  if (binSize > 0) for (let i = 0; i < n; i++) cs[Math.min(Math.floor((data[i] - min) / binSize), bins - 1)]++;
  for (let i = 1; i < bins; i++) cs[i] += cs[i - 1];
  let nth = Math.floor(fLow * n);
  let lo = 0;
  while (lo < bins && !(cs[lo] >= nth)) lo++;
  nth = n - Math.floor((1.0 - fHigh) * nz);
  let hi = 0;
  while (hi < bins - 1 && !(cs[hi + 1] >= nth)) hi++;
  const srcMin = lo * binSize + min;
  const srcMax = hi * binSize + min;
  return { srcMin, srcMax, scale: srcMin !== srcMax ? 255 / (srcMax - srcMin) : 1 };
}

/** niivue's scalecropUint8: trunc(clamp(scale * (v - srcMin), 0, 255)). */
export function scaleToUint8(img: Float32Array, s: IntensityScale): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = Math.min(Math.max(0 + s.scale * (img[i] - s.srcMin), 0), 255);
  return out;
}

/** niivue-onnx's model input: (v - min) * (1 / (max - min)) as float32 (all 0 for a constant volume). */
export function minMaxInput(data: VoxelArray): Float32Array {
  const [mn, mx] = range(data);
  const out = new Float32Array(data.length);
  if (!(mx > mn)) return out;
  const s = 1 / (mx - mn);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - mn) * s;
  return out;
}

// ---------------------------------------------------------------------------------------------
// conform

/** niivue's conform(vol, toRAS = false, isLinear, asFloat32 = false) on the first volume, or the volume kept ('auto'). */
export function conformVolume(vol: Volume, p: ConformParams): ConformedVolume {
  const inShape = spatialShape(vol);
  const data = firstVolume(vol);
  if (p.conform === 'auto' && isConformed(vol, p.conformShape)) {
    return { volume: { ...vol, shape: inShape, data }, kept: true, intensity: null };
  }
  const [D, H, W] = p.conformShape;
  const { affine, invVox2Vox } = conformVox2Vox(vol.affine, [inShape[2], inShape[1], inShape[0]], [W, H, D], p.voxelSize);
  const resampled = resample(data, inShape, p.conformShape, invVox2Vox, p.interpolation === 'linear');
  const intensity = robustScale(data, p.robustRange);
  const mm = p.voxelSize;
  return {
    volume: { shape: [D, H, W], data: scaleToUint8(resampled, intensity), spacing: [mm, mm, mm], unit: 'mm', affine, source: vol.source },
    kept: false,
    intensity,
  };
}

/** The conformed volume and the model input (niivue-onnx: conform, then min-max to [0, 1]). */
export function conform(vol: Volume, p: ConformParams): Conformed {
  const c = conformVolume(vol, p);
  return { ...c, input: minMaxInput(c.volume.data) };
}
