/**
 * `voxelbench motors` as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts): a folder with a JPEG slice
 * tomogram, MRC tomograms and a broken slice folder, the tiny ONNX motor model of
 * tools/make_motor_fixtures.py ((N,1,D,H,W) -> (N,1,D/2,H/2,W/2) logits 20 * mean - 10), and labels.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encode as encodeJpeg } from 'jpeg-js';
import { writeMrc, readVolume } from '../src/core/io';
import { makeVolume } from '../src/core/volume';
import { sessionPredictor } from '../src/core/ortPredictor';
import { motorsPreset, type MotorsParams } from '../src/core/presets/motors';
import { decodeGrayImage } from '../src/core/motors/decode';
import { detectMotors } from '../src/core/motors/pipeline';
import { stackSlices, tomogramFromVolume } from '../src/core/motors/tomogram';
import { submissionCsv, thresholdDetections } from '../src/core/motors/postprocess';
import { cli } from './cliRunner';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/motors');
const MODEL = resolve(FIX, 'tiny_motor.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-motors-'));
const TOMS = join(tmp, 'toms');
const SHAPE: [number, number, number] = [8, 16, 16];

/** Dim noisy background with a bright 3-voxel blob at `blob` (or none). */
function volume(blob: [number, number, number] | null, seed: number): Uint8Array {
  const [D, H, W] = SHAPE;
  const v = new Uint8Array(D * H * W);
  for (let i = 0; i < v.length; i++) v[i] = 30 + ((i * 7919 + seed * 104729) % 31);
  if (blob)
    for (let z = blob[0] - 1; z <= blob[0] + 1; z++)
      for (let y = blob[1] - 1; y <= blob[1] + 1; y++) for (let x = blob[2] - 1; x <= blob[2] + 1; x++) v[(z * H + y) * W + x] = 245;
  return v;
}

function jpegSlice(gray: Uint8Array, w: number, h: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba.fill(gray[i], 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = 255;
  }
  return new Uint8Array(encodeJpeg({ data: rgba, width: w, height: h }, 95).data);
}

const BLOB_A: [number, number, number] = [2, 4, 11];
const BLOB_B: [number, number, number] = [5, 11, 4];
// tiny_motor.onnx takes windows in [0, 1]: x / 255 (the pipeline's own default, 'none', feeds 0..255)
const ARGS = ['--input-scaling', 'div255', '--input-size', '8,16,16', '--roi', '8,16,16', '--overlap', '0,0,0', '--sw-batch', '1', '--tta', 'identity,flipD,flipH', '--quantile', '0.3', '--quiet'];
const PARAMS: MotorsParams = { ...motorsPreset, inputScaling: 'div255', inputSize: [8, 16, 16], roi: [8, 16, 16], overlap: [0, 0, 0], swBatch: 1, tta: ['identity', 'flipD', 'flipH'] };

beforeAll(() => {
  const [D, H, W] = SHAPE;
  // tomo_a: JPEG slices
  const a = volume(BLOB_A, 1);
  mkdirSync(join(TOMS, 'tomo_a'), { recursive: true });
  for (let z = 0; z < D; z++) writeFileSync(join(TOMS, 'tomo_a', `slice_${String(z).padStart(4, '0')}.jpg`), jpegSlice(a.subarray(z * H * W, (z + 1) * H * W), W, H));
  writeFileSync(join(TOMS, 'tomo_a', 'notes.txt'), 'not a slice');
  // tomo_b, tomo_d: float32 MRC (mapped min..max -> 0..255 on load), 100 A voxels
  const asMrc = (v: Uint8Array) => writeMrc(makeVolume(Float32Array.from(v, (x) => x / 100 - 1), [...SHAPE], { spacing: [100, 100, 100], unit: 'angstrom' }));
  writeFileSync(join(TOMS, 'tomo_b.mrc'), asMrc(volume(BLOB_B, 2)));
  writeFileSync(join(TOMS, 'tomo_d.mrc'), asMrc(volume(null, 3)));
  // tomo_c: slices of two sizes (bad)
  mkdirSync(join(TOMS, 'tomo_c'));
  writeFileSync(join(TOMS, 'tomo_c', 'slice_0000.jpg'), jpegSlice(new Uint8Array(W * H), W, H));
  writeFileSync(join(TOMS, 'tomo_c', 'slice_0001.jpg'), jpegSlice(new Uint8Array(12 * H), 12, H));
  // labels: a at its blob (TP), b far from its blob (FN), d none (TN); 100 A voxels -> 10-voxel threshold
  writeFileSync(
    join(tmp, 'labels.csv'),
    'row_id,tomo_id,Motor axis 0,Motor axis 1,Motor axis 2,Array shape (axis 0),Array shape (axis 1),Array shape (axis 2),Voxel spacing,Number of motors\n' +
      `0,tomo_a,${BLOB_A.join(',')},8,16,16,100,1\n1,tomo_b,5,0,15,8,16,16,100,1\n2,tomo_d,-1,-1,-1,8,16,16,100,0\n`,
  );
});

