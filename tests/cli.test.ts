/** The CLI contract, run as a real process (the built CLI + onnxruntime-node, tests/cliRunner.ts), against the MONAI parity cases. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/core/io/npy';
import { cli } from './cliRunner';

const ROOT = resolve(__dirname, '..');
const PARITY = resolve(ROOT, 'tests/fixtures/parity');
const MODELS = resolve(ROOT, 'tests/fixtures/models');
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-cli-'));

describe('cli infer reproduces the MONAI parity cases', () => {
  for (const name of ['constant_basic', 'gaussian_batch', 'byu_weight_map']) {
    it(name, async () => {
      const dir = resolve(PARITY, name);
      const p = JSON.parse(readFileSync(resolve(dir, 'params.json'), 'utf8'));
      const out = join(tmp, `${name}.npy`);
      const args = ['infer', '--model', resolve(dir, 'model.onnx'), '--input', resolve(dir, 'input.npy'), '--out', out,
        '--roi', p.roi.join(','), '--overlap', p.overlap.join(','), '--mode', p.mode, '--sigma-scale', String(p.sigma_scale),
        '--sw-batch', String(p.sw_batch), '--cval', String(p.cval), '--quiet'];
      if (p.weight_map) args.push('--weight-map', resolve(dir, p.weight_map));
      const r = await cli(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const got = readNpy(readFileSync(out));
      const exp = readNpy(readFileSync(resolve(dir, 'expected.npy')));
      expect(got.shape).toEqual(exp.shape);
      let m = 0;
      for (let i = 0; i < got.data.length; i++) m = Math.max(m, Math.abs(got.data[i] - exp.data[i]));
      expect(m).toBeLessThan(1e-4);
    });
  }
});

describe('cli errors are one clear line with a non-zero exit code', () => {
  const input = resolve(PARITY, 'constant_basic/input.npy');
  const model = resolve(PARITY, 'constant_basic/model.onnx');
  const cases: [string, () => string[], RegExp][] = [
    ['missing input file', () => ['infer', '--model', model, '--input', join(tmp, 'nope.npy'), '--out', join(tmp, 'o.npy')], /cannot read input .*ENOENT/],
    ['a model that is not ONNX', () => ['infer', '--model', input, '--input', input, '--out', join(tmp, 'o.npy')], /not an ONNX model/],
    ['a truncated .npy', () => {
      const f = join(tmp, 'trunc.npy');
      writeFileSync(f, readFileSync(input).subarray(0, 300));
      return ['infer', '--model', model, '--input', f, '--out', join(tmp, 'o.npy')];
    }, /truncated/],
    ['a channel count that does not fit', () => {
      const f = join(tmp, 'two.npy');
      writeFileSync(f, writeNpy({ shape: [2, 4, 4, 4], data: new Float32Array(128) }));
      return ['infer', '--model', model, '--input', f, '--out', join(tmp, 'o.npy')];
    }, /expects 1 input channel\(s\) but the volume has 2/],
    ['a 2D array', () => {
      const f = join(tmp, 'flat.npy');
      writeFileSync(f, writeNpy({ shape: [4, 4], data: new Float32Array(16) }));
      return ['infer', '--model', model, '--input', f, '--out', join(tmp, 'o.npy')];
    }, /\(C, D, H, W\) or \(D, H, W\)/],
    ['a roi that the fixed-size model does not accept', () => ['infer', '--model', resolve(MODELS, 'tiny3d_fixed16.onnx'), '--input', input, '--out', join(tmp, 'o.npy'), '--roi', '8,8,8'], /fixed input size 16x16x16 .* --relax-dims/],
    ['an unknown option', () => ['infer', '--modle', model], /Unknown option/],
  ];
  for (const [what, args, msg] of cases) {
    it(what, async () => {
      const r = await cli(args());
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    });
  }

  it('--relax-dims runs a fixed-size model at another roi', async () => {
    const out = join(tmp, 'relaxed.npy');
    const r = await cli(['infer', '--model', resolve(MODELS, 'tiny3d_fixed16.onnx'), '--input', input, '--out', out, '--roi', '8,8,8', '--relax-dims', '--quiet']);
    expect(r.code).toBe(0);
    expect(readNpy(readFileSync(out)).shape).toEqual([3, 20, 30, 40]);
  });
});
