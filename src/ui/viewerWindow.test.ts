import { NVImage } from '@niivue/niivue';
import { describe, expect, it } from 'vitest';
import { calMinMaxFast, type WindowedImage } from './viewerWindow';

/** An image as Niivue holds one, calMinMax from Niivue's own prototype. */
function image(data: ArrayLike<number>, dims: [number, number, number], hdr: Partial<NonNullable<WindowedImage['hdr']>> = {}): WindowedImage {
  const img = Object.create(NVImage.prototype) as WindowedImage & { _colormap: string; frame4D: number };
  Object.assign(img, {
    hdr: { dims: [3, ...dims, 1], scl_slope: 1, scl_inter: 0, cal_min: 0, cal_max: 0, intent_code: 0, ...hdr },
    img: data,
    _colormap: 'gray',
    frame4D: 0,
    percentileFrac: 0.02,
    ignoreZeroVoxels: false,
    trustCalMinMax: true,
  });
  return img;
}

const fields = (i: WindowedImage) => [i.cal_min, i.cal_max, i.robust_min, i.robust_max, i.global_min, i.global_max];

/** Same numbers as Niivue's; `fast`: without calling Niivue's. */
function same(make: () => WindowedImage, fast = true): void {
  const a = make();
  const b = make();
  if (fast)
    b.calMinMax = () => {
      throw new Error('Niivue calMinMax called');
    };
  const ra = NVImage.prototype.calMinMax.call(a as unknown as NVImage);
  const rb = calMinMaxFast(b, false);
  expect(rb).toEqual(ra);
  expect(fields(b)).toEqual(fields(a));
}

describe('calMinMaxFast: the window Niivue computes', () => {
  const rnd = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  it('uint8 tomogram-like volumes (noise, a bright blob, scaled)', () => {
    const r = rnd(7);
    const dims: [number, number, number] = [48, 40, 16];
    const u8 = Uint8Array.from({ length: 48 * 40 * 16 }, (_, i) => Math.min(255, Math.round(90 + 40 * r() + (i % 48 > 20 && i % 48 < 30 ? 100 : 0))));
    same(() => image(u8, dims));
    same(() => image(u8, dims, { scl_slope: 0.5, scl_inter: 3 }));
    same(() => Object.assign(image(u8, dims, { cal_min: 100, cal_max: 200 }), { trustCalMinMax: false }));
    same(() => image(u8, dims, { cal_min: 100, cal_max: 200 }), false);
  });
  it('float volumes with NaN, narrow and wide spreads; one value in most voxels', () => {
    const r = rnd(3);
    const dims: [number, number, number] = [20, 24, 12];
    const f = Float32Array.from({ length: 20 * 24 * 12 }, (_, i) => (i % 97 === 0 ? NaN : r() * 1e3 - 200));
    same(() => image(f, dims));
    const peak = Float32Array.from({ length: 20 * 24 * 12 }, (_, i) => (i % 5 === 0 ? r() * 10 : 4));
    same(() => image(peak, dims));
  });
  it("Niivue's own paths: flat centre, mostly zeros", () => {
    const dims: [number, number, number] = [16, 16, 8];
    same(() => image(new Uint8Array(16 * 16 * 8).fill(9), dims), false);
    same(() => image(Uint8Array.from({ length: 16 * 16 * 8 }, (_, i) => (i % 4 === 0 ? i % 200 : 0)), dims), false);
  });
});
