/* global process */
/**
 * The comparator of `npm run bench`: bare onnxruntime-node running only session.run on the same
 * windows as `voxelbench infer` (no stitching, no output): reads a float32 .npy volume (C, D, H, W),
 * copies each window (roi, starts from a JSON plan) into one buffer and runs the model on it.
 *   node tools/bench/bareOrt.mjs model.onnx input.npy plan.json [--no-spin]
 * --no-spin: onnxruntime's thread pools do not spin-wait (the session options the CLI uses).
 * Plain JavaScript, so that it starts like any minimal onnxruntime-node script.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [modelPath, inputPath, planPath, flag] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const b = readFileSync(inputPath);
const headerLen = b.readUInt16LE(8);
const header = b.subarray(10, 10 + headerLen).toString('latin1');
const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
const [C, D, H, W] = shape.length === 3 ? [1, ...shape] : shape;
const data = new Float32Array(b.buffer, b.byteOffset + 10 + headerLen, C * D * H * W);
const [rD, rH, rW] = plan.roi;
const win = new Float32Array(C * rD * rH * rW);
const noSpin = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all', ...(flag === '--no-spin' ? { extra: noSpin } : {}) });
const input = session.inputNames[0];
for (const [z0, y0, x0] of plan.starts) {
  let p = 0;
  for (let c = 0; c < C; c++)
    for (let z = 0; z < rD; z++)
      for (let y = 0; y < rH; y++, p += rW) {
        const s = ((c * D + z0 + z) * H + y0 + y) * W + x0;
        win.set(data.subarray(s, s + rW), p);
      }
  await session.run({ [input]: new ort.Tensor('float32', win, [1, C, rD, rH, rW]) });
}
await session.release();
