/**
 * `voxelbench infer` against bare onnxruntime-node (bareOrt.mjs) on the same windows: the MeshNet
 * demo on the bundled 256^3 T1 (scaled to [0, 1]), tiled (roi 128, overlap 0.5, gaussian) and as
 * one whole-volume window. Runs are interleaved (CLI, bare, bare, CLI, ...) and each program's
 * median CPU seconds (all threads) and peak RSS are compared: the CLI's overhead over the model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readVolume } from '../../src/core/io';
import { npyParts } from '../../src/core/io/npy';
import { relaxSpatialDims } from '../../src/core/onnx/model';
import { planWindows } from '../../src/core/slidingWindow';
import { cliArgs, measureNode, median, ROOT, type Usage } from './measure';

export interface CliVsOrtRow {
  label: string;
  windows: number;
  cli: Usage[];
  bare: Usage[];
  /** Bare onnxruntime-node without spin-waiting threads (the session options the CLI uses). */
  bareNoSpin: Usage[];
  /** Input, output (all channels) and count sizes in MB, for the RSS budget. */
  inputMB: number;
  outputMB: number;
}

const CASES = [
  { label: 'MeshNet 256^3, roi 128, overlap 0.5, gaussian', roi: 128, overlap: 0.5 },
  { label: 'MeshNet 256^3, whole volume (roi 256)', roi: 256, overlap: 0 },
];

export async function benchCliVsOrt(reps = Number(process.env.VB_BENCH_REPS ?? 2), only?: string): Promise<CliVsOrtRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vb-cli-ort-'));
  try {
    const model = join(dir, 'meshnet.onnx');
    writeFileSync(model, relaxSpatialDims(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/model.onnx')))));
    const vol = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/t1.nii.gz'))), 't1.nii.gz');
    const x = new Float32Array(vol.data.length);
    for (let i = 0; i < x.length; i++) x[i] = vol.data[i] / 255;
    const input = join(dir, 't1.npy');
    const [head, body] = npyParts({ shape: [1, ...vol.shape], data: x });
    writeFileSync(input, Buffer.concat([head, body]));
    const cli = cliArgs();
    const rows: CliVsOrtRow[] = [];
    for (const c of CASES.filter((c) => !only || c.label.includes(only))) {
      const plan = planWindows(vol.shape, { roi: [c.roi, c.roi, c.roi], overlap: c.overlap });
      const planFile = join(dir, 'plan.json');
      writeFileSync(planFile, JSON.stringify({ roi: plan.roi, starts: plan.starts }));
      const row: CliVsOrtRow = { label: c.label, windows: plan.starts.length, cli: [], bare: [], bareNoSpin: [], inputMB: x.byteLength / 2 ** 20, outputMB: (3 * x.byteLength) / 2 ** 20 };
      const runCli = () =>
        measureNode([...cli.args, 'infer', '--model', model, '--input', input, '--out', join(dir, 'out.npy'), '--roi', [c.roi, c.roi, c.roi].join(','), '--overlap', String(c.overlap), '--mode', 'gaussian', '--quiet'], { cwd: cli.cwd });
      const runBare = (...flags: string[]) => measureNode([resolve(import.meta.dirname, 'bareOrt.mjs'), model, input, planFile, ...flags]);
      for (let r = 0; r < reps; r++) {
        // interleaved, alternating which goes first
        if (r % 2 === 0) {
          row.cli.push(await runCli());
          row.bare.push(await runBare());
          row.bareNoSpin.push(await runBare('--no-spin'));
        } else {
          row.bareNoSpin.push(await runBare('--no-spin'));
          row.bare.push(await runBare());
          row.cli.push(await runCli());
        }
        console.error(
          `cli vs ort: ${c.label}: run ${r + 1}/${reps}: CLI ${row.cli[r].cpuS.toFixed(2)} s CPU, bare ${row.bare[r].cpuS.toFixed(2)} s CPU, bare without spinning ${row.bareNoSpin[r].cpuS.toFixed(2)} s CPU`,
        );
      }
      rows.push(row);
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printCliVsOrt(rows: CliVsOrtRow[]): void {
  console.log(`\nCLI vs bare onnxruntime-node on the same windows (${cliArgs().label}; median of interleaved runs; CPU = user + system, all threads)`);
  console.log(
    ['case', 'windows', 'CLI CPU s', 'bare CPU s', 'CLI / bare CPU', 'bare (no spinning) CPU s', 'CLI / bare (no spinning) CPU', 'CLI wall s', 'bare wall s', 'CLI peak RSS MB', 'bare peak RSS MB', 'RSS budget MB (bare + output)'].join(' | '),
  );
  for (const r of rows) {
    const cc = median(r.cli.map((u) => u.cpuS));
    const bc = median(r.bare.map((u) => u.cpuS));
    const nc = median(r.bareNoSpin.map((u) => u.cpuS));
    console.log(
      [
        r.label,
        r.windows,
        cc.toFixed(2),
        bc.toFixed(2),
        (cc / bc).toFixed(3),
        nc.toFixed(2),
        (cc / nc).toFixed(3),
        median(r.cli.map((u) => u.wallS)).toFixed(2),
        median(r.bare.map((u) => u.wallS)).toFixed(2),
        median(r.cli.map((u) => u.maxRssMB)).toFixed(0),
        median(r.bare.map((u) => u.maxRssMB)).toFixed(0),
        (median(r.bare.map((u) => u.maxRssMB)) + r.outputMB).toFixed(0),
      ].join(' | '),
    );
  }
}

export interface StartupRow {
  cli: Usage[];
  bare: Usage[];
}

/** Start-up: `voxelbench --help` against `node -e "require('onnxruntime-node')"`, interleaved. */
export async function benchStartup(reps = 5): Promise<StartupRow> {
  const cli = cliArgs();
  const row: StartupRow = { cli: [], bare: [] };
  for (let r = 0; r < reps; r++) {
    row.cli.push(await measureNode([...cli.args, '--help'], { cwd: cli.cwd }));
    row.bare.push(await measureNode(['-e', "require('onnxruntime-node')"]));
  }
  return row;
}

export function printStartup(r: StartupRow): void {
  const w = (u: Usage[]) => median(u.map((x) => x.wallS));
  const c = (u: Usage[]) => median(u.map((x) => x.cpuS));
  console.log(`\nStart-up (${cliArgs().label}; median of ${r.cli.length} interleaved runs)`);
  console.log(['', 'wall s', 'CPU s'].join(' | '));
  console.log(['voxelbench --help', w(r.cli).toFixed(3), c(r.cli).toFixed(3)].join(' | '));
  console.log(["node -e \"require('onnxruntime-node')\"", w(r.bare).toFixed(3), c(r.bare).toFixed(3)].join(' | '));
}
