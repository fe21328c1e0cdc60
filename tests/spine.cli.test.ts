/**
 * `voxelbench spine` (= run spine) as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts) on the demo models: a
 * DICOM study folder (the simulated series), the same CT as NIfTI, and a folder without DICOM; label
 * masks read back (shape and affine of the CT), submission.csv rows and the metric line; a study
 * without StudyInstanceUID keeps its folder's name (in a folder of studies and on its own); a folder
 * with two series runs the largest.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import dicomParser from 'dicom-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from '../src/core/io';
import { cli } from './cliRunner';

const ROOT = resolve(__dirname, '..');
const CT = resolve(ROOT, 'public/samples/ct');
const SEG = resolve(ROOT, 'public/models/spine_seg.onnx');
const CLS = resolve(ROOT, 'public/models/spine_fracture.onnx');
const REF = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/spine/reference.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-spine-'));
const STUDIES = join(tmp, 'studies');
const OUT = join(tmp, 'out');
const UID = REF.sim_neck.studyUid as string;

/** A DICOM file (explicit VR little endian) without its StudyInstanceUID element. */
function withoutStudyUid(bytes: Uint8Array): Uint8Array {
  const el = dicomParser.parseDicom(bytes).elements.x0020000d;
  const start = el.dataOffset - 8; // tag (4), VR 'UI' (2), length (2)
  return Buffer.concat([bytes.subarray(0, start), bytes.subarray(el.dataOffset + el.length)]);
}

beforeAll(() => {
  mkdirSync(join(STUDIES, 'neck'), { recursive: true });
  for (const f of readdirSync(join(CT, 'sim_neck'))) copyFileSync(join(CT, 'sim_neck', f), join(STUDIES, 'neck', f));
  copyFileSync(join(CT, 'sim_neck.nii.gz'), join(STUDIES, 'neck_nifti.nii.gz'));
  mkdirSync(join(STUDIES, 'broken'));
  writeFileSync(join(STUDIES, 'broken', 'readme.txt'), 'not a scan');
  writeFileSync(join(tmp, 'labels.csv'), readFileSync(join(CT, 'sim_neck_labels.csv'), 'utf8') + 'neck_nifti,1,0,0,0,0,1,0,0\n');
});

