/**
 * The hostile inputs of tests/fixtures/fuzz/ (README.md there): the hangs the fuzz suite found
 * before the readers were made total, the worst cases (a 1 kB .nii.gz declaring 1024^3,
 * a PNG declaring 20000 x 20000, an external-data offset of -864 that loaded the wrong weights),
 * and the checks behind them (capped inflating, affine and spacing checks, CSV in linear time).
 * Each must end quickly in an InputError naming the file, or in a sane result.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync, gzipSync, strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readVolume } from '../src/core/io';
import { inflateCapped } from '../src/core/io/binary';
import { LIMITS } from '../src/core/io/limits';
import { readNifti } from '../src/core/io/nifti';
import { decodeGrayImage, readTiffStack } from '../src/core/motors/decode';
import { decodeChannelImage, readRgbyTiff } from '../src/core/protein/images';
import { readSpectrogramParquet } from '../src/core/eeg/parquet';
import { externalDataOption, inlineExternalData } from '../src/core/onnx/externalData';
import { inspectModel } from '../src/core/onnx/model';
import { readSession } from '../src/core/share/session';
import { decodeLink } from '../src/core/share/query';
import { readDicomSeries } from '../src/core/spine/dicom';
import { InputError } from '../src/core/volume';
import { presetDefaults, presetParamsFromCard } from '../src/core/preset';
import { PRESET_DEFS } from '../src/core/presets';
import { volumeProblem } from '../tools/fuzzTargets';

const ROOT = resolve(import.meta.dirname, '..');
const read = (p: string) => new Uint8Array(readFileSync(resolve(ROOT, p)));
const fixture = (name: string) => read(`tests/fixtures/fuzz/${name}`);

/** Runs `f`, which must throw an InputError naming `name` (and matching `pattern`) within `ms`. */
async function refused(f: () => unknown, name: string, pattern: RegExp, ms = 2000): Promise<string> {
  const t0 = performance.now();
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(err, `expected an InputError for ${name}`).toBeInstanceOf(InputError);
  const msg = (err as Error).message;
  expect(msg).toContain(name);
  expect(msg).toMatch(pattern);
  return msg;
}

