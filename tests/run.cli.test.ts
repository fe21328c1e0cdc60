/**
 * `voxelbench run <preset>`, `--shard K/N` + `merge`, the `motors` alias and --relax-dims, as real
 * processes (the built CLI + onnxruntime-node, tests/cliRunner.ts) on the bundled demo samples and models.
 *
 * The shard test runs for every preset in PRESET_DEFS whose demo samples and models are in the
 * repository (motors, spine, EEG, protein; brain's one demo volume takes minutes a run: it runs
 * once in tests/brain.cli.test.ts), on at least 3 inputs each so that every shard has rows: one
 * run and 3 shards + merge must write byte-identical batch exports and item files and print the
 * same metric lines.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel } from '../src/core/onnx/model';
import { presetDefaults, type AnyPreset } from '../src/core/preset';
import { PRESET_DEFS } from '../src/core/presets';
import { normaliseArgv } from '../src/cli/args';
import { runOptions } from '../src/cli/run';
import { cli, ROOT, type CliResult } from './cliRunner';

const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-run-'));
const at = (p: string) => resolve(ROOT, p);

/** A third field of view for the protein demo (the first one's channels and mask under another id), so that 3 shards all have one. */
const PROTEIN3 = join(tmp, 'protein3');

/** The demo of each preset: its samples, models and labels (what the page's demo loads), at least 3 inputs. */
const DEMOS: Record<string, { inputs: string[]; models: string[]; labels?: string }> = {
  motors: { inputs: ['public/samples/tomograms'], models: ['public/models/motor_heatmap.onnx'], labels: 'public/samples/tomograms/labels.csv' },
  // the DICOM series, the same CT as NIfTI, and the JPEG 2000 series
  spine: {
    inputs: ['public/samples/ct/sim_neck', 'public/samples/ct/sim_neck.nii.gz', 'public/samples/ct/real_totalseg_j2k'],
    models: ['public/models/spine_seg.onnx', 'public/models/spine_fracture.onnx'],
    labels: 'public/samples/ct/sim_neck_labels.csv',
  },
  eeg: { inputs: ['public/samples/eeg'], models: ['public/models/eeg_spectrogram.onnx'], labels: 'public/samples/eeg/votes.csv' },
  protein: { inputs: ['public/samples/protein', PROTEIN3], models: ['public/models/protein_localisation.onnx'], labels: 'public/samples/protein/cell_labels.csv' },
};

mkdirSync(PROTEIN3, { recursive: true });
for (const c of ['red', 'green', 'blue', 'yellow', 'cells']) copyFileSync(at(`public/samples/protein/sim_protein_001_${c}.png`), join(PROTEIN3, `sim_protein_003_${c}.png`));

/** The model flags of a demo: each model goes to the first role that accepts it (as on the page). */
function modelFlags(preset: AnyPreset, models: string[]): string[] {
  const byRole = new Map<string, string[]>();
  const defaults = presetDefaults(preset);
  for (const m of models) {
    const info = inspectModel(new Uint8Array(readFileSync(at(m))));
    const role =
      preset.models.find((r) => r.accepts?.(info)) ?? preset.models.find((r) => !r.accepts && r.check(info, m, defaults).length === 0) ?? preset.models[0];
    byRole.set(role.cli, [...(byRole.get(role.cli) ?? []), at(m)]);
  }
  return [...byRole].flatMap(([flag, paths]) => [`--${flag}`, paths.join(',')]);
}

const demoPresets = Object.values(PRESET_DEFS).filter((p): p is AnyPreset => {
  const d = p && DEMOS[p.id];
  return !!d && [...d.inputs, ...d.models, ...(d.labels ? [d.labels] : [])].every((f) => existsSync(at(f)));
});

/**
 * One process per distinct command line in this file: the motors demo's `run motors` (one run of
 * the shard test) is also what the alias test compares `motors` with; it runs once for both.
 */
const runs = new Map<string, Promise<CliResult>>();
const cliOnce = (args: string[]): Promise<CliResult> => {
  const key = JSON.stringify(args);
  if (!runs.has(key)) runs.set(key, cli(args));
  return runs.get(key)!;
};

/** stdout lines after the first ("wrote ..."): the metric's lines. */
const metricLines = (stdout: string) => stdout.trimEnd().split('\n').slice(1);

