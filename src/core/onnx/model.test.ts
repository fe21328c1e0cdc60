import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims } from './model';
import { decode, encode } from './proto';
import { InputError } from '../volume';

const MODELS = resolve(__dirname, '../../../tests/fixtures/models');
const bytes = (f: string) => new Uint8Array(readFileSync(resolve(MODELS, f)));

describe('inspectModel', () => {
  it('reads inputs, outputs, opset, producer, ops and parameters', () => {
    const info = inspectModel(bytes('tiny3d.onnx'));
    expect(info.opset).toBe(17);
    expect(info.producer).toBe('pytorch');
    expect(info.inputs).toEqual([{ name: 'input', type: 'float32', dims: ['n', 1, 'd', 'h', 'w'] }]);
    expect(info.outputs[0].dims).toEqual(['n', 3, 'd', 'h', 'w']);
    expect(info.ops).toEqual({ Conv: 2, Relu: 1 });
    // conv a: 4*1*27 + 4, conv b: 3*4*27 + 3
    expect(info.parameters).toBe(4 * 27 + 4 + 3 * 4 * 27 + 3);
    expect(info.weightBytes).toBe(4 * info.parameters);
    expect(hasFixedSpatialDims(info.inputs[0])).toBe(false);
  });

  it('rejects bytes that are not an ONNX model with an InputError', () => {
    expect(() => inspectModel(new TextEncoder().encode('hello, this is a text file\n'))).toThrow(InputError);
    expect(() => inspectModel(new Uint8Array([0x08]))).toThrow(/not an ONNX model/);
    expect(() => inspectModel(bytes('tiny3d.onnx').subarray(0, 500))).toThrow(/not an ONNX model/);
  });
});

describe('protobuf codec', () => {
  it('re-encodes a model byte for byte', () => {
    const b = bytes('tiny3d.onnx');
    expect(encode(decode(b))).toEqual(b);
  });
});

describe('relaxSpatialDims', () => {
  it('makes fixed spatial dims symbolic and the model then runs at another size', async () => {
    const fixed = bytes('tiny3d_fixed16.onnx');
    const info = inspectModel(fixed);
    expect(info.inputs[0].dims).toEqual([1, 1, 16, 16, 16]);
    expect(hasFixedSpatialDims(info.inputs[0])).toBe(true);

    const strict = await ort.InferenceSession.create(fixed);
    const x = new ort.Tensor('float32', new Float32Array(2 * 8 * 8 * 8).fill(0.5), [2, 1, 8, 8, 8]);
    await expect(strict.run({ input: x })).rejects.toThrow(/dimension|shape/i);

    const relaxed = relaxSpatialDims(fixed);
    const rinfo = inspectModel(relaxed);
    expect(rinfo.inputs[0].dims).toEqual(['batch', 1, 'D', 'H', 'W']);
    // outputs get their own symbols (issue 14: a stride-8 output is not the input's size)
    expect(rinfo.outputs[0].dims).toEqual(['out_batch', 3, 'out_D', 'out_H', 'out_W']);
    const s = await ort.InferenceSession.create(relaxed);
    const out = await s.run({ input: x });
    expect(out.output.dims).toEqual([2, 3, 8, 8, 8]);

    // same numbers as the dynamic export of the same weights
    const dyn = await ort.InferenceSession.create(bytes('tiny3d.onnx'));
    const ref = await dyn.run({ input: x });
    const a = out.output.data as Float32Array;
    const b = ref.output.data as Float32Array;
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    expect(m).toBeLessThan(1e-6);
  });
});