describe('fuzz fixtures: what hung or misled before', () => {
  it('TIFF: a directory chain that loops back is refused at once (UTIF followed it until the heap ran out)', async () => {
    await refused(() => readTiffStack(fixture('tiff_ifd_loop.tif'), 'tiff_ifd_loop', 'tiff_ifd_loop.tif'), 'tiff_ifd_loop.tif', /directory chain loops back to byte \d+/);
    await refused(() => readRgbyTiff(fixture('tiff_rgba8_ifd_loop.tif'), 'fov', 'tiff_rgba8_ifd_loop.tif'), 'tiff_rgba8_ifd_loop.tif', /loops back/);
  });

  it('TIFF: a tag count past the end of the file is refused; a huge count on a tag no page uses is skipped', async () => {
    await refused(() => readTiffStack(fixture('tiff_tag_count_past_end.tif'), 'x', 'tiff_tag_count_past_end.tif'), 'tiff_tag_count_past_end.tif', /tag \d+ of directory \d+ claims \d+ values at byte \d+, past the end/);
    // a splice shifted the file: one page is left, read whole, its first row as in the original
    const t0 = performance.now();
    const t = readTiffStack(fixture('tiff_huge_unused_tag.tif'), 'x', 'tiff_huge_unused_tag.tif');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(t.shape).toEqual([1, 12, 10]);
    const orig = readTiffStack(read('tests/fixtures/motors/stack_u8.tif'), 'x');
    expect(Array.from(t.data.subarray(0, 10))).toEqual(Array.from(orig.data.subarray(0, 10)));
  });

  it('TIFF: an LZW strip without an end code stops at the end of its page (UTIF decoded it forever)', () => {
    const t0 = performance.now();
    const cut = readTiffStack(fixture('tiff_lzw_no_end_code.tif'), 'x', 'tiff_lzw_no_end_code.tif');
    expect(performance.now() - t0).toBeLessThan(2000);
    const orig = readTiffStack(read('tests/fixtures/motors/stack_u8_lzw.tif'), 'x');
    expect(cut.shape).toEqual(orig.shape);
    const page = cut.shape[1] * cut.shape[2];
    // every page but the last (whose strip was zeroed: code 0 is the byte 0) as before
    expect(Array.from(cut.data.subarray(0, 4 * page))).toEqual(Array.from(orig.data.subarray(0, 4 * page)));
    expect(cut.data.subarray(4 * page).every((v) => v === 0)).toBe(true);
  });

  it('parquet: a page header with damaged counts is refused before hyparquet loops over it', async () => {
    await refused(() => readSpectrogramParquet(fixture('parquet_page_header.parquet'), 'parquet_page_header.parquet'), 'parquet_page_header.parquet', /damaged or truncated \(a page of column \S+ has a damaged header\)/);
  });

  it('parquet: definition-level runs longer than their page are refused before hyparquet grows an array past the limit of V8', async () => {
    // fuzz cases 2177, 2647 (def-level runs of ~2^27 values where 8 are left: hangs, then 1 GB), 3190 (a crash at 1 GB), 8098 (a def-level length of 2^27 bytes)
    const cases: [string, RegExp][] = [
      ['parquet_2177.parquet', /damaged or truncated \(a page of column LL_0\.59 is missing 8 of its 8 values from its runs\)/],
      ['parquet_2647.parquet', /damaged or truncated \(a page of column LL_0\.59 is missing 8 of its 8 values from its runs\)/],
      ['parquet_3190.parquet', /damaged or truncated \(a page of column LL_1\.17 is missing 6 of its 8 values from its runs\)/],
      ['parquet_8098.parquet', /damaged or truncated \(a page of column LL_1\.17 has definition levels of 134217730 bytes in 70 bytes\)/],
    ];
    for (const [name, pattern] of cases) await refused(() => readSpectrogramParquet(fixture(name), name), name, pattern);
  });

  it('PNG: an IHDR of 20000 x 20000 (or 1.6 G x 5) is refused before anything is inflated', async () => {
    await refused(() => decodeGrayImage(fixture('png_20000x20000.png'), 'png_20000x20000.png'), 'png_20000x20000.png', /declares 20000 x 20000 pixels, more than the limit/);
    await refused(() => decodeChannelImage(fixture('png_20000x20000.png'), 'png_20000x20000.png'), 'png_20000x20000.png', /declares 20000 x 20000 pixels/);
    await refused(() => decodeChannelImage(fixture('png_palette_huge_ihdr.png'), 'png_palette_huge_ihdr.png'), 'png_palette_huge_ihdr.png', /declares \d+ x \d+ pixels, more than the limit/);
  });

  it('JPEG: a frame header of 65535 x 65535 is refused before jpeg-js allocates', async () => {
    await refused(() => decodeGrayImage(fixture('jpeg_65535x65535.jpg'), 'jpeg_65535x65535.jpg'), 'jpeg_65535x65535.jpg', /declares 65535 x 65535 pixels/);
  });

  it('NIfTI: a 84-byte .nii.gz whose header declares 1024^3 float32 is refused before it is inflated', async () => {
    await refused(
      () => readVolume(fixture('nifti_1024cubed.nii.gz'), 'nifti_1024cubed.nii.gz'),
      'nifti_1024cubed.nii.gz',
      /^nifti_1024cubed\.nii\.gz: its NIfTI header \(1024 x 1024 x 1024 float32 voxels\) declares 4,294,967,648 bytes, more than (the limit|84 compressed bytes)/,
    );
  });

  it('ONNX: an external-data offset of -864 is refused (it loaded the weights from the end of the data file, outputs off by 21.5)', async () => {
    const data = new Map([['unet_ext.onnx.data', read('tests/fixtures/onnx/external/unet_ext.onnx.data')]]);
    const name = 'onnx_external_offset_-864.onnx';
    await refused(() => inlineExternalData(fixture(name), data, { modelName: name }), name, /tensor '\S+' has an external-data offset of "-864", not a whole number of bytes/);
    await refused(() => externalDataOption(fixture(name), data, { modelName: name }), name, /offset of "-864"/);
    // the model itself is fine apart from that
    expect(inspectModel(fixture(name)).externalData.length).toBeGreaterThan(0);
  });

  it('session: an entry that inflates past the size its directory gives is refused at that size', async () => {
    await refused(() => readSession(fixture('session_entry_bomb.vbsession'), 'session_entry_bomb.vbsession'), 'session_entry_bomb.vbsession', /result\.f32: the entry inflates to more than 2,048 bytes/);
  });
});

