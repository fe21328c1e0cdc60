/**
 * The quantised stage-1 probabilities of sim_neck (tools/make_spine_fixtures.py:
 * tests/fixtures/spine/sim_neck_prob_q64.npy.gz, counts of 1/64) as a stage-1 "model" that returns
 * them as logits in the slices-last layout, so that the tests and Python crop from the same numbers
 * (tests/spine.pipeline.test.ts, tests/realModels.pipeline.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readNpy } from '../src/core/io/npy';

const Q64 = resolve(import.meta.dirname, 'fixtures/spine/sim_neck_prob_q64.npy.gz');

/** The logits (1, 7, rows, cols, slices) of the quantised probabilities (7, slices, rows, cols) on the 128^3 grid. */
export async function q64SegLogits(): Promise<{ data: Float32Array; shape: number[] }> {
  const q = readNpy(gunzipSync(readFileSync(Q64)), 'sim_neck_prob_q64.npy');
  const S = 128;
  const out = new Float32Array(7 * S ** 3);
  for (let k = 0; k < 7; k++)
    for (let z = 0; z < S; z++)
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          const p = (q.data[((k * S + z) * S + y) * S + x] as number) / 64;
          out[((k * S + y) * S + x) * S + z] = p <= 0 ? -30 : p >= 1 ? 30 : Math.log(p / (1 - p));
        }
  return { data: out, shape: [1, 7, S, S, S] };
}
