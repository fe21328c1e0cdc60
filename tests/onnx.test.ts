/**
 * Bring-your-own-model core (issue 5): WebGPU rewrites against onnxruntime-node and PyTorch, the
 * WebGPU verdicts, external data, float16, memory estimate, and the CLI's inspect/convert.
 * Fixtures: tools/make_onnx_fixtures.py. `UPDATE_FIXTURES=1 npx vitest run tests/onnx.test.ts`
 * rewrites the committed WebGPU U-Net and onnxruntime's output for the e2e test.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy } from '../src/core/io/npy';
import { inspectModel } from '../src/core/onnx/model';
import {
  attrInt,
  attrInts,
  DT,
  floatTensor,
  GRAPH,
  makeModel,
  makeNode,
  makeValueInfo,
  fromHalf,
  toHalf,
} from '../src/core/onnx/graph';
import { checkRewrite, countOps, planAxis, rewriteConvTranspose3d, rewriteForWebGpu, type ModelRunner } from '../src/core/onnx/rewrite';
import { opSupport, verdictFor, WEBGPU_OPS } from '../src/core/onnx/webgpuOps';
import { externalDataFiles, externalDataOption, externalDataRefs, inlineExternalData } from '../src/core/onnx/externalData';
import { toFloat16 } from '../src/core/onnx/float16';
import { estimateMemory, suggestRoi } from '../src/core/onnx/memory';
import { seededRandom } from '../src/core/onnx/check';
import { bytesOf, lenField, varField } from '../src/core/onnx/proto';
import { InputError } from '../src/core/volume';
import { cli } from './cliRunner';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/onnx');
const bytes = (f: string) => new Uint8Array(readFileSync(resolve(FIX, f)));
const npy = (f: string) => readNpy(readFileSync(resolve(FIX, f)));
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-onnx-'));

interface Out {
  data: Float32Array;
  dims: readonly number[];
}

async function run(model: Uint8Array | string, x: { data: Float32Array; shape: number[] }): Promise<Out> {
  const s = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const o = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
    const t = o[s.outputNames[0]];
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await s.release();
  }
}

const runner: ModelRunner = async (m, feeds) => {
  const s = await ort.InferenceSession.create(m);
  try {
    const o = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor('float32', f.data as Float32Array, f.dims)])));
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
  } finally {
    await s.release();
  }
};

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  expect(a.length).toBe(b.length);
  let abs = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return { abs, rel: abs / ref };
}

const input = (f: string) => {
  const a = npy(f);
  return { data: Float32Array.from(a.data), shape: a.shape };
};

/** Rewritten op types that must have 'yes' in the table. */
const REWRITE_OPS = ['Shape', 'Gather', 'Concat', 'Reshape', 'Transpose', 'Mul', 'Slice', 'Pad', 'Split', 'ReduceMean', 'ReduceMax'];

