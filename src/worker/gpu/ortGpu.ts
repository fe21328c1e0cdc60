/**
 * A GpuModel over an onnxruntime-web WebGPU session: windows go in as `Tensor.fromGpuBuffer` on
 * onnxruntime-web's own device (`ort.env.webgpu.device`), outputs stay on the GPU
 * (`preferredOutputLocation: 'gpu-buffer'`).
 *
 * Graph capture (`enableGraphCapture`), when asked for: the first batch runs on the plain session
 * to learn the output shape; then a capturing session replays the recorded GPU commands for every
 * later batch, with one input and one output buffer that it owns (static shapes: every batch has
 * the full sw batch). If the capturing session cannot be created or its first run fails, the run
 * goes on without it, and `notes` says why.
 */
import type * as OrtWeb from 'onnxruntime-web';
import type { ModelInfo } from '../../core/onnx/model';
import type { GpuBatchOutput, GpuModel } from './slidingWindow';
import { STORAGE_USAGE } from './kernels';

export type Ort = typeof OrtWeb;

export interface GpuModelSource {
  name: string;
  bytes: Uint8Array;
  externalData?: { path: string; data: Uint8Array }[];
  /** inspectModel's summary, when known (float16 weights are noted). */
  info?: ModelInfo;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function createSession(ort: Ort, src: GpuModelSource, capture: boolean): Promise<OrtWeb.InferenceSession> {
  return ort.InferenceSession.create(src.bytes, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only (no node-placement warnings on the console)
    preferredOutputLocation: 'gpu-buffer',
    ...(capture ? { enableGraphCapture: true } : {}),
    ...(src.externalData ? { externalData: src.externalData } : {}),
  });
}

export class OrtGpuModel implements GpuModel {
  readonly staticBatch: boolean;
  /** What happened with graph capture and fp16 (for logs and the backend reason). */
  readonly notes: string[] = [];
  /** Milliseconds spent creating sessions. */
  sessionMs = 0;
  private session: OrtWeb.InferenceSession | null = null;
  private captured: { session: OrtWeb.InferenceSession; input: GPUBuffer; output: GPUBuffer; inDims: string; outDims: number[] } | null = null;
  private captureFailed = false;
  private dev: GPUDevice | null = null;

  private constructor(
    private readonly ort: Ort,
    private readonly src: GpuModelSource,
    private readonly graphCapture: boolean,
  ) {
    this.staticBatch = graphCapture;
  }

  /** Creates the plain session (and with it onnxruntime-web's WebGPU device). */
  static async create(ort: Ort, src: GpuModelSource, graphCapture = false): Promise<OrtGpuModel> {
    const m = new OrtGpuModel(ort, src, graphCapture);
    const t0 = performance.now();
    m.session = await createSession(ort, src, false);
    // onnxruntime-web's own device, set once its first WebGPU session exists (typed as a promise in newer typings)
    m.dev = (await (ort.env.webgpu.device as unknown as GPUDevice | Promise<GPUDevice> | undefined)) ?? null;
    m.sessionMs += performance.now() - t0;
    return m;
  }

  get device(): GPUDevice {
    if (!this.dev) throw new Error("onnxruntime-web's WebGPU device is not available (no WebGPU session was created)");
    return this.dev;
  }

  get inputName(): string {
    return this.session!.inputNames[0];
  }

  get outputName(): string {
    return this.session!.outputNames[0];
  }

  async run(input: GPUBuffer, dims: number[]): Promise<GpuBatchOutput> {
    if (this.captured && this.captured.inDims === dims.join(',')) return this.replay(input, dims);
    const s = this.session;
    if (!s) throw new Error('the GPU session was released');
    const feeds = { [this.inputName]: this.ort.Tensor.fromGpuBuffer(input, { dataType: 'float32', dims }) };
    const out = (await s.run(feeds, [this.outputName]))[this.outputName];
    if (out.location !== 'gpu-buffer' || out.type !== 'float32') {
      out.dispose();
      throw new Error(`the model's output '${this.outputName}' is ${out.type} on ${out.location}; the GPU-resident path needs float32 on the GPU`);
    }
    const result: GpuBatchOutput = { buffer: out.gpuBuffer as GPUBuffer, dims: [...out.dims], release: () => out.dispose() };
    if (this.graphCapture && !this.captured && !this.captureFailed) await this.startCapture(dims, result.dims);
    return result;
  }

  /** Creates the capturing session for these static shapes and records it with one run. */
  private async startCapture(inDims: number[], outDims: number[]): Promise<void> {
    const t0 = performance.now();
    let session: OrtWeb.InferenceSession | null = null;
    const dev = this.device;
    const bytes = (d: number[]) => Math.ceil((d.reduce((a, b) => a * b, 1) * 4) / 16) * 16;
    const input = dev.createBuffer({ size: bytes(inDims), usage: STORAGE_USAGE, label: 'voxelbench captured input' });
    const output = dev.createBuffer({ size: bytes(outDims), usage: STORAGE_USAGE, label: 'voxelbench captured output' });
    try {
      session = await createSession(this.ort, this.src, true);
      await session.run(
        { [this.inputName]: this.ort.Tensor.fromGpuBuffer(input, { dataType: 'float32', dims: inDims }) },
        { [this.outputName]: this.ort.Tensor.fromGpuBuffer(output, { dataType: 'float32', dims: outDims }) },
      );
      this.captured = { session, input, output, inDims: inDims.join(','), outDims };
      this.notes.push(`graph capture on (static windows [${inDims.join(', ')}])`);
    } catch (e) {
      this.captureFailed = true;
      this.notes.push(`graph capture not used: ${message(e)}`);
      input.destroy();
      output.destroy();
      await session?.release().catch(() => undefined);
    }
    this.sessionMs += performance.now() - t0;
  }

  private async replay(input: GPUBuffer, dims: number[]): Promise<GpuBatchOutput> {
    const c = this.captured!;
    // the captured graph reads its own input buffer: copy the batch in (device-local, cheap)
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(input, 0, c.input, 0, Math.min(input.size, c.input.size));
    this.device.queue.submit([enc.finish()]);
    await c.session.run(
      { [this.inputName]: this.ort.Tensor.fromGpuBuffer(c.input, { dataType: 'float32', dims }) },
      { [this.outputName]: this.ort.Tensor.fromGpuBuffer(c.output, { dataType: 'float32', dims: c.outDims }) },
    );
    return { buffer: c.output, dims: c.outDims.slice(), release: () => undefined };
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
    if (this.captured) {
      await this.captured.session.release();
      this.captured.input.destroy();
      this.captured.output.destroy();
      this.captured = null;
    }
  }
}