describe('voxelbench spine', () => {
  it('DICOM + NIfTI studies: masks in the CT space, submission.csv, metric; the broken study is named and skipped', async () => {
    const r = await cli(['spine', '--seg', SEG, '--cls', CLS, '--studies', STUDIES, '--out', OUT, '--labels', join(tmp, 'labels.csv')]);
    // the preset's read (run spine) names a folder with notes only; the command before the runner gave readme.txt to the DICOM reader
    expect(r.stderr).toMatch(/broken: skipped: broken\/: no DICOM files here \(only readme\.txt\)/);
    expect(r.code).toBe(1); // one study failed, the others ran
    expect(r.stdout).toMatch(new RegExp(`${UID.replace(/\./g, '\\.')}\\n  vertebra  voxels`));
    expect(r.stdout).toMatch(/ {2}C5 +\d+ +\d+\.\d\d +\d+\.\.\d+ +0\.\d{3} {2}0\.\d{3}/);
    expect(r.stdout).toMatch(/patient_overall 0\.\d{3} \(1 - prod\(1 - C_k\): no patient head\)/);
    expect(r.stdout).toMatch(/RSNA 2022 weighted log loss: \d\.\d{4} \(2 studies, 16 rows\)/);
    const ct = readVolume(new Uint8Array(readFileSync(join(CT, 'sim_neck.nii.gz'))), 'sim_neck.nii.gz');
    const a = readVolume(new Uint8Array(readFileSync(join(OUT, `${UID}.nii.gz`))), 'a.nii.gz');
    const b = readVolume(new Uint8Array(readFileSync(join(OUT, 'neck_nifti.nii.gz'))), 'b.nii.gz');
    for (const v of [a, b]) {
      expect(v.shape).toEqual(ct.shape);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(v.affine[i][j]).toBeCloseTo(ct.affine[i][j], 4);
      expect(v.data).toBeInstanceOf(Uint8Array);
      expect(Math.max(...new Set(v.data))).toBe(7);
    }
    // the NIfTI holds HU = stored - 1024: the min-max preprocessing makes it the same input
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    const csv = readFileSync(join(OUT, 'submission.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('row_id,fractured');
    expect(csv).toHaveLength(17);
    expect(csv.slice(1, 9).map((l) => l.split(',')[0])).toEqual([...['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7'].map((c) => `${UID}_${c}`), `${UID}_patient_overall`]);
    expect(csv.slice(9).map((l) => l.split(',')[1])).toEqual(csv.slice(1, 9).map((l) => l.split(',')[1]));
  }, 240_000);

  it('one study folder, segmentation only: masks, no submission.csv', async () => {
    const out = join(tmp, 'out2');
    const r = await cli(['spine', '--seg', SEG, '--studies', join(STUDIES, 'neck'), '--out', out, '--threshold', '0.3', '--quiet']);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual([`${UID}.nii.gz`]);
  }, 120_000);

  it('a study without StudyInstanceUID keeps its folder name, in a folder of studies and on its own; of two series in one folder the largest runs', async () => {
    // more/anon: the simulated series without StudyInstanceUID; more/mixed: the simulated series and the JPEG 2000 one (20 slices) in one folder
    const more = join(tmp, 'more');
    mkdirSync(join(more, 'anon'), { recursive: true });
    mkdirSync(join(more, 'mixed'));
    for (const f of readdirSync(join(CT, 'sim_neck'))) {
      writeFileSync(join(more, 'anon', f), withoutStudyUid(new Uint8Array(readFileSync(join(CT, 'sim_neck', f)))));
      copyFileSync(join(CT, 'sim_neck', f), join(more, 'mixed', f));
    }
    for (const f of readdirSync(join(CT, 'real_totalseg_j2k'))) copyFileSync(join(CT, 'real_totalseg_j2k', f), join(more, 'mixed', f));
    const [studies, one] = await Promise.all([
      cli(['spine', '--seg', SEG, '--studies', more, '--out', join(tmp, 'out-more')]),
      cli(['spine', '--seg', SEG, '--studies', join(more, 'anon'), '--out', join(tmp, 'out-anon'), '--quiet']),
    ]);
    expect(studies.code, studies.stderr).toBe(0);
    expect(one.code, one.stderr).toBe(0);
    expect(readdirSync(join(tmp, 'out-more')).sort()).toEqual([`${UID}.nii.gz`, 'anon.nii.gz']);
    expect(readdirSync(join(tmp, 'out-anon'))).toEqual(['anon.nii.gz']);
    expect(studies.stdout).toMatch(/^anon\n {2}vertebra/);
    expect(studies.stdout).toContain('  anon/ (92 DICOM files): 92 x 160 x 160;');
    expect(studies.stdout).toContain('  mixed/ (92 DICOM files): 92 x 160 x 160;');
    expect(studies.stderr).toMatch(/mixed: series CT Body 3\.0 \(20 slices\) left out/);
    // the same CT: the same masks, byte for byte
    const anon = readFileSync(join(tmp, 'out-anon', 'anon.nii.gz'));
    expect(readFileSync(join(tmp, 'out-more', 'anon.nii.gz'))).toEqual(anon);
    expect(readFileSync(join(tmp, 'out-more', `${UID}.nii.gz`))).toEqual(anon);
  }, 240_000);

  it('usage errors', async () => {
    let r = await cli(['spine', '--studies', STUDIES, '--out', OUT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('voxelbench: spine needs --seg, --studies and --out\n');
    r = await cli(['spine', '--seg', join(tmp, 'none.onnx'), '--studies', STUDIES, '--out', OUT]);
    expect(r.stderr).toMatch(/--seg: no such model file/);
    r = await cli(['spine', '--seg', SEG, '--studies', STUDIES, '--out', OUT, '--order', 'random']);
    expect(r.stderr).toBe("voxelbench: --order must be position or filename, got 'random'\n");
    r = await cli(['spine', '--seg', SEG, '--studies', STUDIES, '--out', OUT, '--labels', join(tmp, 'labels.csv')]);
    expect(r.stderr).toMatch(/--labels needs --cls/);
    r = await cli(['spine', '--seg', CLS, '--studies', STUDIES, '--out', OUT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('voxelbench: --seg: spine_fracture.onnx: a segmentation model needs a 5D input (N, C, D, H, W); this one has [n, 6, h, w]\n');
  }, 120_000);
});