describe('ConvTranspose3d rewrite (fixtures from PyTorch)', () => {
  const cases = [
    ['convtranspose3d_s1_p1', 'convtranspose3d_s1_p1_input.npy', 'convtranspose3d_s1_p1_torch.npy'],
    ['convtranspose3d_odd', 'convtranspose3d_odd_input.npy', 'convtranspose3d_odd_torch.npy'],
    ['convtranspose3d_dilated', 'convtranspose3d_dilated_input.npy', 'convtranspose3d_dilated_torch.npy'],
    ['unet_convtranspose3d', 'unet_input.npy', 'unet_output_torch.npy'],
  ];
  for (const [name, inp, ref] of cases) {
    it(`${name}: no ConvTranspose left, matches the original and PyTorch within 1e-4`, async () => {
      const orig = bytes(`${name}.onnx`);
      const r = rewriteConvTranspose3d(orig);
      expect(r.skipped).toEqual([]);
      expect(r.rewritten).toBe(countOps(orig, 'ConvTranspose'));
      expect(countOps(r.bytes, 'ConvTranspose')).toBe(0);
      for (const op of Object.keys(inspectModel(r.bytes).ops)) expect(opSupport(op).support).not.toBe('cpu');
      const x = input(inp);
      const a = await run(orig, x);
      const b = await run(r.bytes, x);
      expect(b.dims).toEqual(a.dims);
      const d = diff(b.data, a.data);
      expect(d.rel).toBeLessThan(1e-4);
      const t = npy(ref);
      expect([...b.dims]).toEqual(t.shape);
      expect(diff(b.data, t.data).rel).toBeLessThan(1e-4);
      // and at other sizes, through the check helper
      const c = await checkRewrite(orig, r.bytes, runner, { size: name.startsWith('unet') ? 8 : 5, seed: 7 });
      expect(c.ok, c.reason).toBe(true);
      expect(c.maxRelDiff).toBeLessThan(1e-5);
    });
  }

  it('per-axis plan: output size (L - 1) s + ke - pb - pe + op for every L', () => {
    for (const [k, s, d, pb, pe, op] of [[2, 2, 1, 0, 0, 0], [3, 2, 1, 1, 1, 1], [3, 1, 1, 1, 1, 0], [4, 3, 1, 2, 0, 2], [3, 2, 2, 2, 2, 1], [1, 2, 1, 0, 0, 1], [5, 2, 1, 4, 4, 0]]) {
      const p = planAxis(k, s, d, pb, pe, op);
      for (let L = 1; L <= 7; L++) {
        // conv output J = L + a + b - M + 1, depth-to-space J s, minus the Slice's start and tail
        const J = L + p.a + p.b - p.M + 1;
        const out = J * s - p.start - p.tail;
        expect(out).toBe((L - 1) * s + (k - 1) * d + 1 - pb - pe + op);
      }
    }
  });

  it('random ConvTranspose3d configurations match onnxruntime (any stride, kernel, pads, output_padding, dilation, bias)', async () => {
    const rnd = seededRandom(42);
    const ri = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    let ran = 0;
    let worst = 0;
    for (let t = 0; t < 14; t++) {
      const cin = ri(1, 3);
      const cout = ri(1, 3);
      const k = [ri(1, 4), ri(1, 4), ri(1, 3)];
      const s = [ri(1, 3), ri(1, 3), ri(1, 2)];
      const d = [1, ri(1, 2), 1];
      const ke = k.map((v, i) => (v - 1) * d[i] + 1);
      const p = [...k.map((_, i) => ri(0, ke[i] - 1)), ...k.map((_, i) => ri(0, ke[i] - 1))];
      const op = s.map((v) => ri(0, v - 1)); // onnxruntime wants output_padding < stride
      const bias = rnd() < 0.5;
      const w = Float32Array.from({ length: cin * cout * k[0] * k[1] * k[2] }, () => rnd() * 2 - 1);
      const b = Float32Array.from({ length: cout }, () => rnd() * 2 - 1);
      const model = makeModel({
        nodes: [makeNode('ConvTranspose', ['x', 'W', ...(bias ? ['B'] : [])], ['y'], 'ct', [attrInts('kernel_shape', k), attrInts('strides', s), attrInts('dilations', d), attrInts('pads', p), attrInts('output_padding', op)])],
        initializers: [floatTensor('W', [cin, cout, ...k], w), ...(bias ? [floatTensor('B', [cout], b)] : [])],
        inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', cin, 'd', 'h', 'w'])],
        outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', cout, 'a', 'b', 'c'])],
      });
      // skip configurations whose output would be empty for the test size
      const L = [4, 5, 3];
      if (L.some((l, i) => (l - 1) * s[i] + ke[i] - p[i] - p[i + 3] + op[i] <= 0)) continue;
      const r = rewriteConvTranspose3d(model);
      expect(r.rewritten, JSON.stringify({ k, s, d, p, op })).toBe(1);
      const c = await checkRewrite(model, r.bytes, runner, { shapes: { x: [2, cin, ...L] }, seed: t });
      expect(c.ok, `${JSON.stringify({ k, s, d, p, op, bias })}: ${c.reason}`).toBe(true);
      worst = Math.max(worst, c.maxRelDiff);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(10);
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('WebGPU verdicts', () => {
  it('the U-Net will fail (3D ConvTranspose, 3D MaxPool); after rewriteForWebGpu it runs fully on WebGPU', async () => {
    const orig = bytes('unet_convtranspose3d.onnx');
    const v = verdictFor(inspectModel(orig));
    expect(v.verdict).toBe('will fail');
    expect(v.convTranspose3d).toBe(2);
    expect(v.failing.map((f) => f.op).sort()).toEqual(['ConvTranspose', 'ConvTranspose', 'MaxPool']);
    expect(v.reasons.join('\n')).toMatch(/3D ConvTranspose is not supported/);
    expect(v.rewritable).toBe(3);
    // with an NCHW session the 3D MaxPool runs
    expect(verdictFor(inspectModel(orig), { preferredLayout: 'NCHW' }).failing.map((f) => f.op)).toEqual(['ConvTranspose', 'ConvTranspose']);

    const r = rewriteForWebGpu(orig);
    expect(r.skipped).toEqual([]);
    const info = inspectModel(r.bytes);
    expect(info.ops.ConvTranspose).toBeUndefined();
    const after = verdictFor(info);
    expect(after.verdict).toBe('runs fully on WebGPU');
    expect(after.reasons).toEqual([]);
    for (const op of Object.keys(info.ops)) expect(['yes', 'partial']).toContain(opSupport(op, info.opset).support);
    for (const op of REWRITE_OPS) expect(WEBGPU_OPS.get(op)?.support).toBe('yes');
    const c = await checkRewrite(orig, r.bytes, runner, { size: 16 });
    expect(c.ok, c.reason).toBe(true);
  });

  it('ops off the WebGPU list run on the CPU; custom domains fail; opset ranges count', () => {
    const info = inspectModel(bytes('unet_convtranspose3d.onnx'));
    const withCpu = { ...info, nodes: undefined, ops: { Conv: 2, PRelu: 1, Upsample: 1 }, inputs: [{ ...info.inputs[0], dims: ['n', 1, 'h', 'w'] }] };
    const v = verdictFor(withCpu);
    expect(v.verdict).toBe('runs with listed ops on CPU');
    expect(v.cpuOps).toEqual({ PRelu: 1, Upsample: 1 });
    expect(verdictFor({ ...withCpu, ops: { Conv: 1, 'my.domain:Fancy': 1 } }).verdict).toBe('will fail');
    expect(opSupport('GridSample', 17).support).toBe('partial');
    expect(opSupport('GridSample', 20).support).toBe('cpu');
    expect(opSupport('Relu', 17).support).toBe('yes');
    expect(opSupport('com.microsoft:FusedConv').support).toBe('yes');
    expect(opSupport('ai.onnx.ml:TreeEnsembleClassifier').support).toBe('cpu');
  });

  it('a float16 model will fail on an adapter without shader-f16', () => {
    const f16 = toFloat16(bytes('convtranspose3d_s1_p1.onnx'), { keepIoTypes: false }).bytes;
    const info = inspectModel(f16);
    expect(verdictFor(info, { shaderF16: false }).verdict).toBe('will fail');
    expect(verdictFor(info, { shaderF16: true }).failing.map((f) => f.op)).toEqual(['ConvTranspose']);
  });
});

describe('Conv3d and 3D pool rewrites for WebGPU', () => {
  const rnd = seededRandom(5);
  const weights = (n: number) => Float32Array.from({ length: n }, () => rnd() * 2 - 1);
  const conv = (attrs: Parameters<typeof makeNode>[4], w: number[], bias: boolean) =>
    makeModel({
      nodes: [makeNode('Conv', ['x', 'W', ...(bias ? ['B'] : [])], ['y'], 'conv', attrs)],
      initializers: [floatTensor('W', w, weights(w.reduce((a, b) => a * b, 1))), ...(bias ? [floatTensor('B', [w[0]], weights(w[0]))] : [])],
      inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', 4, 'd', 'h', 'w'])],
      outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', w[0], 'a', 'b', 'c'])],
    });
  const pool = (op: string, attrs: Parameters<typeof makeNode>[4]) =>
    makeModel({
      nodes: [makeNode(op, ['x'], ['y'], 'pool', attrs)],
      inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', 4, 'd', 'h', 'w'])],
      outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', 4, 'a', 'b', 'c'])],
    });
  const cases: [string, Uint8Array, RegExp][] = [
    ['Conv3d, unequal pads, stride 1 (equal pads + Slice)', conv([attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [1, 1, 1]), attrInts('dilations', [1, 1, 1]), attrInts('pads', [1, 1, 1, 0, 0, 0])], [2, 4, 3, 3, 3], true), /Slice/],
    ['Conv3d, anisotropic (1,3,3) kernel, stride (1,2,2)', conv([attrInts('kernel_shape', [1, 3, 3]), attrInts('strides', [1, 2, 2]), attrInts('dilations', [1, 1, 1]), attrInts('pads', [0, 1, 1, 0, 1, 1])], [3, 4, 1, 3, 3], true), /Slice/],
    ['Conv3d, stride 2, pads (1,1,1,0,0,0) (Pad + zero channel)', conv([attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [2, 2, 2]), attrInts('dilations', [1, 1, 1]), attrInts('pads', [1, 1, 1, 0, 0, 0])], [2, 4, 3, 3, 3], true), /Pad/],
    ['Conv3d, groups 2 with uneven pads on a stride-2 axis', conv([attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [2, 1, 2]), attrInts('dilations', [1, 1, 1]), attrInts('pads', [0, 1, 1, 1, 1, 0]), attrInt('group', 2)], [4, 2, 3, 3, 3], true), /Split/],
    ['Conv3d, depthwise (group 4), no bias', conv([attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [1, 1, 1]), attrInts('dilations', [1, 1, 1]), attrInts('pads', [1, 1, 1, 1, 1, 1]), attrInt('group', 4)], [4, 1, 3, 3, 3], false), /4 Convs/],
    ['Conv3d without strides/dilations attributes', conv([attrInts('pads', [1, 1, 1, 1, 1, 1])], [2, 4, 3, 3, 3], false), /explicit/],
    ['MaxPool3d 2x2x2', pool('MaxPool', [attrInts('kernel_shape', [2, 2, 2]), attrInts('strides', [2, 2, 2])]), /MaxPool over \(H, W\) and over D/],
    ['MaxPool3d k3 s2 p1', pool('MaxPool', [attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [2, 2, 2]), attrInts('pads', [1, 1, 1, 1, 1, 1])]), /MaxPool/],
    ['AveragePool3d, asymmetric pads, count_include_pad 0', pool('AveragePool', [attrInts('kernel_shape', [3, 2, 3]), attrInts('strides', [2, 1, 2]), attrInts('pads', [1, 0, 1, 0, 1, 1])]), /AveragePool/],
    ['AveragePool3d, count_include_pad 1', pool('AveragePool', [attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [2, 2, 2]), attrInts('pads', [1, 1, 1, 1, 1, 1]), attrInt('count_include_pad', 1)]), /AveragePool/],
    ['MaxPool (1,2,2) (H, W only)', pool('MaxPool', [attrInts('kernel_shape', [1, 2, 2]), attrInts('strides', [1, 2, 2])]), /over \(H, W\) \+ Reshapes/],
    ['MaxPool3d k2 s2 ceil_mode', pool('MaxPool', [attrInts('kernel_shape', [2, 2, 2]), attrInts('strides', [2, 2, 2]), attrInt('ceil_mode', 1)]), /over D \+ Reshapes \(end pads for ceil_mode\)/],
    ['AveragePool3d k2 s2 ceil_mode, count_include_pad 0 (avg-down)', pool('AveragePool', [attrInts('kernel_shape', [2, 2, 2]), attrInts('strides', [2, 2, 2]), attrInt('ceil_mode', 1)]), /end pads for ceil_mode/],
    ['AveragePool3d k3 s2 p1 ceil_mode, count_include_pad 1', pool('AveragePool', [attrInts('kernel_shape', [3, 3, 3]), attrInts('strides', [2, 2, 2]), attrInts('pads', [1, 1, 1, 1, 1, 1]), attrInt('ceil_mode', 1), attrInt('count_include_pad', 1)]), /Pad, end pads/],
    ['GlobalAveragePool on 5D', pool('GlobalAveragePool', []), /ReduceMean/],
    ['GlobalMaxPool on 5D', pool('GlobalMaxPool', []), /ReduceMax/],
  ];
  for (const [what, model, to] of cases) {
    it(`${what}: exact on onnxruntime, verdict 'runs fully on WebGPU'`, async () => {
      const r = rewriteForWebGpu(model);
      expect(r.skipped).toEqual([]);
      expect(r.rewritten).toBe(1);
      expect(r.changes[0].to).toMatch(to);
      expect(verdictFor(inspectModel(model)).verdict).toBe('will fail');
      expect(verdictFor(inspectModel(r.bytes)).verdict).toBe('runs fully on WebGPU');
      const c = await checkRewrite(model, r.bytes, runner, { shapes: { x: [2, 4, 7, 8, 9] } });
      expect(c.ok, c.reason).toBe(true);
      expect(c.maxRelDiff).toBeLessThan(1e-6);
    });
  }

  it('leaves what it cannot rewrite, with the reason', () => {
    const m = pool('MaxPool', [attrInts('kernel_shape', [2, 2, 2]), attrInts('strides', [2, 2, 2]), attrInts('dilations', [2, 2, 2])]);
    const r = rewriteForWebGpu(m);
    expect(r.rewritten).toBe(0);
    expect(r.skipped[0].reason).toMatch(/dilations/);
    expect(r.bytes).toBe(m);
  });
});

