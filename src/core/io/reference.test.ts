/**
 * The readers against nibabel and mrcfile: every file in tests/fixtures/io/reference.json (real
 * NIfTI and MRC files plus synthetic ones for each mode, datatype, byte order and transform case),
 * read both through readVolume and the format's own reader.
 */
import { describe, expect, it } from 'vitest';
import { dtypeOf, range } from '../volume';
import { expectAffineClose, expectArrayClose, fixture, offsetOf, references } from '../../../tests/io/helpers';
import { readVolume } from './index';
import { readMrc } from './mrc';
import { readNifti } from './nifti';
import { readNpy } from './npy';

describe('readers match nibabel / mrcfile', () => {
  it.each(references().map((r) => [r.file, r] as const))('%s', (file, ref) => {
    const bytes = fixture(file);
    const vol = readVolume(bytes, file);
    const direct = ref.format === 'nifti' ? readNifti(bytes, file) : readMrc(bytes, file);
    expect(direct.shape).toEqual(vol.shape);
    expectArrayClose(direct.data, vol.data);

    expect(vol.shape).toEqual(ref.shape);
    expect(dtypeOf(vol.data)).toBe(ref.dtype);
    expect(vol.unit).toBe(ref.unit);
    expect(vol.source?.name).toBe(file);
    expectArrayClose(vol.spacing, ref.spacing, 1e-6);
    // qform affines are recomputed from float32 quaternions on both sides: float32 precision
    expectAffineClose(vol.affine, ref.affine, 1e-6);

    let sum = 0;
    for (let i = 0; i < vol.data.length; i++) sum += vol.data[i];
    expect(Math.abs(sum - ref.sum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.sum)) + 1e-6);
    expect(range(vol.data)).toEqual([ref.min, ref.max]);
    for (const s of ref.samples) {
      const v = vol.data[offsetOf(vol.shape, s.index)];
      expect(v, `value at [${s.index.join(', ')}]`).toBeCloseTo(s.value, 5);
    }
    if (ref.expected_npy) {
      const expected = readNpy(fixture(ref.expected_npy), ref.expected_npy);
      expect(expected.shape).toEqual(vol.shape);
      expectArrayClose(vol.data, expected.data, 1e-7);
    }
  });
});
