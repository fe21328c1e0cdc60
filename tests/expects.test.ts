/**
 * What a model card says its model expects of the input (`expects`, src/core/preset/expects.ts),
 * checked through the preset contract: each preset reads a bundled sample with `inputs.read`, says
 * what it is with `inputs.facts`, and the bundled card's declarations name what does not fit, with
 * the numbers. One case per preset with input the card does not cover (wrong modality or range,
 * too few slices, a wrong voxel size, too small), and the bundled samples that fit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cardExpects,
  expectsMisfits,
  fixedDimsAdvice,
  itemFacts,
  parseExpects,
  presetDefaults,
  presetParamsFromCard,
  robustRange,
  scopeLine,
  slicePlane,
  type AnyPreset,
  type CardExpects,
  type InputFile,
  type ItemSource,
} from '../src/core/preset';
import { PRESET_DEFS } from '../src/core/presets';
import type { Spectrogram } from '../src/core/eeg/parquet';
import type { ProteinItem } from '../src/core/protein/sources';

const ROOT = resolve(import.meta.dirname, '..');
const at = (p: string) => resolve(ROOT, p);
const json = (p: string): unknown => JSON.parse(readFileSync(at(p), 'utf8'));

/** The bundled card's declarations (each bundled card has some). */
function bundled(path: string): CardExpects {
  const e = cardExpects(path.slice(path.lastIndexOf('/') + 1), json(path));
  expect(e, path).not.toBeNull();
  return e!;
}

const file = (path: string, name = path.slice(path.lastIndexOf('/') + 1)): InputFile => ({ path: name, bytes: new Uint8Array(readFileSync(at(path))) });
const folder = (dir: string, map: (b: Uint8Array) => Uint8Array = (b) => b): InputFile[] =>
  readdirSync(at(dir))
    .filter((n) => n.endsWith('.dcm'))
    .map((n) => ({ path: `${dir.slice(dir.lastIndexOf('/') + 1)}/${n}`, bytes: map(new Uint8Array(readFileSync(at(`${dir}/${n}`)))) }));

/** Reads one source with the preset and gives the first item's line against the cards. */
async function lineOf(preset: AnyPreset, source: ItemSource, files: InputFile[], cards: CardExpects[], params = presetDefaults(preset)): Promise<string | null> {
  const r = await preset.inputs.read(source, files, params);
  const item = r.items[0];
  return scopeLine(preset.inputs.itemId(item), itemFacts(preset, item, params), cards);
}

/** A DICOM file with its Modality (0008,0060) 'CT' replaced (explicit VR little endian: tag, 'CS', length 2). */
function withModality(b: Uint8Array, modality: string): Uint8Array {
  const out = b.slice();
  for (let i = 0; i + 10 <= out.length; i++) {
    if (out[i] === 0x08 && out[i + 1] === 0x00 && out[i + 2] === 0x60 && out[i + 3] === 0x00 && out[i + 4] === 0x43 && out[i + 5] === 0x53 && out[i + 6] === 2 && out[i + 7] === 0) {
      out[i + 8] = modality.charCodeAt(0);
      out[i + 9] = modality.charCodeAt(1);
      return out;
    }
  }
  throw new Error('no Modality element');
}