describe('committed WebGPU fixture for the e2e test', () => {
  it('unet_convtranspose3d.webgpu.onnx is rewriteForWebGpu(unet_convtranspose3d.onnx), unet_output_ort.npy is onnxruntime on unet_input.npy', async () => {
    const orig = bytes('unet_convtranspose3d.onnx');
    const rewritten = rewriteForWebGpu(orig).bytes;
    const x = input('unet_input.npy');
    const ref = await run(orig, x);
    if (process.env.UPDATE_FIXTURES) {
      writeFileSync(resolve(FIX, 'unet_convtranspose3d.webgpu.onnx'), rewritten);
      writeFileSync(resolve(FIX, 'unet_output_ort.npy'), writeNpy({ shape: [...ref.dims], data: ref.data }));
    }
    expect(bytes('unet_convtranspose3d.webgpu.onnx')).toEqual(rewritten);
    const saved = npy('unet_output_ort.npy');
    expect(saved.shape).toEqual([1, 2, 16, 16, 16]);
    expect(diff(saved.data, ref.data).abs).toBeLessThan(1e-6);
    const got = await run(bytes('unet_convtranspose3d.webgpu.onnx'), x);
    expect(diff(got.data, saved.data).rel).toBeLessThan(1e-4);
    expect(verdictFor(inspectModel(bytes('unet_convtranspose3d.webgpu.onnx'))).verdict).toBe('runs fully on WebGPU');
  });
});

