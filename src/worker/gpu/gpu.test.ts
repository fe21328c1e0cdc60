import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel, type ModelInfo } from '../../core/onnx/model';
import { toFloat16 } from '../../core/onnx/float16';
import { groups, packInt4, packUniform } from './kernels';
import { whyNotGpuResident } from './index';
import { withGpuNote } from './worker';

const tiny = new Uint8Array(readFileSync(resolve(__dirname, '../../../tests/fixtures/models/tiny3d.onnx')));

describe('when the GPU-resident path applies', () => {
  it('runs float32 models, and float16 weights only on adapters with shader-f16 (checked, not assumed)', () => {
    const info = inspectModel(tiny);
    expect(whyNotGpuResident(info, false)).toBeNull();
    const f16 = inspectModel(toFloat16(tiny).bytes);
    expect(whyNotGpuResident(f16, false)).toMatch(/float16 weights.*shader-f16/);
    expect(whyNotGpuResident(f16, true)).toBeNull();
    const io16: ModelInfo = { ...info, inputs: [{ ...info.inputs[0], type: 'float16' }] };
    expect(whyNotGpuResident(io16, true)).toMatch(/input is float16/);
  });

  it('says why in the backend reason when it fell back', () => {
    expect(withGpuNote('WebGPU adapter: x', null)).toBe('WebGPU adapter: x');
    expect(withGpuNote('WebGPU adapter: x', 'it failed (boom)')).toBe('WebGPU adapter: x; GPU-resident path not used: it failed (boom)');
  });
});

describe('dispatch helpers', () => {
  it('covers any element count with 256-wide workgroups in at most 65535 x N groups', () => {
    expect(groups(1)).toEqual([1, 1]);
    expect(groups(256)).toEqual([1, 1]);
    expect(groups(257)).toEqual([2, 1]);
    const n = 64 * 672 * 672 * 2; // a batch of two motor windows
    const [x, y] = groups(n);
    expect(x).toBe(65535);
    expect(x * y * 256).toBeGreaterThanOrEqual(n);
    expect((x * (y - 1)) * 256).toBeLessThan(n);
  });

  it('packs uniforms as u32 with f32 fields where asked, 16-byte rows', () => {
    const b = packUniform([1, 2, 3, 4, 5], [4]);
    expect(b.byteLength).toBe(32);
    expect(Array.from(new Uint32Array(b, 0, 4))).toEqual([1, 2, 3, 4]);
    expect(new Float32Array(b)[4]).toBe(5);
    expect(new Float32Array(packUniform([0, 0.25], [1]))[1]).toBe(0.25);
    expect(Array.from(packInt4([[-1, 2, -3, 0]]))).toEqual([-1, 2, -3, 0]);
  });
});
