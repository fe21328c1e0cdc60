/** Label maps from multi-channel model outputs. */

/** Argmax over the channel axis of a [C, ...spatial] float array (first max wins, like numpy). */
export function argmax(data: Float32Array, shape: number[]): Uint8Array {
  const c = shape[0];
  if (c > 255) throw new Error(`argmax to uint8 supports up to 255 channels, got ${c}`);
  const n = data.length / c;
  const out = new Uint8Array(n);
  if (c === 1) return out;
  const best = data.slice(0, n);
  for (let k = 1; k < c; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) {
      const v = data[base + i];
      if (v > best[i]) {
        best[i] = v;
        out[i] = k;
      }
    }
  }
  return out;
}

/** Voxel count per label of a label map. */
export function labelCounts(labels: Uint8Array, nLabels: number): number[] {
  const counts = new Array<number>(nLabels).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

export function argmaxCounts(data: Float32Array, shape: number[]): number[] {
  return labelCounts(argmax(data, shape), shape[0]);
}

/** Dice overlap of one label between two label maps. */
export function dice(a: Uint8Array, b: Uint8Array, label: number): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === label;
    const y = b[i] === label;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}
