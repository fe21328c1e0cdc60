/**
 * Models exported from the four real solutions run as-is (issue 14): the test models of the five
 * architectures (tools/make_real_models.py) through `voxelbench infer` (3D, against MONAI's
 * sliding_window_inference) or onnxruntime-node (2D and the stage-2 sequence model, against
 * PyTorch) within 1e-4, with no card and no flag beyond what the model cannot say about itself;
 * `inspect`, `convert --webgpu` and `card` on each; the inspector's promise equals what convert
 * does, for every model in tests/fixtures; the ceil_mode pool rewrite against onnxruntime.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy } from '../src/core/io/npy';
import { inspectModel } from '../src/core/onnx/model';
import { rewriteForWebGpu } from '../src/core/onnx/rewrite';
import { rewriteDecision, rewriteView } from '../src/core/onnx/rewritePlan';
import { verdictFor } from '../src/core/onnx/webgpuOps';
import { convertModel } from '../src/core/onnx/convert';
import { attrInt, attrInts, DT, GRAPH, makeModel, makeNode, makeValueInfo } from '../src/core/onnx/graph';
import { parseCard } from '../src/core/onnx/card';
import { cli } from './cliRunner';
import { hashU8, maxAbs, REAL_MODELS, realBytes, realInputs, realNpy, realPath } from './realModels';

const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-real-'));
const TOL = 1e-4;

async function runOrt(model: Uint8Array | string, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const s = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const o = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)])));
    return Object.fromEntries(s.outputNames.map((k) => [k, { data: o[k].data as Float32Array, dims: o[k].dims }]));
  } finally {
    await s.release();
  }
}

const save = (name: string, a: { data: Float32Array; shape: number[] }): string => {
  const p = join(tmp, name);
  writeFileSync(p, writeNpy({ shape: a.shape, data: a.data }));
  return p;
};

describe('3D models through `voxelbench infer` against MONAI sliding_window_inference', () => {
  const cases: [string, string, () => string, string[], string][] = [
    // the dynamic export cannot say its roi: roi and overlap are the sliding window's
    ['BYU ResNet3D U-Net (dynamic dims, x / 255 inside, heatmap at stride 8)', 'byu_unet3d.onnx', () => realPath('byu_volume_u8.npy'), ['--roi', '32,64,64', '--overlap', '0.5,0.25,0.25', '--sw-batch', '2'], 'byu_monai.npy'],
    // the fixed export says its roi itself (1 x 1 x 32 x 64 x 64); its batch is fixed at 1
    ['BYU ResNet3D U-Net (fixed 32 x 64 x 64, default names)', 'byu_unet3d_fixed.onnx', () => realPath('byu_volume_u8.npy'), ['--overlap', '0.5,0.25,0.25'], 'byu_monai.npy'],
    ['RSNA stage 1 3D resnet18d U-Net (7 vertebrae, gaussian blending)', 'rsna_seg3d.onnx', () => save('rsna_seg_input.npy', realInputs.rsnaSeg()), ['--roi', '32,32,32', '--overlap', '0.5', '--mode', 'gaussian', '--sw-batch', '2'], 'rsna_seg_monai.npy'],
  ];
  for (const [what, model, input, flags, ref] of cases) {
    it(what, async () => {
      const out = join(tmp, `${model}.npy`);
      const r = await cli(['infer', '--model', realPath(model), '--input', input(), '--out', out, ...flags, '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const got = readNpy(readFileSync(out));
      const exp = realNpy(ref);
      expect(got.shape).toEqual(exp.shape);
      const d = maxAbs(got.data as Float32Array, exp.data);
      console.log(`${model}: infer vs MONAI max abs diff ${d.toExponential(2)} (output ${got.shape.join('x')})`);
      expect(d).toBeLessThan(TOL);
    });
  }
});

describe('2D models and the stage-2 sequence model on onnxruntime-node against PyTorch', () => {
  it('HMS resnet34d (avg-down with ceil_mode, odd sizes inside): 6 logits for a batch of 2', async () => {
    const x = realInputs.hms();
    const o = await runOrt(realBytes('hms_resnet34d.onnx'), { spectrogram: x });
    const ref = realNpy('hms_logits_torch.npy');
    expect([...o.logits.dims]).toEqual(ref.shape);
    expect(maxAbs(o.logits.data, ref.data)).toBeLessThan(TOL);
  });

  it('RSNA stage 2 (bs, 15, 6, H, W): per-slice logits and a per-vertebra logit', async () => {
    const o = await runOrt(realBytes('rsna_cls_seq.onnx'), { crops: realInputs.rsnaCls() });
    const s = realNpy('rsna_cls_slice_torch.npy');
    const v = realNpy('rsna_cls_vertebra_torch.npy');
    expect([...o.slice_logits.dims]).toEqual([2, 15]);
    expect([...o.vertebra_logit.dims]).toEqual([2, 1]);
    expect(maxAbs(o.slice_logits.data, s.data)).toBeLessThan(TOL);
    expect(maxAbs(o.vertebra_logit.data, v.data)).toBeLessThan(TOL);
  });

  it('RSNA stage 2 as a 4D export with a fixed batch of 15 (15, 6, 224, 224), default names', async () => {
    const x = realInputs.rsnaClsB15();
    const info = inspectModel(realBytes('rsna_cls_b15.onnx'));
    expect(info.inputs[0].dims).toEqual([15, 6, 224, 224]);
    const o = await runOrt(realBytes('rsna_cls_b15.onnx'), { [info.inputs[0].name]: x });
    const [s, v] = info.outputs.map((t) => o[t.name]);
    expect(maxAbs(s.data, realNpy('rsna_cls_b15_slice_torch.npy').data)).toBeLessThan(TOL);
    expect(maxAbs(v.data, realNpy('rsna_cls_b15_vertebra_torch.npy').data)).toBeLessThan(TOL);
    // the input formula is the generator's (hash_u8): a first values check
    expect(Array.from(hashU8([8]))).toEqual([0, 158, 60, 218, 120, 23, 181, 83]);
  });

  it('HPA SE-ResNeXt (fixed 64 x 64, default names): logits and 19 class maps', async () => {
    const info = inspectModel(realBytes('hpa_seresnext.onnx'));
    const o = await runOrt(realBytes('hpa_seresnext.onnx'), { [info.inputs[0].name]: realInputs.hpa() });
    const [logits, maps] = info.outputs.map((t) => o[t.name]);
    expect([...logits.dims]).toEqual([1, 19]);
    expect([...maps.dims]).toEqual([1, 19, 2, 2]);
    expect(maxAbs(logits.data, realNpy('hpa_logits_torch.npy').data)).toBeLessThan(TOL);
    expect(maxAbs(maps.data, realNpy('hpa_maps_torch.npy').data)).toBeLessThan(TOL);
  });
});

describe('inspect, convert --webgpu and card on each model', () => {
  for (const m of REAL_MODELS) {
    it(`${m.file}: inspect's promise is what convert does; the converted model keeps PyTorch's numbers`, async () => {
      const ins = await cli(['inspect', realPath(m.file), '--json']);
      expect(ins.code).toBe(0);
      const rep = JSON.parse(ins.stdout) as { webgpu: { verdict: string; failing: unknown[]; rewritable: number; reasons: string[] } };
      expect(rep.webgpu.verdict).toBe(m.before);
      const out = join(tmp, m.file.replace(/\.onnx$/, '.webgpu.onnx'));
      const conv = await cli(['convert', realPath(m.file), '--webgpu', '--out', out]);
      expect(conv.code, conv.stderr).toBe(0);
      expect(conv.stderr).toBe('');
      expect(conv.stdout).toContain(`WebGPU verdict: ${m.before} -> ${m.after}`);
      // the promise: every failing node that inspect says the rewrite fixes is fixed, no more, no fewer
      const after = verdictFor(inspectModel(new Uint8Array(readFileSync(out))));
      expect(after.verdict).toBe(m.after);
      expect(after.failing.length).toBe(rep.webgpu.failing.length - rep.webgpu.rewritable);
      if (rep.webgpu.failing.length) expect(rep.webgpu.reasons.join('\n')).toContain(`fixes all of the ${rep.webgpu.failing.length} failing node`);
      expect(rewriteForWebGpu(realBytes(m.file)).rewritten).toBe(m.rewritten);
    });
  }

  it('the converted models against PyTorch and MONAI (CPU), at the sizes where ceil_mode matters', async () => {
    const conv = (f: string) => convertModel(realBytes(f), { webgpu: true }).bytes;
    const hms = await runOrt(conv('hms_resnet34d.onnx'), { spectrogram: realInputs.hms() });
    expect(maxAbs(hms.logits.data, realNpy('hms_logits_torch.npy').data)).toBeLessThan(TOL);
    const seq = await runOrt(conv('rsna_cls_seq.onnx'), { crops: realInputs.rsnaCls() });
    expect(maxAbs(seq.slice_logits.data, realNpy('rsna_cls_slice_torch.npy').data)).toBeLessThan(TOL);
    expect(maxAbs(seq.vertebra_logit.data, realNpy('rsna_cls_vertebra_torch.npy').data)).toBeLessThan(TOL);
    const b = realInputs.byu();
    const win = new Float32Array(32 * 64 * 64);
    for (let z = 0; z < 32; z++) for (let y = 0; y < 64; y++) win.set(b.data.subarray((z * b.shape[2] + y) * b.shape[3], (z * b.shape[2] + y) * b.shape[3] + 64), (z * 64 + y) * 64);
    const byu = await runOrt(conv('byu_unet3d.onnx'), { input: { data: win, shape: [1, 1, 32, 64, 64] } });
    expect(maxAbs(byu.heatmap.data, realNpy('byu_window_torch.npy').data)).toBeLessThan(TOL);
    // the converted 3D U-Net through the CLI's sliding window
    const p = join(tmp, 'rsna_seg3d.converted.onnx');
    writeFileSync(p, conv('rsna_seg3d.onnx'));
    const out = join(tmp, 'rsna_seg3d.converted.npy');
    const r = await cli(['infer', '--model', p, '--input', save('rsna_seg_input2.npy', realInputs.rsnaSeg()), '--out', out, '--roi', '32,32,32', '--overlap', '0.5', '--mode', 'gaussian', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(maxAbs(readNpy(readFileSync(out)).data as Float32Array, realNpy('rsna_seg_monai.npy').data)).toBeLessThan(TOL);
  });

  it('card: a starter card from what each model says (scaling inside, layout, fixed dims, outputs)', async () => {
    const out = join(tmp, 'byu.card.json');
    const r = await cli(['card', realPath('byu_unet3d_fixed.onnx'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*byu\.card\.json/);
    const c = JSON.parse(readFileSync(out, 'utf8'));
    expect(c.inference).toMatchObject({ intensity: 'none', roi: [32, 64, 64], swBatch: 1 });
    expect(c.inputs[0]).toMatchObject({ name: 'onnx::Div_0', layout: 'NCDHW', shape: [1, 1, 32, 64, 64] });
    expect(c.inputs[0].note).toMatch(/divides its input by 255 itself/);
    expect(c.outputs[0]).toMatchObject({ name: '213', shape: [1, 1, 4, 8, 8], stride: 8 });
    expect(parseCard(c, 'card')).toMatchObject({ intensity: 'none', roi: [32, 64, 64], swBatch: 1, relaxDims: false });
    // it does not overwrite a card
    const again = await cli(['card', realPath('byu_unet3d_fixed.onnx'), '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);

    const seq = JSON.parse((await cli(['card', realPath('rsna_cls_seq.onnx')])).stdout);
    expect(seq.inputs[0].layout).toBe('NSCHW');
    expect(seq.inference.intensity).toBeUndefined();
    expect(seq.outputs.map((o: { name: string }) => o.name)).toEqual(['slice_logits', 'vertebra_logit']);
    const b15 = JSON.parse((await cli(['card', realPath('rsna_cls_b15.onnx')])).stdout);
    expect(b15.inference.swBatch).toBe(15);
    expect(b15.notes.join('\n')).toMatch(/fixes its batch at 15/);
  });
});

describe('convert --webgpu refuses a result that will still fail on WebGPU', () => {
  // a MaxPool with dilations gives wrong numbers on WebGPU and the rewrite leaves it
  const model = makeModel({
    nodes: [makeNode('MaxPool', ['x'], ['y'], 'pool', [attrInts('kernel_shape', [2, 2]), attrInts('strides', [1, 1]), attrInts('dilations', [2, 2]), attrInt('ceil_mode', 1)])],
    inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', 2, 'h', 'w'])],
    outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', 2, 'a', 'b'])],
  });
  const path = join(tmp, 'dilated_pool.onnx');
  writeFileSync(path, model);

  it('inspect promises nothing; convert exits 1 and writes nothing; --force writes it', async () => {
    const v = verdictFor(inspectModel(model));
    expect(v.verdict).toBe('will fail');
    expect(v.rewritable).toBe(0);
    expect(v.notRewritable[0].reason).toMatch(/dilations/);
    const out = join(tmp, 'dilated_pool.webgpu.onnx');
    const r = await cli(['convert', path, '--webgpu', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to write .*will still fail on WebGPU: MaxPool 'pool'.*--force writes it anyway/);
    expect(existsSync(out)).toBe(false);
    const f = await cli(['convert', path, '--webgpu', '--out', out, '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});

describe('convert --relax-dims: outputs keep their own symbols', () => {
  it('the fixed BYU export: input [batch, 1, D, H, W], heatmap [out_batch, 1, out_D, out_H, out_W]; it runs at another roi', async () => {
    const out = join(tmp, 'byu_relaxed.onnx');
    const r = await cli(['convert', realPath('byu_unet3d_fixed.onnx'), '--relax-dims', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const info = inspectModel(new Uint8Array(readFileSync(out)));
    expect(info.inputs[0].dims).toEqual(['batch', 1, 'D', 'H', 'W']);
    expect(info.outputs[0].dims).toEqual(['out_batch', 1, 'out_D', 'out_H', 'out_W']);
    const o = await runOrt(out, { [info.inputs[0].name]: { data: new Float32Array(2 * 32 * 32 * 64).fill(100), shape: [2, 1, 32, 32, 64] } });
    expect([...o[info.outputs[0].name].dims]).toEqual([2, 1, 4, 4, 8]);
  });
});

describe('pools with ceil_mode=1: the rewrite against onnxruntime at odd sizes', () => {
  const pool = (op: string, attrs: Parameters<typeof makeNode>[4]) =>
    makeModel({
      nodes: [makeNode(op, ['x'], ['y'], 'pool', attrs)],
      inputs: [makeValueInfo(GRAPH.input, 'x', DT.FLOAT, ['n', 3, 'h', 'w'])],
      outputs: [makeValueInfo(GRAPH.output, 'y', DT.FLOAT, ['n', 3, 'a', 'b'])],
    });
  const ceil = attrInt('ceil_mode', 1);
  const cases: [string, Uint8Array][] = [
    ['AveragePool k2 s2, count_include_pad 0 (timm avg-down)', pool('AveragePool', [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2]), ceil])],
    ['AveragePool k3 s2 p1, count_include_pad 1 (Pad node)', pool('AveragePool', [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), attrInt('count_include_pad', 1), ceil])],
    ['AveragePool k3 s2 p1, count_include_pad 0', pool('AveragePool', [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), ceil])],
    ['AveragePool k2 s3, count_include_pad 1, no pads', pool('AveragePool', [attrInts('kernel_shape', [2, 2]), attrInts('strides', [3, 3]), attrInt('count_include_pad', 1), ceil])],
    ['MaxPool k3 s2 p1 (ResNet stem)', pool('MaxPool', [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), ceil])],
    ['MaxPool k1 s2 (a last window in the padding is dropped)', pool('MaxPool', [attrInts('kernel_shape', [1, 1]), attrInts('strides', [2, 2]), ceil])],
    ['MaxPool k2 s3 pads (1, 1, 0, 0)', pool('MaxPool', [attrInts('kernel_shape', [2, 2]), attrInts('strides', [3, 3]), attrInts('pads', [1, 1, 0, 0]), ceil])],
    ['MaxPool k3 s2, anisotropic (k (3, 2), s (2, 3))', pool('MaxPool', [attrInts('kernel_shape', [3, 2]), attrInts('strides', [2, 3]), ceil])],
  ];
  for (const [what, model] of cases) {
    it(`${what}: same shape and values on 7x8 .. 10x11, verdict 'will fail' -> 'runs fully on WebGPU'`, async () => {
      const r = rewriteForWebGpu(model);
      expect(r.skipped).toEqual([]);
      expect(r.rewritten).toBe(1);
      expect(verdictFor(inspectModel(model)).rewritable).toBe(1);
      expect(verdictFor(inspectModel(r.bytes)).verdict).toBe('runs fully on WebGPU');
      expect(inspectModel(r.bytes).nodes!.every((n) => !n.attrs.ceil_mode)).toBe(true);
      for (const [h, w] of [[7, 8], [8, 9], [9, 10], [10, 11]]) {
        const x = { data: Float32Array.from({ length: 2 * 3 * h * w }, (_, i) => Math.sin(i * 1.7) * 3), shape: [2, 3, h, w] };
        const a = (await runOrt(model, { x })).y;
        const b = (await runOrt(r.bytes, { x })).y;
        expect([...b.dims], `${h}x${w}`).toEqual([...a.dims]);
        expect(maxAbs(a.data, b.data), `${h}x${w}`).toBeLessThan(1e-6);
      }
    });
  }
});

describe("the inspector's promise equals what convert does, for every model in tests/fixtures", () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.onnx')) files.push(p);
    }
  };
  walk(resolve(import.meta.dirname, 'fixtures'));

  it('after rewriteForWebGpu, the failing nodes are exactly the ones the verdict said it leaves', () => {
    let checked = 0;
    let promised = 0;
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      let info;
      try {
        info = inspectModel(bytes);
      } catch {
        continue;
      }
      if (info.externalData.length) continue;
      const before = verdictFor(info);
      const r = rewriteForWebGpu(bytes);
      const after = verdictFor(inspectModel(r.bytes));
      const left = (v: typeof before) => v.failing.map((x) => x.node).sort();
      expect(before.rewritable + before.notRewritable.length, f).toBe(before.failing.length);
      expect(left(after), f).toEqual(before.notRewritable.map((x) => x.node).sort());
      // every node the decision rewrites is rewritten, every other one is left
      const view = rewriteView(info);
      const decided = (info.nodes ?? []).filter((n) => rewriteDecision(n, view) === 'rewrite').map((n) => n.name || n.outputs[0]);
      expect(r.changes.map((c) => c.node).sort(), f).toEqual(decided.sort());
      checked++;
      promised += before.rewritable;
    }
    console.log(`${checked} models: the verdict promised ${promised} rewritten nodes, and convert rewrote them`);
    expect(checked).toBeGreaterThan(100);
  });
});