describe('external data', () => {
  const ext = resolve(FIX, 'external/unet_ext.onnx');
  const model = new Uint8Array(readFileSync(ext));
  const data = new Uint8Array(readFileSync(resolve(FIX, 'external/unet_ext.onnx.data')));

  it('lists the references and the side file', () => {
    const refs = externalDataRefs(model);
    expect(refs.length).toBe(18);
    expect(new Set(refs.map((r) => r.location))).toEqual(new Set(['unet_ext.onnx.data']));
    expect(externalDataFiles(refs)).toEqual([{ location: 'unet_ext.onnx.data', tensors: 18, bytes: data.length }]);
    expect(inspectModel(model).externalData.length).toBe(18);
    expect(externalDataOption(model, new Map([['unet_ext.onnx.data', data]]))).toEqual([{ path: 'unet_ext.onnx.data', data }]);
  });

  it('the inlined model loads from one buffer and gives the same output as the model with its side file', async () => {
    const inl = inlineExternalData(model, new Map([['some/folder/unet_ext.onnx.data', data]]));
    expect(externalDataRefs(inl)).toEqual([]);
    expect(inspectModel(inl).parameters).toBe(inspectModel(bytes('unet_convtranspose3d.onnx')).parameters);
    const x = input('unet_input.npy');
    const a = await run(inl, x);
    const b = await run(ext, x);
    expect(diff(a.data, b.data).abs).toBe(0);
    expect(diff(a.data, npy('unet_output_ort.npy').data).abs).toBeLessThan(1e-6);
  });

  it('says which file is missing, and how big it is', () => {
    expect(() => inlineExternalData(model, new Map(), { modelName: 'unet_ext.onnx' })).toThrow(InputError);
    expect(() => inlineExternalData(model, new Map(), { modelName: 'unet_ext.onnx' })).toThrow("unet_ext.onnx needs 'unet_ext.onnx.data' (42.8 kB): drop it together with the model");
    expect(() => inlineExternalData(model, new Map([['unet_ext.onnx.data', data.subarray(0, 1000)]]))).toThrow(/truncated or belongs to another model/);
  });

  it('refuses to inline past the 2 GB protobuf limit', () => {
    // a 2.4 GB int64 initializer in 'big.data' (the 8-byte file is never read: the size check comes first)
    const w = [varField(1, 300_000_000), varField(2, DT.INT64), lenField(8, bytesOf('W')), lenField(13, [lenField(1, bytesOf('location')), lenField(2, bytesOf('big.data'))]), varField(14, 1)];
    const big = makeModel({
      nodes: [makeNode('Identity', ['W'], ['y'], 'id')],
      initializers: [w],
      inputs: [],
      outputs: [makeValueInfo(GRAPH.output, 'y', DT.INT64, [300_000_000])],
    });
    expect(externalDataFiles(externalDataRefs(big))).toEqual([{ location: 'big.data', tensors: 1, bytes: 2.4e9 }]);
    expect(() => inlineExternalData(big, new Map([['big.data', new Uint8Array(8)]]), { modelName: 'big.onnx' })).toThrow(/^big\.onnx with its external data is 2\.40 GB: a self-contained ONNX file is limited to 2 GB \(protobuf\)/);
  });
});

