import { describe, expect, it } from 'vitest';
import { benchText, summarizeBench, type BenchRow } from '../tools/benchSummary';

const row = (path: BenchRow['path'], totalMs: number, uploadBytes = 0, readbackBytes = 0, extra: Partial<BenchRow> = {}): BenchRow => ({ case: 'c', path, windows: 10, totalMs, predictMs: totalMs / 2, uploadBytes, readbackBytes, ...extra });

describe('device bench summary', () => {
  it('gives the GPU-resident path against per-window upload and the CPU baselines as ratios, with bytes', () => {
    const rows = [row('gpu', 100, 1000, 400), row('webgpu', 250, 8000, 4000, { maxDiff: 1e-7 }), row('wasm', 2000, 0, 0, { maxDiff: 3e-7 }), row('node', 500, 0, 0, { estimated: true }), row('gpu', 50, 1000, 400, { variant: 'graph capture' })];
    const [s] = summarizeBench(rows);
    expect(s.residentMs).toBe(100); // the plain row, not the graph-capture variant
    expect(s.speedupVsPerWindow).toBe(2.5);
    expect(s.speedupVsWasm).toBe(20);
    expect(s.speedupVsNode).toBe(5);
    expect(s.uploadRatio).toBe(8);
    expect(s.readbackRatio).toBe(10);
    expect(s.maxDiff).toBe(3e-7);
    const text = benchText(['header'], rows);
    expect(text).toContain('c: resident 0.10 s; vs per-window upload 2.50x, vs CPU WASM 20x, vs onnxruntime-node 5.00x; uploaded 7.8 KiB vs 1.0 KiB (8.00x), read back 3.9 KiB vs 0.4 KiB (10x); outputs agree within 3.0e-7');
    expect(text).toContain('| 0.50 (est.) |');
  });

  it('leaves failed or missing paths out of the ratios', () => {
    const [s] = summarizeBench([row('gpu', 100), { ...row('webgpu', NaN), windows: 0, note: 'failed: x' }]);
    expect(s.speedupVsPerWindow).toBeNull();
    expect(s.wasmMs).toBeNull();
    expect(benchText([], [row('gpu', 100), { ...row('webgpu', NaN), windows: 0, note: 'failed: x' }])).toContain('vs per-window upload -');
  });
});
