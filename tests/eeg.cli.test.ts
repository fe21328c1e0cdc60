/**
 * `voxelbench spectrogram` as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts): the three EEG samples plus a
 * file with wrong columns and a truncated file; probabilities and KL against the PyTorch / Python
 * references of tools/make_eeg_fixtures.py; a wrong class count; a window. The preset contract
 * (src/core/presets/eeg.ts, run by tests/presetRunner.ts) writes the same submission.csv text and
 * KL line as the process.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paramsFromCli } from '../src/core/preset/derive';
import { eegParamSpecs, eegPreset, eegPresetDef, type EegParams, type EegRow } from '../src/core/presets/eeg';
import { cli } from './cliRunner';
import { loadModel, runPreset } from './presetRunner';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/eeg');
const SAMPLES = resolve(ROOT, 'public/samples/eeg');
const MODEL = resolve(ROOT, 'public/models/eeg_spectrogram.onnx');
const FILES = ['real_eegmmidb_S001R03', 'sim_lpd_002', 'sim_seizure_001'];
const ref = JSON.parse(readFileSync(resolve(FIX, 'model.json'), 'utf8')) as { samples: Record<string, { probabilities: number[]; two_fold_mean: number[] }> };
const klRef = JSON.parse(readFileSync(resolve(FIX, 'kl.json'), 'utf8')) as { votes: { kl: number; rows: number[]; eeg_id: string[] } };
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-eeg-'));
const DIR = join(tmp, 'inputs');

beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  for (const f of FILES) copyFileSync(resolve(SAMPLES, `${f}.parquet`), join(DIR, `${f}.parquet`));
  copyFileSync(resolve(FIX, 'wrong_columns.parquet'), join(DIR, 'bad_columns.parquet'));
  writeFileSync(join(DIR, 'cut.parquet'), readFileSync(resolve(SAMPLES, 'sim_lpd_002.parquet')).subarray(0, 200_000));
});

function csvRows(text: string): Map<string, number[]> {
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote');
  return new Map(lines.slice(1).map((l) => {
    const [id, ...v] = l.split(',');
    return [id, v.map(Number)];
  }));
}

describe('voxelbench spectrogram', () => {
  it('writes submission.csv with the PyTorch probabilities, prints the KL, names the bad files and runs the rest', async () => {
    const out = join(tmp, 'submission.csv');
    const r = await cli(['spectrogram', '--models', MODEL, '--inputs', DIR, '--out', out, '--votes', resolve(SAMPLES, 'votes.csv')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/bad_columns\.parquet: not an HMS spectrogram: missing 2 columns: LL_0\.59, RP_19\.92/);
    expect(r.stderr).toMatch(/cut\.parquet: the Parquet file is truncated/);
    expect(r.stderr).toMatch(/real_eegmmidb_S001R03\.parquet has 62 rows .* trained on 300-row/);
    const rows = csvRows(readFileSync(out, 'utf8'));
    expect([...rows.keys()]).toEqual(FILES);
    let worst = 0;
    for (const f of FILES) worst = Math.max(worst, ...rows.get(f)!.map((v, j) => Math.abs(v - ref.samples[f].probabilities[j])));
    expect(worst).toBeLessThan(1e-4);
    // per-file lines and the KL over the two files with votes (Python: kl.json)
    expect(r.stdout).toMatch(/sim_seizure_001\t300\t0\.87\d\d\t.*\tseizure\t/);
    const kl = Number(/KL divergence: ([\d.]+) \(mean over 2 files with votes\)/.exec(r.stdout)?.[1]);
    expect(Math.abs(kl - klRef.votes.kl)).toBeLessThan(1e-5);
    expect(r.stdout).toMatch(/wrote .*submission\.csv: 3 files, 1 model .*; 2 failed/);

    // the same through the preset contract: submission.csv text, refused files, table lines, KL line
    const model = await loadModel(MODEL);
    const votes = resolve(SAMPLES, 'votes.csv');
    const run = await runPreset(eegPresetDef, [...readdirSync(DIR).sort().map((f) => join(DIR, f)), votes, MODEL], { model: [model] }, eegPreset, { score: true });
    await model.release();
    expect(run.exports['submission.csv']).toBe(readFileSync(out, 'utf8'));
    expect(run.failed.map((f) => f.id)).toEqual(['bad_columns', 'cut']);
    for (const f of run.failed) expect(r.stderr).toContain(`voxelbench: ${f.message.split('\n')[0]}`);
    for (const w of run.readWarnings) expect(r.stderr).toContain(w);
    for (const row of run.rows as EegRow[]) {
      expect(r.stdout).toContain(`${row.eegId}\t${row.window.rows}\t${row.probabilities.map((v) => v.toFixed(4)).join('\t')}\t${row.top}\t`);
      for (const w of row.warnings) expect(r.stderr).toContain(w);
    }
    const m = run.metric!;
    expect([m.name, m.lowerIsBetter, m.score.toFixed(6)]).toEqual(['KL divergence', true, String(kl.toFixed(6))]);
    expect(m.lines.at(-1)).toBe(r.stdout.trim().split('\n').at(-1));
    expect(m.lines).toContain('no votes for real_eegmmidb_S001R03; left out of the KL');
    expect(r.stderr).toContain('voxelbench: no votes for real_eegmmidb_S001R03; left out of the KL');
  }, 180_000);

  it('two models are averaged; a window is taken from the given row', async () => {
    const out = join(tmp, 'two.csv');
    const r = await cli(['spectrogram', '--models', `${MODEL},${resolve(FIX, 'tiny_eeg_6class.onnx')}`, '--inputs', join(DIR, 'sim_lpd_002.parquet'), '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const got = csvRows(readFileSync(out, 'utf8')).get('sim_lpd_002')!;
    expect(Math.max(...got.map((v, j) => Math.abs(v - ref.samples.sim_lpd_002.two_fold_mean[j])))).toBeLessThan(1e-4);
    const w = await cli(['spectrogram', '--models', MODEL, '--inputs', join(DIR, 'sim_seizure_001.parquet'), '--out', join(tmp, 'w.csv'), '--window', '100', '--window-rows', '60']);
    expect(w.code).toBe(0);
    const wr = csvRows(readFileSync(join(tmp, 'w.csv'), 'utf8')).get('sim_seizure_001')!;
    const wref = (ref.samples as unknown as Record<string, { probabilities: number[] }>).window.probabilities;
    expect(Math.max(...wr.map((v, j) => Math.abs(v - wref[j])))).toBeLessThan(1e-4);
    expect(w.stdout).toMatch(/sim_seizure_001\t60\/300\t/);
    // the contract with the same flags: the same submission.csv
    const model = await loadModel(MODEL);
    const params = paramsFromCli<EegParams>(eegParamSpecs, { window: '100', 'window-rows': '60' }, eegPreset);
    const run = await runPreset(eegPresetDef, [join(DIR, 'sim_seizure_001.parquet')], { model: [model] }, params);
    await model.release();
    expect(run.exports['submission.csv']).toBe(readFileSync(join(tmp, 'w.csv'), 'utf8'));
    expect((run.rows as EegRow[])[0].window).toEqual({ start: 100, rows: 60 });
  }, 180_000);

  it('a model with the wrong number of classes stops with a clear message', async () => {
    const r = await cli(['spectrogram', '--models', resolve(FIX, 'tiny_eeg_5class.onnx'), '--inputs', DIR, '--out', join(tmp, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tiny_eeg_5class\.onnx: the model gives 5 classes .* the EEG preset needs 6: seizure, lpd, gpd, lrda, grda, other/);
  }, 120_000);
});