describe('the checks behind them', () => {
  it('inflateCapped: a bomb stops at the cap; a declared size is checked against deflate\'s 1032:1 before the rest is inflated', () => {
    const bomb = gzipSync(new Uint8Array(16 << 20), { level: 1 }); // 16 MiB of zeros in ~70 kB
    expect(() => inflateCapped('gzip', bomb, 'bomb.gz', { cap: 1 << 20 })).toThrow(/^bomb\.gz: the gzip data inflates to more than 1,048,576 bytes, the limit/);
    const lying = { bytes: 4, size: () => ({ bytes: 2 ** 31, what: 'its header' }) };
    expect(() => inflateCapped('gzip', bomb, 'liar.gz', { declared: lying })).toThrow(/^liar\.gz: its header declares 2,147,483,648 bytes, more than [\d,]+ compressed bytes can hold/);
    // the whole of a good stream, and gzip members one after the other (bgzip), as gunzip gives them
    const a = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251);
    expect(inflateCapped('gzip', gzipSync(a), 'a.gz')).toEqual(a);
    const two = new Uint8Array([...gzipSync(a.subarray(0, 40_000)), ...gzipSync(a.subarray(40_000))]);
    expect(inflateCapped('gzip', two, 'two.gz')).toEqual(a);
    // cut in its trailer or its header: an error, not a silent success
    const gz = gzipSync(a);
    expect(() => inflateCapped('gzip', gz.subarray(0, gz.length - 2), 'cut.gz')).toThrow(/^cut\.gz: the gzip data is cut short/);
    expect(() => inflateCapped('gzip', gz.subarray(0, 5), 'cut.gz')).toThrow(/^cut\.gz: .*cut short/);
  });

  it('NIfTI: a small .nii.gz declaring 1024^3 uint8 (1 GiB, within the limits) is refused by what its bytes can hold', () => {
    const h = gunzipSync(fixture('nifti_1024cubed.nii.gz'));
    const v = new DataView(h.buffer);
    v.setInt16(70, 2, true); // uint8
    v.setInt16(72, 8, true);
    const gz = gzipSync(h);
    expect(() => readVolume(gz, 'u8.nii.gz')).toThrow(
      new RegExp(`^u8\\.nii\\.gz: its NIfTI header \\(1024 x 1024 x 1024 uint8 voxels\\) declares 1,073,742,176 bytes, more than ${gz.length} compressed bytes can hold \\(deflate expands at most 1032:1\\)`),
    );
  });

  it('NIfTI: an sform with NaN or a zero column, and a NaN pixdim, are refused naming the field', () => {
    const good = gunzipSync(read('tests/fixtures/io/nifti1_rot_scl.nii.gz'));
    expect(readNifti(good, 'good.nii').affine[0][0]).not.toBeNaN();
    const patched = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setFloat32(at, v, true);
      return b;
    };
    expect(() => readNifti(patched(280, NaN), 'nan.nii')).toThrow(/^nan\.nii: the sform \(voxel-to-world transform\) is not usable: it has NaN or infinite entries/);
    const zero = patched(280, 0);
    const v = new DataView(zero.buffer);
    v.setFloat32(296, 0, true);
    v.setFloat32(312, 0, true);
    expect(() => readNifti(zero, 'zero.nii')).toThrow(/^zero\.nii: the sform .* is not usable: it is singular/);
    expect(() => readNifti(patched(80, Infinity), 'pix.nii')).toThrow(/^pix\.nii: bad NIfTI voxel size: pixdim\[1\] is Infinity/);
  });

  it('npy: an empty array (0, 0, 0) is no volume', () => {
    const header = strToU8("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 0, 0), }" + ' '.repeat(50) + '\n');
    const npy = new Uint8Array([0x93, ...strToU8('NUMPY'), 1, 0, header.length & 255, header.length >> 8, ...header]);
    expect(() => readVolume(npy, 'empty.npy')).toThrow(/^empty\.npy: the array is empty \(shape \(0, 0, 0\)\)/);
  });

  it('DICOM: PixelSpacing "" or negative is no spacing: 1 mm with a warning, never 0 or below', async () => {
    const names = ['30.dcm', '31.dcm', '32.dcm'];
    const files = names.map((n) => ({ name: n, bytes: read(`tests/fixtures/spine/syntaxes/implicit/${n}`).slice() }));
    for (const [k, f] of files.entries()) {
      // (0028,0030) in implicit VR little endian: tag, 4-byte length, value
      const b = f.bytes;
      const at = b.findIndex((_, i) => b[i] === 0x28 && b[i + 1] === 0 && b[i + 2] === 0x30 && b[i + 3] === 0);
      const len = new DataView(b.buffer).getUint32(at + 4, true);
      b.set(strToU8((k === 0 ? '' : '-1\\-1').padEnd(len, ' ')), at + 8);
    }
    const { series } = await readDicomSeries(files);
    expect(series).toHaveLength(1);
    expect(series[0].volume.spacing.slice(1)).toEqual([1, 1]);
    expect(series[0].warnings.some((w) => /no usable PixelSpacing/.test(w))).toBe(true);
    expect(volumeProblem(series[0].volume)).toBeNull();
  });

  it('share links: `toString=`, `__proto__=` and a z= part of the wrong types are problems, not crashes', () => {
    const spec = { defaults: { roi: [64, 64, 64], mode: 'constant' }, fields: { roi: { min: 1, integer: true } } };
    const r = decodeLink('?v=1&preset=workbench&toString=1&__proto__=x&roi=1,2,3', () => spec);
    expect(r.state.values).toEqual({ roi: [1, 2, 3] });
    expect(Object.getPrototypeOf(r.state.values)).toBe(Object.prototype);
    expect(r.problems).toEqual(['Unknown setting "toString" in the link; ignored.', 'Unknown setting "__proto__" in the link; ignored.']);
    const z = Buffer.from(JSON.stringify({ preset: 'workbench', values: { roi: { a: 1 } } })).toString('base64url');
    expect(decodeLink(`?v=1&z=${z}`, () => spec).problems).toEqual(['z: the compact part of the link is damaged (cut off when copied?); opening without it']);
  });

  it('session: files declared past the limit are refused before anything is inflated', () => {
    const files = [{ path: 'big.f32', bytes: LIMITS.maxSessionBytes + 1 }];
    const manifest = { format: 'voxelbench-session', version: 1, preset: 'workbench', createdAt: '', state: {}, files };
    const bytes = zipSync({ 'session.json': strToU8(JSON.stringify(manifest)), 'big.f32': new Uint8Array(8) });
    expect(() => readSession(bytes, 's.vbsession')).toThrow(/^s\.vbsession: session\.json is damaged \(session\.files\.0\.bytes: /);
  });
});

