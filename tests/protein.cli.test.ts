/**
 * `voxelbench protein` as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts): a folder with the two public
 * samples (+ masks in a separate --cells folder), a broken set (missing channel), a set with channels
 * of different sizes and a non-PNG channel; the demo model; cells.csv equal to the core run here,
 * submission.csv, the cell mAP line; a 5-class model refused; --segment and --rle counts. The preset
 * contract (src/core/presets/protein.ts, run by tests/presetRunner.ts) writes the same cells.csv and
 * submission.csv text and the same mAP line as the process, also for the built-in segmentation scored
 * against the given masks.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encode as encodePng } from 'fast-png';
import { sessionOutputsPredictor } from '../src/core/ortPredictor';
import { paramsFromCli } from '../src/core/preset/derive';
import { proteinParamsFromCard, proteinParamSpecs, proteinPreset, proteinPresetDef, type ProteinParams, type ProteinRow } from '../src/core/presets/protein';
import { decodeBinaryMask, groupProteinFiles, readFovFiles, cellRows, cellsCsv, runProteinFov, type CellRow } from '../src/core/protein';
import { cli, ROOT } from './cliRunner';
import { loadModel, runPreset, type PresetRun } from './presetRunner';

const SAMPLES = resolve(ROOT, 'public/samples/protein');
const MODEL = resolve(ROOT, 'public/models/protein_localisation.onnx');
const FIX = resolve(ROOT, 'tests/fixtures/protein');
const IDS = ['sim_protein_001', 'sim_protein_002'];
const CH = ['red', 'green', 'blue', 'yellow'];
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-protein-'));
const IMAGES = join(tmp, 'images');
const CELLS = join(tmp, 'cells');
const LABELS = join(SAMPLES, 'cell_labels.csv');
const CARD = JSON.parse(readFileSync(resolve(ROOT, 'public/models/protein_localisation.json'), 'utf8'));
const list = (dir: string) => readdirSync(dir).sort().map((f) => join(dir, f));

/** The preset through its contract functions on what the CLI was given (the folders' listings, sorted). */
async function contractRun(paths: string[], params: ProteinParams): Promise<PresetRun> {
  const model = await loadModel(MODEL);
  try {
    return await runPreset(proteinPresetDef, [...paths, MODEL], { model: [model] }, params, { score: true });
  } finally {
    await model.release();
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

    // the same through the preset contract: both CSV texts, the refused sets, the table lines, the mAP line
    const run = await contractRun([...list(IMAGES), ...list(CELLS), LABELS], params);
    expect(run.exports['cells.csv']).toBe(csv);
    expect(run.exports['submission.csv']).toBe(readFileSync(sub, 'utf8'));
    expect(run.failed.map((f) => f.id)).toEqual(['broken', 'fake', 'sizes']);
    for (const f of run.failed) expect(r.stderr).toContain(f.message.split('\n')[0]);
    const rowsOut = run.rows as ProteinRow[];
    for (const row of rowsOut) expect(r.stdout).toContain(`${row.id}\t${row.cellCount} cells (${row.cellsSource})\t${row.cells.length} cell labels\t`);
    expect(JSON.parse(JSON.stringify(rowsOut))).toEqual(rowsOut); // rows are plain JSON
    expect([run.metric!.name, run.metric!.lowerIsBetter]).toEqual(['cell mAP at IoU 0.6', false]);
    expect(run.metric!.lines.at(-1)).toBe(r.stdout.split('\n').find((l) => l.startsWith('cell mAP')));
  }, 180_000);

  it('--segment --rle counts with given masks and labels: the contract scores the segmented cells against the masks as the CLI does', async () => {
    const out = join(tmp, 'seg_scored.csv');
    const r = await cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--cells', CELLS, '--out', out, '--segment', '--rle', 'counts', '--labels', LABELS]);
    expect(r.code, r.stderr).toBe(0);
    const params = paramsFromCli<ProteinParams>(proteinParamSpecs, { segment: true, rle: 'counts' }, proteinParamsFromCard(CARD, proteinPreset));
    const run = await contractRun([...list(IMAGES), ...list(CELLS), LABELS], params);
    expect(run.exports['cells.csv']).toBe(readFileSync(out, 'utf8'));
    const rowsOut = run.rows as ProteinRow[];
    expect(rowsOut.map((x) => x.cellsSource)).toEqual(['segmented', 'segmented']);
    // the segmented cells are not the given ones: IoUs below 1 are what the metric works on
    expect(rowsOut[0].maskIous!.some(([, , v]) => v < 1)).toBe(true);
    const line = r.stdout.split('\n').find((l) => l.startsWith('cell mAP'));
    expect(line).toMatch(/^cell mAP at IoU 0\.6: \d\.\d{4} over \d+ classes \(2 images\)/);
    expect(run.metric!.lines.at(-1)).toBe(line);
  }, 180_000);

  it('--segment (simple built-in segmentation) and --rle counts', async () => {
    const out = join(tmp, 'seg.csv');
    const r = await cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--out', out, '--segment', '--rle', 'counts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sim_protein_001\t\d+ cells \(segmented\)/);
    expect(r.stderr).toContain('cells from the simple built-in segmentation');
    const row = readFileSync(out, 'utf8').trim().split('\n')[1].split(',');
    expect(row[7]).toMatch(/^\d+( \d+)+$/);
    // the contract with the CLI's --segment and --rle as values: the same cells.csv
    const params = paramsFromCli<ProteinParams>(proteinParamSpecs, { segment: true, rle: 'counts' }, proteinParamsFromCard(CARD, proteinPreset));
    expect((await contractRun(list(IMAGES), params)).exports['cells.csv']).toBe(readFileSync(out, 'utf8'));
  }, 180_000);

  it('--cells also takes label TIFFs <id>.tif (the preset\'s extra inputs, run protein --cells too): the same cells.csv as the PNG masks', async () => {
    const TIF = join(FIX, 'cells_tif'); // sim_protein_00{1,2}_cells.png as 8-bit LZW TIFFs
    const dir = join(tmp, 'tif');
    const [png, tif, generic] = await Promise.all([
      cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--cells', CELLS, '--out', join(dir, 'png_cells.csv')]),
      cli(['protein', '--models', MODEL, '--inputs', IMAGES, '--cells', TIF, '--out', join(dir, 'tif_cells.csv')]),
      cli(['run', 'protein', '--models', MODEL, '--inputs', IMAGES, '--cells', TIF, '--out', join(tmp, 'tif_run'), '--quiet']),
    ]);
    for (const r of [png, tif, generic]) expect(r.code, r.stderr).toBe(0);
    expect(tif.stdout).toContain('sim_protein_001\t7 cells (given)');
    expect(tif.stdout).toContain('sim_protein_002\t8 cells (given)');
    const csv = readFileSync(join(dir, 'png_cells.csv'), 'utf8');
    expect(readFileSync(join(dir, 'tif_cells.csv'), 'utf8')).toBe(csv);
    expect(readFileSync(join(tmp, 'tif_run', 'cells.csv'), 'utf8')).toBe(csv);
    // without --submission the command writes no submission.csv (run protein writes both)
    expect(readdirSync(dir).sort()).toEqual(['png_cells.csv', 'tif_cells.csv']);
    expect(readdirSync(join(tmp, 'tif_run')).sort()).toEqual(['cells.csv', 'submission.csv']);
  }, 180_000);

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
