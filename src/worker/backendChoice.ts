/**
 * Which execution provider a run gets, and why: pure decisions over what the WebGPU probe found
 * (the worker calls them; the page says the same words before a run). A software WebGPU adapter
 * (SwiftShader, llvmpipe/lavapipe, Microsoft's Basic Render Driver, or one the browser marks as a
 * fallback adapter) runs convolutions 50-100x slower than WASM: "auto" takes WASM there and says
 * why, and choosing WebGPU still uses it.
 */
import type { Backend, BackendChoice, RuntimeInfo } from './protocol';

/** What an adapter says of itself (GPUAdapterInfo, all optional: browsers may hide them). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Software renderers by a word of their vendor, architecture, device or description. */
const SOFTWARE: readonly (readonly [RegExp, string])[] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/microsoft basic render/i, 'the Microsoft Basic Render Driver'],
  [/\bsoftware (rasteri[sz]er|renderer|adapter)\b/i, 'a software renderer'],
];

const words = (f: AdapterFacts): string => [f.vendor, f.architecture, f.device, f.description].filter(Boolean).join(' ');

/**
 * Why the adapter is a software (CPU) one, or null when nothing says so. `fallback`: what
 * requestAdapter({ forceFallbackAdapter: true }) gave (null when none): the same adapter means
 * the browser's default is its fallback.
 */
export function softwareAdapter(info: AdapterFacts, fallback: AdapterFacts | null = null): string | null {
  if (info.isFallbackAdapter === true) return 'the browser marks it as a fallback (software) adapter';
  const text = words(info);
  for (const [re, name] of SOFTWARE) if (re.test(text)) return `${name} is a software renderer that runs on the CPU`;
  if (fallback && text !== '') {
    const same = (['vendor', 'architecture', 'device', 'description'] as const).every((k) => (info[k] ?? '') === (fallback[k] ?? ''));
    if (same) return "it is the browser's forced fallback adapter";
  }
  return null;
}

/** The choice a run gets: the backend and why (the page shows the reason next to the result). */
export interface BackendDecision {
  backend: Backend;
  reason: string;
}

/** What auto does on this adapter, in the words the page and the worker use. */
export function autoOnSoftwareReason(gpu: RuntimeInfo['webgpu']): string {
  return `auto chose WASM: the WebGPU adapter (${gpu.adapter ?? 'unknown'}) is a software one (${gpu.software}), 50-100x slower than WASM; choose WebGPU to use it anyway`;
}

/**
 * The backend for a run. `f16Weights`: the model has float16 weights (onnxruntime-web builds f16
 * shaders anyway on an adapter without 'shader-f16', and run() returns zeros). `autoUsesSoftware`:
 * auto takes a software adapter like a hardware one (tests that exercise auto's WebGPU fallbacks
 * on a machine whose only adapter is SwiftShader). Throws when WebGPU is chosen and cannot run.
 */
export function chooseBackend(choice: BackendChoice, gpu: RuntimeInfo['webgpu'], f16Weights = false, autoUsesSoftware = false): BackendDecision {
  if (choice === 'wasm') return { backend: 'wasm', reason: 'WASM chosen by the user' };
  if (!gpu.available) {
    if (choice === 'webgpu') throw new Error(`WebGPU was requested but is not available: ${gpu.reason}`);
    return { backend: 'wasm', reason: `WebGPU not available (${gpu.reason}); using WASM` };
  }
  if (f16Weights && gpu.shaderF16 === false) {
    const why = `the model has float16 weights and the WebGPU adapter (${gpu.adapter}) has no 'shader-f16' (WebGPU would return zeros)`;
    if (choice === 'webgpu') throw new Error(`WebGPU cannot run this model: ${why}; choose WASM or convert it back to float32`);
    return { backend: 'wasm', reason: `${why}; using WASM` };
  }
  if (gpu.software && choice === 'auto' && !autoUsesSoftware) return { backend: 'wasm', reason: autoOnSoftwareReason(gpu) };
  if (gpu.software && choice === 'webgpu') return { backend: 'webgpu', reason: `WebGPU adapter: ${gpu.adapter} (chosen by the user; a software adapter: ${gpu.software})` };
  return { backend: 'webgpu', reason: `WebGPU adapter: ${gpu.adapter}` };
}

/** Auto takes WASM on this adapter before anything runs (the page's backend note; the GPU-resident path is then not tried). */
export const autoAvoidsGpu = (choice: BackendChoice, gpu: RuntimeInfo['webgpu'], autoUsesSoftware = false): boolean =>
  choice === 'auto' && gpu.available && !!gpu.software && !autoUsesSoftware;
