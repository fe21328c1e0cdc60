/**
 * The presets' memory estimates (Preset.memory) and the guard's refusals (checkPresetMemory):
 * - motors and brain: the estimate against the ArrayBuffer memory a real run holds (measured with
 *   process.memoryUsage().arrayBuffers at every model call, when the sliding window's buffers are
 *   all alive), within a factor of 3;
 * - spine, EEG, protein: the estimate against the sum of the allocations their pipelines make;
 * - the refusal: the need by part, the limit, a smaller value of the preset's own that fits (the
 *   form's wording on the page, the flag on the CLI), the CLI or --memory; null when it fits.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPresetMemory, cliBudget, pageBudget } from '../src/core/memoryGuard';
import { inspectModel } from '../src/core/onnx/model';
import { presetDefaults } from '../src/core/preset';
import { PRESET_DEFS } from '../src/core/presets';
import { brainMemory, runBrain, type BrainParams } from '../src/core/presets/brain';
import { eegMemory, eegPreset } from '../src/core/presets/eeg';
import { motorsMemory, motorsPreset, type MotorsParams } from '../src/core/presets/motors';
import { proteinMemory, proteinPreset } from '../src/core/presets/protein';
import { spineMemory, spinePreset } from '../src/core/presets/spine';
import { detectMotors } from '../src/core/motors/pipeline';
import type { Predictor } from '../src/core/slidingWindow';
import { makeVolume } from '../src/core/volume';

const total = (parts: Record<string, number>) => Object.values(parts).reduce((a, b) => a + b, 0);
const MOTOR_MODEL = inspectModel(new Uint8Array(readFileSync(resolve(import.meta.dirname, '../public/models/motor_heatmap.onnx'))));

/** A predictor that gives `channels` maps at the window's resolution and records the ArrayBuffer memory at each call. */
function measuring(channels: number, base: number, peaks: number[]): Predictor {
  return async (_batch, shape) => {
    const [n, , ...sp] = shape;
    const out = new Float32Array(n * channels * sp.reduce((a, b) => a * b, 1)).fill(0.5);
    peaks.push(process.memoryUsage().arrayBuffers - base);
    return { data: out, shape: [n, channels, ...sp] };
  };
}

