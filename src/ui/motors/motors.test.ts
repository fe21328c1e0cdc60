/** The motors page's pure parts: sorting dropped files into tomograms, results at a quantile, histogram and axes. */
import { describe, expect, it } from 'vitest';
import { motorMetric } from '../../core/motors/metric';
import type { Point3 } from '../../core/motors/pipeline';
import { thresholdDetections, type TomogramLabel } from '../../core/motors/postprocess';
import { motorsCutoff, motorsCutoffText, motorsPreset } from '../../core/presets/motors';
import { computeResults, histogram, niceTicks } from './derive';
import { heatmapIndexAt, heatmapVolume, tomogramGrid } from './display';
import { sortFiles, sourceLabel } from '../../core/motors/sources';
import { VIEW_FLOORS, viewPixels } from './viewPixels';

const f = (path: string) => ({ path, file: path });

describe('sortFiles', () => {
  it('takes each folder of slices as one tomogram, files as tomograms, and models, cards and labels apart', () => {
    const s = sortFiles([
      f('batch/tomo_b/slice_0001.jpg'),
      f('batch/tomo_b/slice_0000.jpg'),
      f('batch/tomo_b/notes.txt'),
      f('batch/tomo_a/slice_0000.png'),
      f('batch/tomo_c.mrc'),
      f('batch/tomo_d.tif'),
      f('batch/labels.csv'),
      f('batch/model.onnx'),
      f('batch/model.json'),
      f('batch/README.md'),
      f('batch/.DS_Store'),
    ]);
    expect(s.tomograms.map((t) => [t.id, t.kind])).toEqual([
      ['tomo_a', 'slices'],
      ['tomo_b', 'slices'],
      ['tomo_c', 'volume'],
      ['tomo_d', 'tiff'],
    ]);
    const b = s.tomograms[1];
    // the folder's other files go with it: the core skips them with a warning
    expect(b.kind === 'slices' && b.files.map((x) => x.path)).toEqual(['batch/tomo_b/slice_0001.jpg', 'batch/tomo_b/slice_0000.jpg', 'batch/tomo_b/notes.txt']);
    expect(sourceLabel(b)).toBe('2 JPG slices');
    expect(s.models.map((m) => m.path)).toEqual(['batch/model.onnx']);
    expect(s.cards.map((m) => m.path)).toEqual(['batch/model.json']);
    expect(s.labels.map((m) => m.path)).toEqual(['batch/labels.csv']);
    expect(s.ignored).toEqual(['batch/README.md']);
  });

  it('keeps the slice folder when a file has the same id, and reports the skipped one', () => {
    const s = sortFiles([f('t/tomo_1/slice_0000.jpg'), f('t/tomo_1.mrc'), f('t/tomo_2.mrc')]);
    expect(s.tomograms.map((t) => [t.id, t.kind])).toEqual([
      ['tomo_1', 'slices'],
      ['tomo_2', 'volume'],
    ]);
    expect(s.duplicates).toEqual([{ id: 'tomo_1', skipped: 't/tomo_1.mrc', kept: 'the folder t/tomo_1/ (1 file)' }]);
  });

  it('one folder of slices is one tomogram named after the folder; leaf folders without slices and empty folders are kept to say why', () => {
    expect(sortFiles([f('tomo_x/slice_0000.jpg'), f('tomo_x/slice_0001.jpg')]).tomograms.map((t) => t.id)).toEqual(['tomo_x']);
    const s = sortFiles([f('b/notes/readme.txt'), f('b/good/slice_0000.jpg')], ['b/empty']);
    expect(s.tomograms.map((t) => [t.id, t.kind === 'slices' ? t.files.length : -1])).toEqual([
      ['empty', 0],
      ['good', 1],
      ['notes', 1],
    ]);
  });

  it('slices picked as files (no folder) are one tomogram named after their prefix', () => {
    const s = sortFiles([f('run7_0000.png'), f('run7_0001.png')]);
    expect(s.tomograms.map((t) => t.id)).toEqual(['run7']);
  });
});

describe('computeResults', () => {
  const dets: { id: string; score: number; point: Point3 }[] = [
    { id: 'a', score: 0.9, point: [10, 20, 30] },
    { id: 'b', score: 0.2, point: [1, 2, 3] },
    { id: 'c', score: 0.6, point: [50, 50, 50] },
  ];
  const labels: TomogramLabel[] = [
    { id: 'a', motors: [[10, 20, 34]], spacing: 100 },
    { id: 'b', motors: [], spacing: 100 },
    { id: 'c', motors: [[50, 50, 70]], spacing: 100 },
  ];
  const params = { quantile: 0.5, beta: 2, distanceThresholdAngstrom: 1000 };

  it('applies the quantile cutoff as thresholdDetections and scores with motorMetric', () => {
    const r = computeResults(dets, params, labels);
    const thr = thresholdDetections(dets, 0.5);
    expect(r.cutoff).toBe(thr[0].cutoff);
    expect(r.rows.map((x) => x.passes)).toEqual(thr.map((x) => x.passes));
    const m = motorMetric(labels, thr.map((x) => ({ id: x.id, point: x.passes ? x.point : [-1, -1, -1] })), { beta: 2, distanceThresholdAngstrom: 1000 });
    expect(r.metric!.fbeta).toBe(m.fbeta);
    expect(r.rows.map((x) => x.outcome)).toEqual(['TP', 'TN', 'FN']);
    // the distance is the detected point's, also when it does not pass
    expect(r.rows.map((x) => x.distance)).toEqual([4, null, 20]);
    expect(r.rows[0].threshold).toBe(10);
  });

  it("cutoff 'score': a fixed threshold, the same verdict for a tomogram whatever the batch; the text says which", () => {
    const fixed = { ...params, cutoff: 'score' as const, scoreThreshold: 0.5 };
    const r = computeResults(dets, fixed, labels);
    expect(r.cutoff).toBe(0.5);
    expect(r.rows.map((x) => x.passes)).toEqual([true, false, true]);
    // c alone: the same verdict (with the batch quantile a batch of one never passes)
    expect(computeResults(dets.slice(2), fixed, null).rows[0].passes).toBe(true);
    expect(computeResults(dets.slice(2), params, null).rows[0].passes).toBe(false);
    expect(motorsCutoffText(r.cutoff, 3, { ...motorsPreset, ...fixed })).toBe('passes: score > 0.5000, a fixed score threshold (the same for every batch)');
    const q = computeResults(dets, params, null);
    expect(motorsCutoffText(q.cutoff, 3, { ...motorsPreset, ...params })).toBe(
      "passes: score > 0.6000, the 0.5 quantile of this batch's 3 scores (relative to the batch: another batch moves it; a fixed score threshold does not)",
    );
    expect(motorsCutoff([0.1, 0.9], { cutoff: 'none', quantile: 0.5, scoreThreshold: 0.5 })).toBe(-Infinity);
  });

  it('has no metric without labels, and leaves unlabelled tomograms out of it', () => {
    expect(computeResults(dets, params, null).metric).toBeNull();
    const r = computeResults(dets, params, labels.slice(0, 1));
    expect(r.metric!.perTomogram.map((x) => x.id)).toEqual(['a']);
    expect(r.rows[1].label).toBeNull();
  });
});

