/**
 * The one TIFF reader (src/core/io/tiff.ts) on files written here with known values (byte order,
 * 8/16/32-bit unsigned, signed and float samples, interleaved and planar samples, several pages,
 * ImageJ spacing) and on the motors and protein fixtures; and its two callers on the same files.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTiffPage, openTiff, releaseTiffPage, tiffPageSamples, tiffSpacing } from '../../src/core/io/tiff';
import { readTiffStack } from '../../src/core/motors/decode';
import { readRgbyTiff } from '../../src/core/protein/images';
import { writeTiff, type TiffPageSpec } from './tiffWriter';

const ROOT = resolve(__dirname, '../..');
const ramp = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

function samplesOf(bytes: Uint8Array, page = 0): number[][] {
  const t = openTiff(bytes, 'x.tif');
  decodeTiffPage(t, page);
  const out = Array.from({ length: t.pages[page].samples }, (_, s) => Array.from(tiffPageSamples(t, page, s)));
  releaseTiffPage(t, page);
  return out;
}

describe('TIFF pages (src/core/io/tiff.ts)', () => {
  const W = 5;
  const H = 3;
  const n = W * H;
  const cases: [string, TiffPageSpec][] = [
    ['uint8', { width: W, height: H, bits: 8, channels: [ramp(n, (i) => i * 17)] }],
    ['uint16', { width: W, height: H, bits: 16, channels: [ramp(n, (i) => i * 4000 + 7)] }],
    ['int16', { width: W, height: H, bits: 16, format: 2, channels: [ramp(n, (i) => (i - 7) * 3001)] }],
    ['uint32', { width: W, height: H, bits: 32, channels: [ramp(n, (i) => i * 200_000_003)] }],
    ['int32', { width: W, height: H, bits: 32, format: 2, channels: [ramp(n, (i) => (i - 7) * 100_000_007)] }],
    ['float32', { width: W, height: H, bits: 32, format: 3, channels: [ramp(n, (i) => Math.fround((i - 7) * 1.25e-3))] }],
  ];
  for (const [what, spec] of cases) {
    for (const le of [true, false]) {
      it(`${what}, ${le ? 'little' : 'big'}-endian: the stored numbers`, () => {
        const bytes = writeTiff([spec], le);
        const t = openTiff(bytes, 'x.tif');
        expect(t.pages[0]).toMatchObject({ width: W, height: H, bits: spec.bits, samples: 1, format: spec.format ?? 1 });
        expect(samplesOf(bytes)).toEqual(spec.channels);
      });
    }
  }

  it('samples per pixel: interleaved and planar give the same channels, in both byte orders', () => {
    const channels = [0, 1, 2, 3].map((c) => ramp(n, (i) => c * 10000 + i * 301));
    for (const planar of [1, 2] as const) {
      for (const le of [true, false]) {
        const bytes = writeTiff([{ width: W, height: H, bits: 16, planar, photometric: 2, channels }], le);
        expect(openTiff(bytes, 'x').pages[0]).toMatchObject({ samples: 4, planar });
        expect(samplesOf(bytes)).toEqual(channels);
      }
    }
  });

  it('several pages, each read on its own; ImageJ spacing (nm per pixel -> Angstrom)', () => {
    const pages = [0, 1, 2].map((z) => ({ width: W, height: H, bits: 8 as const, channels: [ramp(n, (i) => z * 50 + i)], description: 'ImageJ=1.54f\nunit=nm\n', xResolution: [1, 2] as [number, number] }));
    const bytes = writeTiff(pages, false);
    const t = openTiff(bytes, 'stack.tif');
    expect(t.pages.length).toBe(3);
    expect(samplesOf(bytes, 2)).toEqual(pages[2].channels);
    expect(tiffSpacing(t)).toBe(20);
  });

  it('errors name the file: not a TIFF, a file cut before its directory', () => {
    expect(() => openTiff(new TextEncoder().encode('II*\0garbage'), 'bad.tif')).toThrow(/^bad\.tif: /);
    const bytes = writeTiff([{ width: 64, height: 64, bits: 16, channels: [ramp(64 * 64, (i) => i)] }]);
    expect(() => openTiff(bytes.subarray(0, 1000), 'cut.tif')).toThrow(/^cut\.tif: (the TIFF has no images|not a readable TIFF)/);
  });

  it('the fixtures: the motors stacks and the protein field-of-view TIFFs', () => {
    const u16 = openTiff(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/motors/stack_u16.tif'))), 'stack_u16.tif');
    expect(u16.pages.every((p) => p.bits === 16 && p.samples === 1)).toBe(true);
    const rgba = openTiff(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/protein/tiff_rgba8.tif'))), 'tiff_rgba8.tif');
    expect(rgba.pages.map((p) => [p.width, p.height, p.bits, p.samples])).toEqual([[30, 24, 8, 4]]);
    const real = openTiff(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/io/14pf_MT.tif'))), '14pf_MT.tif');
    expect(tiffSpacing(real)).toBe(10.52);
  });
});

describe('the two callers on one reader', () => {
  const W = 4;
  const H = 2;
  const n = W * H;

  it('readTiffStack: a big-endian float stack is mapped min..max to 0..255, as a little-endian one', () => {
    const pages = [0, 1].map((z) => ({ width: W, height: H, bits: 32 as const, format: 3 as const, channels: [ramp(n, (i) => (z * n + i) * 0.5 - 2)] }));
    const le = readTiffStack(writeTiff(pages, true), 'f');
    const be = readTiffStack(writeTiff(pages, false), 'f');
    expect(le.shape).toEqual([2, H, W]);
    const want = ramp(2 * n, (i) => Math.floor(((i * 0.5) * 255) / ((2 * n - 1) * 0.5) + 0.5));
    expect(Array.from(le.data)).toEqual(want);
    expect(Array.from(be.data)).toEqual(want);
  });

  it('readTiffStack: signed 16-bit pages keep their order (min..max)', () => {
    const vals = ramp(n, (i) => (i - 4) * 1000);
    const t = readTiffStack(writeTiff([{ width: W, height: H, bits: 16, format: 2, channels: [vals] }], false), 's');
    expect(Array.from(t.data)).toEqual(vals.map((v) => Math.floor(((v + 4000) * 255) / 7000 + 0.5)));
  });

  it('readRgbyTiff: a planar big-endian 16-bit RGBY page, and four pages of one sample', () => {
    const channels = [0, 1, 2, 3].map((c) => ramp(n, (i) => 300 * c + i * 999));
    const planar = readRgbyTiff(writeTiff([{ width: W, height: H, bits: 16, planar: 2, photometric: 2, channels }], false), 'p');
    expect([planar.width, planar.height, planar.bits]).toEqual([W, H, 16]);
    expect(planar.channels.map((c) => Array.from(c))).toEqual(channels);
    const pages = readRgbyTiff(writeTiff(channels.map((c) => ({ width: W, height: H, bits: 16 as const, channels: [c] }))), 'q');
    expect(pages.channels.map((c) => Array.from(c))).toEqual(channels);
    expect(() => readRgbyTiff(writeTiff([{ width: W, height: H, bits: 32, format: 3, channels: [channels[0]] }]), 'f', 'f.tif')).toThrow(
      'f.tif: 32-bit float TIFF samples are not supported; use 8- or 16-bit unsigned images',
    );
  });
});