describe('CSV readers are linear in their input (d3-dsv)', () => {
  const samples: Record<string, string> = {
    motors: 'public/samples/tomograms/labels.csv',
    eeg: 'public/samples/eeg/votes.csv',
    protein: 'public/samples/protein/cell_labels.csv',
    spine: 'public/samples/ct/sim_neck_labels.csv',
  };
  /** A CSV of about `bytes`: the sample's header, its rows repeated with new ids. */
  const grow = (text: string, bytes: number): string => {
    const [head, ...rows] = text.trim().split('\n');
    const out = [head];
    let size = head.length;
    for (let i = 0; size < bytes; i++) {
      const r = rows[i % rows.length].replace(/^([^,]*?)(\d*),/, (_m, a: string, d: string) => (head.startsWith('row_id') ? `${i},` : `${a}${d}x${i},`));
      out.push(r);
      size += r.length + 1;
    }
    return out.join('\n') + '\n';
  };
  it.each(Object.keys(samples))('%s labels: 5 MB in far less than the square of the time of 0.25 MB', (id) => {
    const preset = PRESET_DEFS[id as keyof typeof PRESET_DEFS]!;
    const text = new TextDecoder().decode(read(samples[id]));
    const time = (t: string) => {
      const t0 = performance.now();
      preset.labels!.parse(t, 'labels.csv', presetDefaults(preset));
      return performance.now() - t0;
    };
    const small = grow(text, 2.5e5);
    const big = grow(text, 5e6);
    time(small); // warm up
    // the fastest of three interleaved runs each: a busy machine slows single runs, not all three
    let ts = Infinity;
    let tb = Infinity;
    for (let k = 0; k < 3; k++) {
      ts = Math.min(ts, time(small));
      tb = Math.min(tb, time(big));
    }
    // linear is 20x, quadratic 400x; the slack (3x) is for a loaded machine, where garbage collection weighs more on the big one
    expect(tb).toBeLessThan(60 * ts + 1000);
  }, 120_000);
});

describe('found by the full run (npm run fuzz -- --cases 10000, seed 1)', () => {
  it('card #2348: a value that cannot be turned into text ({"toString": 1}) gets the card\'s InputError, not a TypeError', () => {
    const card = JSON.parse(new TextDecoder().decode(read('public/models/motor_heatmap.json'))) as { inference: Record<string, unknown> };
    card.inference.tta = [{ toString: 1 }, 0, true];
    const motors = PRESET_DEFS.motors!;
    expect(() => presetParamsFromCard(motors, card, presetDefaults(motors))).toThrow(InputError);
    expect(() => presetParamsFromCard(motors, card, presetDefaults(motors))).toThrow(/inference\.tta: .*\{"toString":1\}, 0, true/);
  });

  it('csv-eeg #7203, #9381: vote counts that sum past the largest number (a repeated eeg_id) are skipped, never Infinity', () => {
    const eeg = PRESET_DEFS.eeg!;
    const text = 'eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote\na,1e308,0,0,0,0,1\na,1e308,0,0,0,0,1\nb,3,0,0,0,0,1\n';
    const votes = eeg.labels!.parse(text, 'votes.csv', presetDefaults(eeg)) as { rows: Map<string, { votes: number[]; target: number[] }>; warnings: string[] };
    for (const r of votes.rows.values()) for (const x of [...r.votes, ...r.target]) expect(Number.isFinite(x)).toBe(true);
    expect([...votes.rows.keys()]).toEqual(['b']);
    expect(votes.warnings.join(' ')).toMatch(/line 2 is not an eeg_id with 6 vote counts from 0 to 1000000000000; skipped/);
  });
});