describe('float16', () => {
  it('the U-Net (original and rewritten) in float16 stays within 1e-2 of float32, with float32 inputs and outputs', async () => {
    const orig = bytes('unet_convtranspose3d.onnx');
    for (const src of [orig, rewriteForWebGpu(orig).bytes]) {
      const h = toFloat16(src);
      const info = inspectModel(h.bytes);
      expect(info.inputs[0].type).toBe('float32');
      expect(info.outputs[0].type).toBe('float32');
      expect((info.initializers ?? []).filter((t) => t.dataType === DT.FLOAT)).toEqual([]);
      expect(h.overflow).toBe(0);
      expect(h.maxWeightRelError).toBeLessThan(1e-3);
      expect(info.weightBytes).toBeLessThan(inspectModel(src).weightBytes * 0.51 + 1000);
      const x = input('unet_input.npy');
      const d = diff((await run(h.bytes, x)).data, (await run(orig, x)).data);
      expect(d.rel).toBeLessThan(1e-2);
      expect(d.rel).toBeGreaterThan(0);
    }
  });

  it('Resize keeps float32 scales; the check helper reports the float16 error', async () => {
    const m = bytes('resize3d.onnx');
    const h = toFloat16(m);
    const c = await checkRewrite(m, h.bytes, runner, { tolerance: 1e-2, size: 8 });
    expect(c.ok, c.reason).toBe(true);
    expect(c.maxRelDiff).toBeGreaterThan(1e-6);
    const strict = await checkRewrite(m, h.bytes, runner, { tolerance: 1e-7, size: 8 });
    expect(strict.ok).toBe(false);
    expect(strict.reason).toMatch(/above the tolerance/);
  });

  it('without keepIoTypes the graph takes and returns float16', async () => {
    const h = toFloat16(bytes('convtranspose3d_s1_p1.onnx'), { keepIoTypes: false });
    const info = inspectModel(h.bytes);
    expect(info.inputs[0].type).toBe('float16');
    expect(info.outputs[0].type).toBe('float16');
    const s = await ort.InferenceSession.create(h.bytes);
    const x = input('convtranspose3d_s1_p1_input.npy');
    const o = await s.run({ input: new ort.Tensor('float16', Uint16Array.from(x.data, toHalf), x.shape) });
    const got = Array.from(o.output.data as Uint16Array, fromHalf);
    expect(diff(got, npy('convtranspose3d_s1_p1_torch.npy').data).rel).toBeLessThan(1e-2);
  });
});