describe('cli motors', () => {
  it('writes the submission the core computes, reports the bad tomogram and scores against labels', async () => {
    const out = join(tmp, 'submission.csv');
    const r = await cli(['motors', '--models', MODEL, '--tomograms', TOMS, '--out', out, '--labels', join(tmp, 'labels.csv'), ...ARGS]);
    expect(r.code).toBe(0);
    // with --quiet, stderr has the warnings only: the skipped file and one clear line for the bad tomogram
    expect(r.stderr.trim().split('\n')).toEqual([
      "voxelbench: tomo_a: skipped 1 non-image file ('notes.txt')",
      "voxelbench: tomo_c: slice 'slice_0001.jpg' is 12 x 16 but 'slice_0000.jpg' is 16 x 16; all slices must have the same size",
    ]);
    // tp 1 (a), fn 1 (b: found at its blob (5, 11, 4), 11.7 voxels from its label (5, 0, 15) > 10), tn 1 (d):
    // F2 = 5 * 1 / (4 * (1 + 1) + (1 + 0)) = 5 / 9
    expect(r.stdout).toMatch(/^F-beta \(beta 2\): 0\.5556 {2}TP 1 {2}FP 0 {2}FN 1 {2}TN 1 /m);

    const csv = readFileSync(out, 'utf8');
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2');
    expect(lines.map((l) => l.split(',')[0])).toEqual(['tomo_id', 'tomo_a', 'tomo_b', 'tomo_d']);
    expect(lines[3]).toBe('tomo_d,-1,-1,-1');
    for (const [line, blob] of [[lines[1], BLOB_A], [lines[2], BLOB_B]] as const) {
      const p = line.split(',').slice(1).map(Number);
      p.forEach((v, a) => expect(Math.abs(v - blob[a])).toBeLessThanOrEqual(2)); // one 2-voxel heatmap cell
    }

    // the same inputs through the core API (as the page runs it) give the same bytes
    const session = await ort.InferenceSession.create(MODEL);
    const model = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), 'input', 'heatmap');
    const a = stackSlices(
      'tomo_a',
      Array.from({ length: SHAPE[0] }, (_, z) => {
        const name = `slice_${String(z).padStart(4, '0')}.jpg`;
        return { name, ...decodeGrayImage(new Uint8Array(readFileSync(join(TOMS, 'tomo_a', name))), name) };
      }),
    );
    const dets = [];
    for (const t of [a, ...['tomo_b', 'tomo_d'].map((id) => tomogramFromVolume(readVolume(new Uint8Array(readFileSync(join(TOMS, `${id}.mrc`))), `${id}.mrc`), id))]) {
      dets.push(await detectMotors(t, [model], PARAMS));
    }
    await session.release();
    expect(csv).toBe(submissionCsv(thresholdDetections(dets, 0.3)));
  });

  it('a model that does not give a single-channel 3D map is refused with one line', async () => {
    const r = await cli(['motors', '--models', resolve(FIX, 'tiny_motor_2ch.onnx'), '--tomograms', TOMS, '--out', join(tmp, 'x.csv'), ...ARGS]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/tiny_motor_2ch\.onnx: the output 'heatmap' has shape \[n, 2, d, h, w\]; the motor preset needs a single-channel 3D map \(N, 1, d, h, w\)/);
  });

  it('exits non-zero when no tomogram can be processed', async () => {
    const r = await cli(['motors', '--models', MODEL, '--tomograms', join(TOMS, 'tomo_c'), '--out', join(tmp, 'y.csv'), ...ARGS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tomo_c: slice 'slice_0001\.jpg' is 12 x 16/);
    expect(r.stderr).toMatch(/none of the 1 tomograms could be processed; nothing written/);
  });
});
