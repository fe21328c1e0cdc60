/**
 * The device bench's report (tools/gpuBench.ts bench, tools/device-bench.sh): the rows as measured,
 * and per case the GPU-resident path against per-window upload on the same WebGPU adapter and the
 * CPU baselines (onnxruntime-web's WASM, onnxruntime-node), as ratios. Pure: no I/O.
 */

export type BenchPath = 'gpu' | 'webgpu' | 'wasm' | 'node';

export const PATH_LABEL: Record<BenchPath, string> = {
  gpu: 'GPU-resident',
  webgpu: 'per-window upload, WebGPU',
  wasm: 'CPU WASM (onnxruntime-web)',
  node: 'CPU onnxruntime-node',
};

export interface BenchRow {
  case: string;
  path: BenchPath;
  /** Extra words for the path (graph capture). */
  variant?: string;
  windows: number;
  totalMs: number;
  /** Time inside session.run (the model). */
  predictMs: number;
  /** Bytes the run wrote to the GPU (volume, window batches, uniforms); 0 on the CPU paths. */
  uploadBytes: number;
  /** Bytes read back GPU -> CPU; 0 on the CPU paths. */
  readbackBytes: number;
  /** Max |output - GPU-resident output| when both ran. */
  maxDiff?: number;
  /** Timed on one batch and scaled to all windows. */
  estimated?: boolean;
  note?: string;
}

export interface CaseSummary {
  case: string;
  residentMs: number | null;
  perWindowMs: number | null;
  wasmMs: number | null;
  nodeMs: number | null;
  /** perWindowMs / residentMs (> 1: the GPU-resident path is faster). */
  speedupVsPerWindow: number | null;
  speedupVsWasm: number | null;
  speedupVsNode: number | null;
  residentUploadBytes: number | null;
  perWindowUploadBytes: number | null;
  residentReadbackBytes: number | null;
  perWindowReadbackBytes: number | null;
  /** perWindowUploadBytes / residentUploadBytes. */
  uploadRatio: number | null;
  readbackRatio: number | null;
  /** Largest output difference of any path against the GPU-resident output. */
  maxDiff: number | null;
}

const ok = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? a / b : null);

/** One summary per case (plain rows only: a variant such as graph capture is not the baseline's peer). */
export function summarizeBench(rows: readonly BenchRow[]): CaseSummary[] {
  const cases = [...new Set(rows.map((r) => r.case))];
  return cases.map((name) => {
    const of = (p: BenchPath): BenchRow | undefined => rows.find((r) => r.case === name && r.path === p && !r.variant && r.windows > 0 && ok(r.totalMs));
    const ms = (p: BenchPath): number | null => of(p)?.totalMs ?? null;
    const g = of('gpu');
    const w = of('webgpu');
    const diffs = rows.filter((r) => r.case === name && ok(r.maxDiff)).map((r) => r.maxDiff as number);
    const s: CaseSummary = {
      case: name,
      residentMs: ms('gpu'),
      perWindowMs: ms('webgpu'),
      wasmMs: ms('wasm'),
      nodeMs: ms('node'),
      speedupVsPerWindow: null,
      speedupVsWasm: null,
      speedupVsNode: null,
      residentUploadBytes: g?.uploadBytes ?? null,
      perWindowUploadBytes: w?.uploadBytes ?? null,
      residentReadbackBytes: g?.readbackBytes ?? null,
      perWindowReadbackBytes: w?.readbackBytes ?? null,
      uploadRatio: null,
      readbackRatio: null,
      maxDiff: diffs.length ? Math.max(...diffs) : null,
    };
    s.speedupVsPerWindow = ratio(s.perWindowMs, s.residentMs);
    s.speedupVsWasm = ratio(s.wasmMs, s.residentMs);
    s.speedupVsNode = ratio(s.nodeMs, s.residentMs);
    s.uploadRatio = ratio(s.perWindowUploadBytes, s.residentUploadBytes);
    s.readbackRatio = ratio(s.perWindowReadbackBytes, s.residentReadbackBytes);
    return s;
  });
}

export const fmtBytes = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
const fmtX = (r: number | null): string => (r === null ? '-' : `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`);
const fmtS = (ms: number | null): string => (ms === null ? '-' : (ms / 1000).toFixed(2));

/** The text report: a header, the rows table, then one line of ratios per case. */
export function benchText(header: readonly string[], rows: readonly BenchRow[]): string {
  const out = [...header, ''];
  out.push(['case', 'path', 'windows', 'ms / window', 'ms outside session.run', 'uploaded', 'read back', 'total s', 'max diff vs resident', 'note'].join(' | '));
  out.push(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---'].join(' | '));
  for (const r of rows) {
    const good = r.windows > 0 && ok(r.totalMs);
    const outside = good ? `${(r.totalMs - r.predictMs).toFixed(0)} (${((100 * (r.totalMs - r.predictMs)) / r.totalMs).toFixed(1)} %)` : '-';
    out.push(
      [
        r.case,
        PATH_LABEL[r.path] + (r.variant ? ` + ${r.variant}` : ''),
        r.windows,
        good ? (r.totalMs / r.windows).toFixed(1) : '-',
        outside,
        r.path === 'gpu' || r.path === 'webgpu' ? fmtBytes(r.uploadBytes) : '-',
        r.path === 'gpu' || r.path === 'webgpu' ? fmtBytes(r.readbackBytes) : '-',
        good ? `${fmtS(r.totalMs)}${r.estimated ? ' (est.)' : ''}` : '-',
        ok(r.maxDiff) ? r.maxDiff.toExponential(1) : '-',
        r.note ?? '',
      ].join(' | '),
    );
  }
  out.push('', 'GPU-resident against the others (time ratio > 1: GPU-resident is faster; bytes: per-window upload / GPU-resident):');
  for (const s of summarizeBench(rows)) {
    out.push(
      `${s.case}: resident ${fmtS(s.residentMs)} s; vs per-window upload ${fmtX(s.speedupVsPerWindow)}, vs CPU WASM ${fmtX(s.speedupVsWasm)}, vs onnxruntime-node ${fmtX(s.speedupVsNode)}; ` +
        `uploaded ${s.perWindowUploadBytes === null ? '-' : fmtBytes(s.perWindowUploadBytes)} vs ${s.residentUploadBytes === null ? '-' : fmtBytes(s.residentUploadBytes)} (${fmtX(s.uploadRatio)}), ` +
        `read back ${s.perWindowReadbackBytes === null ? '-' : fmtBytes(s.perWindowReadbackBytes)} vs ${s.residentReadbackBytes === null ? '-' : fmtBytes(s.residentReadbackBytes)} (${fmtX(s.readbackRatio)})` +
        (s.maxDiff === null ? '' : `; outputs agree within ${s.maxDiff.toExponential(1)}`),
    );
  }
  return out.join('\n');
}