describe('preset memory estimates', () => {
  it('every preset estimates what its default values size, with levers to suggest', () => {
    for (const preset of Object.values(PRESET_DEFS)) {
      expect(preset.memory, preset.id).toBeTypeOf('function');
      const p = presetDefaults(preset);
      const m = preset.memory!(p, null, {});
      expect(total(m.parts), preset.id).toBeGreaterThan(0);
      expect(m.levers.length, preset.id).toBeGreaterThan(0);
      // every lever is one of the preset's values (the suggestion names it as the form and the flag do)
      for (const k of m.levers) expect(preset.params.some((s) => s.key === k), `${preset.id}: ${k}`).toBe(true);
    }
  });

  it('motors: the estimate is within a factor of 3 of what a real run holds (resized tomogram, TTA flips, windows, accumulators)', async () => {
    const p: MotorsParams = { ...motorsPreset, inputSize: [96, 192, 192], roi: [64, 96, 96], swBatch: 2, tta: ['identity', 'flipD', 'flipH'] };
    const tomo = { id: 't', shape: [80, 160, 160] as [number, number, number], data: new Uint8Array(80 * 160 * 160).fill(7) };
    global.gc?.();
    const base = process.memoryUsage().arrayBuffers;
    const peaks: number[] = [];
    await detectMotors(tomo, [measuring(1, base, peaks)], p);
    const measured = Math.max(...peaks) + tomo.data.byteLength; // the tomogram was allocated before the baseline
    const est = total(motorsMemory(p, tomo, []).parts);
    console.log(`motors: estimated ${(est / 1e6).toFixed(1)} MB, measured ${(measured / 1e6).toFixed(1)} MB`);
    expect(est).toBeGreaterThan(measured / 3);
    expect(est).toBeLessThan(measured * 3);
    // by part: the resize (uint8) and its flipped copy, the input as read
    const parts = motorsMemory(p, tomo, []).parts;
    expect(parts.input).toBe(80 * 160 * 160);
    expect(parts.resized).toBe(2 * 96 * 192 * 192);
  });

  it('motors: the model part comes from the model (weights + one call), and a model that outputs at 1/4 resolution shrinks the accumulators', () => {
    const p: MotorsParams = { ...motorsPreset, inputSize: [128, 256, 256], roi: [64, 128, 128], swBatch: 2 };
    const bare = motorsMemory(p, null, []);
    const withModel = motorsMemory(p, null, [MOTOR_MODEL]);
    expect(withModel.parts.model).toBeGreaterThan(MOTOR_MODEL.weightBytes);
    expect(withModel.parts.accumulators).toBeLessThan(bare.parts.accumulators);
    // the motor model's 1.28 M parameters are ~5 MB of weights
    expect(MOTOR_MODEL.weightBytes).toBeGreaterThan(4e6);
  });

  it('brain: the estimate is within a factor of 3 of what a real run holds (conformed volume, windows, 3-class accumulators)', async () => {
    const p: BrainParams = { ...(presetDefaults(PRESET_DEFS.brain!) as BrainParams), conform: 'always', conformShape: [64, 64, 64], roi: [48, 48, 48], swBatch: 1 };
    const volume = makeVolume(new Float32Array(60 * 60 * 60).map((_, i) => i % 97), [60, 60, 60], { spacing: [1, 1, 1] });
    global.gc?.();
    const base = process.memoryUsage().arrayBuffers;
    const peaks: number[] = [];
    await runBrain({ id: 'b', volume }, [measuring(3, base, peaks)], p);
    const measured = Math.max(...peaks) + volume.data.byteLength;
    const est = total(brainMemory(p, { id: 'b', volume }, []).parts);
    console.log(`brain: estimated ${(est / 1e6).toFixed(1)} MB, measured ${(measured / 1e6).toFixed(1)} MB`);
    expect(est).toBeGreaterThan(measured / 3);
    expect(est).toBeLessThan(measured * 3);
  });

  it('spine, EEG, protein: the estimate is the sum of the allocations their pipelines make', () => {
    const sp = spinePreset;
    const grid = sp.sliceCount * sp.size * sp.size;
    const volume = makeVolume(new Int16Array(100 * 256 * 256), [100, 256, 256], { spacing: [1, 1, 1] });
    const s = spineMemory(sp, { volume } as never, [], []).parts;
    // CT (int16) + sampled uint8 grid + float32 stage-1 input + sigmoid sum and model output (7 vertebrae) + grid labels + labels in the CT's space
    expect(total(s)).toBe(volume.data.byteLength + grid + sp.channels * grid * 4 + 2 * 7 * grid * 4 + grid + 100 * 256 * 256);
    const withCls = spineMemory(sp, null, [], [MOTOR_MODEL]).parts;
    expect(withCls.crops).toBe(7 * sp.cropSlices * (sp.cropChannels + 1) * sp.cropSize * sp.cropSize);

    const e = eegMemory(eegPreset, { rows: 300 }, []).parts;
    const hw = eegPreset.size[0] * eegPreset.size[1];
    expect(e.input).toBe(300 * (400 * 4 + 8));
    expect(e.windows).toBe((eegPreset.occlusion ? eegPreset.occlusionParams.batch : 1) * hw * 4);

    const pr = proteinMemory(proteinPreset, null, []).parts;
    const phw = proteinPreset.inputSize[0] * proteinPreset.inputSize[1];
    expect(pr.windows).toBe(proteinPreset.occlusion.batch * 4 * phw * 4);
    expect(pr.accumulators).toBe(2 * proteinPreset.classes.length * phw * 4);
  });
});

