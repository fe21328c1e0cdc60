/**
 * Model cards for the workbench (src/core/onnx/card.ts): the committed cards parse, bad values are
 * named, a card written into metadata_props comes back (and the model still runs the same), and
 * `voxelbench convert --card` stores it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { CARD_METADATA_KEY, cardFromMetadata, describeCard, metadataKeys, parseCard, parseCardText, withCardMetadata } from '../src/core/onnx/card';
import { inspectModel } from '../src/core/onnx/model';
import { cli, ROOT } from './cliRunner';

const read = (p: string) => new Uint8Array(readFileSync(resolve(ROOT, p)));
const tmp = mkdtempSync(join(tmpdir(), 'vb-card-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('model cards', () => {
  it('the brain demo card (top-level values) and a preset card (values under inference, classes) give the workbench settings', () => {
    const demo = parseCardText(readFileSync(resolve(ROOT, 'public/demo/meshnet/card.json'), 'utf8'), 'card.json');
    expect(demo).toEqual({
      name: 'Brain tissue (MeshNet, brainchop)',
      preset: 'segmentation',
      labels: ['background', 'white matter', 'grey matter'],
      roi: [192, 192, 192],
      overlap: 0.5,
      mode: 'gaussian',
      sigmaScale: 0.125,
      swBatch: 1,
      intensity: 'minmax',
      relaxDims: true,
    });
    expect(describeCard(demo)).toBe('roi 192×192×192, overlap 0.5, gaussian blending, sigma scale 0.125, sw batch 1, intensity minmax, 3 label names, symbolic spatial dims');
    const seg = parseCardText(readFileSync(resolve(ROOT, 'public/models/spine_seg.json'), 'utf8'), 'spine_seg.json');
    expect(seg.preset).toMatch(/^spine/);
    expect(seg.roi).toEqual([128, 128, 128]);
    expect(seg.overlap).toEqual([0, 0, 0]);
    expect(seg.mode).toBe('constant');
    expect(seg.labels).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
    // a 2D roi (H, W) becomes [1, H, W]
    expect(parseCard({ roi: [64, 32] }, 'x.json').roi).toEqual([1, 64, 32]);
  });

  it('names the file and the field of a bad value', () => {
    expect(() => parseCardText('{"roi": [8, 8', 'a.json')).toThrow(/^a\.json: not valid JSON/);
    expect(() => parseCard([1, 2], 'b.json')).toThrow("b.json: a model card is a JSON object");
    expect(() => parseCard({ roi: [8, 0, 8] }, 'c.json')).toThrow("c.json: 'roi' must be 2 or 3 positive integers (or -1), got [8,0,8]");
    expect(() => parseCard({ overlap: 1.5 }, 'd.json')).toThrow("d.json: 'overlap' must be a number in [0, 1) or 3 of them, got 1.5");
    expect(() => parseCard({ inference: { mode: 'mean' } }, 'e.json')).toThrow("e.json: 'mode' must be 'constant' or 'gaussian', got \"mean\"");
    expect(() => parseCard({ intensity: 'zscore' }, 'f.json')).toThrow("f.json: 'intensity' must be one of none, minmax, div255");
    expect(() => parseCard({ classes: ['a', 2] }, 'g.json')).toThrow("g.json: 'classes' must be a list of names");
    expect(() => parseCard({ swBatch: 0 }, 'h.json')).toThrow("h.json: 'swBatch' must be a positive integer, got 0");
  });

  it('a card in metadata_props: written, read back, replaced; the model runs the same', async () => {
    const model = read('tests/fixtures/models/tiny3d.onnx');
    const card = { name: 'tiny', roi: [8, 8, 8], labels: ['bg', 'x', 'y'] };
    const with1 = withCardMetadata(model, JSON.stringify(card));
    expect(cardFromMetadata(inspectModel(with1).metadata, 'tiny3d.onnx')).toEqual({ name: 'tiny', roi: [8, 8, 8], labels: ['bg', 'x', 'y'] });
    const with2 = withCardMetadata(with1, JSON.stringify({ ...card, roi: [16, 16, 16] }));
    expect(metadataKeys(with2).filter((k) => k === CARD_METADATA_KEY)).toHaveLength(1);
    expect(cardFromMetadata(inspectModel(with2).metadata, 'm')?.roi).toEqual([16, 16, 16]);
    expect(cardFromMetadata(inspectModel(model).metadata, 'm')).toBeNull();
    expect(() => cardFromMetadata({ [CARD_METADATA_KEY]: '{"mode": 3}' }, 'm.onnx')).toThrow("m.onnx (metadata_props 'voxelbench.card'): 'mode' must be");
    expect(() => withCardMetadata(model, '{"roi": "big"}', 'bad.json')).toThrow(/^bad\.json: 'roi'/);
    const x = Float32Array.from({ length: 8 * 8 * 8 }, (_, i) => Math.sin(i));
    const outs: Float32Array[] = [];
    for (const bytes of [model, with2]) {
      const s = await ort.InferenceSession.create(bytes);
      const o = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [1, 1, 8, 8, 8]) });
      outs.push(o[s.outputNames[0]].data as Float32Array);
      await s.release();
    }
    expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
  });

  it('convert --card stores the card; a bad card is refused before anything is written', async () => {
    const cardPath = join(tmp, 'card.json');
    writeFileSync(cardPath, JSON.stringify({ name: 'tiny', roi: [8, 8, 8], mode: 'constant' }));
    const out = join(tmp, 'carded.onnx');
    const r = await cli(['convert', resolve(ROOT, 'tests/fixtures/models/tiny3d.onnx'), '--card', cardPath, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`model card card.json stored in metadata_props '${CARD_METADATA_KEY}'`);
    expect(cardFromMetadata(inspectModel(new Uint8Array(readFileSync(out))).metadata, 'carded.onnx')).toEqual({ name: 'tiny', roi: [8, 8, 8], mode: 'constant' });
    writeFileSync(cardPath, '{"overlap": 2}');
    const bad = await cli(['convert', resolve(ROOT, 'tests/fixtures/models/tiny3d.onnx'), '--card', cardPath, '--out', join(tmp, 'no.onnx')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/card\.json: 'overlap' must be a number in \[0, 1\)/);
  }, 60_000);
});