describe('run <preset>: 3 shards + merge = one run', () => {
  it('runs for every registered preset with demo samples (motors, spine, EEG, protein)', () => {
    expect(demoPresets.map((p) => p.id)).toContain('motors');
    expect(demoPresets.map((p) => p.id)).toEqual(['motors', 'spine', 'eeg', 'protein']);
  });

  for (const preset of demoPresets) {
    it(`${preset.id}: one run and 3 shards + merge write the same bytes and the same metric`, { timeout: 600_000 }, async () => {
      const demo = DEMOS[preset.id];
      const args = ['--inputs', demo.inputs.map(at).join(','), ...modelFlags(preset, demo.models)];
      const labels = demo.labels && preset.labels ? [`--${preset.labels.cli}`, at(demo.labels)] : [];
      const one = join(tmp, `${preset.id}-one`);
      const sharded = join(tmp, `${preset.id}-shards`);

      const single = await cliOnce(['run', preset.id, ...args, ...labels, '--out', one]);
      expect(single.stderr.split('\n').filter((l) => /could not|cannot|failed/.test(l))).toEqual([]);
      expect(single.code).toBe(0);
      // the abdominal JPEG 2000 series is outside what the segmentation model's card declares: one line says so
      if (preset.id === 'spine') expect(single.stderr).toContain('voxelbench: real_totalseg_j2k: outside what spine_seg.json expects: 20 slices (expects >= 60)');
      const shards = await Promise.all([1, 2, 3].map((k) => cli(['run', preset.id, ...args, '--out', sharded, '--shard', `${k}/3`, '--quiet'])));
      for (const s of shards) expect(s.code, s.stderr).toBe(0);
      expect(readdirSync(sharded).filter((f) => f.startsWith('shard-')).sort()).toEqual(['shard-1-of-3.json', 'shard-2-of-3.json', 'shard-3-of-3.json']);
      // each shard holds the sources i with i mod 3 = K - 1, and nothing of the batch step
      const shardFiles = [1, 2, 3].map((k) => JSON.parse(readFileSync(join(sharded, `shard-${k}-of-3.json`), 'utf8')));
      for (const [k, s] of shardFiles.entries()) {
        expect(s.preset).toBe(preset.id);
        expect(s.sources.length).toBeGreaterThanOrEqual(3);
        expect(s.rows.length, `shard ${k + 1} of 3 has rows`).toBeGreaterThan(0);
        for (const r of s.rows) expect(r.source % 3).toBe(k);
      }
      expect(preset.exports.some((e) => existsSync(join(sharded, e.file)))).toBe(false);
      const merged = await cli(['merge', sharded, ...labels]);
      expect(merged.code, merged.stderr).toBe(0);

      const written = preset.exports.map((e) => e.file).filter((f) => existsSync(join(one, f)));
      expect(written.length).toBeGreaterThan(0);
      for (const f of written) expect(readFileSync(join(sharded, f)), f).toEqual(readFileSync(join(one, f)));
      // the item files (spine masks) too: the shards wrote them, one of each, with the same bytes
      const itemFiles = readdirSync(one).filter((f) => !written.includes(f));
      expect(itemFiles.length).toBe(preset.itemExports ? shardFiles.reduce((a, x) => a + x.itemFiles.length, 0) : 0);
      for (const f of itemFiles) expect(readFileSync(join(sharded, f)), f).toEqual(readFileSync(join(one, f)));
      // the same report: files and counts (but the folder), then every metric line
      expect(merged.stdout.replaceAll(sharded, 'OUT')).toBe(single.stdout.replaceAll(one, 'OUT'));
      if (labels.length) expect(metricLines(single.stdout).length).toBeGreaterThan(0);
    });
  }
});

