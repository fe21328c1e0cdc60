/**
 * Competition-size tomograms through `voxelbench motors` (the bundled motor model and its card),
 * made here in a temp folder and never committed:
 * - a 300 x 959 x 928 JPEG slice folder (the BYU competition's usual size): decoding time against
 *   the model's time (resize, windows, TTA, peaks) per tomogram, from the CLI's VB_TIMINGS line
 *   (the CLI decodes only the slices the resize to the card's input size reads; the table says how many);
 * - a 500 x 1000 x 1000 tomogram as a JPEG folder and as MRC modes 0 (uint8), 1 (int16), 2 (float32)
 *   and 12 (float16): for each, the CLI's peak RSS over the tomogram's uint8 size (D * H * W bytes).
 * Sizes: VB_BENCH_JPEG=D,H,W[;D,H,W...] (`none`: no JPEG folder) and VB_BENCH_MRC=D,H,W; VB_BENCH_MRC_MODES=0,1,2,12.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { readVolume } from '../../src/core/io';
import { halfToFloat } from '../../src/core/io/binary';
import { writeMrc } from '../../src/core/io/mrc';
import { identityAffine } from '../../src/core/volume';
import { zoomLinear, zoomSourcePlanes } from '../../src/core/motors/resize';
import { tomogramFromVolume } from '../../src/core/motors/tomogram';
import { motorsParamsFromCard, type MotorsModelCard } from '../../src/core/presets/motors';
import { cliArgs, measureNode, ROOT, type Usage } from './measure';

/** D,H,W from an environment value, else the default. */
export const dims = (env: string | undefined, d: [number, number, number]): [number, number, number] =>
  env ? (env.split(',').map(Number) as [number, number, number]) : d;

export interface TomogramRow {
  label: string;
  shape: [number, number, number];
  fileMB: number;
  usage: Usage;
}

/** A sample tomogram resized to `shape` (uint8), plane by plane. */
export function volumeOf(shape: [number, number, number]): Uint8Array {
  const src = tomogramFromVolume(readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'public/samples/tomograms/tomo_sim_001.mrc'))), 'sim'), 'sim');
  return zoomLinear(src.data, src.shape, shape);
}

export function writeJpegFolder(dir: string, shape: [number, number, number], vol: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  const [d, h, w] = shape;
  const raw = join(dir, '..', 'volume.raw');
  writeFileSync(raw, vol);
  const py = spawnSync('/usr/bin/python3', [resolve(import.meta.dirname, 'make_tomograms.py'), 'jpeg', raw, String(d), String(h), String(w), dir], { stdio: 'inherit' });
  rmSync(raw);
  if (py.status === 0) return;
  // no Python with PIL: jpeg-js (slower to write; the decoder reads any baseline JPEG the same)
  console.error('bench: no /usr/bin/python3 with PIL; writing the slices with jpeg-js');
  const rgba = new Uint8Array(h * w * 4);
  for (let z = 0; z < d; z++) {
    for (let i = 0; i < h * w; i++) {
      const v = Math.max(0, Math.min(255, vol[z * h * w + i] + Math.round((Math.random() + Math.random() + Math.random() - 1.5) * 13)));
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
      rgba[4 * i + 3] = 255;
    }
    writeFileSync(join(dir, `slice_${String(z).padStart(4, '0')}.jpg`), encodeJpeg({ data: rgba, width: w, height: h }, 95).data);
  }
}

/** An MRC file of `shape` in `mode`, written slab by slab (values: the resized sample plus a mode-dependent scale). */
export function writeMrcFile(path: string, shape: [number, number, number], mode: 0 | 1 | 2 | 12, vol: Uint8Array): void {
  const [d, h, w] = shape;
  const head = writeMrc({
    shape: [1, 1, 1],
    data: mode === 0 ? new Uint8Array(1) : mode === 1 ? new Int16Array(1) : new Float32Array(1),
    spacing: [15, 15, 15],
    unit: 'angstrom',
    affine: identityAffine([15, 15, 15]),
  }).subarray(0, 1024);
  const view = new DataView(head.buffer, head.byteOffset, 1024);
  [w, h, d].forEach((n, i) => {
    view.setInt32(4 * i, n, true);
    view.setInt32(28 + 4 * i, n, true);
    view.setFloat32(40 + 4 * i, n * 15, true);
  });
  view.setInt32(12, mode, true);
  // the voxels of a slab in `mode`: one mapping, for the file and for its header's DMIN / DMAX
  const voxels = (s: Uint8Array): Uint8Array | Int16Array | Float32Array | Uint16Array =>
    mode === 0
      ? s
      : mode === 1
        ? Int16Array.from(s, (v) => v * 40 - 5000)
        : mode === 2
          ? Float32Array.from(s, (v) => v * 0.013 - 1.2)
          : Uint16Array.from(s, (v) => 0x3c00 + v * 4); // float16 1.0 .. 2.0
  // DMIN / DMAX: the data's exact range, as mrcfile and IMOD write it (readers may then read the file once)
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < vol.length; i++) {
    if (vol[i] < lo) lo = vol[i];
    if (vol[i] > hi) hi = vol[i];
  }
  const ends = voxels(Uint8Array.of(lo, hi));
  const [dmin, dmax] = mode === 12 ? Array.from(ends, halfToFloat) : Array.from(ends);
  view.setFloat32(76, dmin, true);
  view.setFloat32(80, dmax, true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    const plane = h * w;
    for (let z = 0; z < d; z++) {
      writeSync(fd, voxels(vol.subarray(z * plane, (z + 1) * plane)));
    }
  } finally {
    closeSync(fd);
  }
}

