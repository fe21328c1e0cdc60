/**
 * Shared by tests/realModels.test.ts and e2e/realModels.spec.ts: the test models of the five real
 * architectures (tools/make_real_models.py -> tests/fixtures/real_models/), their inputs as the
 * solutions feed them, and their PyTorch / MONAI references.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readNpy } from '../src/core/io/npy';

export const REAL = resolve(import.meta.dirname, 'fixtures/real_models');
export const realPath = (f: string): string => resolve(REAL, f);
export const realBytes = (f: string): Uint8Array => new Uint8Array(readFileSync(realPath(f)));

export interface Arr {
  data: Float32Array;
  shape: number[];
}

export function realNpy(f: string): Arr {
  const a = readNpy(readFileSync(realPath(f)), f);
  return { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape };
}

/** uint8 values from the flat index (Knuth's multiplicative hash, top 8 bits): tools/make_real_models.py hash_u8. */
export function hashU8(shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.imul(i, 2654435761 | 0) >>> 24;
  return out;
}

/** x / 255 in float32, as numpy's float32 division does it. */
export const div255 = (u8: ArrayLike<number>): Float32Array => Float32Array.from(u8, (v) => Math.fround(v / 255));

/** The solutions' inputs: what each model is fed (tools/make_real_models.py). */
export const realInputs = {
  /** (1, D, H, W) tomogram as float 0..255 (the model divides by 255 itself). */
  byu: (): Arr => {
    const v = realNpy('byu_volume_u8.npy');
    return { data: v.data, shape: [1, ...v.shape] };
  },
  /** (3, D, H, W): u8 / 255 repeated to 3 channels. */
  rsnaSeg: (): Arr => {
    const v = realNpy('rsna_seg_volume_u8.npy');
    const x = div255(v.data);
    const out = new Float32Array(3 * x.length);
    for (let c = 0; c < 3; c++) out.set(x, c * x.length);
    return { data: out, shape: [3, ...v.shape] };
  },
  /** (2, 15, 6, 32, 32) crops / 255. */
  rsnaCls: (): Arr => {
    const v = realNpy('rsna_cls_crops_u8.npy');
    return { data: div255(v.data), shape: v.shape };
  },
  /** (15, 6, 224, 224) hashU8 / 255: one vertebra for the fixed-batch 4D export. */
  rsnaClsB15: (): Arr => ({ data: div255(hashU8([15, 6, 224, 224])), shape: [15, 6, 224, 224] }),
  hms: (): Arr => realNpy('hms_input.npy'),
  hpa: (): Arr => realNpy('hpa_input.npy'),
};

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The models and what convert --webgpu makes of them (after: the verdict of the converted model). */
export const REAL_MODELS: { file: string; before: string; after: string; rewritten: number }[] = [
  { file: 'byu_unet3d.onnx', before: 'will fail', after: 'runs fully on WebGPU', rewritten: 3 },
  { file: 'byu_unet3d_fixed.onnx', before: 'will fail', after: 'runs fully on WebGPU', rewritten: 3 },
  { file: 'hms_resnet34d.onnx', before: 'will fail', after: 'runs fully on WebGPU', rewritten: 3 },
  { file: 'rsna_seg3d.onnx', before: 'will fail', after: 'runs fully on WebGPU', rewritten: 4 },
  { file: 'rsna_cls_seq.onnx', before: 'will fail', after: 'runs with listed ops on CPU', rewritten: 3 },
  { file: 'rsna_cls_b15.onnx', before: 'will fail', after: 'runs with listed ops on CPU', rewritten: 3 },
  { file: 'hpa_seresnext.onnx', before: 'runs fully on WebGPU', after: 'runs fully on WebGPU', rewritten: 0 },
];