describe('motors: the alias and run motors', () => {
  // recorded from `motors` before it became an alias of the generic runner (same samples, model and card);
  // the scores since JPEG slices decode with libjpeg-turbo: the same numbers as the pipeline gives on
  // PIL's decoded voxels (jpeg-js, before, was off by a grey level here and there: 4th decimal)
  const BEFORE = [
    'tomo_sim_001\tscore 0.8733\t(30.0, 94.0, 90.0)\tmotor',
    'tomo_sim_002\tscore 0.8256\t(46.0, 82.0, 138.0)\tbelow cutoff',
    'tomo_sim_003\tscore 0.9057\t(22.0, 50.0, 130.0)\tmotor',
    'tomo_sim_004\tscore 0.5793\t(26.0, 10.0, 22.0)\tbelow cutoff',
    'wrote OUT: 4 tomograms, 2 with a motor (cutoff 0.8559 = quantile 0.545 of the scores)',
    'tomo_sim_001\tTP\tdistance 3.2\tthreshold 25.0 voxels',
    'tomo_sim_002\tTN\tdistance -\tthreshold 25.0 voxels',
    'tomo_sim_003\tTP\tdistance 3.3\tthreshold 25.0 voxels',
    'tomo_sim_004\tTN\tdistance -\tthreshold 25.0 voxels',
    'F-beta (beta 2): 1.0000  TP 2  FP 0  FN 0  TN 2  precision 1.0000  recall 1.0000  (4 tomograms, 1000 A threshold)',
  ];
  const CSV_BEFORE = 'tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\ntomo_sim_001,30,94,90\ntomo_sim_002,-1,-1,-1\ntomo_sim_003,22,50,130\ntomo_sim_004,-1,-1,-1\n';
  const MODEL = at('public/models/motor_heatmap.onnx');
  const TOMS = at('public/samples/tomograms');
  const LABELS = join(TOMS, 'labels.csv');

  it('motors prints and writes what it did before; run motors writes the same submission.csv and metric', { timeout: 300_000 }, async () => {
    const out = join(tmp, 'alias', 'submission.csv');
    const [alias, generic] = await Promise.all([
      cli(['motors', '--models', MODEL, '--tomograms', TOMS, '--out', out, '--labels', LABELS]),
      // the same command line as the shard test's one run of the motors demo (cliOnce: run once for both)
      cliOnce(['run', 'motors', '--inputs', TOMS, '--models', MODEL, '--labels', LABELS, '--out', join(tmp, 'motors-one')]),
    ]);
    expect(alias.code, alias.stderr).toBe(0);
    expect(alias.stdout).toBe(BEFORE.join('\n').replace('OUT', out) + '\n');
    expect(readFileSync(out, 'utf8')).toBe(CSV_BEFORE);
    expect(generic.code, generic.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'motors-one', 'submission.csv'), 'utf8')).toBe(CSV_BEFORE);
    expect(generic.stdout).toBe(`wrote ${join(tmp, 'motors-one', 'submission.csv')}: 4 rows\n${BEFORE.slice(5).join('\n')}\n`);
  });

  it('--cutoff score --score-threshold: a fixed threshold gives a tomogram the same verdict alone as in a batch', { timeout: 300_000 }, async () => {
    const [batch, alone, alias, bad] = await Promise.all([
      cli(['run', 'motors', '--inputs', TOMS, '--models', MODEL, '--labels', LABELS, '--out', join(tmp, 'score-batch'), '--cutoff', 'score', '--score-threshold', '0.5']),
      cli(['run', 'motors', '--inputs', join(TOMS, 'tomo_sim_002'), '--models', MODEL, '--out', join(tmp, 'score-alone'), '--cutoff', 'score', '--score-threshold', '0.5']),
      cli(['motors', '--models', MODEL, '--tomograms', TOMS, '--out', join(tmp, 'score-alias.csv'), '--cutoff', 'score', '--score-threshold', '0.85']),
      cli(['run', 'motors', '--inputs', TOMS, '--models', MODEL, '--cutoff', 'score', '--score-threshold', '-1']),
    ]);
    for (const r of [batch, alone, alias]) expect(r.code, r.stderr).toBe(0);
    // scores of the slices as libjpeg-turbo decodes them (= PIL). Every score is above 0.5: all four keep their points (the batch quantile 0.545 left out tomo_sim_002 and tomo_sim_004)
    expect(readFileSync(join(tmp, 'score-batch', 'submission.csv'), 'utf8')).toBe(
      'tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\ntomo_sim_001,30,94,90\ntomo_sim_002,46,82,138\ntomo_sim_003,22,50,130\ntomo_sim_004,26,10,22\n',
    );
    // tomo_sim_002 alone: the same verdict and point (with the quantile a batch of one never passes)
    expect(readFileSync(join(tmp, 'score-alone', 'submission.csv'), 'utf8')).toBe('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\ntomo_sim_002,46,82,138\n');
    expect(batch.stdout).toContain('F-beta (beta 2): 0.8333  TP 2  FP 2  FN 0  TN 0  precision 0.5000  recall 1.0000');
    expect(alias.stdout.split('\n').slice(0, 5)).toEqual([
      'tomo_sim_001\tscore 0.8733\t(30.0, 94.0, 90.0)\tmotor',
      'tomo_sim_002\tscore 0.8256\t(46.0, 82.0, 138.0)\tbelow cutoff',
      'tomo_sim_003\tscore 0.9057\t(22.0, 50.0, 130.0)\tmotor',
      'tomo_sim_004\tscore 0.5793\t(26.0, 10.0, 22.0)\tbelow cutoff',
      `wrote ${join(tmp, 'score-alias.csv')}: 4 tomograms, 2 with a motor (cutoff 0.85 = a fixed score threshold)`,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('voxelbench: --score-threshold: score threshold must be >= 0, got -1\n');
  });

  it('--quantile none is --cutoff none; one number for --roi is every axis', { timeout: 300_000 }, async () => {
    const a = join(tmp, 'none-a.csv');
    const [alias, generic] = await Promise.all([
      cli(['motors', '--models', MODEL, '--tomograms', join(TOMS, 'tomo_sim_002'), '--out', a, '--quantile', 'none', '--input-size', '64', '--roi', '64', '--tta', 'identity']),
      cli(['run', 'motors', '--inputs', join(TOMS, 'tomo_sim_002'), '--models', MODEL, '--out', join(tmp, 'none-b'), '--cutoff', 'none', '--input-size', '64,64,64', '--roi', '64,64,64', '--tta', 'identity']),
    ]);
    expect(alias.code, alias.stderr).toBe(0);
    expect(generic.code, generic.stderr).toBe(0);
    expect(alias.stdout).toMatch(/^tomo_sim_002\tscore [\d.]+\t\([\d., ]+\)\tmotor\nwrote .*: 1 tomogram, 1 with a motor \(no cutoff\)\n$/);
    const csv = readFileSync(a, 'utf8');
    expect(csv).toMatch(/^tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\ntomo_sim_002,[\d.]+,[\d.]+,[\d.]+\n$/);
    expect(readFileSync(join(tmp, 'none-b', 'submission.csv'), 'utf8')).toBe(csv);
  });
});