describe('histogram and ticks', () => {
  it('bins every score once over a padded range that includes the cutoff', () => {
    const h = histogram([0.1, 0.5, 0.5, 0.9], 0.95, 10);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(h.lo).toBeLessThan(0.1);
    expect(h.hi).toBeGreaterThan(0.95);
    expect(histogram([0.5], 0.5, 4).counts.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('ticks are round numbers within the range', () => {
    const unit = niceTicks(0, 1, 5);
    expect(unit.length).toBe(6);
    unit.forEach((v, i) => expect(v).toBeCloseTo(i * 0.2, 9));
    const t = niceTicks(0.81, 0.93, 5);
    expect(t.length).toBeGreaterThanOrEqual(3);
    for (const v of t) expect(v >= 0.81 && v <= 0.93).toBe(true);
  });
});

describe('heatmap placement', () => {
  it('a heatmap cell covers its block of original voxels (centre at (h + 0.5) f - 0.5)', () => {
    const grid = tomogramGrid({ id: 't', shape: [64, 192, 192], spacing: 40 });
    const v = heatmapVolume(
      { id: 't', heatmap: new Float32Array(16 * 48 * 48), heatmapShape: [16, 48, 48], score: 0, point: [0, 0, 0], peaks: [], originalShape: [64, 192, 192], inputShape: [64, 192, 192], timings: { totalMs: 0, predictMs: 0, resizeMs: 0, windows: 0 } },
      grid,
    );
    // x of cell 0 -> original voxel 1.5 -> 60 A; cell 1 -> 5.5 -> 220 A
    expect(v.affine[0][3]).toBeCloseTo(60, 9);
    expect(v.affine[0][0]).toBeCloseTo(160, 9);
    expect(v.affine[2][2]).toBeCloseTo(160, 9);
  });

  it('the readout takes the heatmap cell that holds the voxel clicked, on the grid the overlay is drawn on', () => {
    const det = { heatmapShape: [16, 48, 48] as Point3, originalShape: [64, 192, 192] as Point3 };
    expect(heatmapIndexAt(det, [30, 94, 90])).toBe((7 * 48 + 23) * 48 + 22);
    expect(heatmapIndexAt(det, [0, 0, 0])).toBe(0);
    expect(heatmapIndexAt(det, [63, 191, 191])).toBe(16 * 48 * 48 - 1);
    // every voxel of cell h's block maps to h, and the block's edges to the cells beside it
    const odd = { heatmapShape: [5, 7, 3] as Point3, originalShape: [23, 31, 10] as Point3 };
    for (let z = 0; z < 23; z++) {
      const hz = Math.floor((z * 5) / 23);
      expect(heatmapIndexAt(odd, [z, 30, 9])).toBe((hz * 7 + 6) * 3 + 2);
    }
    // the grid heatmapVolume places the cells on: cell h's centre, in original voxels, lies in h's block
    const grid = tomogramGrid({ id: 't', shape: [23, 31, 10] });
    const v = heatmapVolume({ id: 't', heatmap: new Float32Array(105), heatmapShape: odd.heatmapShape, score: 0, point: [0, 0, 0], peaks: [], originalShape: odd.originalShape, inputShape: odd.originalShape, timings: { totalMs: 0, predictMs: 0, resizeMs: 0, windows: 0 } }, grid);
    for (let h = 0; h < 3; h++) {
      const x = v.affine[0][0] * h + v.affine[0][3];
      expect(heatmapIndexAt(odd, [0, 0, Math.round(x)]) % 3).toBe(h);
    }
  });
});

describe('the motors gallery thumbnail (public/gallery/motors.png)', () => {
  it('has no dark quadrant and shows the heatmap around the detected motor with its marker', async () => {
    const { readFileSync } = await import('node:fs');
    const { decode } = await import('fast-png');
    const png = decode(readFileSync(new URL('../../../public/gallery/motors.png', import.meta.url)));
    const p = viewPixels(png);
    for (const q of p.quadrants) expect(q).toBeGreaterThan(VIEW_FLOORS.quadrantLuma);
    expect(p.heat).toBeGreaterThan(VIEW_FLOORS.heat);
    expect(p.yellowNear).toBeGreaterThan(VIEW_FLOORS.yellowNear);
  });
});