describe('checkPresetMemory', () => {
  const motors = PRESET_DEFS.motors!;
  const big = { ...motorsPreset, inputSize: [1400, 1400, 1400] };

  it('lets runs that fit through (the demo values, on the page and the CLI)', () => {
    expect(checkPresetMemory(motors, motorsPreset, null, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 8 }, 'wasm'))).toBeNull();
    expect(checkPresetMemory(motors, motorsPreset, null, { model: [MOTOR_MODEL] }, cliBudget(16e9, null))).toBeNull();
  });

  it("the page: the numbers by part, the device's limit, a smaller input size that fits, the CLI", () => {
    const msg = checkPresetMemory(motors, big, null, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 4 }, 'wasm'))!;
    expect(msg).toMatch(/^This run would need about \d\.\d\d GB \(resized 5\.49 GB, windows [\d.]+ MB, accumulators [\d.]+ MB, model [\d.]+ MB\)/);
    expect(msg).toContain("more than this device's memory (navigator.deviceMemory: 4 GB)");
    expect(msg).toMatch(/Use a smaller input size \(700×1400×1400 fits\)/);
    expect(msg).toContain('run it with the CLI');
    // the suggested value fits
    expect(checkPresetMemory(motors, { ...big, inputSize: [700, 1400, 1400] }, null, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 4 }, 'wasm'))).toBeNull();
  });

  it('the CLI: the flag with a value that fits, or --memory; 2000³ is past a typed array', () => {
    const msg = checkPresetMemory(motors, { ...motorsPreset, inputSize: [2000, 2000, 2000] }, null, { model: [MOTOR_MODEL] }, cliBudget(16e9, null))!;
    expect(msg).toContain("one of its buffers would hold 8.0e+9 values, more than a typed array's 2^32");
    expect(msg).toContain("more than 75 % of this machine's memory (12.00 GB)");
    expect(msg).toMatch(/Use --input-size \d+,\d+,\d+ \(it fits\); or give --memory GB/);
    expect(checkPresetMemory(motors, big, null, { model: [MOTOR_MODEL] }, cliBudget(16e9, 2))).toContain('more than --memory 2 (2.00 GB)');
  });

  it("the item's own size counts: a 1 GB tomogram on a 1 GB device is refused with the default values", () => {
    const tomo = { id: 't', shape: [500, 1000, 2000] as [number, number, number], data: new Uint8Array(0) };
    const msg = checkPresetMemory(motors, motorsPreset, tomo, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 1 }, 'wasm'));
    expect(msg).toMatch(/input 1\.00 GB/);
    expect(checkPresetMemory(motors, motorsPreset, null, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 1 }, 'wasm'))).toBeNull();
  });

  it("spine and brain: the suggestion names their own values (size, roi) as the CLI's flags", () => {
    const spine = checkPresetMemory(PRESET_DEFS.spine!, { ...spinePreset, sliceCount: 1024, size: 1024 }, null, {}, cliBudget(16e9, null))!;
    expect(spine).toMatch(/^This run would need about [\d.]+ GB \(resized 1\.07 GB, windows 12\.88 GB, accumulators 61\.20 GB/);
    expect(spine).toMatch(/Use --size \d+ \(it fits\)/);
    const brainP = { ...(presetDefaults(PRESET_DEFS.brain!) as BrainParams), roi: [256, 256, 256] as [number, number, number], swBatch: 64 };
    const brain = checkPresetMemory(PRESET_DEFS.brain!, brainP, null, {}, pageBudget({ deviceMemoryGb: 2 }, 'wasm'))!;
    expect(brain).toContain("in onnxruntime's WASM heap");
    expect(brain).toMatch(/Use a smaller (roi \(\d+×\d+×\d+ fits\)|sw batch \(\d+ fits\))/);
  });

  it("WASM: the models and one call's windows against wasm32's heap; the sw batch is the lever", () => {
    const p = { ...motorsPreset, inputSize: [128, 512, 512], roi: [128, 512, 512], swBatch: 64 };
    const msg = checkPresetMemory(motors, p, null, { model: [MOTOR_MODEL] }, pageBudget({ deviceMemoryGb: 8 }, 'wasm'))!;
    expect(msg).toContain("in onnxruntime's WASM heap, more than wasm32's 4.29 GB");
    expect(msg).toMatch(/Use a smaller sw batch \(\d+ fits\)|Use a smaller input size/);
  });
});
