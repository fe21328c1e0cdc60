import { describe, expect, it, vi } from 'vitest';
import { makeVolume } from '../core/volume';
import { labelsOf, labelsSoon } from './derived';
import { newResultCache, useStore, type ResultState } from './store';

/** A 3-channel result on a 64 x 128 x 128 grid (1 Mi voxels a slice of the background work: several slices). */
function result(): ResultState {
  const shape = [64, 128, 128] as const;
  const n = shape[0] * shape[1] * shape[2];
  const onInput = new Float32Array(3 * n);
  // label k where i % 3 === k
  for (let i = 0; i < n; i++) onInput[(i % 3) * n + i] = 1;
  const input = makeVolume(new Uint8Array(n), [...shape]);
  return {
    run: {} as ResultState['run'],
    wallMs: 0,
    inputName: 'x',
    modelName: 'm',
    input,
    modelLoadMs: 0,
    relaxed: false,
    onInput,
    channels: 3,
    derived: newResultCache(),
  };
}

describe('labelsSoon', () => {
  it('computes the label map between tasks and tells the store when it is ready', async () => {
    const r = result();
    const seq = useStore.getState().derivedSeq;
    expect(labelsSoon(r, 0)).toBeNull();
    await vi.waitFor(() => expect(useStore.getState().derivedSeq).toBeGreaterThan(seq), { timeout: 20_000 });
    const n = r.onInput.length / 3;
    expect(labelsSoon(r, 0)!.counts).toEqual([Math.ceil(n / 3), Math.ceil((n - 1) / 3), Math.ceil((n - 2) / 3)]);
  });

  it('tells the store when a readout computed the map at once while it was pending (the legend showed … for good)', async () => {
    const r = result();
    const seq = useStore.getState().derivedSeq;
    expect(labelsSoon(r, 0)).toBeNull();
    // a click's readout (NiivueView) before the background work is done
    const now = labelsOf(r, 0);
    await vi.waitFor(() => expect(useStore.getState().derivedSeq).toBeGreaterThan(seq), { timeout: 20_000 });
    expect(labelsSoon(r, 0)).toBe(now);
    expect(r.derived.labelsPending).toBeUndefined();
  });
});