describe('the cards declare, the presets say what their items are', () => {
  it('spine: the 20-slice abdominal JPEG 2000 CT is named with its slices and spacing; an MR series by its modality; the neck CT fits', async () => {
    const spine = PRESET_DEFS.spine!;
    const cards = [bundled('public/models/spine_seg.json'), bundled('public/models/spine_fracture.json')];
    const j2k = await lineOf(spine, { id: 'real_totalseg_j2k', kind: 'dicom', paths: [] }, folder('public/samples/ct/real_totalseg_j2k'), cards);
    expect(j2k).toBe(
      'real_totalseg_j2k: outside what spine_seg.json expects: 20 slices (expects >= 60); voxel spacing 2 x 0.9766 x 0.9766 mm (expects 0.25-1.6 mm); the results may not mean anything',
    );
    const neck = folder('public/samples/ct/sim_neck');
    expect(await lineOf(spine, { id: 'sim_neck', kind: 'dicom', paths: [] }, neck, cards)).toBeNull();
    const mr = await lineOf(spine, { id: 'sim_neck', kind: 'dicom', paths: [] }, folder('public/samples/ct/sim_neck', (b) => withModality(b, 'MR')), cards);
    expect(mr).toMatch(/^[\d.]+: outside what spine_seg\.json expects: modality MR \(expects CT\); outside what spine_fracture\.json expects: modality MR \(expects CT\); the results may not mean anything$/);
    // the same neck CT as NIfTI (no modality in the file): fits
    expect(await lineOf(spine, { id: 'sim_neck', kind: 'nifti', paths: [] }, [file('public/samples/ct/sim_neck.nii.gz')], cards)).toBeNull();
  });

  it('brain: a CT in Hounsfield units on the MeshNet card is named by its intensity; the T1 fits', async () => {
    const brain = PRESET_DEFS.brain!;
    const cards = [bundled('public/demo/meshnet/card.json')];
    expect(cards[0].expects).toEqual({ modality: ['MR'], intensity: { min: 0 } });
    const ct = await lineOf(brain, { id: 'sim_neck', kind: 'nifti', paths: [] }, [file('public/samples/ct/sim_neck.nii.gz')], cards);
    expect(ct).toBe('sim_neck: outside what card.json expects: intensity -1024 to 700 (1st-99th percentile; expects >= 0); the results may not mean anything');
    expect(await lineOf(brain, { id: 't1', kind: 'nifti', paths: [] }, [file('public/demo/meshnet/t1.nii.gz')], cards)).toBeNull();
  });

  it('motors: a tomogram whose voxels are 10 Å (after the resize to the card input size) is named; the 40 Å samples fit', async () => {
    const motors = PRESET_DEFS.motors!;
    const card = json('public/models/motor_heatmap.json');
    const cards = [bundled('public/models/motor_heatmap.json')];
    const params = presetParamsFromCard(motors, card, presetDefaults(motors));
    const mrc = file('public/samples/tomograms/tomo_sim_001.mrc');
    expect(await lineOf(motors, { id: 'tomo_sim_001', kind: 'mrc', paths: [] }, [mrc], cards, params)).toBeNull();
    // the same tomogram with a cell of 640 x 1920 x 1920 Å: 10 Å voxels (MRC header words 11-13, xlen ylen zlen)
    const small = mrc.bytes.slice();
    const view = new DataView(small.buffer);
    for (const [k, n] of [[40, 192], [44, 192], [48, 64]]) view.setFloat32(k, n * 10, true);
    const line = await lineOf(motors, { id: 'tomo_sim_001', kind: 'mrc', paths: [] }, [{ path: 'tomo_sim_001.mrc', bytes: small }], cards, params);
    expect(line).toBe(
      'tomo_sim_001: outside what motor_heatmap.json expects: voxel spacing after the resize to 64 x 192 x 192 10 x 10 x 10 Å (expects 30-50 Å); the results may not mean anything',
    );
    // a slice folder gives no spacing: only its size is checked
    expect(expectsMisfits(cards[0].expects, { shape: [16, 64, 64] })).toEqual(['size 16 x 64 x 64 (expects at least 32 x 96 x 96)']);
  });

  it('eeg: a spectrogram of log power (negative values) is named by its range; the power spectrograms fit', async () => {
    const eeg = PRESET_DEFS.eeg!;
    const cards = [bundled('public/models/eeg_spectrogram.json')];
    const params = presetDefaults(eeg);
    for (const f of ['sim_seizure_001', 'real_eegmmidb_S001R03']) {
      expect(await lineOf(eeg, { id: f, kind: 'parquet', paths: [] }, [file(`public/samples/eeg/${f}.parquet`)], cards), f).toBeNull();
    }
    const r = await eeg.inputs.read({ id: 'sim_seizure_001', kind: 'parquet', paths: [] }, [file('public/samples/eeg/sim_seizure_001.parquet')], params);
    const spec = r.items[0] as Spectrogram;
    const logged: Spectrogram = { ...spec, data: spec.data.map((v) => Math.log(v)) };
    const [lo, hi] = robustRange(logged.data)!;
    expect(lo).toBeLessThan(0);
    const line = scopeLine(spec.eegId, itemFacts(eeg, logged, params), cards);
    expect(line).toBe(`sim_seizure_001: outside what eeg_spectrogram.json expects: intensity ${fmt(lo)} to ${fmt(hi)} (1st-99th percentile; expects >= 0); the results may not mean anything`);
  });

  it('protein: a field of view smaller than the card declares is named by its size; the 512 x 512 samples fit', async () => {
    const protein = PRESET_DEFS.protein!;
    const cards = [bundled('public/models/protein_localisation.json')];
    const params = presetDefaults(protein);
    const id = 'sim_protein_001';
    const files = ['red', 'green', 'blue', 'yellow'].map((c) => file(`public/samples/protein/${id}_${c}.png`));
    const r = await protein.inputs.read({ id, kind: 'rgby', paths: files.map((f) => f.path) }, files, params);
    const item = r.items[0] as ProteinItem;
    expect(scopeLine(id, itemFacts(protein, item, params), cards)).toBeNull();
    // the top-left 128 x 128 of it
    const crop = (c: Uint8Array | Uint16Array) => c.filter((_, i) => i % item.fov.width < 128 && Math.floor(i / item.fov.width) < 128);
    const small: ProteinItem = { ...item, fov: { ...item.fov, width: 128, height: 128, channels: item.fov.channels.map(crop) as ProteinItem['fov']['channels'] } };
    expect(scopeLine(id, itemFacts(protein, small, params), cards)).toBe(
      'sim_protein_001: outside what protein_localisation.json expects: size 128 x 128 (expects at least 256 x 256); the results may not mean anything',
    );
  });

  it('every preset says what its items are, and every bundled card of a preset declares something', () => {
    for (const p of Object.values(PRESET_DEFS)) expect(p!.inputs.facts, p!.id).toBeTypeOf('function');
    for (const c of ['public/models/spine_seg.json', 'public/models/spine_fracture.json', 'public/models/motor_heatmap.json', 'public/models/eeg_spectrogram.json', 'public/models/protein_localisation.json', 'public/demo/meshnet/card.json']) {
      expect(Object.keys(bundled(c).expects).length, c).toBeGreaterThan(0);
    }
  });
});

