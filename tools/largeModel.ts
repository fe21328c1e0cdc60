/**
 * A large ONNX model with external data, written on the fly (never committed): one float32
 * initializer `big` of `bytes` bytes in `<name>.onnx.data`, read by Gather at its last element,
 * which scales the input: output = input * big[N - 1]. It takes one image input
 * [n, 1, d, h, w] like the workbench's models, so the page can run it on a tiny volume.
 *
 *   npx tsx tools/largeModel.ts DIR [MB]      writes DIR/large.onnx + DIR/large.onnx.data (default 520 MB)
 *
 * Used by tests/largeModel.test.ts (Node) and tools/large-model-e2e.sh (Chromium, opt-in).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bytesOf, lenField, varField } from '../src/core/onnx/proto';
import { DT, GRAPH, int64Tensor, makeModel, makeNode, makeValueInfo, TENSOR } from '../src/core/onnx/graph';

export interface LargeModel {
  model: string;
  data: string;
  /** Elements of `big`. */
  n: number;
  /** big[n - 1]: the factor the model multiplies its input by. */
  factor: number;
}

/** The value of big[i]: a pattern that a wrong offset or a short read would not reproduce. */
export const bigValue = (i: number): number => Math.fround(0.5 + ((i * 7919) % 1000) / 1000);

export function writeLargeModel(dir: string, bytes = 520e6, name = 'large'): LargeModel {
  const n = Math.ceil(bytes / 4);
  const dataName = `${name}.onnx.data`;
  const fd = openSync(join(dir, dataName), 'w');
  try {
    const chunk = 1 << 22;
    const buf = new Float32Array(chunk);
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      for (let k = 0; k < len; k++) buf[k] = bigValue(start + k);
      writeSync(fd, new Uint8Array(buf.buffer, 0, len * 4));
    }
  } finally {
    closeSync(fd);
  }
  const entry = (k: string, v: string) => lenField(TENSOR.externalData, [lenField(1, bytesOf(k)), lenField(2, bytesOf(v))]);
  const big = [
    varField(TENSOR.dims, n),
    varField(TENSOR.dataType, DT.FLOAT),
    lenField(TENSOR.name, bytesOf('big')),
    entry('location', dataName),
    entry('offset', '0'),
    entry('length', String(n * 4)),
    varField(TENSOR.dataLocation, 1),
  ];
  const model = makeModel({
    nodes: [makeNode('Gather', ['big', 'idx'], ['g'], 'gather_last', []), makeNode('Mul', ['input', 'g'], ['output'], 'scale', [])],
    initializers: [big, int64Tensor('idx', [1], [n - 1])],
    inputs: [makeValueInfo(GRAPH.input, 'input', DT.FLOAT, ['n', 1, 'd', 'h', 'w'])],
    outputs: [makeValueInfo(GRAPH.output, 'output', DT.FLOAT, ['n', 1, 'd', 'h', 'w'])],
    producer: 'voxelbench tools/largeModel.ts',
  });
  const modelPath = join(dir, `${name}.onnx`);
  const mfd = openSync(modelPath, 'w');
  writeSync(mfd, model);
  closeSync(mfd);
  return { model: modelPath, data: join(dir, dataName), n, factor: bigValue(n - 1) };
}

if (process.argv[1]?.endsWith('largeModel.ts')) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: npx tsx tools/largeModel.ts DIR [MB]\n');
    process.exit(2);
  }
  const m = writeLargeModel(dir, Number(process.argv[3] ?? 520) * 1e6);
  process.stdout.write(`${m.model} + ${m.data} (${((m.n * 4) / 1e6).toFixed(0)} MB), factor ${m.factor}\n`);
}
