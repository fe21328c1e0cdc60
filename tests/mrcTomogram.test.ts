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

/**
 * Reads into the reader's buffers (readInto): written in place as the CLI does ('into'), or moved to
 * a new ArrayBuffer first as a BYOB stream does on the page ('move': the old buffer is detached, so
 * a reader that kept using it would see nothing).
 */
function rangedInto(bytes: Uint8Array, log: number[], how: 'into' | 'move'): ByteRange {
  return {
    size: bytes.length,
    read: () => {
      throw new Error('readInto is there: read() is not used');
    },
    readInto: async (offset, into) => {
      log.push(into.length);
      const got = bytes.subarray(offset, offset + into.length);
      const target = how === 'move' ? new Uint8Array(structuredClone(into.buffer, { transfer: [into.buffer as ArrayBuffer] }), into.byteOffset, got.length) : into;
      target.set(got);
      return target.subarray(0, got.length);
    },
  };
}

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
      for (const how of ['into', 'move'] as const) {
        const log: number[] = [];
        const t = (await readMrcTomogram({ ...rangedInto(bytes, log, how), read: (o, l) => (log.push(l), bytes.slice(o, o + l)) }, 'slabs', file, { slabBytes: h * w * itemSize * 2 }))!;
        expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
        expect(Math.max(...log.slice(1))).toBeLessThanOrEqual(h * w * itemSize * 2);
      }
    });
  }
  // 16-bit voxels go through a table of the codes that occur: the same bytes for big-endian files,
  // every code of a type, NaN, infinities, signed zeros and subnormals, and a constant volume
  const same = async (bytes: Uint8Array, name: string) => {
    const whole = tomogramFromVolume(readMrc(bytes, name), 'whole');
    for (const odd of [false, true]) {
      const t = (await readMrcTomogram(ranged(bytes, [], odd), 'slabs', name, { slabBytes: 5000 }))!;
      expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    }
    return whole;
  };
  /** A copy of a fixture with its voxels replaced by `codes` (16-bit, in the file's byte order). */
  const with16 = (file: string, codes: (i: number) => number, bigEndian = false, mode?: number): Uint8Array => {
    const src = new Uint8Array(readFileSync(resolve(FIX, file)));
    const dv = new DataView(src.buffer);
    const n = dv.getInt32(0, !bigEndian) * dv.getInt32(4, !bigEndian) * dv.getInt32(8, !bigEndian);
    const at = 1024 + dv.getInt32(92, !bigEndian);
    const out = new Uint8Array(at + 2 * n);
    out.set(src.subarray(0, at));
    const ov = new DataView(out.buffer);
    if (mode !== undefined) ov.setInt32(12, mode, !bigEndian);
    for (let i = 0; i < n; i++) ov.setUint16(at + 2 * i, codes(i) & 0xffff, !bigEndian);
    return out;
  };
  it('16-bit voxels by lookup: big-endian, every code, NaN / infinity / signed zero / subnormal halves, a constant volume', async () => {
    const mix = (i: number) => Math.imul(i + 1, 2654435761) >>> 16;
    // big-endian int16 (the float32 big-endian fixture's header, mode 1)
    const be = await same(with16('mode2_bigendian.mrc', mix, true, 1), 'be_int16.mrc');
    expect(new Set(be.data).size).toBeGreaterThan(20);
    for (const mode of [1, 6, 12]) await same(with16('mode1_int16.mrc', (i) => (mode === 12 ? mix(i) & 0x7bff : mix(i)), false, mode), `mode${mode}.mrc`);
    const specials = [0x7e00, 0x8000, 0x0000, 0x0001, 0x8001, 0x03ff, 0x3c00, 0xbc00, 0x7bff, 0xfbff];
    await same(with16('mode12_float16.mrc', (i) => specials[i % specials.length]), 'specials.mrc');
    await same(with16('mode12_float16.mrc', (i) => [...specials, 0x7c00, 0xfc00][i % 12]), 'infinities.mrc');
    const flat = await same(with16('mode1_int16.mrc', () => 1234), 'flat.mrc');
    expect(flat.data.every((v) => v === 0)).toBe(true);
  });

  it('float32 voxels (a loop of their own): NaN, infinities, signed zeros, huge and tiny values', async () => {
    const src = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    const dv = new DataView(src.buffer);
    const n = dv.getInt32(0, true) * dv.getInt32(4, true) * dv.getInt32(8, true);
    const at = 1024 + dv.getInt32(92, true);
    for (const specials of [[NaN, -0, 0, 1e-30, -3.5e38, 3.4e38], [NaN, Infinity, 5, -2], [-Infinity, 1, 2, NaN]]) {
      const bytes = src.slice();
      const v = new DataView(bytes.buffer);
      for (let i = 0; i < n; i += 7) v.setFloat32(at + 4 * i, specials[(i / 7) % specials.length], true);
      await same(bytes, 'specials32.mrc');
    }
  });

  // modes other than uint8 map on the first pass with the header's DMIN..DMAX while they look for the
  // data's range: read once when the header's range is exact (as mrcfile and IMOD write it), twice
  // (and the same voxels) when it is missing, wider, narrower, NaN or reversed
  it("the header's DMIN..DMAX: exact, the file is read once; missing or wrong, twice and the same voxels", async () => {
    const withRange = (bytes: Uint8Array, lo: number, hi: number): Uint8Array => {
      const out = bytes.slice();
      const v = new DataView(out.buffer);
      const le = v.getInt32(12, true) >= 0 && v.getInt32(12, true) < 100;
      v.setFloat32(76, lo, le);
      v.setFloat32(80, hi, le);
      return out;
    };
    const float32 = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    const withNaN = float32.slice();
    new DataView(withNaN.buffer).setFloat32(1024 + 4 * 5, NaN, true);
    const files: [string, Uint8Array][] = [
      ...['mode0_int8.mrc', 'mode1_int16.mrc', 'mode2_float32.mrc', 'mode2_bigendian.mrc', 'mode6_uint16.mrc', 'mode12_float16.mrc'].map((f): [string, Uint8Array] => [f, new Uint8Array(readFileSync(resolve(FIX, f)))]),
      ['nan.mrc', withNaN],
    ];
    for (const [name, bytes] of files) {
      const vol = readMrc(bytes, name);
      const whole = tomogramFromVolume(vol, 'whole');
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of vol.data) if (x < lo) lo = x;
      for (const x of vol.data) if (x > hi) hi = x;
      const dataBytes = bytes.length - 1024 - new DataView(bytes.buffer).getInt32(92, name !== 'mode2_bigendian.mrc');
      const span = hi - lo;
      for (const [claimLo, claimHi, passes] of [
        [lo, hi, 1],
        [lo - span / 8, hi, 2],
        [lo, hi + span / 8, 2],
        [lo + span / 4, hi - span / 4, 2],
        [0, 0, 2],
        [hi, lo, 2],
        [NaN, hi, 2],
      ] as const) {
        const log: number[] = [];
        const progress: { done: number; total: number }[] = [];
        const t = (await readMrcTomogram(ranged(withRange(bytes, claimLo, claimHi), log), 'slabs', name, { slabBytes: 4096, onProgress: (p) => progress.push(p) }))!;
        expect(Buffer.from(t.data).equals(Buffer.from(whole.data)), `${name} ${claimLo}..${claimHi}`).toBe(true);
        expect(log.slice(1).reduce((a, b) => a + b, 0), `${name} ${claimLo}..${claimHi}`).toBe(passes * dataBytes);
        // progress: one step per slab read, ending at done = total = the slabs read
        const slabsRead = log.length - 1;
        expect(progress.map((p) => p.done)).toEqual(Array.from({ length: slabsRead }, (_, i) => i + 1));
        expect(progress.at(-1)).toEqual({ done: slabsRead, total: slabsRead });
        expect(progress.every((p) => p.done <= p.total)).toBe(true);
      }
    }
  });

  // reads ahead while a slab is converted: two slabs in flight with read, one with readInto (the
  // CLI's synchronous reads), or as many as the file's readAhead says (the page's BYOB reads: two),
  // never more, and the same voxels (readInto writes when called: a buffer read into again before
  // its slab was converted would change voxels)
  it('asks for slabs ahead: two in flight with read, one with readInto, readAhead with readInto', async () => {
    const bytes = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    const whole = tomogramFromVolume(readMrc(bytes, 'f.mrc'), 'whole');
    const [, h, w] = whole.shape;
    for (const [into, readAhead, expected] of [[false, undefined, 2], [true, undefined, 1], [true, 2, 2], [true, 3, 3]] as const) {
      let inFlight = 0;
      let most = 0;
      const later = <T>(v: T): Promise<T> => {
        most = Math.max(most, ++inFlight);
        return new Promise((res) => setTimeout(() => (inFlight--, res(v)), 1));
      };
      const range: ByteRange = {
        size: bytes.length,
        read: (o, l) => (o === 0 ? bytes.slice(0, l) : later(bytes.slice(o, o + l))),
        ...(into ? { readInto: (o: number, buf: Uint8Array) => (buf.set(bytes.subarray(o, o + buf.length)), later(buf)) } : {}),
        ...(readAhead ? { readAhead } : {}),
      };
      const t = (await readMrcTomogram(range, 'ahead', 'f.mrc', { slabBytes: h * w * 4 }))!;
      expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
      expect(most).toBe(expected);
    }
  });

  it("reads in the file's slabBytes unless the caller gives its own", async () => {
    const bytes = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    const whole = tomogramFromVolume(readMrc(bytes, 'f.mrc'), 'whole');
    const [, h, w] = whole.shape;
    const section = h * w * 4;
    for (const [fileSlab, callerSlab, expected] of [[section * 3, undefined, section * 3], [section * 3, section, section], [undefined, undefined, Math.min(bytes.length - 1024, 4 << 20)]] as const) {
      const log: number[] = [];
      const t = (await readMrcTomogram({ ...ranged(bytes, log), ...(fileSlab ? { slabBytes: fileSlab } : {}) }, 's', 'f.mrc', callerSlab ? { slabBytes: callerSlab } : {}))!;
      expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
      expect(Math.max(...log.slice(1))).toBe(expected);
    }
    // readInto's buffers: no larger than the file's voxels when the slab is larger than the file
    const sizes: number[] = [];
    const range: ByteRange = { size: bytes.length, slabBytes: 16 << 20, read: (o, l) => bytes.slice(o, o + l), readInto: (o, into) => (sizes.push(into.buffer.byteLength), into.set(bytes.subarray(o, o + into.length)), into) };
    const t = (await readMrcTomogram(range, 's', 'f.mrc'))!;
    expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    expect(sizes).toEqual([bytes.length - 1024]);
  });

  it('a gzipped file is left to the whole-file reader; a truncated one is named', async () => {
    const gz = new Uint8Array(readFileSync(resolve(FIX, 'emd_3197.map.gz')));
    expect(await readMrcTomogram(ranged(gz, []), 'g', 'emd_3197.map.gz')).toBeNull();
    const bytes = new Uint8Array(readFileSync(resolve(FIX, 'mode2_float32.mrc')));
    await expect(readMrcTomogram(ranged(bytes.subarray(0, bytes.length - 10), []), 'cut', 'cut.mrc')).rejects.toThrow(/cut\.mrc: truncated data/);
  });
});
