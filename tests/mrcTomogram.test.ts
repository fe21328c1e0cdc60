/**
 * MRC tomograms read slab by slab (readMrcTomogram) give exactly the voxels and spacing of reading
 * the whole file (readMrc + tomogramFromVolume), for every mode, with slabs of one z section and
 * more, and never read more than one slab at a time.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMrc } from '../src/core/io/mrc';
import { readMrcTomogram, tomogramFromVolume, type ByteRange } from '../src/core/motors/tomogram';

const FIX = resolve(import.meta.dirname, 'fixtures/io');
const CASES = ['mode0_imod_uint8', 'mode0_int8', 'mode1_int16', 'mode2_float32', 'mode2_bigendian', 'mode2_exthdr_origin', 'mode6_uint16', 'mode12_float16', '14pf_MT_derived_int16'];

/** Reads as a copy (its own buffer, offset 0: slab values are views of it), or at an odd offset in a larger buffer (values copied). */
function ranged(bytes: Uint8Array, log: number[], odd = false): ByteRange {
  return {
    size: bytes.length,
    read: (offset, length) => {
      log.push(length);
      if (!odd) return bytes.slice(offset, offset + length);
      const buf = new Uint8Array(length + 1);
      buf.set(bytes.subarray(offset, offset + length), 1);
      return buf.subarray(1, 1 + Math.min(length, bytes.length - offset));
    },
  };
}

describe('MRC tomograms slab by slab', () => {
  for (const name of CASES) {
    const file = `${name}.${name.endsWith('int16') && name.startsWith('14pf') ? 'rec' : 'mrc'}`;
    it(`${file}: same voxels and spacing as reading the whole file`, async () => {
      const bytes = new Uint8Array(readFileSync(resolve(FIX, file)));
      const whole = tomogramFromVolume(readMrc(bytes, file), 'whole');
      const [d, h, w] = whole.shape;
      const itemSize = (bytes.length - 1024) / (d * h * w) >= 4 ? 4 : (bytes.length - 1024) / (d * h * w) >= 2 ? 2 : 1;
      for (const [slabBytes, odd] of [[1, false], [h * w * itemSize * 3, false], [1 << 24, false], [h * w * itemSize * 3, true]] as const) {
        const log: number[] = [];
        const t = (await readMrcTomogram(ranged(bytes, log, odd), 'slabs', file, { slabBytes }))!;
        expect(t.shape).toEqual(whole.shape);
        expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
        expect(t.spacing).toBe(whole.spacing);
        // the header, then slabs of at most max(1 section, slabBytes)
        expect(Math.max(...log.slice(1))).toBeLessThanOrEqual(Math.max(h * w * itemSize, slabBytes));
      }
    });
  }
  it('a gzipped file is left to the whole-file reader; a truncated one is named', async () => {
    const gz = new Uint8Array(readFileSync(resolve(FIX, 'emd_3197.map.gz')));
    expect(await readMrcTomogram(ranged(gz, []), 'g', 'emd_3197.map.gz')).toBeNull();
    const bytes = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    await expect(readMrcTomogram(ranged(bytes.subarray(0, bytes.length - 10), []), 'cut', 'cut.mrc')).rejects.toThrow(/cut\.mrc: truncated data/);
  });
});