describe('values that start with a dash', () => {
  it('normaliseArgv joins a flag and a number (list) that starts with -, and nothing else', () => {
    expect(normaliseArgv(['infer', '--roi', '-1,-1,-1', '--cval', '-2.5e-3', '--overlap', '0.5'])).toEqual(['infer', '--roi=-1,-1,-1', '--cval=-2.5e-3', '--overlap', '0.5']);
    expect(normaliseArgv(['--quiet', '--roi', '-x', '--out', '-', '--a=-1', '--', '--b', '-1'])).toEqual(['--quiet', '--roi', '-x', '--out', '-', '--a=-1', '--', '--b', '-1']);
  });

  it('infer --roi -1,-1,-1 runs like --roi=-1,-1,-1 (the whole volume as one window)', { timeout: 120_000 }, async () => {
    const dir = at('tests/fixtures/parity/constant_basic');
    const base = ['infer', '--model', join(dir, 'model.onnx'), '--input', join(dir, 'input.npy'), '--quiet'];
    const [a, b] = await Promise.all([cli([...base, '--out', join(tmp, 'neg-a.npy'), '--roi', '-1,-1,-1']), cli([...base, '--out', join(tmp, 'neg-b.npy'), '--roi=-1,-1,-1'])]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(readFileSync(join(tmp, 'neg-a.npy'))).toEqual(readFileSync(join(tmp, 'neg-b.npy')));
  });

  it('motors and run motors take a negative value as the value and say what is wrong with it', { timeout: 120_000 }, async () => {
    const base = ['--models', at('public/models/motor_heatmap.onnx'), '--quiet'];
    const [alias, generic] = await Promise.all([
      cli(['motors', ...base, '--tomograms', at('public/samples/tomograms'), '--out', join(tmp, 'neg.csv'), '--roi', '-1,-1,-1']),
      cli(['run', 'motors', ...base, '--inputs', at('public/samples/tomograms'), '--quantile', '-0.5']),
    ]);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toBe('voxelbench: --roi: roi must be 3 positive integers, got -1, -1, -1\n');
    expect(generic.code).toBe(2);
    expect(generic.stderr).toBe('voxelbench: --quantile: quantile must be in [0, 1], got -0.5\n');
  });
});

describe('run and merge: flags and refusals', () => {
  it('run motors refuses values whose run would not fit before reading anything: one line, exit code 2, nothing written', { timeout: 120_000 }, async () => {
    const MODEL = at('public/models/motor_heatmap.onnx');
    const TOMS = at('public/samples/tomograms');
    const out = join(tmp, 'too-big');
    const r = await cli(['run', 'motors', '--inputs', TOMS, '--models', MODEL, '--out', out, '--input-size', '2000,2000,2000']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^voxelbench: This run would need about \d+\.\d\d GB \(resized 16\.00 GB, .*\): one of its buffers would hold 8\.0e\+9 values, more than a typed array's 2\^32/);
    expect(lines[0]).toMatch(/Use --input-size \d+,\d+,\d+ \(it fits\)|no smaller input size/);
    expect(existsSync(out)).toBe(false);
    // --memory sets the limit: the demo's values fit 8 GB but not 0.01
    const small = await cli(['run', 'motors', '--inputs', join(TOMS, 'tomo_sim_002'), '--models', MODEL, '--out', join(tmp, 'too-small'), '--memory', '0.01', '--quiet']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/^voxelbench: This run would need about [\d.]+ MB .*more than --memory 0\.01 \(10\.0 MB\)/);
    expect(existsSync(join(tmp, 'too-small'))).toBe(false);
  });

  it('every registered preset has distinct flags, and run <preset> --help lists its parameters from the specs', async () => {
    for (const p of Object.values(PRESET_DEFS)) expect(() => runOptions(p!)).not.toThrow();
    const r = await cli(['run', 'motors', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: voxelbench run motors --inputs PATH\[,PATH\.\.\.\] --models model1\.onnx\[,model2\.onnx\.\.\.\] \[--labels F\]/);
    for (const flag of ['--input-size Z,Y,X', '--overlap Z,Y,X | a', '--tta identity,flipD,flipH,flipW', '--cutoff quantile|none', '--distance x', '--spacing x', '--weight-floor x']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/--roi Z,Y,X\s+roi \(voxels\): sliding-window size in resized voxels \[default 64,672,672\]/);
  });

  it("README's table lists every flag of run <preset> (the common ones in the line below it)", () => {
    const readme = readFileSync(at('README.md'), 'utf8').split('\n');
    const line = readme.findIndex((l) => l.startsWith('Every `run <preset>` also takes'));
    // the common flags are named in that line (and the next)
    for (const k of ['inputs', 'card', 'out', 'relax-dims', 'shard', 'memory', 'quiet']) expect(readme.slice(line, line + 2).join(' '), k).toContain(`\`--${k}`);
    const common = ['inputs', 'card', 'out', 'relax-dims', 'shard', 'memory', 'quiet', 'help'];
    for (const p of Object.values(PRESET_DEFS)) {
      const row = readme.find((l) => l.startsWith(`| \`${p!.id}\` |`));
      expect(row, p!.id).toBeDefined();
      const opts = runOptions(p!);
      for (const [k, o] of Object.entries(opts)) {
        if (common.includes(k) || (k.startsWith('no-') && k.slice(3) in opts)) continue;
        expect(row, `${p!.id} --${k}`).toContain(o.type === 'boolean' && `no-${k}` in opts ? `\`--[no-]${k}\`` : `\`--${k}\``);
      }
    }
    expect(readme.find((l) => l.startsWith('Every `run <preset>` also takes'))).toBeDefined();
  });

  it('unknown preset, missing models, a bad --shard: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'nope', '--inputs', '.'], /^voxelbench: unknown preset 'nope'; known: motors/],
      [['run', 'motors', '--inputs', at('public/samples/tomograms')], /^voxelbench: add a model \(--models\)$/],
      [['run', 'motors', '--inputs', at('public/samples/tomograms'), '--models', at('public/models/motor_heatmap.onnx'), '--shard', '4/3'], /^voxelbench: --shard must be K\/N with 1 <= K <= N, got '4\/3'$/],
      [['merge', tmp], /^voxelbench: no shard-K-of-N\.json files in /],
    ];
    const rs = await Promise.all(cases.map(([args]) => cli(args)));
    rs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(cases[i][1]);
    });
  });

  it('merge refuses shards that do not belong together', { timeout: 300_000 }, async () => {
    // three tiny shard files of the motors preset, written as run --shard writes them
    const dir = join(tmp, 'fake-shards');
    const row = (source: number, id: string, score: number) => ({ source, item: 0, id, row: { id, score, point: [1, 2, 3], heatmapShape: [1, 1, 1], peaks: [], originalShape: [4, 4, 4], inputShape: [4, 4, 4], timings: { totalMs: 0, predictMs: 0, resizeMs: 0, windows: 1 } } });
    const ids = ['t0', 't1', 't2', 't3'];
    const shard = (k: number, over: Record<string, unknown> = {}) => ({
      voxelbench: 'shard', version: 1, preset: 'motors', shard: { k, n: 3 }, params: presetDefaults(PRESET_DEFS.motors!), models: { model: [{ name: 'm.onnx', sha256: 'ab' }] },
      card: null, sources: ids, rows: ids.map((id, i) => row(i, id, i / 10)).filter((r) => r.source % 3 === k - 1), failed: [], itemFiles: [], ...over,
    });
    const write = (d: string, files: Record<string, unknown>) => {
      mkdirSync(d, { recursive: true });
      for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), JSON.stringify(v));
    };
    write(join(dir, 'ok'), { 'shard-1-of-3.json': shard(1), 'shard-2-of-3.json': shard(2), 'shard-3-of-3.json': shard(3) });
    write(join(dir, 'missing'), { 'shard-1-of-3.json': shard(1), 'shard-3-of-3.json': shard(3) });
    write(join(dir, 'params'), { 'shard-1-of-3.json': shard(1), 'shard-2-of-3.json': shard(2, { params: { ...presetDefaults(PRESET_DEFS.motors!), quantile: 0.2 } }), 'shard-3-of-3.json': shard(3) });
    write(join(dir, 'models'), { 'shard-1-of-3.json': shard(1), 'shard-2-of-3.json': shard(2, { models: { model: [{ name: 'm.onnx', sha256: 'cd' }] } }), 'shard-3-of-3.json': shard(3) });
    const [ok, missing, params, models] = await Promise.all(['ok', 'missing', 'params', 'models'].map((d) => cli(['merge', join(dir, d), '--quiet'])));
    expect(ok.code, ok.stderr).toBe(0);
    // the cutoff is the batch's (quantile 0.545 of 0, 0.1, 0.2, 0.3 = 0.1635): t2 and t3 pass
    expect(readFileSync(join(dir, 'ok', 'submission.csv'), 'utf8')).toBe('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\nt0,-1,-1,-1\nt1,-1,-1,-1\nt2,1,2,3\nt3,1,2,3\n');
    expect(missing.stderr).toBe('voxelbench: missing shard 2 of 3\n');
    expect(params.stderr).toBe('voxelbench: shard-2-of-3.json does not belong with shard-1-of-3.json: different values (params)\n');
    expect(models.stderr).toBe('voxelbench: shard-2-of-3.json does not belong with shard-1-of-3.json: different models\n');
    for (const r of [missing, params, models]) expect(r.code).toBe(2);
  });
});

