import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attrInt, attrTensor, DT, floatTensor, GRAPH, makeModel, makeNode, makeValueInfo } from './graph';
import { inspectModel, type Dim } from './model';
import { detectInputScaling, inputLayout, starterCard, summarizeModel } from './detect';
import { parseCard } from './card';

const REAL = resolve(import.meta.dirname, '../../../tests/fixtures/real_models');
const real = (f: string) => inspectModel(new Uint8Array(readFileSync(resolve(REAL, f))));

/** x -> [pre nodes] -> op(x', c) -> Relu -> y, with c an initializer (or a Constant node). */
function scaled(op: string, c: number, opts: { constantNode?: boolean; cast?: boolean; swap?: boolean; extraUser?: boolean } = {}) {
  const nodes = [];
  let x = 'x';
  if (opts.cast) {
    nodes.push(makeNode('Cast', ['x'], ['xc'], 'cast', [attrInt('to', DT.FLOAT)]));
    x = 'xc';
  }
  if (opts.constantNode) nodes.push(makeNode('Constant', [], ['c'], 'const', [attrTensor('value', floatTensor('', [], [c]))]));
  nodes.push(makeNode(op, opts.swap ? ['c', x] : [x, 'c'], ['s'], 'scale'));
  nodes.push(makeNode('Relu', ['s'], ['y'], 'relu'));
  if (opts.extraUser) nodes.push(makeNode('Relu', [x], ['y2'], 'relu2'));
  return inspectModel(
    makeModel({
      nodes,
      initializers: opts.constantNode ? [] : [floatTensor('c', [], [c])],
      inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', 1, 'd', 'h', 'w'])],
      outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', 1, 'd', 'h', 'w']), ...(opts.extraUser ? [makeValueInfo(GRAPH.output, 'y2', DT.FLOAT, ['n', 1, 'd', 'h', 'w'])] : [])],
    }),
  );
}

describe('detectInputScaling', () => {
  it('finds a leading Div by 255 or Mul by 1/255 (initializer or Constant, through a Cast)', () => {
    expect(detectInputScaling(scaled('Div', 255))).toEqual({ scaling: 'div255', node: 'scale', op: 'Div', value: 255 });
    expect(detectInputScaling(scaled('Mul', Math.fround(1 / 255), { constantNode: true }))).toMatchObject({ scaling: 'div255', op: 'Mul' });
    expect(detectInputScaling(scaled('Div', 255, { cast: true }))).toMatchObject({ op: 'Div', node: 'scale' });
  });

  it('ignores other constants, a constant first operand and inputs used elsewhere too', () => {
    expect(detectInputScaling(scaled('Div', 2))).toBeNull();
    expect(detectInputScaling(scaled('Mul', 255))).toBeNull();
    expect(detectInputScaling(scaled('Div', 255, { swap: true }))).toBeNull();
    expect(detectInputScaling(scaled('Div', 255, { extraUser: true }))).toBeNull();
    expect(detectInputScaling(scaled('Sub', 255))).toBeNull();
  });

  it('on the real-architecture test models: only the BYU U-Net divides by 255 itself', () => {
    expect(detectInputScaling(real('byu_unet3d.onnx'))).toMatchObject({ op: 'Div', value: 255 });
    expect(detectInputScaling(real('byu_unet3d_fixed.onnx'))).toMatchObject({ op: 'Div', value: 255 });
    for (const f of ['hms_resnet34d.onnx', 'rsna_seg3d.onnx', 'rsna_cls_seq.onnx', 'rsna_cls_b15.onnx', 'hpa_seresnext.onnx']) expect(detectInputScaling(real(f)), f).toBeNull();
  });
});

describe('inputLayout', () => {
  const t = (dims: Dim[]) => ({ name: 'x', type: 'float32', dims });
  it('tells volumes, images, channels-last and sequences of images apart', () => {
    expect(inputLayout(t(['batch', 1, 'd', 'h', 'w']))).toBe('NCDHW');
    expect(inputLayout(t([1, 3, 128, 128, 128]))).toBe('NCDHW');
    expect(inputLayout(t([1, 1, 32, 64, 64]))).toBe('NCDHW');
    expect(inputLayout(t(['batch', 15, 6, 224, 224]))).toBe('NSCHW');
    expect(inputLayout(t(['n', 'd', 'h', 'w', 1]))).toBe('NDHWC');
    expect(inputLayout(t([15, 6, 224, 224]))).toBe('NCHW');
    expect(inputLayout(t(['n', 256, 256, 3]))).toBe('NHWC');
    expect(inputLayout(t(['n', 6]))).toBe('NC');
  });
});

describe('summarizeModel and starterCard', () => {
  it('the fixed BYU export: fixed dims, output stride 8, a card the workbench reads', () => {
    const s = summarizeModel(real('byu_unet3d_fixed.onnx'));
    expect(s.fixed).toEqual({ batch: 1, channels: 1, depth: 32, height: 64, width: 64 });
    expect(s.fixedSpatial).toEqual([32, 64, 64]);
    expect(s.outputs[0]).toMatchObject({ kind: 'volume', stride: [8, 8, 8] });
    const c = starterCard(real('byu_unet3d_fixed.onnx'), 'byu.onnx');
    expect(parseCard(c, 'card')).toEqual({ name: 'byu', roi: [32, 64, 64], swBatch: 1, intensity: 'none', relaxDims: false });
  });

  it('the dynamic exports: no roi, no batch; outputs and their kinds', () => {
    const hms = starterCard(real('hms_resnet34d.onnx'), 'hms_resnet34d.onnx');
    expect(hms.inference).toEqual({ relaxDims: false });
    expect(hms.outputs).toEqual([{ name: 'logits', shape: ['batch', 6], kind: 'logits' }]);
    const hpa = summarizeModel(real('hpa_seresnext.onnx'));
    expect(hpa.outputs.map((o) => o.kind)).toEqual(['logits', 'maps']);
    expect(hpa.outputs[1].stride).toEqual([32, 32]);
    const seq = summarizeModel(real('rsna_cls_seq.onnx'));
    expect(seq.input.axes).toEqual(['batch', 'slices', 'channels', 'height', 'width']);
    expect(seq.fixed).toEqual({ slices: 15, channels: 6 });
  });
});
