/**
 * Hostile command lines (issue 15's CLI part): numeric flags out of their range, buffers that
 * could not be allocated, an empty input, --out that is a file, a model of the wrong rank. Each is
 * one line on stderr naming what is wrong, exit code 2, before any file is written.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/core/io/npy';
import { cli } from './cliRunner';

const dir = mkdtempSync(join(tmpdir(), 'vb-hostile-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = join(dir, 'in24.npy');
writeFileSync(input, writeNpy({ shape: [24, 24, 24], data: Float32Array.from({ length: 24 ** 3 }, (_, i) => Math.sin(i)) }));
const empty = join(dir, 'empty.npy');
writeFileSync(empty, writeNpy({ shape: [0, 0, 0], data: new Float32Array(0) }));
const MODEL = 'tests/fixtures/models/tiny3d.onnx';

/** Runs the CLI; expects exit code 2, one stderr line matching `pattern`, and no output file. */
async function refuses(args: string[], pattern: RegExp, out?: string): Promise<void> {
  const r = await cli(args);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.includes('\u001b[')).toBe(false); // no colour codes (onnxruntime's own log lines)
  expect(r.code).toBe(2);
  if (out) expect(existsSync(out)).toBe(false);
}

describe('infer: numeric flags in their ranges, memory before allocating, empty input', () => {
  const out = join(dir, 'out.npy');
  const infer = (...flags: string[]) => ['infer', '--model', MODEL, '--input', input, '--out', out, '--quiet', ...flags];

  it.each([
    [['--sw-batch', '0'], /^voxelbench: --sw-batch must be a whole number from 1 to 1024, got '0'$/m],
    [['--sw-batch', '1.5'], /^voxelbench: --sw-batch must be a whole number from 1 to 1024, got '1\.5'$/m],
    [['--sigma-scale', '0'], /^voxelbench: --sigma-scale must be > 0 and at most 100, got '0'$/m],
    [['--overlap', '1'], /^voxelbench: --overlap must be in \[0, 1\), got '1'$/m],
    [['--overlap', '0.1,0.2,0.3,0.4'], /^voxelbench: --overlap needs 1 or 2 or 3 values, got '0\.1,0\.2,0\.3,0\.4'$/m],
    [['--roi', '0,8,8'], /^voxelbench: --roi must be whole numbers from 1 to 8192, or -1 for a whole axis, got '0,8,8'$/m],
    [['--roi', '100000,100000,100000'], /^voxelbench: --roi must be whole numbers from 1 to 8192/m],
    [['--cval', 'nan'], /^voxelbench: --cval expects numbers separated by commas, got 'nan'$/m],
    [['--memory', '-1'], /^voxelbench: --memory must be a number of gigabytes > 0, got '-1'$/m],
  ])('%j', async (flags, pattern) => {
    await refuses(infer(...flags), pattern, out);
  }, 120_000);

  it('a roi that cannot be allocated: the estimated peak, refused with a suggestion (it passed 6 GB before)', async () => {
    await refuses(
      infer('--roi', '8192,8192,8192'),
      /^voxelbench: the run would need about [\d.]+ GB \(windows [\d.]+ GB, model [\d.]+ GB, accumulators [\d.]+ GB\): one of its buffers would hold [\d.]+e\+\d+ values, more than JavaScript's 2\^32; the roi 8192x8192x8192 is larger than the input 24x24x24: use --roi 24,24,24 \(or -1 for the whole input\)$/m,
      out,
    );
    await refuses(
      infer('--roi', '1000,1000,1000', '--memory', '8'),
      /^voxelbench: the run would need about [\d.]+ GB \(.*\): more than --memory \(8\.00 GB\); the roi 1000x1000x1000 is larger than the input 24x24x24: use --roi 24,24,24/,
      out,
    );
  }, 120_000);

  it('an empty (0, 0, 0) input writes nothing', async () => {
    await refuses(['infer', '--model', MODEL, '--input', empty, '--out', out], /^voxelbench: empty\.npy: the input is empty \(shape \(0, 0, 0\)\); nothing to run$/m, out);
  }, 120_000);

  it('a roi that fits runs (the checks refuse only what cannot be)', async () => {
    const r = await cli(infer('--roi', '16,16,16', '--sw-batch', '2'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    rmSync(out);
  }, 120_000);
});

describe('convert: numeric flags in their ranges', () => {
  const out = join(dir, 'conv.onnx');
  it.each([
    [['--check-size', '0'], /^voxelbench: --check-size must be a whole number from 1 to 8192, got '0'$/m],
    [['--tolerance', '0'], /^voxelbench: --tolerance must be a number > 0, got '0'$/m],
    [['--seed', '-1'], /^voxelbench: --seed must be a whole number >= 0, got '-1'$/m],
  ])('%j', async (flags, pattern) => {
    await refuses(['convert', MODEL, '--webgpu', '--out', out, ...flags], pattern, out);
  }, 120_000);
});

describe('run: --out that is a file, a model of the wrong rank', () => {
  it('--out naming an existing file is refused up front (it was "EEXIST: ... mkdir" after the first item)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await refuses(['run', 'spine', '--inputs', 'public/samples/ct/sim_neck.nii.gz', '--seg', 'public/models/spine_seg.onnx', '--out', file], /^voxelbench: --out '.*a-file' is a file; give a folder \(it is made when missing\)$/m);
  }, 120_000);

  it.each([
    ['eeg', 'tests/fixtures/eeg/nulls_double.parquet', /^voxelbench: tiny3d\.onnx: Cannot use tiny3d\.onnx for EEG spectrograms: its input input is \[n, 1, d, h, w\]; the preset feeds \(N, 1, H, W\)\.$/m],
    ['protein', 'public/samples/protein', /^voxelbench: tiny3d\.onnx: Cannot use tiny3d\.onnx for protein localisation: its input input is \[n, 1, d, h, w\]; the protein preset needs \(N, 4, H, W\)/],
  ])('%s with a volume (5D-input) model: one line before any file is read (not ORT\'s "Invalid rank" per file)', async (preset, inputs, pattern) => {
    await refuses(['run', preset, '--inputs', inputs, '--models', MODEL, '--out', join(dir, `o-${preset}`)], pattern);
  }, 120_000);
});