describe('--relax-dims: every preset, once in the runner', () => {
  // tiny_motor_fixed16.onnx: a 3x3x3 Conv3d with a fixed input of 16^3 (torch.onnx.export without dynamic spatial axes)
  const FIXED = at('tests/fixtures/motors/tiny_motor_fixed16.onnx');
  const TOMO = at('public/samples/tomograms/tomo_sim_001.mrc');
  const small = ['--input-size', '32', '--tta', 'identity', '--quantile', 'none', '--quiet'];

  it('motors refuses a fixed-size model at another roi up front (exit 2, one line); --roi of its size or --relax-dims run it', { timeout: 300_000 }, async () => {
    const [refused, generic, fits, relaxed] = await Promise.all([
      cli(['motors', '--models', FIXED, '--tomograms', TOMO, '--out', join(tmp, 'fixed-a.csv'), ...small]),
      cli(['run', 'motors', '--models', FIXED, '--inputs', TOMO, '--out', join(tmp, 'fixed-b'), '--roi', '24,24,24', '--quiet']),
      cli(['motors', '--models', FIXED, '--tomograms', TOMO, '--out', join(tmp, 'fixed-c.csv'), '--roi', '16', ...small]),
      cli(['motors', '--models', FIXED, '--tomograms', TOMO, '--out', join(tmp, 'fixed-d.csv'), '--roi', '32', '--relax-dims', ...small]),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'voxelbench: --models: tiny_motor_fixed16.onnx: the model declares a fixed input size 16x16x16 but the roi is 64x672x672; pass --roi 16,16,16 or --relax-dims to make the spatial dims symbolic\n',
    );
    expect(generic.code).toBe(2);
    expect(generic.stderr).toMatch(/fixed input size 16x16x16 but the roi is 24x24x24; pass --roi 16,16,16 or --relax-dims/);
    for (const r of [fits, relaxed]) expect(r.code, r.stderr).toBe(0);
    for (const f of ['fixed-c.csv', 'fixed-d.csv']) expect(readFileSync(join(tmp, f), 'utf8')).toMatch(/^tomo_id,Motor axis 0,Motor axis 1,Motor axis 2\ntomo_sim_001,\d+,\d+,\d+\n$/);
  });
});