describe('memory estimate', () => {
  const info = inspectModel(bytes('unet_convtranspose3d.onnx'));

  it('weights, largest activation and peak, monotonic in roi and batch', () => {
    const e32 = estimateMemory(info, [32, 32, 32], 1);
    expect(e32.weightBytes).toBe(4 * info.parameters);
    expect(e32.largestActivation.dims).toEqual([1, 8, 32, 32, 32]);
    expect(e32.largestActivation.bytes).toBe(8 * 32 ** 3 * 4);
    expect(e32.totalStride).toEqual([4, 4, 4]);
    expect(e32.guessed).toEqual([]);
    expect(e32.outputBytes).toBe(2 * 32 ** 3 * 4);
    expect(e32.peakActivationBytes).toBeGreaterThanOrEqual(e32.largestActivation.bytes);
    let prev = 0;
    for (const r of [16, 32, 48, 64, 96]) {
      const e = estimateMemory(info, [r, r, r], 2);
      expect(e.peakActivationBytes).toBeGreaterThan(prev);
      expect(e.totalBytes).toBe(e.weightBytes + e.peakActivationBytes);
      prev = e.peakActivationBytes;
    }
    expect(estimateMemory(info, [32, 32, 32], 2).peakActivationBytes).toBe(2 * e32.peakActivationBytes);
    // the rewritten graph (8D reshapes, 2D pools) has the same largest tensor
    expect(estimateMemory(inspectModel(rewriteForWebGpu(bytes('unet_convtranspose3d.onnx')).bytes), [32, 32, 32], 1).largestActivation.bytes).toBe(e32.largestActivation.bytes);
  });

  it('suggestRoi keeps a roi that fits and shrinks one that does not, in steps of lcm(16, total stride)', () => {
    const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };
    const ok = suggestRoi(info, [96, 96, 96], 1, limits);
    expect(ok.fits).toBe(true);
    expect(ok.roi).toEqual([96, 96, 96]);
    const s = suggestRoi(info, [256, 256, 192], 1, limits);
    expect(s.fits).toBe(false);
    expect(s.step).toEqual([16, 16, 16]);
    expect(s.roi).not.toBeNull();
    for (const v of s.roi!) expect(v % 16).toBe(0);
    expect(s.suggested!.largestActivation.bytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(s.reason).toMatch(/over the adapter's 128\.0 MiB buffer limit/);
    // one step more on any axis would not fit
    for (let i = 0; i < 3; i++) {
      const bigger = s.roi!.map((v, k) => (k === i ? v + 16 : v));
      expect(estimateMemory(info, bigger, 1).largestActivation.bytes).toBeGreaterThan(128 * 2 ** 20 * 0.75);
    }
    const none = suggestRoi(info, [64, 64, 64], 1, { maxStorageBufferBindingSize: 1000, maxBufferSize: 1000 });
    expect(none.roi).toBeNull();
  });
});

describe('cli inspect and convert', () => {
  it('inspect: parameters, ops with WebGPU support, verdict with reasons, external data', async () => {
    const r = await cli(['inspect', resolve(FIX, 'external/unet_ext.onnx')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/parameters: 10,706 \(42\.8 kB, 42\.8 kB of it in external data\)/);
    expect(r.stdout).toMatch(/ConvTranspose x2 +partial +1D\/2D only/);
    expect(r.stdout).toMatch(/Relu x4 +yes\n/);
    expect(r.stdout).toMatch(/WebGPU verdict: will fail\n +- 3D MaxPool fails/);
    expect(r.stdout).toMatch(/run: voxelbench convert unet_ext\.onnx --webgpu/);
    expect(r.stdout).toMatch(/unet_ext\.onnx\.data: 42\.8 kB, 18 tensors \(found\)/);
    const j = await cli(['inspect', resolve(FIX, 'unet_convtranspose3d.webgpu.onnx'), '--json']);
    const o = JSON.parse(j.stdout);
    expect(o.webgpu.verdict).toBe('runs fully on WebGPU');
    expect(o.opset).toBe(17);
    expect(o.webgpu.ops.find((x: { op: string }) => x.op === 'Transpose').support).toBe('yes');
  });

  it('convert --webgpu writes a model that runs on WebGPU and reports the check', async () => {
    const out = join(tmp, 'u.webgpu.onnx');
    const r = await cli(['convert', resolve(FIX, 'external/unet_ext.onnx'), '--webgpu', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/inlined 18 external tensors/);
    expect(r.stdout).toMatch(/rewrote 1 ConvTranspose -> Conv \+ depth-to-space\n/);
    const m = /max abs diff ([0-9.e+-]+), max rel diff ([0-9.e+-]+) \(tolerance 1e-4/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(1e-4);
    expect(r.stdout).toMatch(/WebGPU verdict: will fail -> runs fully on WebGPU/);
    expect(new Uint8Array(readFileSync(out))).toEqual(bytes('unet_convtranspose3d.webgpu.onnx'));
  });

  it('convert refuses above the tolerance and writes nothing; --float16 passes its looser default', async () => {
    const out = join(tmp, 'u.f16.onnx');
    const bad = await cli(['convert', resolve(FIX, 'unet_convtranspose3d.onnx'), '--webgpu', '--float16', '--tolerance', '1e-5', '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refusing to write .*u\.f16\.onnx: max relative difference [0-9.e+-]+ is above the tolerance 1e-5/);
    expect(existsSync(out)).toBe(false);
    const good = await cli(['convert', resolve(FIX, 'unet_convtranspose3d.onnx'), '--webgpu', '--float16', '--out', out]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/tolerance 1e-2/);
    expect(inspectModel(new Uint8Array(readFileSync(out))).initializers!.every((t) => t.dataType !== DT.FLOAT)).toBe(true);
  });

  it('convert without the side file: one line naming it', async () => {
    const dir = mkdtempSync(join(tmp, 'lonely-'));
    writeFileSync(join(dir, 'unet_ext.onnx'), readFileSync(resolve(FIX, 'external/unet_ext.onnx')));
    const r = await cli(['convert', join(dir, 'unet_ext.onnx'), '--webgpu', '--out', join(dir, 'o.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unet_ext\.onnx needs 'unet_ext\.onnx\.data' \(42\.8 kB\): drop it together with the model/);
  });
});
