/**
 * "PyTorch + MONAI" line of `npm run bench`: the CLI (`voxelbench infer`) against MONAI's
 * sliding_window_inference with the same MeshNet weights in PyTorch (monai.py), when Debian's
 * python3-torch and a MONAI source tree (MONAI_SRC) are there; skipped with a note otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readVolume } from '../../src/core/io';
import { npyParts, readNpy } from '../../src/core/io/npy';
import { relaxSpatialDims } from '../../src/core/onnx/model';
import { cliArgs, measureNode, measureSelfReporting, ROOT, type Usage } from './measure';

export type MonaiResult = { skipped: string } | { cli: Usage; monai: Usage & { inferCpuS?: number }; maxDiff: number; argmaxAgree: number };

export async function benchMonai(): Promise<MonaiResult> {
  const src = process.env.MONAI_SRC;
  if (!src || !existsSync(join(src, 'monai', 'inferers'))) {
    return { skipped: 'set MONAI_SRC to a MONAI source tree (its folder holding monai/) to compare with PyTorch + MONAI' };
  }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `no PyTorch in /usr/bin/python3 (Debian's python3-torch): ${probe.stderr.trim().split('\n').pop()}` };
  const dir = mkdtempSync(join(tmpdir(), 'vb-monai-'));
  try {
    const model = join(dir, 'meshnet.onnx');
    writeFileSync(model, relaxSpatialDims(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/model.onnx')))));
    const vol = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/t1.nii.gz'))), 't1.nii.gz');
    const x = Float32Array.from(vol.data, (v) => v / 255);
    const input = join(dir, 't1.npy');
    writeFileSync(input, Buffer.concat(npyParts({ shape: [1, ...vol.shape], data: x })));
    const cli = cliArgs();
    const cliOut = join(dir, 'cli.npy');
    const monaiOut = join(dir, 'monai.npy');
    const c = await measureNode([...cli.args, 'infer', '--model', model, '--input', input, '--out', cliOut, '--roi', '128,128,128', '--overlap', '0.5', '--mode', 'gaussian', '--quiet'], { cwd: cli.cwd });
    const m = await measureSelfReporting('/usr/bin/python3', [resolve(import.meta.dirname, 'monai.py'), model, input, '128', '0.5', 'gaussian', monaiOut], { env: { MONAI_SRC: src } });
    const a = readNpy(readFileSync(cliOut));
    const b = readNpy(readFileSync(monaiOut));
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    const n = a.data.length / 3;
    let agree = 0;
    const am = (d: ArrayLike<number>, i: number) => (d[i] >= d[i + n] ? (d[i] >= d[i + 2 * n] ? 0 : 2) : d[i + n] >= d[i + 2 * n] ? 1 : 2);
    for (let i = 0; i < n; i++) if (am(a.data, i) === am(b.data, i)) agree++;
    return { cli: c, monai: m, maxDiff, argmaxAgree: agree / n };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printMonai(r: MonaiResult): void {
  if ('skipped' in r) {
    console.log(`\nPyTorch + MONAI: skipped (${r.skipped})`);
    return;
  }
  console.log('\nPyTorch + MONAI sliding_window_inference vs the CLI (MeshNet 256^3, roi 128, overlap 0.5, gaussian)');
  console.log(['', 'CPU s (process)', 'CPU s (inference only)', 'wall s', 'peak RSS MB'].join(' | '));
  console.log(['voxelbench infer', r.cli.cpuS.toFixed(2), '-', r.cli.wallS.toFixed(2), r.cli.maxRssMB.toFixed(0)].join(' | '));
  console.log(['PyTorch + MONAI', r.monai.cpuS.toFixed(2), r.monai.inferCpuS?.toFixed(2) ?? '-', r.monai.wallS.toFixed(2), r.monai.maxRssMB.toFixed(0)].join(' | '));
  console.log(
    `CLI CPU / MONAI inference CPU: ${(r.cli.cpuS / (r.monai.inferCpuS ?? r.monai.cpuS)).toFixed(2)}; max |diff| ${r.maxDiff.toExponential(1)}; argmax agrees on ${(100 * r.argmaxAgree).toFixed(4)} % of voxels`,
  );
}
