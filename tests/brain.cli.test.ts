/**
 * `voxelbench brain` (= run brain) as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts) on the MeshNet demo
 * (public/demo/meshnet: the model, its card and the conformed T1): refused at roi 192 without
 * relaxed dims; with the card (roi 192, "relaxDims": true) it writes tissue_volumes.csv and
 * t1_labels.nii.gz with the voxel counts tests/brain.preset.test.ts pins.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNifti } from '../src/core/io/nifti';
import { labelCounts } from '../src/core/labels';
import { cli, ROOT } from './cliRunner';

const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-brain-'));
const at = (p: string) => resolve(ROOT, p);

describe('voxelbench brain (= run brain) on the MeshNet demo', () => {
  const DEMO = at('public/demo/meshnet');
  const args = ['--inputs', join(DEMO, 't1.nii.gz'), '--model', join(DEMO, 'model.onnx')];

  it('the model is fixed at 256^3: at roi 192 it is refused with how to run it', async () => {
    const r = await cli(['run', 'brain', ...args.map((a) => (a === '--model' ? '--models' : a)), '--out', join(tmp, 'brain-refused')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'voxelbench: --models: model.onnx: its input is fixed at [256, 256, 256] but the roi is [192, 192, 192]: set the roi to that size or load the model with relaxed spatial dims (--relax-dims makes its spatial dims symbolic)\n',
    );
  });

  it('with the demo card (roi 192, relaxDims): tissue_volumes.csv and t1_labels.nii.gz with the voxel counts the brain preset pins', { timeout: 900_000 }, async () => {
    const out = join(tmp, 'brain');
    const r = await cli(['brain', ...args, '--card', join(DEMO, 'card.json'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // pinned in tests/brain.preset.test.ts: MeshNet at roi 192, overlap 0.5, gaussian, onnxruntime-node CPU
    const counts = [15523633, 518557, 735026];
    expect(readFileSync(join(out, 'tissue_volumes.csv'), 'utf8')).toBe(
      'id,label,name,voxels,volume_ml,conformed_voxels,conformed_volume_ml\n' +
        't1,0,background,15523633,15523.633,15523633,15523.633\nt1,1,white matter,518557,518.557,518557,518.557\nt1,2,grey matter,735026,735.026,735026,735.026\n',
    );
    const labels = readNifti(new Uint8Array(readFileSync(join(out, 't1_labels.nii.gz'))), 't1_labels.nii.gz');
    const t1 = readNifti(new Uint8Array(readFileSync(join(DEMO, 't1.nii.gz'))), 't1.nii.gz');
    expect(labels.shape).toEqual([256, 256, 256]);
    expect(labels.affine).toEqual(t1.affine);
    expect(labelCounts(labels.data as Uint8Array, 3)).toEqual(counts);
    expect(r.stdout).toBe(
      `t1\tbackground 15523.633 mL (15523633 voxels)\twhite matter 518.557 mL (518557 voxels)\tgrey matter 735.026 mL (735026 voxels)\t-> ${join(out, 't1_labels.nii.gz')}\n` +
        `wrote ${join(out, 'tissue_volumes.csv')}: 1 volume\n`,
    );
  });
});
