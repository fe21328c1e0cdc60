/**
 * Runs a preset through its contract functions only (src/core/preset/types.ts) with
 * onnxruntime-node, as the CLI will: sort the listed paths, read each source, run each item, make
 * its row, finish the batch, write the exports and score the labels. Test-only (node:fs).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { inspectModel } from '../src/core/onnx/model';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import type { AnyPreset, MetricReport, ModelHandle } from '../src/core/preset/types';

export interface PresetRun {
  /** Rows in batch order (after `finish`). */
  rows: unknown[];
  /** Export file -> text. */
  exports: Record<string, string>;
  metric: MetricReport | null;
  /** Sources that could not be read or run, with the error message. */
  failed: { id: string; message: string }[];
  readWarnings: string[];
}

/** A model file as a ModelHandle (onnxruntime-node session); `release` frees it. */
export async function loadModel(path: string): Promise<ModelHandle & { release(): Promise<void> }> {
  const bytes = new Uint8Array(readFileSync(path));
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const tensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);
  return {
    name: path.slice(path.lastIndexOf('/') + 1),
    info: inspectModel(bytes),
    predictor: sessionPredictor(session, tensor, session.inputNames[0], session.outputNames[0]),
    outputs: sessionOutputsPredictor(session, tensor, session.inputNames[0]),
    release: () => session.release(),
  };
}

/**
 * `paths` are what was listed (the preset's sort decides what is what); `models` by role; the
 * first labels file the sort found is scored when `score` is set.
 */
export async function runPreset(preset: AnyPreset, paths: string[], models: Record<string, ModelHandle[]>, params: unknown, opts: { score?: boolean } = {}): Promise<PresetRun> {
  const sorted = preset.inputs.sort(paths);
  const rows: unknown[] = [];
  const failed: PresetRun['failed'] = [];
  const readWarnings: string[] = [];
  for (const source of sorted.sources) {
    try {
      const files = [...source.paths, ...Object.values(source.extra ?? {})].map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
      const read = await preset.inputs.read(source, files, params);
      readWarnings.push(...read.warnings);
      for (const item of read.items) rows.push(preset.row(item, await preset.run(item, models, params), params));
    } catch (e) {
      failed.push({ id: source.id, message: (e as Error).message });
    }
  }
  const finished = preset.finish ? preset.finish(rows, params) : rows;
  const labelsPath = sorted.labels[0];
  const labels = opts.score && labelsPath && preset.labels ? preset.labels.parse(readFileSync(labelsPath, 'utf8'), labelsPath.slice(labelsPath.lastIndexOf('/') + 1), params) : null;
  const exports: Record<string, string> = {};
  for (const x of preset.exports) if (!x.available || x.available(finished, params)) exports[x.file] = x.write(finished, params, labels);
  const metric = labels && preset.labels ? preset.labels.metric(finished, labels, params) : null;
  return { rows: finished, exports, metric, failed, readWarnings };
}