export async function benchTomograms(): Promise<TomogramRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vb-tomograms-'));
  const cli = cliArgs();
  const model = resolve(ROOT, 'public/models/motor_heatmap.onnx');
  const rows: TomogramRow[] = [];
  const motors = async (label: string, input: string, shape: [number, number, number], fileMB: number) => {
    const usage = await measureNode([...cli.args, 'motors', '--models', model, '--tomograms', input, '--out', join(dir, 'submission.csv'), '--quiet'], { cwd: cli.cwd });
    rows.push({ label, shape, fileMB, usage });
    console.error(`tomograms: ${label}: ${usage.wallS.toFixed(1)} s, peak RSS ${usage.maxRssMB.toFixed(0)} MB`);
  };
  try {
    const jpegs = process.env.VB_BENCH_JPEG ?? '300,959,928;500,1000,1000';
    for (const spec of jpegs === 'none' ? [] : jpegs.split(';')) {
      const js = dims(spec, [300, 959, 928]);
      const jdir = join(dir, 'jpeg', `tomo_${js.join('x')}`);
      writeJpegFolder(jdir, js, volumeOf(js));
      const jpegMB = Number(spawnSync('du', ['-sm', jdir], { encoding: 'utf8' }).stdout.split('\t')[0]);
      await motors(`JPEG folder ${js.join(' x ')}`, join(dir, 'jpeg'), js, jpegMB);
      rmSync(join(dir, 'jpeg'), { recursive: true, force: true });
    }

    const ms = dims(process.env.VB_BENCH_MRC, [500, 1000, 1000]);
    const vol = volumeOf(ms);
    for (const mode of (process.env.VB_BENCH_MRC_MODES ?? '0,1,2,12').split(',').map(Number) as (0 | 1 | 2 | 12)[]) {
      const mdir = join(dir, `mrc${mode}`);
      mkdirSync(mdir);
      const f = join(mdir, `tomo_mode${mode}.mrc`);
      writeMrcFile(f, ms, mode, vol);
      await motors(`MRC mode ${mode} ${ms.join(' x ')}`, mdir, ms, (1024 + ms[0] * ms[1] * ms[2] * (mode === 0 ? 1 : mode === 2 ? 4 : 2)) / 2 ** 20);
      rmSync(mdir, { recursive: true, force: true });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printTomograms(rows: TomogramRow[]): void {
  // the depth the CLI resizes to: the card's input size, as the preset reads it
  const depthIn = motorsParamsFromCard(JSON.parse(readFileSync(resolve(ROOT, 'public/models/motor_heatmap.json'), 'utf8')) as MotorsModelCard).inputSize[0];
  console.log(`\nCompetition-size tomograms through \`motors\` (${cliArgs().label}; bundled model, card values)`);
  console.log(
    `(a JPEG folder: the CLI decodes only the slices its resize to the card's ${depthIn} planes reads, zoomSourcePlanes, and the volume's other planes are never touched, so they take no memory either; an MRC file is read whole)`,
  );
  console.log(
    ['tomogram', 'file MB', 'slices decoded', 'decode / read s', 'model s (resize, windows, TTA, peaks)', 'decode / model (wall)', 'decode / model (CPU, all threads)', 'wall s', 'CPU s', 'peak RSS MB', 'peak RSS / tomogram (uint8)'].join(' | '),
  );
  for (const r of rows) {
    const t = r.usage.timings[0];
    const uint8MB = (r.shape[0] * r.shape[1] * r.shape[2]) / 2 ** 20;
    console.log(
      [
        r.label,
        r.fileMB.toFixed(0),
        r.label.startsWith('JPEG') ? `${zoomSourcePlanes(r.shape[0], depthIn).reduce((a, b) => a + b, 0)} of ${r.shape[0]}` : 'all',
        t ? (t.readMs / 1000).toFixed(2) : '-',
        t ? (t.runMs / 1000).toFixed(2) : '-',
        t ? (t.readMs / t.runMs).toFixed(2) : '-',
        t?.readCpuMs !== undefined && t.runCpuMs ? (t.readCpuMs / t.runCpuMs).toFixed(2) : '-',
        r.usage.wallS.toFixed(1),
        r.usage.cpuS.toFixed(1),
        r.usage.maxRssMB.toFixed(0),
        (r.usage.maxRssMB / uint8MB).toFixed(2),
      ].join(' | '),
    );
  }
}
