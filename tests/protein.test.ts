/**
 * Protein localisation preset (pipeline 4) against Python references (tools/make_protein_fixtures.py,
 * tools/models/protein.py): every preprocessing step, PNG/TIFF decoding, CAM normalisation, numpy
 * percentiles, the per-cell rule, the HPA RLE, the cell-level mAP, and the two public samples through
 * onnxruntime-node vs PyTorch; bad inputs give messages naming the file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encode as encodePng } from 'fast-png';
import { readNpy } from '../src/core/io/npy';
import { sessionOutputsPredictor } from '../src/core/ortPredictor';
import { proteinParamsFromCard, proteinPreset, type ProteinParams } from '../src/core/presets/protein';
import {
  camAtImage,
  camFromClassMaps,
  cellMap,
  cellRows,
  cellsCsv,
  countsToString,
  decodeBinaryMask,
  decodeChannelImage,
  decodeLabelImage,
  fovFilesProblem,
  groupProteinFiles,
  labelCells,
  normaliseChannels,
  parseCellLabelsCsv,
  percentile,
  preprocessFov,
  readFovFiles,
  readRgbyTiff,
  resizeAntialias,
  rleCounts,
  runProteinFov,
  scaleChannels,
  scaleDivisor,
  segmentCells,
  stringToCounts,
  fromBase64,
  type FieldOfView,
  type ProteinModel,
} from '../src/core/protein';
import { unzlibSync } from 'fflate';
import { renderFov } from '../src/ui/protein/render';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/protein');
const REF = resolve(ROOT, 'tests/fixtures/reference/protein_localisation');
const SAMPLES = resolve(ROOT, 'public/samples/protein');
const CHANNELS = ['red', 'green', 'blue', 'yellow'] as const;

const npy = (p: string) => readNpy(readFileSync(p), p);
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const bytes = (p: string) => new Uint8Array(readFileSync(p));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function readSample(id: string): Promise<{ fov: FieldOfView; cells: Int32Array | null }> {
  const files = [...CHANNELS.map((c) => `${id}_${c}.png`), `${id}_cells.png`];
  const { sets } = groupProteinFiles(files, (f) => f);
  expect(sets).toHaveLength(1);
  return readFovFiles(sets[0], async (f) => bytes(resolve(SAMPLES, f)), (f) => f);
}

const params: ProteinParams = proteinParamsFromCard(json(resolve(ROOT, 'public/models/protein_localisation.json')), proteinPreset);

async function ortModel(path: string, name = path.split('/').pop()!): Promise<{ model: ProteinModel; session: ort.InferenceSession }> {
  const session = await ort.InferenceSession.create(bytes(path));
  return { model: { name, outputs: sessionOutputsPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0]) }, session };
}

describe('protein preprocessing vs PyTorch', () => {
  it('anti-aliased bilinear resize matches F.interpolate(antialias=True) within 1e-6', () => {
    const cases: Record<string, { in: number[]; out: number[] }> = json(resolve(FIX, 'resize.json'));
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(5);
    for (const [name, c] of Object.entries(cases)) {
      const x = npy(resolve(FIX, `resize_${name}_in.npy`));
      const y = npy(resolve(FIX, `resize_${name}_out.npy`));
      const got = resizeAntialias(Float32Array.from(x.data), c.in as [number, number, number], c.out[0], c.out[1]);
      expect(maxAbsDiff(got, y.data), name).toBeLessThan(1e-6);
    }
  });

  it('8-bit sample: decode, /255, identity resize at 512, normalise = the reference input.npy within 1e-6', async () => {
    const { fov } = await readSample('sim_protein_001');
    expect(fov.bits).toBe(8);
    const raw = npy(resolve(REF, 'raw.npy'));
    expect(maxAbsDiff(Uint8Array.from(fov.channels.flatMap((c) => Array.from(c))), raw.data)).toBe(0);
    expect(scaleDivisor(fov.channels)).toBe(255);
    const x = preprocessFov(fov, params);
    expect(x.shape).toEqual([1, 4, 512, 512]);
    expect(maxAbsDiff(x.data, npy(resolve(REF, 'input.npy')).data)).toBeLessThan(1e-6);
  });

  it('16-bit PNG set (600 x 544): /65535, resize to 512, normalise matches PyTorch within 1e-6', async () => {
    const ref = json(resolve(FIX, 'png16.json'));
    const { sets } = groupProteinFiles(CHANNELS.map((c) => `png16_${c}.png`), (f) => f);
    const { fov } = await readFovFiles(sets[0], async (f) => bytes(resolve(FIX, f)), (f) => f);
    expect([fov.width, fov.height, fov.bits]).toEqual([600, 544, 16]);
    fov.channels.forEach((ch, c) => {
      expect(ch[0]).toBe(ref.raw_first[c]);
      expect(Array.from(ch as ArrayLike<number>).reduce((a, b) => a + b, 0)).toBe(ref.raw_sum[c]);
    });
    expect(scaleDivisor(fov.channels)).toBe(65535);
    const x = preprocessFov(fov, params);
    const sub = new Float32Array(4 * 32 * 32);
    for (let c = 0; c < 4; c++) for (let y = 0; y < 32; y++) for (let xx = 0; xx < 32; xx++) sub[(c * 32 + y) * 32 + xx] = x.data[(c * 512 + y * 16) * 512 + xx * 16];
    expect(maxAbsDiff(sub, npy(resolve(FIX, 'png16_sub.npy')).data)).toBeLessThan(1e-6);
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let i = c * 512 * 512; i < (c + 1) * 512 * 512; i++) s += x.data[i];
      expect(Math.abs(s - ref.out_sum[c]) / 512 / 512).toBeLessThan(1e-6);
    }
  });

  it('scale and normalise steps: 65535 only when the max is above 255, float32 arithmetic', () => {
    expect(scaleDivisor([Uint16Array.from([0, 255]), Uint16Array.from([3])])).toBe(255);
    expect(scaleDivisor([Uint16Array.from([0, 255]), Uint16Array.from([256])])).toBe(65535);
    const s = scaleChannels([Uint16Array.from([0, 255, 128])], 255);
    expect(Array.from(s)).toEqual([0, 1, Math.fround(128 / 255)]);
    const n = normaliseChannels(Float32Array.from([0.485, 1, 0.456, 0]), 2, [0.485, 0.456], [0.229, 0.224]);
    expect(n[0]).toBe(0);
    expect(n[1]).toBeCloseTo((1 - 0.485) / 0.229, 6);
    expect(n[3]).toBeCloseTo(-0.456 / 0.224, 6);
  });

  it('reads 4-channel TIFFs: one RGBA 8-bit page, and four 16-bit pages', () => {
    const a = readRgbyTiff(bytes(resolve(FIX, 'tiff_rgba8.tif')), 'a', 'tiff_rgba8.tif');
    expect([a.width, a.height, a.bits]).toEqual([30, 24, 8]);
    expect(maxAbsDiff(Uint8Array.from(a.channels.flatMap((c) => Array.from(c))), npy(resolve(FIX, 'tiff_rgba8.npy')).data)).toBe(0);
    const b = readRgbyTiff(bytes(resolve(FIX, 'tiff_pages16.tif')), 'b', 'tiff_pages16.tif');
    expect([b.width, b.height, b.bits]).toEqual([26, 20, 16]);
    expect(maxAbsDiff(Uint16Array.from(b.channels.flatMap((c) => Array.from(c))), npy(resolve(FIX, 'tiff_pages16.npy')).data)).toBe(0);
  });

  it('decodes 8- and 16-bit gray PNGs written here, and gray-as-RGB by the channel maximum', () => {
    const g16 = Uint16Array.from([0, 1, 256, 65535, 40000, 7]);
    const d16 = decodeChannelImage(encodePng({ width: 3, height: 2, data: g16, depth: 16, channels: 1 }), 'x16.png');
    expect(d16.bits).toBe(16);
    expect(Array.from(d16.data)).toEqual(Array.from(g16));
    const rgb = Uint8Array.from([10, 0, 0, 0, 200, 0, 5, 5, 5, 0, 0, 0]);
    const d8 = decodeChannelImage(encodePng({ width: 2, height: 2, data: rgb, depth: 8, channels: 3 }), 'x8.png');
    expect(Array.from(d8.data)).toEqual([10, 200, 5, 0]);
    const lab = decodeLabelImage(encodePng({ width: 2, height: 1, data: Uint16Array.from([0, 300]), depth: 16, channels: 1 }), 'm.png');
    expect(Array.from(lab.labels)).toEqual([0, 300]);
  });
});

describe('protein CAM and per-cell rule vs numpy', () => {
  const ref = json(resolve(FIX, 'cells_ref.json'));

  it('numpy percentile (linear) on float32 data', () => {
    for (const c of ref.percentile as { values: number[]; q: Record<string, number> }[]) {
      for (const [q, v] of Object.entries(c.q)) expect(Math.abs(percentile(Float32Array.from(c.values), Number(q)) - v), `n=${c.values.length} q=${q}`).toBeLessThan(1e-7);
    }
  });

  it('CAM = relu(f - 1e-5) / (max + 1e-5), bilinear to 512: matches PyTorch within 1e-6', () => {
    const maps = npy(resolve(REF, 'class_maps.npy'));
    const cam = camFromClassMaps(Float32Array.from(maps.data), [19, 16, 16], 1e-5);
    const sub = npy(resolve(FIX, 'sample1_cam_sub.npy'));
    const got = new Float32Array(19 * 64 * 64);
    for (let k = 0; k < 19; k++) {
      const full = camAtImage(cam, k, [16, 16], 512, 512);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) got[(k * 64 + y) * 64 + x] = full[y * 8 * 512 + x * 8];
    }
    expect(maxAbsDiff(got, sub.data)).toBeLessThan(1e-6);
  });

  function compareCells(got: ReturnType<typeof labelCells>, want: { cell: number; classes: [number, number, number | null][] }[]) {
    expect(got.map((c) => c.id)).toEqual(want.map((c) => c.cell));
    got.forEach((c, i) => {
      const w = want[i].classes;
      expect(c.labels.map((l) => l.cls), `cell ${c.id}`).toEqual(w.map((x) => x[0]));
      c.labels.forEach((l, j) => {
        expect(Math.abs(l.confidence - w[j][1]), `cell ${c.id} class ${l.cls}`).toBeLessThan(1e-6);
        if (w[j][2] !== null) expect(Math.abs(l.q! - w[j][2]!)).toBeLessThan(1e-6);
      });
    });
  }

  it('sample 1 (PyTorch class maps and logits, ground-truth cells): same kept classes and confidences within 1e-6', () => {
    const maps = npy(resolve(REF, 'class_maps.npy'));
    const cam = camFromClassMaps(Float32Array.from(maps.data), [19, 16, 16], 1e-5);
    const cells = decodeLabelImage(bytes(resolve(SAMPLES, 'sim_protein_001_cells.png')), 'cells').labels;
    const got = labelCells(ref.sample1.probs, (k) => camAtImage(cam, k, [16, 16], 512, 512), cells, 512, params);
    compareCells(got, ref.sample1.cells);
    expect(got).toHaveLength(7);
  });

  it('synthetic 23 x 29 case (empty class map, p below 0.01, one-pixel cell) and the Negative rule', () => {
    const maps = npy(resolve(FIX, 'synthetic_maps.npy'));
    const cells = Int32Array.from(npy(resolve(FIX, 'synthetic_cells.npy')).data);
    const cam = camFromClassMaps(Float32Array.from(maps.data), [19, 4, 5], 1e-5);
    const camAt = (k: number) => camAtImage(cam, k, [4, 5], 23, 29);
    const cams = npy(resolve(FIX, 'synthetic_cams.npy'));
    const all = new Float32Array(19 * 23 * 29);
    for (let k = 0; k < 19; k++) all.set(camAt(k), k * 23 * 29);
    expect(maxAbsDiff(all, cams.data)).toBeLessThan(1e-6);
    compareCells(labelCells(ref.synthetic.probs, camAt, cells, 29, params), ref.synthetic.cells);
    const neg = labelCells(ref.synthetic_keep100.probs, camAt, cells, 29, { ...params, keepRatio: 1 });
    compareCells(neg, ref.synthetic_keep100.cells);
    expect(neg.every((c) => c.labels[0].cls === 18)).toBe(true);
  });
});

describe('protein RLE (HPA encode_binary_mask) vs a Python reference', () => {
  const cases: { name: string; source?: string; cell?: number; shape?: number[]; mask?: number[]; counts: string; encoded: string }[] = json(resolve(FIX, 'rle.json'));
  const cells = decodeLabelImage(bytes(resolve(SAMPLES, 'sim_protein_001_cells.png')), 'cells').labels;

  it('same pycocotools counts string; the base64 zlib decodes to it; round trip to the mask', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const c of cases) {
      const [h, w] = c.shape ?? [512, 512];
      const mask = c.mask ? Uint8Array.from(c.mask) : Uint8Array.from(cells, (v) => (v === c.cell ? 1 : 0));
      const counts = rleCounts(mask, h, w);
      expect(countsToString(counts), c.name).toBe(c.counts);
      expect(stringToCounts(c.counts)).toEqual(counts);
      // Python's zlib bytes decode with fflate to the same string, and ours decode back to the mask
      expect(new TextDecoder().decode(unzlibSync(fromBase64(c.encoded)))).toBe(c.counts);
      const rows = cellRows({ id: 'x', cells: Int32Array.from(mask), cellResults: [{ id: 1, area: 0, bbox: [0, 0, 0, 0], labels: [{ cls: 3, confidence: 0.5, q: 0.1 }] }], width: w, height: h }, proteinPreset.classes, 'hpa');
      if (mask.some((v) => v)) expect(Array.from(decodeBinaryMask(rows[0].rle, h, w)), c.name).toEqual(Array.from(mask));
    }
  });

  it('the per-cell CSV has one row per cell and class with the encoded mask', () => {
    const rows = cellRows({ id: 'sim_protein_001', cells, cellResults: [{ id: 2, area: 0, bbox: [0, 0, 0, 0], labels: [{ cls: 5, confidence: 0.25, q: 0.5 }, { cls: 17, confidence: 0.125, q: 0.5 }] }], width: 512, height: 512 }, proteinPreset.classes, 'counts');
    const csv = cellsCsv(rows, new Map([['sim_protein_001', [512, 512]]]));
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('ImageID,CellID,Class,ClassName,Confidence,ImageWidth,ImageHeight,Mask');
    expect(lines[1].startsWith('sim_protein_001,2,5,Nuclear bodies,0.250000,512,512,')).toBe(true);
    expect(lines[2].split(',')[3]).toBe('Vesicles and punctate cytosolic patterns');
    expect(lines[1].split(',')[7]).toBe(rleCounts(Uint8Array.from(cells, (v) => (v === 2 ? 1 : 0)), 512, 512).join(' '));
  });
});

describe('protein cell-level mAP at IoU 0.6', () => {
  it('matches the Python reference on a small two-image case (IoU exactly 0.6 counts)', () => {
    const ref = json(resolve(FIX, 'map_ref.json'));
    const images = (['a', 'b'] as const).map((id) => ({
      id,
      gt: ref.gt[id] as number[],
      gtClasses: new Map<number, number[]>((ref.gt_classes as [string, number, number[]][]).filter((g) => g[0] === id).map((g) => [g[1], g[2]])),
      pred: ref.pred[id] as number[],
      preds: (ref.preds as [string, number, number, number][]).filter((p) => p[0] === id).map((p) => ({ cell: p[1], cls: p[2], confidence: p[3] })),
    }));
    const m = cellMap(images, 0.6);
    for (const [k, v] of Object.entries(ref.ap as Record<string, number>)) expect(Math.abs(m.ap.get(Number(k))! - v), `class ${k}`).toBeLessThan(1e-12);
    expect(Math.abs(m.mAP - ref.mAP)).toBeLessThan(1e-12);
  });

  it('parses cell_labels.csv', () => {
    const gt = parseCellLabelsCsv(readFileSync(resolve(SAMPLES, 'cell_labels.csv'), 'utf8'));
    expect(gt.get('sim_protein_001')!.get(1)).toEqual([5, 17]);
    expect(gt.get('sim_protein_002')!.size).toBe(8);
  });
});

describe('protein pipeline on the public samples (onnxruntime-node vs PyTorch)', () => {
  const card = json(resolve(ROOT, 'public/models/protein_localisation.json'));

  it('both samples: probabilities = the PyTorch values of the card within 1e-4; sample 1 logits = logits.npy within 1e-4', async () => {
    const { model, session } = await ortModel(resolve(ROOT, 'public/models/protein_localisation.onnx'));
    const logits1 = npy(resolve(REF, 'logits.npy'));
    for (const id of ['sim_protein_001', 'sim_protein_002']) {
      const { fov, cells } = await readSample(id);
      const r = await runProteinFov(fov, cells, [model], params);
      const want = params.classes.map((c) => card.metrics.samples[id].probabilities[c] as number);
      // the card rounds to 4 decimals (<= 5e-5)
      expect(maxAbsDiff(r.probabilities, want), id).toBeLessThan(1e-4);
      if (id === 'sim_protein_001') expect(maxAbsDiff(r.logits, logits1.data)).toBeLessThan(1e-4);
      expect(r.camSource).toBe('class_maps');
      expect(r.camShape).toEqual([19, 16, 16]);
      expect(r.cellsSource).toBe('given');
      expect(r.cellResults).toHaveLength(card.metrics.samples[id].cells);
    }
    await session.release();
  }, 60_000);

  it('two folds are averaged before the sigmoid and the CAM (same model twice = one model)', async () => {
    const { model, session } = await ortModel(resolve(FIX, 'tiny_protein.onnx'));
    const { fov, cells } = await readSample('sim_protein_002');
    const one = await runProteinFov(fov, cells, [model], params);
    const two = await runProteinFov(fov, cells, [model, { ...model, name: 'b' }], params);
    expect(maxAbsDiff(one.logits, two.logits)).toBeLessThan(1e-6);
    expect(maxAbsDiff(one.cam, two.cam)).toBeLessThan(1e-6);
    const ref = json(resolve(FIX, 'tiny_ref.json'));
    expect(maxAbsDiff(one.logits, ref.sim_protein_002.logits)).toBeLessThan(1e-4);
    expect(one.camShape).toEqual([19, 16, 16]);
    await session.release();
  });

  it('a model with 5 classes is refused with a clear message', async () => {
    const { model, session } = await ortModel(resolve(FIX, 'tiny_protein_5cls.onnx'));
    const { fov, cells } = await readSample('sim_protein_001');
    await expect(runProteinFov(fov, cells, [model], params)).rejects.toThrow(/tiny_protein_5cls\.onnx: the model gives 5 classes .*needs 19/);
    await session.release();
  });

  it('a logits-only model gets an occlusion map (with progress) and the per-cell rule still runs', async () => {
    const { model, session } = await ortModel(resolve(FIX, 'tiny_protein_logits.onnx'));
    const { fov, cells } = await readSample('sim_protein_001');
    const stages = new Set<string>();
    const r = await runProteinFov(fov, cells, [model], { ...params, occlusion: { patch: [128, 128], stride: [128, 128], fill: 0, batch: 4 } }, { onProgress: (p) => stages.add(p.stage) });
    expect(r.camSource).toBe('occlusion');
    expect(r.camShape).toEqual([19, 512, 512]);
    expect(stages.has('occlusion')).toBe(true);
    const ref = json(resolve(FIX, 'tiny_ref.json'));
    expect(maxAbsDiff(r.logits, ref.sim_protein_001.logits_only_model)).toBeLessThan(1e-4);
    expect(r.cellResults).toHaveLength(7);
    await session.release();
  }, 60_000);

  it('cancel: an aborted signal stops the run with an AbortError', async () => {
    const { model, session } = await ortModel(resolve(FIX, 'tiny_protein_logits.onnx'));
    const { fov, cells } = await readSample('sim_protein_001');
    const ac = new AbortController();
    const run = runProteinFov(fov, cells, [model], params, { signal: ac.signal, onProgress: (p) => p.stage === 'occlusion' && p.done >= 8 && ac.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await session.release();
  }, 60_000);

  it('the simple segmentation finds the sample cells (mean best IoU vs ground truth)', async () => {
    for (const id of ['sim_protein_001', 'sim_protein_002']) {
      const { fov, cells } = await readSample(id);
      const seg = segmentCells(fov, params.segmentation);
      const n = new Set(seg).size - (seg.includes(0) ? 1 : 0);
      const gtN = new Set(cells!).size - 1;
      expect(Math.abs(n - gtN), `${id}: ${n} cells found, ${gtN} true`).toBeLessThanOrEqual(2);
      const images = [{ id, gt: cells!, gtClasses: new Map([...new Set(cells!)].filter((v) => v).map((v) => [v, [0]])), pred: seg, preds: [...new Set(seg)].filter((v) => v).map((v) => ({ cell: v, cls: 0, confidence: 1 })) }];
      const m = cellMap(images, 0.5);
      expect(m.ap.get(0)!, `${id}: AP of the segmentation at IoU 0.5`).toBeGreaterThan(0.5);
    }
  });
});

describe('protein inputs: grouping and bad files', () => {
  it('groups files by id and names missing channels', () => {
    const { sets, ignored } = groupProteinFiles(['a_red.png', 'a_green.png', 'a_blue.png', 'a_yellow.png', 'a_cells.png', 'b_red.png', 'b_blue.png', 'c.tif', 'notes.txt'], (f) => f);
    expect(sets.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(sets[0].cells).toBe('a_cells.png');
    expect(fovFilesProblem(sets[0])).toBeNull();
    expect(fovFilesProblem(sets[1])).toMatch(/^b: missing the green, yellow channels \(b_green\.png, b_yellow\.png\)/);
    expect(fovFilesProblem(sets[2])).toBeNull();
    expect(ignored).toEqual(['notes.txt']);
  });

  it('channels of different sizes, a non-PNG channel and a mask of another size give messages naming the files', async () => {
    const png = (w: number, h: number) => encodePng({ width: w, height: h, data: new Uint8Array(w * h), depth: 8, channels: 1 });
    const files: Record<string, Uint8Array> = {
      'a_red.png': png(8, 8),
      'a_green.png': png(8, 8),
      'a_blue.png': png(4, 8),
      'a_yellow.png': png(8, 8),
      'b_red.png': png(8, 8),
      'b_green.png': new TextEncoder().encode('not an image'),
      'b_blue.png': png(8, 8),
      'b_yellow.png': png(8, 8),
      'c_red.png': png(8, 8),
      'c_green.png': png(8, 8),
      'c_blue.png': png(8, 8),
      'c_yellow.png': png(8, 8),
      'c_cells.png': png(6, 6),
    };
    const { sets } = groupProteinFiles(Object.keys(files), (f) => f);
    const read = (i: number) => readFovFiles(sets[i], async (f) => files[f], (f) => f);
    await expect(read(0)).rejects.toThrow(/^a: the channels have different sizes \(a_red\.png 8 x 8, a_green\.png 8 x 8, a_blue\.png 4 x 8/);
    await expect(read(1)).rejects.toThrow(/^b_green\.png: not a PNG image/);
    await expect(read(2)).rejects.toThrow(/^c_cells\.png: the cell mask is 6 x 6 but the images of c are 8 x 8/);
    expect(() => decodeChannelImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]), 'x_red.jpg')).toThrow(/x_red\.jpg: not a PNG image \(it is a JPEG/);
  });
});

describe('protein page drawing (src/ui/protein/render.ts)', () => {
  const all = { red: { on: true, max: 1 }, green: { on: true, max: 1 }, blue: { on: true, max: 1 }, yellow: { on: true, max: 1 } };
  const px = (rgba: Uint8ClampedArray, i: number) => Array.from(rgba.subarray(4 * i, 4 * i + 4));

  it('yellow is shown as red + green, contrast scales by the channel maximum, channels toggle', () => {
    const ch = [Uint8Array.from([0, 0, 0]), Uint8Array.from([0, 0, 0]), Uint8Array.from([0, 0, 100]), Uint8Array.from([200, 100, 0])];
    const rgba = renderFov(3, 1, ch, { channels: all, channelMax: [1, 1, 100, 200] });
    expect(px(rgba, 0)).toEqual([255, 255, 0, 255]);
    expect(px(rgba, 1).slice(2)).toEqual([0, 255]);
    expect(px(rgba, 1)[0]).toBeGreaterThanOrEqual(127);
    expect(px(rgba, 1)[0]).toBeLessThanOrEqual(128);
    expect(px(rgba, 2)).toEqual([0, 0, 255, 255]);
    const half = renderFov(3, 1, ch, { channels: { ...all, yellow: { on: true, max: 0.5 } }, channelMax: [1, 1, 100, 200] });
    expect(px(half, 1)).toEqual([255, 255, 0, 255]);
    const off = renderFov(3, 1, ch, { channels: { ...all, yellow: { on: false, max: 1 } }, channelMax: [1, 1, 100, 200] });
    expect(px(off, 0)).toEqual([0, 0, 0, 255]);
  });

  it('the CAM blends its colour by opacity x value; outlines take the top class colour at cell borders', () => {
    const z = new Uint8Array(9);
    const cam = Float32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const rgba = renderFov(3, 3, [z, z, z, z], { channels: all, channelMax: [1, 1, 1, 1], cam: { data: cam, opacity: 0.5 } });
    expect(px(rgba, 0)).toEqual([0, 0, 0, 255]);
    expect(px(rgba, 4)).toEqual([126, 128, 82, 255]); // half of camColour(1) = (252, 255, 164)
    const labels = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const cells = [{ id: 1, area: 8, bbox: [0, 0, 2, 2] as [number, number, number, number], labels: [{ cls: 3, confidence: 0.2, q: 0.5 }, { cls: 5, confidence: 0.4, q: 0.5 }] }];
    const o = renderFov(3, 3, [z, z, z, z], { channels: all, channelMax: [1, 1, 1, 1], outlines: { labels, cells, selected: null } });
    const c5 = [0x91, 0x1e, 0xb4, 255]; // class 5's colour (the highest confidence)
    expect(px(o, 0)).toEqual([0, 0, 0, 255]); // inside the cell (the image border is no cell border)
    expect(px(o, 5)).toEqual(c5); // next to the background pixel
    expect(px(o, 7)).toEqual(c5);
    expect(px(o, 8)).toEqual([0, 0, 0, 255]);
    const sel = renderFov(3, 3, [z, z, z, z], { channels: all, channelMax: [1, 1, 1, 1], outlines: { labels, cells, selected: 1 } });
    expect(px(sel, 5)).toEqual([255, 255, 255, 255]);
  });
});
