/**
 * The BYU pipeline's importance map, built at roi size: ones, then along each axis the first and
 * the last m = trunc(margin * n) voxels set to `floor` (1e-3); the central n - 2m stay 1. With the
 * defaults (margin 0.3) that is the outer 30 % on each side and the central 40 %. m is computed in
 * double as Python's int(0.3 * n) (10 -> 3, 32 -> 9, 64 -> 19, 672 -> 201); m = 0 leaves the axis
 * all ones. This reproduces tests/fixtures/parity/byu_weight_map/weight_map.npy exactly.
 *
 * The sliding window resizes the map nearest-exact to the model's output resolution when the
 * output is smaller than the roi (slidingWindowInference with `params.weightMap`).
 */

/** Per-axis margin in voxels: trunc(margin * n), at most floor(n / 2). */
export function byuMargin(n: number, margin = 0.3): number {
  return Math.min(Math.trunc(margin * n), Math.floor(n / 2));
}

export function byuWeightMap(roi: readonly number[], margin = 0.3, floor = 1e-3): Float32Array {
  if (roi.length !== 3 || roi.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`weight map: roi must be 3 positive integers, got ${roi.join(', ')}`);
  const [d, h, w] = roi;
  const inside = roi.map((n) => {
    const m = byuMargin(n, margin);
    const a = new Uint8Array(n);
    a.fill(1, m, n - m);
    return a;
  });
  const map = new Float32Array(d * h * w);
  const f = Math.fround(floor);
  let p = 0;
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++) {
      const zy = inside[0][z] & inside[1][y];
      for (let x = 0; x < w; x++) map[p++] = zy & inside[2][x] ? 1 : f;
    }
  return map;
}