const fmt = (v: number) => String(Number.isInteger(v) ? v : Number(v.toPrecision(4)));

describe('expects: the declarations and the checks', () => {
  it('reads a card block and names a malformed key', () => {
    expect(parseExpects({})).toBeNull();
    expect(parseExpects({ expects: { slices: { min: 60 }, minShape: [null, 256, 256] } })).toEqual({ slices: { min: 60 }, minShape: [null, 256, 256] });
    expect(() => parseExpects({ expects: { slices: { min: 'many' } } })).toThrow(/^model card: expects\.slices\.min: /);
    expect(() => parseExpects({ expects: { orientation: ['diagonal'] } })).toThrow(/expects\.orientation\.0/);
    expect(() => parseExpects({ expects: { spacing: { min: 2, max: 1 } } })).toThrow(/min 2 is above max 1/);
    expect(() => parseExpects({ expects: { spacing: { max: 1, unit: 'furlong' } } })).toThrow(/unknown unit 'furlong'/);
    expect(() => parseExpects({ expects: { modalty: ['CT'] } })).toThrow(/^model card: expects: /);
  });

  it('checks only what the item says of itself, converting spacing units', () => {
    const e = { modality: ['CT'], spacing: { min: 0.25, max: 1.6, unit: 'mm' }, orientation: ['axial' as const], slices: { min: 60, max: 2000 } };
    expect(expectsMisfits(e, {})).toEqual([]);
    expect(expectsMisfits(e, { modality: 'ct', slices: 100, orientation: 'axial', spacing: [1, 0.5, 0.5], spacingUnit: 'mm' })).toEqual([]);
    expect(expectsMisfits(e, { orientation: 'sagittal', slices: 3000 })).toEqual(['3000 slices (expects 60-2000)', 'sagittal slices (expects axial)']);
    // 5000 Å = 0.0005 mm
    expect(expectsMisfits(e, { spacing: [5000, 5000, 5000], spacingUnit: 'Å' })).toEqual(['voxel spacing 0.0005 x 0.0005 x 0.0005 mm (expects 0.25-1.6 mm)']);
    // a spacing without a unit is not compared with one that has one
    expect(expectsMisfits(e, { spacing: [5, 5, 5] })).toEqual([]);
  });

  it('robustRange leaves out NaN and a few outliers; slicePlane from the affine', () => {
    const d = new Float32Array(1000).map((_, i) => i);
    d[0] = -1e9;
    d[1] = NaN;
    const [lo, hi] = robustRange(d)!;
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeLessThan(1000);
    expect(robustRange(new Float32Array([NaN]))).toBeUndefined();
    expect(slicePlane([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])).toBe('axial');
    expect(slicePlane([[0, 0, -3, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])).toBe('sagittal');
    expect(slicePlane([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])).toBe('coronal');
  });
});

describe('fixed spatial dims', () => {
  it('says what making the dims symbolic does when the volume is smaller than the fixed input, and recommends it', () => {
    expect(fixedDimsAdvice([256, 256, 256], [112, 101, 122])).toBe(
      "The model declares a fixed input of 256×256×256 but the volume is 112×101×122, so it would run on the volume padded to 256×256×256; 'Make spatial dims symbolic' rewrites only the model's declared input size (its weights stay the same) so that it takes windows of the volume's own size — recommended: it has no Reshape, Flatten, Gemm or MatMul, so it most likely runs at any size.",
    );
    expect(fixedDimsAdvice([16, 16, 16], [12, 20, 16], ['Reshape'])).toMatch(/padded to 16×20×16; .* recommended, though its Reshape may tie it to 16×16×16/);
    // a volume that fills the fixed size is tiled, not padded; symbolic axes are not compared
    expect(fixedDimsAdvice([64, 64, 64], [64, 200, 300])).toBeNull();
    expect(fixedDimsAdvice([null, 64, 64], [10, 64, 64])).toBeNull();
  });
});
