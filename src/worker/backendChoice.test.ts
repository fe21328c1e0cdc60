/** The backend decisions of the worker (src/worker/backendChoice.ts): software adapters and what auto does there. */
import { describe, expect, it } from 'vitest';
import { autoAvoidsGpu, chooseBackend, softwareAdapter } from './backendChoice';
import type { RuntimeInfo } from './protocol';

const hardware: RuntimeInfo['webgpu'] = { available: true, adapter: 'nvidia ampere NVIDIA A100', shaderF16: true };
const swift: RuntimeInfo['webgpu'] = { available: true, adapter: 'google swiftshader', shaderF16: false, software: softwareAdapter({ vendor: 'google', architecture: 'swiftshader' })! };

describe('softwareAdapter', () => {
  it('knows the software renderers by their words', () => {
    expect(softwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toMatch(/SwiftShader/);
    expect(softwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toMatch(/llvmpipe/);
    expect(softwareAdapter({ device: 'lavapipe' })).toMatch(/lavapipe/);
    expect(softwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toMatch(/Basic Render/);
  });

  it("believes the adapter's own fallback flag", () => {
    expect(softwareAdapter({ vendor: 'someone', architecture: 'something', isFallbackAdapter: true })).toMatch(/fallback/);
  });

  it('takes the default adapter for software when it is the forced fallback adapter', () => {
    const a = { vendor: 'acme', architecture: 'cpu-ish', device: '', description: 'acme renderer' };
    expect(softwareAdapter(a, { ...a })).toMatch(/forced fallback/);
    expect(softwareAdapter(a, { ...a, vendor: 'google', architecture: 'swiftshader' })).toBeNull();
    // hidden adapter info compares equal but says nothing
    expect(softwareAdapter({}, {})).toBeNull();
  });

  it('leaves hardware adapters alone', () => {
    for (const a of [{ vendor: 'nvidia', architecture: 'ampere' }, { vendor: 'apple', architecture: 'metal-3' }, { vendor: 'intel', architecture: 'gen-12lp' }, { vendor: 'amd', architecture: 'rdna-3' }]) {
      expect(softwareAdapter(a, null)).toBeNull();
    }
  });
});

describe('chooseBackend', () => {
  it('auto picks WebGPU on a hardware adapter', () => {
    expect(chooseBackend('auto', hardware)).toEqual({ backend: 'webgpu', reason: 'WebGPU adapter: nvidia ampere NVIDIA A100' });
    expect(autoAvoidsGpu('auto', hardware)).toBe(false);
  });

  it('auto picks WASM on a software adapter and says why; choosing WebGPU still uses it', () => {
    const auto = chooseBackend('auto', swift);
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toBe('auto chose WASM: the WebGPU adapter (google swiftshader) is a software one (SwiftShader is a software renderer that runs on the CPU), 50-100x slower than WASM; choose WebGPU to use it anyway');
    expect(autoAvoidsGpu('auto', swift)).toBe(true);
    const chosen = chooseBackend('webgpu', swift);
    expect(chosen.backend).toBe('webgpu');
    expect(chosen.reason).toMatch(/^WebGPU adapter: google swiftshader \(chosen by the user; a software adapter/);
    expect(autoAvoidsGpu('webgpu', swift)).toBe(false);
    // the test option: auto takes the software adapter like a hardware one
    expect(chooseBackend('auto', swift, false, true).backend).toBe('webgpu');
    expect(autoAvoidsGpu('auto', swift, true)).toBe(false);
  });

  it('float16 weights on an adapter without shader-f16: auto takes WASM with that reason, WebGPU is refused', () => {
    expect(chooseBackend('auto', swift, true).reason).toMatch(/float16 weights .*no 'shader-f16'.*using WASM/);
    expect(() => chooseBackend('webgpu', swift, true)).toThrow(/WebGPU cannot run this model: .*shader-f16/);
  });

  it('WASM when chosen or when there is no adapter; WebGPU without one is refused', () => {
    expect(chooseBackend('wasm', hardware)).toEqual({ backend: 'wasm', reason: 'WASM chosen by the user' });
    const none = { available: false, reason: 'no WebGPU adapter was found' };
    expect(chooseBackend('auto', none)).toEqual({ backend: 'wasm', reason: 'WebGPU not available (no WebGPU adapter was found); using WASM' });
    expect(() => chooseBackend('webgpu', none)).toThrow(/requested but is not available/);
  });
});
