/**
 * The inspector's op list agrees with its verdict: a model that 'runs fully on WebGPU' lists no op
 * as partial or failing (its 'partial' ops passed the node checks), and a failing node's op says
 * "fails here" (issue 13, item 8: "runs fully on WebGPU" next to "Conv: WebGPU (partial)").
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectReport, reportText } from '../src/core/onnx/convert';
import { inspectModel } from '../src/core/onnx/model';
import { opInModel, opSupport, verdictFor } from '../src/core/onnx/webgpuOps';

const FIX = resolve(import.meta.dirname, 'fixtures/onnx');
const bytes = (f: string) => new Uint8Array(readFileSync(resolve(FIX, f)));

describe('op list and verdict agree', () => {
  it('runs fully on WebGPU: every op runs on WebGPU in this model, the partial ones "within its limits"', () => {
    const info = inspectModel(bytes('unet_convtranspose3d.webgpu.onnx'));
    const v = verdictFor(info);
    expect(v.verdict).toBe('runs fully on WebGPU');
    const partial = Object.keys(info.ops).filter((op) => opSupport(op, info.opset).support === 'partial');
    expect(partial).toContain('Conv');
    for (const op of Object.keys(info.ops)) expect(opInModel(op, info, v).support).toBe('yes');
    for (const op of partial) expect(opInModel(op, info, v).text).toBe('WebGPU (within its limits)');
    // the CLI says the same
    const text = reportText(inspectReport(bytes('unet_convtranspose3d.webgpu.onnx')), 'u.onnx').join('\n');
    expect(text).toMatch(/Conv x\d+ +partial +.*\[this model: WebGPU \(within its limits\)\]/);
    expect(text).toMatch(/WebGPU verdict: runs fully on WebGPU/);
  });

  it('will fail: the failing ops say "fails here", the others do not', () => {
    const info = inspectModel(bytes('unet_convtranspose3d.onnx'));
    const v = verdictFor(info);
    expect(v.verdict).toBe('will fail');
    expect(opInModel('ConvTranspose', info, v)).toEqual({ support: 'no', text: 'fails here' });
    expect(opInModel('MaxPool', info, v).support).toBe('no');
    expect(opInModel('Relu', info, v)).toEqual({ support: 'yes', text: 'WebGPU' });
    const failing = new Set(v.failing.map((f) => f.op));
    for (const op of Object.keys(info.ops)) expect(opInModel(op, info, v).support === 'no').toBe(failing.has(op));
    // without per-node info the limits are not checked: the op stays partial
    const bare = { ...info, nodes: undefined };
    expect(opInModel('Conv', bare, verdictFor(bare)).support).toBe('partial');
  });
});
