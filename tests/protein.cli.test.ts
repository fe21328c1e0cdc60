/**
 * `voxelbench protein` as a real process (tsx + onnxruntime-node): a folder with the two public
 * samples (+ masks in a separate --cells folder), a broken set (missing channel), a set with channels
 * of different sizes and a non-PNG channel; the demo model; cells.csv equal to the core run here,
 * submission.csv, the cell mAP line; a 5-class model refused; --segment and --rle counts.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encode as encodePng } from 'fast-png';
import { sessionOutputsPredictor } from '../src/core/ortPredictor';
import { proteinParamsFromCard, proteinPreset } from '../src/core/presets/protein';
import { decodeBinaryMask, groupProteinFiles, readFovFiles, cellRows, cellsCsv, runProteinFov, type CellRow } from '../src/core/protein';

const ROOT = resolve(__dirname, '..');
const SAMPLES = resolve(ROOT, 'public/samples/protein');
const MODEL = resolve(ROOT, 'public/models/protein_localisation.onnx');
const FIX = resolve(ROOT, 'tests/fixtures/protein');
const IDS = ['sim_protein_001', 'sim_protein_002'];
const CH = ['red', 'green', 'blue', 'yellow'];
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-protein-'));
const IMAGES = join(tmp, 'images');
const CELLS = join(tmp, 'cells');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(resolve(ROOT, 'node_modules/.bin/tsx'), ['src/cli/main.ts', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(() => {
  mkdirSync(IMAGES, { recursive: true });
  mkdirSync(CELLS, { recursive: true });
  for (const id of IDS) {
    for (const c of CH) copyFileSync(join(SAMPLES, `${id}_${c}.png`), join(IMAGES, `${id}_${c}.png`));
    copyFileSync(join(SAMPLES, `${id}_cells.png`), join(CELLS, `${id}_cells.png`));
  }
  const png = (w: number, h: number) => encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(9), depth: 8, channels: 1 });
  for (const c of ['red', 'green', 'blue']) writeFileSync(join(IMAGES, `broken_${c}.png`), png(16, 16));
  for (const c of CH) writeFileSync(join(IMAGES, `sizes_${c}.png`), png(c === 'yellow' ? 12 : 16, 16));
  for (const c of CH) writeFileSync(join(IMAGES, `fake_${c}.png`), c === 'blue' ? new TextEncoder().encode('<html>not an image</html>') : png(16, 16));
  writeFileSync(join(IMAGES, 'notes.txt'), 'not an image');
});

describe('voxelbench protein (process)', () => {
  it('writes cells.csv = the core run, submission.csv and the cell mAP; bad sets are reported by name and skipped', async () => {
    const out = join(tmp, 'cells.csv');
    const sub = join(tmp, 'submission.csv');
    const r = await cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--cells', CELLS, '--out', out, '--submission', sub, '--labels', join(SAMPLES, 'cell_labels.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('broken: missing the yellow channel (broken_yellow.png)');
    expect(r.stderr).toMatch(/sizes: the channels have different sizes \(.*sizes_yellow\.png 12 x 16/);
    expect(r.stderr).toContain('fake_blue.png: not a PNG image');
    expect(r.stdout).toContain('sim_protein_001\t7 cells (given)');
    expect(r.stdout).toContain('sim_protein_002\t8 cells (given)');
    expect(r.stdout).toMatch(/wrote .*cells\.csv: \d+ rows for 2 fields of view \(HPA RLE\); 3 failed/);
    expect(r.stdout).toMatch(/cell mAP at IoU 0\.6: \d\.\d{4} over 4 classes \(2 images\)/);

    // the same rows from the core with onnxruntime-node in this process
    const card = JSON.parse(readFileSync(resolve(ROOT, 'public/models/protein_localisation.json'), 'utf8'));
    const params = proteinParamsFromCard(card, proteinPreset);
    const session = await ort.InferenceSession.create(readFileSync(MODEL));
    const model = { name: 'm', outputs: sessionOutputsPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), 'input') };
    const rows: CellRow[] = [];
    for (const id of IDS) {
      const { sets } = groupProteinFiles([...CH, 'cells'].map((c) => `${id}_${c}.png`), (f) => f);
      const { fov, cells } = await readFovFiles(sets[0], async (f) => new Uint8Array(readFileSync(join(SAMPLES, f))), (f) => f);
      rows.push(...cellRows(await runProteinFov(fov, cells, [model], params), params.classes, 'hpa'));
    }
    await session.release();
    const csv = readFileSync(out, 'utf8');
    expect(csv).toBe(cellsCsv(rows, new Map(IDS.map((id) => [id, [512, 512]]))));
    // every mask decodes to its cell of the given label image
    const first = csv.trim().split('\n')[1].split(',');
    const mask = decodeBinaryMask(first[7], 512, 512);
    expect(mask.reduce((a, b) => a + b, 0)).toBeGreaterThan(1000);
    const s = readFileSync(sub, 'utf8').trim().split('\n');
    expect(s[0]).toBe('ID,ImageWidth,ImageHeight,PredictionString');
    expect(s.map((l) => l.split(',')[0]).slice(1)).toEqual(IDS);
  }, 120_000);

  it('--segment (simple built-in segmentation) and --rle counts', async () => {
    const out = join(tmp, 'seg.csv');
    const r = await cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--out', out, '--segment', '--rle', 'counts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sim_protein_001\t\d+ cells \(segmented\)/);
    expect(r.stderr).toContain('cells from the simple built-in segmentation');
    const row = readFileSync(out, 'utf8').trim().split('\n')[1].split(',');
    expect(row[7]).toMatch(/^\d+( \d+)+$/);
  }, 120_000);

  it('refuses a model with the wrong number of classes, and missing arguments, with exit code 2', async () => {
    const r = await cli(['protein', '--models', join(FIX, 'tiny_protein_5cls.onnx'), '--inputs', IMAGES, '--out', join(tmp, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tiny_protein_5cls.onnx: the model gives 5 classes; the protein preset needs 19');
    const u = await cli(['protein', '--models', MODEL]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('protein needs --models, --inputs and --out');
    const h = await cli(['--help']);
    expect(h.stdout).toContain('voxelbench protein --models');
  }, 60_000);
});
