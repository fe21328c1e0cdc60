/**
 * The flagellar-motor preset's pure core against Python references (tools/make_motor_fixtures.py:
 * scipy 1.10 zoom, numpy quantiles, PIL decodes and TIFF stacks) and hand-worked cases.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/core/io/npy';
import { readVolume } from '../src/core/io';
import { makeVolume, InputError } from '../src/core/volume';
import type { Predictor } from '../src/core/slidingWindow';
import { motorsParamsFromCard, motorsPreset, motorsPresetDef, validateMotorsParams, type MotorsParams } from '../src/core/presets/motors';
import { zoomLinear, zoomOutputShape, zoomSourcePlanes } from '../src/core/motors/resize';
import { byuMargin, byuWeightMap } from '../src/core/motors/weightMap';
import { decodeGrayImage, imageKind, readTiffStack, rgbaToGray } from '../src/core/motors/decode';
import { naturalCompare, orderSliceNames, stackSliceFiles, stackSlices, toUint8MinMax, tomogramFromVolume, tomogramId, type GraySlice, type Tomogram } from '../src/core/motors/tomogram';
import { argmax, detectMotors, findPeaks, flip3, heatmapToOriginal, resizeForModel } from '../src/core/motors/pipeline';
import { formatCoordinate, parseCsv, parseLabelsCsv, quantileLinear, submissionCsv, thresholdDetections } from '../src/core/motors/postprocess';
import { fbetaFromCounts, motorMetric } from '../src/core/motors/metric';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/motors');
const npy = (name: string) => readNpy(readFileSync(resolve(FIX, name)));
const json = (name: string) => JSON.parse(readFileSync(resolve(FIX, name), 'utf8'));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('zoomLinear reproduces scipy.ndimage.zoom(order=1, grid_mode=False) on uint8', () => {
  const { cases } = json('zoom/cases.json') as { cases: Record<string, { in: number[]; out: number[] }> };
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: [${c.in}] -> [${c.out}] bit for bit`, () => {
      const x = npy(`zoom/${name}_in.npy`);
      const y = npy(`zoom/${name}_out.npy`);
      const got = zoomLinear(x.data as Uint8Array, c.in, c.out);
      expect(got).toBeInstanceOf(Uint8Array);
      expect(maxDiff(got, y.data)).toBe(0); // required: <= 1 grey level; measured: exact
    });
  }

  it("keeps scipy's zeroed last plane where k * zoom overshoots in - 1 (8 -> 26)", () => {
    const got = zoomLinear(new Uint8Array(8).fill(200), [8, 1, 1], [26, 1, 1]);
    expect(got[24]).toBe(200);
    expect(got[25]).toBe(0);
  });

  it('output shape follows Python round(in * factor)', () => {
    expect(zoomOutputShape([500, 924, 956], [128 / 500, 672 / 924, 672 / 956])).toEqual([128, 672, 672]);
    expect(zoomOutputShape([5], [0.5])).toEqual([2]); // round(2.5) = 2
  });

  it('rejects shapes that do not match the data', () => {
    expect(() => zoomLinear(new Uint8Array(10), [2, 2, 2], [4, 4, 4])).toThrow(InputError);
  });

  it('zoomSourcePlanes: the planes it leaves out do not change the resize (random volumes, 200 shape pairs); 126 of 300 for 300 -> 64', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const pairs: [number, number][] = [[300, 64], [500, 64], [300, 128], [64, 64], [8, 26], [1, 3], [3, 1], [2, 1]];
    for (let k = 0; k < 192; k++) pairs.push([1 + (rand() % 97), 1 + (rand() % 41)]);
    for (const [nIn, nOut] of pairs) {
      const used = zoomSourcePlanes(nIn, nOut);
      const [h, w] = [3, 5];
      const src = Uint8Array.from({ length: nIn * h * w }, rand);
      const holes = src.slice();
      for (let z = 0; z < nIn; z++) if (!used[z]) holes.fill(rand(), z * h * w, (z + 1) * h * w);
      const shape = [nOut, 2, 4];
      expect(Buffer.from(zoomLinear(holes, [nIn, h, w], shape)).equals(Buffer.from(zoomLinear(src, [nIn, h, w], shape))), `${nIn} -> ${nOut}`).toBe(true);
      // and every plane it keeps matters: changing one changes the output
      const z = used.indexOf(1);
      const moved = src.slice();
      for (let i = z * h * w; i < (z + 1) * h * w; i++) moved[i] ^= 0xff;
      expect(Buffer.from(zoomLinear(moved, [nIn, h, w], shape)).equals(Buffer.from(zoomLinear(src, [nIn, h, w], shape))), `${nIn} -> ${nOut} plane ${z}`).toBe(false);
    }
    expect(zoomSourcePlanes(300, 64).reduce((a, b) => a + b, 0)).toBe(126);
    expect(zoomSourcePlanes(64, 64).every((u) => u === 1)).toBe(true);
  });
});

describe('BYU weight map', () => {
  it('equals the parity fixture weight_map.npy (roi 10, 32, 32)', () => {
    const ref = readNpy(readFileSync(resolve(ROOT, 'tests/fixtures/parity/byu_weight_map/weight_map.npy')));
    expect(ref.shape).toEqual([10, 32, 32]);
    const w = byuWeightMap([10, 32, 32]);
    expect(Array.from(w)).toEqual(Array.from(ref.data));
  });

  for (const c of json('weight_maps.json') as { roi: number[]; margin: number[]; sum?: number; ones?: number }[]) {
    it(`roi [${c.roi}]: margins ${c.margin} = int(0.3 * n)`, () => {
      expect(c.roi.map((n) => byuMargin(n))).toEqual(c.margin);
      if (c.sum === undefined) return;
      const w = byuWeightMap(c.roi);
      let sum = 0;
      let ones = 0;
      for (const v of w) {
        sum += v;
        if (v === 1) ones++;
      }
      expect(ones).toBe(c.ones);
      expect(sum).toBeCloseTo(c.sum!, 6);
    });
  }
});

describe('quantile (pandas linear)', () => {
  for (const c of json('quantile.json') as { values: number[]; q: number; pandas: number }[]) {
    it(`n=${c.values.length}, q=${c.q}`, () => {
      expect(quantileLinear(c.values, c.q)).toBe(c.pandas);
    });
  }

  it('is NaN for no values and rejects q outside [0, 1]', () => {
    expect(quantileLinear([], 0.5)).toBeNaN();
    expect(() => quantileLinear([1], 1.5)).toThrow(RangeError);
  });
});

describe('argmax -> coordinate in original voxels', () => {
  for (const c of json('coords.json') as { heatmapShape: number[]; originalShape: number[]; index: number[]; point: number[] }[]) {
    it(`heatmap [${c.heatmapShape}] -> original [${c.originalShape}]`, () => {
      expect(heatmapToOriginal(c.index, c.heatmapShape, c.originalShape)).toEqual(c.point);
    });
  }

  it('(index + 0.5) / heatmap_shape * original_shape, worked by hand', () => {
    // heatmap (16, 84, 84) of a (500, 924, 956) tomogram; argmax (3, 40, 0):
    // z = 3.5 / 16 * 500 = 109.375, y = 40.5 / 84 * 924 = 445.5, x = 0.5 / 84 * 956 = 5.690476...
    const p = heatmapToOriginal([3, 40, 0], [16, 84, 84], [500, 924, 956]);
    expect(p[0]).toBe(109.375);
    expect(p[1]).toBeCloseTo(445.5, 10);
    expect(p[2]).toBeCloseTo(5.6904761904, 9);
  });

  it('argmax takes the first maximum', () => {
    expect(argmax(new Float32Array([0.1, 0.7, 0.3, 0.7]))).toBe(1);
    expect(argmax(new Float32Array([NaN, 0.2]))).toBe(1);
  });
});

describe('F-beta as the BYU competition computes it', () => {
  const lab = (id: string, motors: [number, number, number][], spacing = 10) => ({ id, motors, spacing });

  it('hand-worked batch: TP, far TP -> FN, FP, TN, FN', () => {
    // spacing 10 A -> threshold 1000 / 10 = 100 voxels
    // a: truth (100,100,100), pred (100,160,180): distance sqrt(0 + 3600 + 6400) = 100 -> <= 100 -> TP
    // b: truth (50,50,50), pred (50,50,151): distance 101 > 100 -> prediction set to 0 -> FN (not FP)
    // c: no motor, pred (1,2,3) -> FP
    // d: no motor, pred -1 -> TN
    // e: truth (10,10,10), pred -1 -> FN
    // tp 1, fp 1, fn 2: F2 = 5 * 1 / (4 * (1 + 2) + (1 + 1)) = 5 / 14
    const labels = [lab('a', [[100, 100, 100]]), lab('b', [[50, 50, 50]]), lab('c', []), lab('d', []), lab('e', [[10, 10, 10]])];
    const preds = [
      { id: 'a', point: [100, 160, 180] as [number, number, number] },
      { id: 'b', point: [50, 50, 151] as [number, number, number] },
      { id: 'c', point: [1, 2, 3] as [number, number, number] },
      { id: 'd', point: [-1, -1, -1] as [number, number, number] },
      { id: 'e', point: [-1, -1, -1] as [number, number, number] },
    ];
    const m = motorMetric(labels, preds);
    expect(m.perTomogram.map((r) => r.outcome)).toEqual(['TP', 'FN', 'FP', 'TN', 'FN']);
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([1, 1, 2, 1]);
    expect(m.fbeta).toBeCloseTo(5 / 14, 15);
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBeCloseTo(1 / 3, 15);
    expect(m.perTomogram[0].distance).toBe(100);
    expect(m.perTomogram[0].threshold).toBe(100);
  });

  it('uses each tomogram\'s voxel spacing and the nearest of several true motors', () => {
    // spacing 19.7 A -> threshold 50.76 voxels; motors at (0,0,0) and (0,0,200); pred (0,0,160): nearest 40 -> TP
    const m = motorMetric([lab('t', [[0, 0, 0], [0, 0, 200]], 19.7)], [{ id: 't', point: [0, 0, 160] }]);
    expect(m.perTomogram[0]).toMatchObject({ distance: 40, outcome: 'TP' });
    expect(m.perTomogram[0].threshold).toBeCloseTo(1000 / 19.7, 12);
    expect(m.fbeta).toBe(1);
  });

  it('all true negatives give 0 (sklearn zero_division), beta changes the weighting', () => {
    expect(motorMetric([lab('n', [])], [{ id: 'n', point: [-1, -1, -1] }]).fbeta).toBe(0);
    // tp 2, fp 1, fn 1: F1 = 2*2 / (2*2 + 1 + 1) = 2/3; F2 = 5*2 / (4*3 + 3) = 10/15
    expect(fbetaFromCounts(2, 1, 1, 1)).toBeCloseTo(2 / 3, 15);
    expect(fbetaFromCounts(2, 1, 1, 2)).toBeCloseTo(2 / 3, 15);
    // tp 1, fp 0, fn 3: F2 = 5 / (4*4 + 1) = 5/17; F1 = 2 / (4 + 1) = 0.4
    expect(fbetaFromCounts(1, 0, 3, 2)).toBeCloseTo(5 / 17, 15);
    expect(fbetaFromCounts(1, 0, 3, 1)).toBeCloseTo(0.4, 15);
  });

  it('a labelled tomogram without a prediction is an error, or skipped and listed', () => {
    const labels = [lab('a', [[1, 1, 1]]), lab('b', [])];
    expect(() => motorMetric(labels, [{ id: 'a', point: [1, 1, 1] }])).toThrow(/no prediction for 1 labelled tomogram: b/);
    const m = motorMetric(labels, [{ id: 'a', point: [1, 1, 1] }, { id: 'z', point: [1, 1, 1] }], { missing: 'skip' });
    expect(m.missing).toEqual(['b']);
    expect(m.unlabelled).toEqual(['z']);
    expect(m.perTomogram).toHaveLength(1);
  });

  it('any -1 axis in a prediction means no motor', () => {
    expect(motorMetric([lab('a', [])], [{ id: 'a', point: [5, -1, 5] }]).tn).toBe(1);
  });
});

describe('threshold and CSV', () => {
  it('cutoff = quantile of the batch scores; score <= cutoff -> -1,-1,-1; exact bytes', () => {
    const dets = [
      { id: 'tomo_b', score: 0.9, point: [109.375, 445.5, 5.690476190476191] as [number, number, number] },
      { id: 'tomo_a', score: 0.2, point: [1, 2, 3] as [number, number, number] },
      { id: 'tomo_c', score: 0.5, point: [12.345678, 100, 0.00001] as [number, number, number] },
      { id: 'tomo_d', score: 0.7, point: [64, 96.00004, 7.5] as [number, number, number] },
    ];
    // sorted scores 0.2 0.5 0.7 0.9; h = 3 * 0.545 = 1.635 -> 0.5 + 0.635 * 0.2 = 0.627
    const rows = thresholdDetections(dets, 0.545);
    expect(rows[0].cutoff).toBeCloseTo(0.627, 12);
    expect(rows.map((r) => r.passes)).toEqual([true, false, false, true]);
    expect(submissionCsv(rows)).toBe(
      'tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\n' +
        'tomo_a,-1,-1,-1\n' +
        'tomo_b,109.375,445.5,5.6905\n' +
        'tomo_c,-1,-1,-1\n' +
        'tomo_d,64,96,7.5\n',
    );
    expect(thresholdDetections(dets, null).every((r) => r.passes)).toBe(true);
    // one tomogram: the cutoff is its own score, so it never passes (as in the pipeline)
    expect(thresholdDetections([dets[0]], 0.545)[0].passes).toBe(false);
  });

  it('number format: 4 decimals at most, no trailing zeros, no -0', () => {
    // toFixed rounds the exact double: 12.34565 is 12.3456499999... -> 12.3456
    expect(['0.00004', '-0.00001', '12.34566', '12.34565', '1e-7', '250', '0.5'].map((s) => formatCoordinate(Number(s)))).toEqual(['0', '0', '12.3457', '12.3456', '0', '250', '0.5']);
  });

  it('parses CSV quoting, CRLF and a BOM', () => {
    expect(parseCsv('\ufeffa,"b,c"\r\n1,"x""y"\r\n')).toEqual([['a', 'b,c'], ['1', 'x"y']]);
  });
});

describe('labels.csv (BYU train-labels format)', () => {
  const HEAD = 'row_id,tomo_id,Motor axis 0,Motor axis 1,Motor axis 2,Array shape (axis 0),Array shape (axis 1),Array shape (axis 2),Voxel spacing,Number of motors';

  it('reads rows, several motors per tomogram, -1 as none', () => {
    const t = parseLabelsCsv(`${HEAD}\n0,tomo_a,10,20,30,300,959,928,15.6,2\n1,tomo_a,40,50,60,300,959,928,15.6,2\n2,tomo_b,-1,-1,-1,500,924,956,19.7,0\n`);
    expect(t).toEqual([
      { id: 'tomo_a', motors: [[10, 20, 30], [40, 50, 60]], spacing: 15.6, shape: [300, 959, 928], count: 2 },
      { id: 'tomo_b', motors: [], spacing: 19.7, shape: [500, 924, 956], count: 0 },
    ]);
  });

  it('accepts the columns without row_id and in another order', () => {
    const t = parseLabelsCsv('Voxel spacing,tomo_id,Motor axis 2,Motor axis 1,Motor axis 0\n10,x,3,2,1\n');
    expect(t).toEqual([{ id: 'x', motors: [[1, 2, 3]], spacing: 10 }]);
  });

  it('clear errors: missing columns, bad numbers, empty file', () => {
    expect(() => parseLabelsCsv('tomo_id,Motor axis 0,Motor axis 1\nx,1,2\n')).toThrow(/missing columns 'Motor axis 2', 'Voxel spacing'/);
    expect(() => parseLabelsCsv('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2,Voxel spacing\nx,1,two,3,10\n')).toThrow(/line 2: Motor axis 1 is 'two', not a number/);
    expect(() => parseLabelsCsv('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2,Voxel spacing\nx,1,2,3,0\n')).toThrow(/Voxel spacing must be > 0/);
    expect(() => parseLabelsCsv('')).toThrow(/empty/);
  });
});

describe('tomograms from slices', () => {
  const slice = (name: string, w = 4, h = 3, v = 0): GraySlice => ({ name, width: w, height: h, gray: new Uint8Array(w * h).fill(v) });

  it('stacks by natural name order (slice_9 before slice_10)', () => {
    const t = stackSlices('tomo', [slice('slice_10.png', 4, 3, 10), slice('slice_9.png', 4, 3, 9), slice('slice_8.png', 4, 3, 8)]);
    expect(t.shape).toEqual([3, 3, 4]);
    expect([t.data[0], t.data[12], t.data[24]]).toEqual([8, 9, 10]);
    expect(['slice_0010.jpg', 'slice_0002.jpg', 'slice_0001.jpg'].sort(naturalCompare)).toEqual(['slice_0001.jpg', 'slice_0002.jpg', 'slice_0010.jpg']);
  });

  it('errors name the tomogram and the file', () => {
    expect(() => stackSlices('tomo_x', [])).toThrow('tomo_x: the folder is empty');
    expect(() => stackSlices('tomo_x', [slice('slice_0000.jpg'), slice('slice_0001.jpg', 5, 3), slice('slice_0002.jpg', 5, 3)])).toThrow(
      "tomo_x: slice 'slice_0001.jpg' is 5 x 3 but 'slice_0000.jpg' is 4 x 3; all slices must have the same size",
    );
    expect(() => stackSlices('tomo_x', [slice('slice_0000.jpg'), slice('slice_0001.jpg'), slice('slice_0004.jpg')])).toThrow(
      "tomo_x: slice numbers 2 to 3 are missing (between 'slice_0001.jpg' and 'slice_0004.jpg')",
    );
    expect(() => orderSliceNames('tomo_x', ['slice_0000.jpg', 'slice_0002.jpg'])).toThrow('tomo_x: slice number 1 is missing');
    expect(() => orderSliceNames('tomo_x', ['slice_0001.jpg', 'slice_0001.png'])).toThrow(/two slices have number 1/);
    expect(() => orderSliceNames('tomo_x', ['notes.txt', 'Thumbs.db'])).toThrow("tomo_x: no image slices (.jpg, .png, .tif) in the folder; found 'notes.txt', 'Thumbs.db'");
  });

  it('skips non-image files with a list, streaming one slice at a time', async () => {
    const files = ['slice_0001.png', 'README.txt', 'slice_0000.png', '.DS_Store'].map((name, i) => ({ name, read: () => new Uint8Array([i]) }));
    const decode = (b: Uint8Array) => ({ width: 2, height: 1, gray: new Uint8Array([b[0], b[0]]) });
    const { tomogram, skipped } = await stackSliceFiles('t', files, decode);
    expect(skipped).toEqual(['README.txt', '.DS_Store']);
    expect(Array.from(tomogram.data)).toEqual([2, 2, 0, 0]);
    await expect(stackSliceFiles('t', files, () => { throw new Error('boom'); })).rejects.toThrow("t: cannot decode 'slice_0000.png': boom");
  });

  it('modelOnly (the CLI): only the slices the resize reads are decoded, and the resized volume is the full read\'s', async () => {
    const dir = resolve(ROOT, 'public/samples/tomograms/tomo_sim_002');
    const names = readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort();
    // 150 slices, each a sample slice (some twice or three times)
    const depth = 150;
    const read = new Set<number>();
    const files = Array.from({ length: depth }, (_, z) => {
      const b = new Uint8Array(readFileSync(resolve(dir, names[Math.floor((z * names.length) / depth)])));
      return {
        path: `tomo_s/slice_${String(z).padStart(4, '0')}.jpg`,
        get bytes() {
          read.add(z);
          return b;
        },
      };
    });
    const params: MotorsParams = { ...motorsPreset, inputSize: [64, 48, 40] };
    const src = { id: 'tomo_s', kind: 'slices', paths: files.map((f) => f.path) };
    const full = (await motorsPresetDef.inputs.read(src, files, params)).items[0];
    expect(read.size).toBe(depth);
    read.clear();
    const part = (await motorsPresetDef.inputs.read(src, files, params, { modelOnly: true })).items[0];
    const used = zoomSourcePlanes(depth, 64);
    expect([...read].sort((a, b) => a - b)).toEqual([...used.keys()].filter((z) => used[z]));
    expect(read.size).toBeLessThan(depth * 0.9);
    expect(part.shape).toEqual(full.shape);
    expect(Buffer.from(resizeForModel(part, params).resized).equals(Buffer.from(resizeForModel(full, params).resized))).toBe(true);
    // the partial read says what it is fit for: a run at this input depth only (the page reads it again for a view or another depth)
    const fit = motorsPresetDef.inputs.modelOnly!;
    expect(full.planesFor).toBeUndefined();
    expect(fit.of(full)).toBeNull();
    expect(part.planesFor).toBe(64);
    expect(fit.of(part)).toBe(fit.key(params));
    expect(fit.key({ ...params, inputSize: [32, 48, 40] })).not.toBe(fit.of(part));
    const model: Predictor = async (x, shape) => ({ data: new Float32Array(x.length), shape: [shape[0], 1, ...shape.slice(2)] });
    const deeper = { ...params, inputSize: [96, 48, 40] as [number, number, number], roi: [32, 48, 40] as [number, number, number] };
    await expect(detectMotors(part, [model], deeper)).rejects.toThrow('tomo_s: only the slices for an input depth of 64 were read; read it again for 96');
    // a depth that reads every slice leaves none out: the read is whole
    const every = (await motorsPresetDef.inputs.read(src, files, { ...params, inputSize: [150, 48, 40] }, { modelOnly: true })).items[0];
    expect(every.planesFor).toBeUndefined();
  });

  it('ids: folder name, or file name without extension', () => {
    expect(tomogramId('/data/tomo_00e047/', true)).toBe('tomo_00e047');
    expect(tomogramId('/data/tomo_a.mrc')).toBe('tomo_a');
    expect(tomogramId('tomo_b.rec.gz')).toBe('tomo_b');
    expect(tomogramId('stack.tiff')).toBe('stack');
  });
});

describe('tomograms from volumes', () => {
  it('uint8 stays as is (same array); other types map min..max -> 0..255 rounded', () => {
    const u8 = new Uint8Array(8).fill(3);
    const t = tomogramFromVolume(makeVolume(u8, [2, 2, 2], { spacing: [15.6, 15.6, 15.6], unit: 'angstrom' }), 'a');
    expect(t.data).toBe(u8);
    expect(t.spacing).toBe(15.6);
    // -1 .. 3: scale 255 / 4 = 63.75; 0 -> floor(63.75 + 0.5) = 64; 1 -> 128 (127.5 rounds up); 0.5 -> floor(95.625 + .5) = 96
    const f = tomogramFromVolume(makeVolume(new Float32Array([-1, 0, 1, 3, 0.5, NaN, 2, 3]), [1, 2, 2, 2]), 'b');
    expect(Array.from(f.data)).toEqual([0, 64, 128, 255, 96, 0, 191, 255]);
    expect(f.spacing).toBeUndefined();
    expect(toUint8MinMax(new Int16Array([5, 5]))).toEqual(new Uint8Array([0, 0]));
    expect(() => tomogramFromVolume(makeVolume(new Float32Array(16), [2, 2, 2, 2]), 'c')).toThrow(/one 3D volume/);
  });

  it('an MRC file keeps its Angstrom spacing', () => {
    const v = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/io/mode0_imod_uint8.mrc'))), 'mode0_imod_uint8.mrc');
    const t = tomogramFromVolume(v, 'm');
    expect(t.data).toBeInstanceOf(Uint8Array);
    if (v.unit === 'angstrom') expect(t.spacing).toBe(v.spacing[2]);
  });
});

describe('image decoding (pure JS)', () => {
  for (const name of ['png_gray8', 'png_rgb', 'png_rgba', 'png_palette', 'png_gray16']) {
    it(`${name}.png equals PIL's gray (16-bit: high byte)`, () => {
      const img = decodeGrayImage(new Uint8Array(readFileSync(resolve(FIX, `${name}.png`))), `${name}.png`);
      const ref = npy(`${name}.npy`);
      expect([img.height, img.width]).toEqual(ref.shape);
      expect(maxDiff(img.gray, ref.data)).toBe(0);
    });
  }

  it('JPEG (libjpeg-turbo WASM) equals PIL (libjpeg-turbo)', () => {
    const img = decodeGrayImage(new Uint8Array(readFileSync(resolve(FIX, 'slice_gray.jpg'))), 'slice_gray.jpg');
    const ref = npy('slice_gray_pil.npy');
    expect([img.height, img.width]).toEqual(ref.shape);
    expect(maxDiff(img.gray, ref.data)).toBe(0);
  });

  it('RGBA -> gray by PIL luma; unknown and corrupt files are named', () => {
    expect(Array.from(rgbaToGray(new Uint8Array([10, 10, 10, 0, 255, 0, 0, 255, 0, 0, 255, 255]), 3, 1))).toEqual([10, 76, 29]);
    expect(imageKind(new Uint8Array([1, 2, 3, 4]))).toBeNull();
    expect(() => decodeGrayImage(new TextEncoder().encode('hello'), 'notes.jpg')).toThrow('notes.jpg: not a JPEG, PNG or TIFF image');
    const jpg = new Uint8Array(readFileSync(resolve(FIX, 'slice_gray.jpg')));
    expect(() => decodeGrayImage(jpg.subarray(0, 200), 'cut.jpg')).toThrow(/cut\.jpg: cannot decode the JPEG image/);
  });
});

describe('multi-page TIFF stacks (UTIF)', () => {
  for (const [tif, ref] of [['stack_u8.tif', 'stack_u8.npy'], ['stack_u8_lzw.tif', 'stack_u8.npy'], ['stack_u16.tif', 'stack_u16_as_u8.npy']]) {
    it(`${tif} -> ${ref}`, () => {
      const t = readTiffStack(new Uint8Array(readFileSync(resolve(FIX, tif))), 'stack');
      const e = npy(ref);
      expect(t.shape).toEqual(e.shape);
      expect(maxDiff(t.data, e.data)).toBe(0);
    });
  }

  const REAL = resolve(ROOT, 'tests/fixtures/io/14pf_MT.tif');
  it('a real ImageJ tomogram stack (cylindra 14pf_MT.tif) matches its MRC conversion, with spacing', () => {
    const t = readTiffStack(new Uint8Array(readFileSync(REAL)), '14pf_MT');
    expect(t.shape).toEqual([44, 136, 84]);
    expect(t.spacing).toBe(10.52);
    const rec = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/io/14pf_MT_derived_int16.rec'))), 'x.rec');
    expect(rec.shape).toEqual([44, 136, 84]);
    expect(maxDiff(t.data, rec.data)).toBe(0);
  });

  it('a page of another size and a corrupt file are named', () => {
    expect(() => readTiffStack(new Uint8Array(readFileSync(resolve(FIX, 'stack_mixed.tif'))), 'mixed')).toThrow(
      'mixed: TIFF page 2 is 8 x 12 but page 1 is 10 x 12; all pages must have the same size',
    );
    expect(() => readTiffStack(new TextEncoder().encode('II*\0garbage'), 'bad', 'bad.tif')).toThrow(/^bad\.tif: /);
  });
});

describe('preset', () => {
  it('defaults are the pipeline and valid; a model card overrides the inference values', () => {
    expect(motorsPreset).toMatchObject({ inputSize: [128, 672, 672], roi: [64, 672, 672], overlap: [0.875, 0.25, 0.25], swBatch: 2, quantile: 0.545, tta: ['identity', 'flipD', 'flipH'] });
    expect(validateMotorsParams(motorsPreset)).toEqual([]);
    const p = motorsParamsFromCard({ inference: { inputSize: [64, 192, 192], roi: [64, 128, 128], overlap: [0, 0.5, 0.5], swBatch: 1, tta: ['identity'], postprocess: { quantile: 0.5 } } });
    expect(p).toMatchObject({ inputSize: [64, 192, 192], roi: [64, 128, 128], overlap: [0, 0.5, 0.5], swBatch: 1, tta: ['identity'], quantile: 0.5, weightMargin: 0.3 });
    expect(motorsPreset.roi).toEqual([64, 672, 672]); // not mutated
    expect(validateMotorsParams({ ...motorsPreset, overlap: [1, 0, 0], tta: [] })).toHaveLength(2);
  });
});

// ---- the pipeline with a deterministic JS "model": 2x2x2 mean of the input, as a logit 20 * (x - 0.5)
const poolModel: Predictor = async (batch, shape) => {
  const [n, , D, H, W] = shape;
  const [d, h, w] = [D / 2, H / 2, W / 2];
  const out = new Float32Array(n * d * h * w);
  for (let b = 0; b < n; b++)
    for (let z = 0; z < d; z++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let k = 0; k < 8; k++) s += batch[b * D * H * W + ((2 * z + (k >> 2)) * H + 2 * y + ((k >> 1) & 1)) * W + 2 * x + (k & 1)];
          out[((b * d + z) * h + y) * w + x] = 20 * (s / 8 - 0.5);
        }
  return { data: out, shape: [n, 1, d, h, w] };
};

/** A (20, 36, 44) tomogram, dim background, bright 3-voxel blobs at the given points. */
function blobTomogram(points: [number, number, number][]): Tomogram {
  const shape: [number, number, number] = [20, 36, 44];
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < data.length; i++) data[i] = 40 + ((i * 7919) % 23);
  for (const [pz, py, px] of points)
    for (let z = pz - 1; z <= pz + 1; z++)
      for (let y = py - 1; y <= py + 1; y++) for (let x = px - 1; x <= px + 1; x++) data[(z * shape[1] + y) * shape[2] + x] = 250;
  return { id: 'blob', shape, data };
}

