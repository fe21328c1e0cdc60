/**
 * The issue-17 part of `npm run bench`, called from tools/bench.ts after its Node and Chromium
 * runs: the ratios measured in this one run.
 * - Chromium WASM vs Node: speed ratio (Node time / Chromium time) of the same work, from the rows
 *   bench.ts measured (MeshNet cases and the motors tomogram), and its ceiling: onnxruntime-web's
 *   WASM kernels vs onnxruntime-node on one window (wasmCeiling.ts);
 * - CLI vs bare onnxruntime-node on the same windows (cliVsOrt.ts), CPU and peak RSS, and start-up time;
 * - competition-size tomograms through `motors` (tomograms.ts): decode vs model time, peak RSS / tomogram size;
 * - PyTorch + MONAI (monai.ts), when python3-torch and MONAI_SRC are there;
 * - the motors page with a competition-size JPEG folder (page.ts, measured by bench.ts in its browser): read vs model time, peak renderer RSS / tomogram size.
 * `npm run bench -- node` or `-- chromium` skip what needs the other (`-- page`: only the page line; `-- motors`: only the motors tomogram in both and its ratio); VB_BENCH_SKIP=cli,tomograms,monai,page,ceiling skips parts.
 */
import type { SlidingWindowStats } from '../../src/core/slidingWindow';
import { benchCliVsOrt, benchStartup, printCliVsOrt, printStartup } from './cliVsOrt';
import { benchMonai, printMonai } from './monai';
import { printPage, type PageRow } from './page';
import { benchTomograms, printTomograms } from './tomograms';
import { benchWasmCeiling, printWasmCeiling } from './wasmCeiling';

export interface SpeedRow {
  where: string;
  label: string;
  stats: Pick<SlidingWindowStats, 'totalMs' | 'predictMs'>;
}

export interface MotorSpeedRow {
  where: string;
  totalMs: number;
  predictMs: number;
}

export function printChromiumVsNode(rows: SpeedRow[], motors: MotorSpeedRow[]): void {
  type Timing = { totalMs: number; predictMs: number } | undefined;
  const pairs: [string, Timing, Timing][] = [
    ...[...new Set(rows.map((r) => r.label))].map((l): [string, Timing, Timing] => [
      `MeshNet ${l}`,
      rows.find((r) => r.label === l && r.where === 'node')?.stats,
      rows.find((r) => r.label === l && r.where !== 'node')?.stats,
    ]),
    ['motors tomogram', motors.find((m) => m.where === 'node'), motors.find((m) => m.where !== 'node')],
  ];
  console.log('\nChromium WASM vs Node (onnxruntime-web WASM in the worker vs onnxruntime-node, same work; speed = Node time / Chromium time)');
  console.log(['case', 'Node s', 'Chromium s', 'speed (total)', 'speed (session.run only)', 'speed (outside session.run)'].join(' | '));
  for (const [label, n, c] of pairs) {
    if (!n || !c) continue;
    const out = (x: { totalMs: number; predictMs: number }) => x.totalMs - x.predictMs;
    console.log([label, (n.totalMs / 1000).toFixed(2), (c.totalMs / 1000).toFixed(2), (n.totalMs / c.totalMs).toFixed(2), (n.predictMs / c.predictMs).toFixed(2), (out(n) / out(c)).toFixed(2)].join(' | '));
  }
}

export async function benchRatios(rows: SpeedRow[], motors: MotorSpeedRow[], page: PageRow[] = [], only?: string): Promise<void> {
  const skip = new Set((process.env.VB_BENCH_SKIP ?? '').split(',').filter(Boolean));
  printPage(page);
  if (only === 'page') return;
  printChromiumVsNode(rows, motors);
  if (!skip.has('ceiling') && (rows.length || motors.length)) printWasmCeiling(await benchWasmCeiling());
  if (only === 'motors') return;
  if (!skip.has('cli')) {
    printStartup(await benchStartup());
    printCliVsOrt(await benchCliVsOrt());
  }
  if (!skip.has('tomograms')) printTomograms(await benchTomograms());
  if (!skip.has('monai')) printMonai(await benchMonai());
}
