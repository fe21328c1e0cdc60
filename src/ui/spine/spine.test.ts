import { describe, expect, it } from 'vitest';
import { makeVolume } from '../../core/volume';
import { changedVoxels, displayCt, drawingToNative, labelsVolume, vertebraColormap, vertebraCounts, windowRange } from './display';
import { sortSpineFiles, type PickedFile } from './sources';

const picked = (paths: string[]): PickedFile<string>[] => paths.map((p) => ({ path: p, file: p }));

describe('sortSpineFiles', () => {
  it('makes one DICOM source per folder, ignores notes, and sorts models, cards, labels and NIfTI', () => {
    const s = sortSpineFiles(
      picked([
        'studies/a/10.dcm',
        'studies/a/2.dcm',
        'studies/a/1.dcm',
        'studies/a/ATTRIBUTION.md',
        'studies/b/IM0001',
        'studies/b/.DS_Store',
        'studies/notes/readme.txt',
        'ct.nii.gz',
        'spine_seg.onnx',
        'spine_seg.json',
        'train.csv',
      ]),
      ['studies/empty'],
    );
    expect(s.sources.map((x) => [x.kind, x.id])).toEqual([
      ['nifti', 'ct'],
      ['dicom', 'studies/a'],
      ['dicom', 'studies/b'],
      ['dicom', 'studies/empty'],
      ['dicom', 'studies/notes'],
    ]);
    const a = s.sources[1];
    expect(a.kind === 'dicom' && a.files.map((f) => f.path)).toEqual(['studies/a/1.dcm', 'studies/a/2.dcm', 'studies/a/10.dcm']);
    expect(a.kind === 'dicom' && a.ignored).toEqual(['studies/a/ATTRIBUTION.md']);
    const notes = s.sources[4];
    expect(notes.kind === 'dicom' && [notes.files.length, notes.ignored]).toEqual([0, ['studies/notes/readme.txt']]);
    expect(s.models.map((m) => m.path)).toEqual(['spine_seg.onnx']);
    expect(s.cards.map((m) => m.path)).toEqual(['spine_seg.json']);
    expect(s.labels.map((m) => m.path)).toEqual(['train.csv']);
  });

  it('takes loose DICOM files as one source', () => {
    const s = sortSpineFiles(picked(['1.dcm', '2.dcm']));
    expect(s.sources).toHaveLength(1);
    expect(s.sources[0].kind === 'dicom' && s.sources[0].files).toHaveLength(2);
  });
});

describe('display helpers', () => {
  it('colours C1..C7 and hides the unchecked ones', () => {
    const cm = vertebraColormap([true, false, true, true, true, true, true]);
    expect(cm.I).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(cm.A).toEqual([0, 255, 0, 255, 255, 255, 255, 255]);
    expect(cm.labels.slice(1)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
  });

  it('shows integer HU as int16 and keeps fractional values as float32', () => {
    const hu = makeVolume(Float32Array.from([-1024, 0, 1300, 5]), [1, 2, 2]);
    expect(displayCt(hu).data).toBeInstanceOf(Int16Array);
    expect(Array.from(displayCt(hu).data)).toEqual([-1024, 0, 1300, 5]);
    const frac = makeVolume(Float32Array.from([0.5, 0, 1, 2]), [1, 2, 2]);
    expect(displayCt(frac).data).toBeInstanceOf(Float32Array);
    expect(windowRange(400, 1800)).toEqual([-500, 1300]);
  });

  it('writes label maps on the CT grid and counts them', () => {
    const ct = makeVolume(new Float32Array(8), [2, 2, 2], { spacing: [3, 0.5, 0.5] });
    const labels = Uint8Array.from([0, 1, 1, 7, 0, 0, 2, 9]);
    const v = labelsVolume(ct, labels, 'x.nii');
    expect(v.shape).toEqual([2, 2, 2]);
    expect(v.affine).toEqual(ct.affine);
    expect(vertebraCounts(labels)).toEqual([2, 1, 0, 0, 0, 0, 1]);
    expect(changedVoxels(labels, Uint8Array.from([0, 1, 1, 7, 0, 0, 3, 9]))).toBe(1);
  });

  it('puts a RAS-ordered drawing back into the volume order (x flipped, y flipped)', () => {
    // native [D, H, W] = [2, 2, 3]; RAS order runs x and y backwards (as for an LPS DICOM)
    const [nx, ny, nz] = [3, 2, 2];
    const native = Uint8Array.from({ length: nx * ny * nz }, (_, i) => i);
    const step = [-1, -nx, nx * ny];
    const start = [nx - 1, (ny - 1) * nx, 0];
    const ras = new Uint8Array(native.length);
    let r = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) ras[r++] = native[start[0] + x * step[0] + start[1] + y * step[1] + start[2] + z * step[2]];
    expect(Array.from(ras.slice(0, 3))).toEqual([5, 4, 3]);
    expect(Array.from(drawingToNative(ras, { start, step, dimsRAS: [3, nx, ny, nz] }, native.length))).toEqual(Array.from(native));
  });
});

describe('actions helpers', async () => {
  const { readFileSync } = await import('node:fs');
  const { inspectModel } = await import('../../core/onnx/model');
  const { modelStage, progressFraction, unflipRow } = await import('./actions');

  it('tells stage 1 from stage 2 by the input rank of the real models', () => {
    const info = (name: string) => inspectModel(new Uint8Array(readFileSync(`public/models/${name}`)));
    expect(modelStage(info('spine_seg.onnx'))).toEqual({ stage: 'seg' });
    expect(modelStage(info('spine_fracture.onnx'))).toEqual({ stage: 'cls' });
    const flat = { ...info('spine_fracture.onnx') };
    flat.inputs = [{ name: 'x', type: 'float32', dims: ['n', 100] }];
    expect(modelStage(flat)).toEqual({ problem: expect.stringMatching(/input x is \[n, 100\]/) });
  });

  it('weights the run stages into one fraction', () => {
    expect(progressFraction(undefined)).toBe(0);
    expect(progressFraction({ stage: 'preprocess', done: 1, total: 1 })).toBeCloseTo(0.1);
    expect(progressFraction({ stage: 'segment', done: 1, total: 2 })).toBeCloseTo(0.4);
    expect(progressFraction({ stage: 'classify', done: 7, total: 7 })).toBeCloseTo(1);
  });

  it('maps a vertebra row of a flipped NIfTI back to the volume order', () => {
    const row = { name: 'C3', present: true, voxels: 5, volumeMl: 1, sliceRange: [10, 20] as [number, number], meanProb: 0.8, centre: [15, 30, 40] as [number, number, number] };
    const back = unflipRow(row, [92, 160, 160], [true, false, true]);
    expect(back.sliceRange).toEqual([71, 81]);
    expect(back.centre).toEqual([76, 30, 119]);
  });
});