// the JS model takes windows in [0, 1]: x / 255 (the pipeline's own default, 'none', feeds 0..255)
const small: MotorsParams = { ...motorsPreset, inputScaling: 'div255', inputSize: [16, 32, 32], roi: [8, 16, 16], overlap: [0.5, 0.5, 0.5], swBatch: 3, tta: ['identity'] };

describe('detectMotors', () => {
  const blob: [number, number, number] = [5, 10, 31]; // off-centre on every axis: a wrong flip-back moves it

  it('recovers a blob in original coordinates (within one heatmap cell)', async () => {
    const det = await detectMotors(blobTomogram([blob]), [poolModel], small);
    expect(det.heatmapShape).toEqual([8, 16, 16]);
    expect(det.inputShape).toEqual([16, 32, 32]);
    const cell = [20 / 8, 36 / 16, 44 / 16];
    det.point.forEach((v, a) => expect(Math.abs(v - blob[a])).toBeLessThanOrEqual(cell[a]));
    expect(det.score).toBe(Math.max(...det.heatmap));
    expect(det.peaks).toHaveLength(1);
    expect(det.timings.windows).toBe(3 * 3 * 3);
  });

  it('flip TTA is undone: every pass gives the same map and the same point', async () => {
    const tomo = blobTomogram([blob]);
    const ref = await detectMotors(tomo, [poolModel], small);
    for (const tta of [['flipD'], ['flipH'], ['flipW'], ['identity', 'flipD', 'flipH']] as MotorsParams['tta'][]) {
      const det = await detectMotors(tomo, [poolModel], { ...small, tta });
      expect(det.point).toEqual(ref.point);
      expect(maxDiff(det.heatmap, ref.heatmap)).toBeLessThan(1e-6);
    }
  });

  it('sums models after the sigmoid and reports progress over all passes', async () => {
    const tomo = blobTomogram([blob]);
    const one = await detectMotors(tomo, [poolModel], small);
    const seen: number[] = [];
    const two = await detectMotors(tomo, [poolModel, poolModel], { ...small, tta: ['identity', 'flipH'] }, { onProgress: (p) => seen.push(p.done) });
    expect(maxDiff(two.heatmap, one.heatmap.map((v) => 2 * v))).toBeLessThan(1e-5);
    expect(two.score).toBeCloseTo(2 * one.score, 5);
    expect(seen.at(-1)).toBe(4 * 27);
    expect(seen.length).toBe(4 * 9); // 27 windows in batches of 3, per model and pass
  });

  it('finds several peaks at a minimum distance when asked', async () => {
    const det = await detectMotors(blobTomogram([blob, [14, 27, 9]]), [poolModel], { ...small, maxPeaks: 3, minPeakDistance: 8 });
    expect(det.peaks.length).toBeGreaterThanOrEqual(2);
    const far = det.peaks[1].point;
    expect(Math.hypot(far[0] - 14, far[1] - 27, far[2] - 9)).toBeLessThan(3);
    expect(findPeaks(new Float32Array([0, 1, 0, 0.5]), [1, 1, 4], [1, 1, 4], 5, 0).map((p) => p.index[2])).toEqual([1, 3]);
  });

  it('a model whose output is not a single-channel 3D map is a clear error', async () => {
    const twoChannels: Predictor = async (b, s) => ({ data: new Float32Array(b.length * 2), shape: [s[0], 2, ...s.slice(2)] });
    await expect(detectMotors(blobTomogram([blob]), [twoChannels], small)).rejects.toThrow(/model 1: its output has shape \[3, 2, 8, 16, 16\].*single-channel 3D map \(N, 1, d, h, w\)/);
  });

  it('cancels', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(detectMotors(blobTomogram([blob]), [poolModel], small, { signal: ac.signal })).rejects.toThrow(/cancel/);
  });

  it('flip3 reverses the flagged axes', () => {
    const a = Uint8Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(flip3(a, [2, 2, 2], [true, false, true], new Uint8Array(8)))).toEqual([5, 4, 7, 6, 1, 0, 3, 2]);
  });
});
