/**
 * `voxelbench spectrogram`: the EEG spectrogram preset over a folder of HMS parquet files with
 * onnxruntime-node (the same core as the page): per-file probabilities (mean over the models =
 * folds), submission.csv, and the Kaggle KL when a votes CSV is given. A bad file is reported with
 * its name and skipped; the others still run.
 *
 *   npm run --silent cli -- spectrogram --models m1.onnx[,m2.onnx] --inputs DIR --out submission.csv
 *                           [--votes votes.csv] [--window start] [--window-rows n] [--quiet]
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sessionOutputsPredictor } from '../core/ortPredictor';
import { eegPreset, validateEegParams, type EegParams } from '../core/presets/eeg';
import { classifySpectrogram, type EegModel, type EegPrediction } from '../core/eeg/pipeline';
import { readSpectrogramParquet } from '../core/eeg/parquet';
import { eegSubmissionCsv, parseVotesCsv, scoreEeg } from '../core/eeg/metric';
import { InputError } from '../core/volume';

export const SPECTROGRAM_USAGE = `  voxelbench spectrogram --models m1.onnx[,m2.onnx...] --inputs DIR --out submission.csv
                         [--votes votes.csv] [--window start] [--window-rows n] [--no-occlusion] [--quiet]`;

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function wholeNumber(s: string, what: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new InputError(`--${what} expects a whole number >= 0, got '${s}'`);
  return v;
}

export async function spectrogram(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      inputs: { type: 'string' },
      out: { type: 'string' },
      votes: { type: 'string' },
      window: { type: 'string' },
      'window-rows': { type: 'string' },
      'no-occlusion': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.models || !values.inputs || !values.out) throw new InputError('spectrogram needs --models, --inputs and --out');
  const quiet = values.quiet;
  const warn = (m: string) => process.stderr.write(`voxelbench: ${m}\n`);
  const params: EegParams = { ...eegPreset, occlusion: !values['no-occlusion'] };
  if (values.window !== undefined) {
    params.window = 'window';
    params.windowStart = wholeNumber(values.window, 'window');
  }
  if (values['window-rows'] !== undefined) params.windowRows = wholeNumber(values['window-rows'], 'window-rows');
  const problems = validateEegParams(params);
  if (problems.length) throw new InputError(problems[0]);
  const votes = values.votes ? parseVotesCsv(new TextDecoder().decode(readBytes(values.votes, 'votes')), basename(values.votes), params.classes) : null;
  votes?.warnings.forEach(warn);

  const sessions: ort.InferenceSession[] = [];
  const models: EegModel[] = [];
  for (const path of values.models.split(',').map((m) => m.trim()).filter(Boolean)) {
    const session = await ort.InferenceSession.create(readBytes(path, 'model'), { graphOptimizationLevel: 'all' }).catch((e: Error) => {
      throw new InputError(`${basename(path)}: onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
    });
    if (session.inputNames.length !== 1) throw new InputError(`${basename(path)}: the model has ${session.inputNames.length} inputs; the preset feeds one (N, 1, H, W) spectrogram`);
    sessions.push(session);
    models.push({ name: basename(path), outputs: sessionOutputsPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0]) });
  }

  let files: string[];
  try {
    files = statSync(values.inputs).isDirectory()
      ? readdirSync(values.inputs).filter((f) => /\.parquet$/i.test(f)).sort().map((f) => join(values.inputs!, f))
      : [values.inputs];
  } catch (e) {
    throw new InputError(`cannot read inputs '${values.inputs}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (files.length === 0) throw new InputError(`no .parquet files in '${values.inputs}'`);

  const preds: EegPrediction[] = [];
  let failed = 0;
  for (const [k, path] of files.entries()) {
    const name = basename(path);
    try {
      const spec = await readSpectrogramParquet(readBytes(path, 'input'), name);
      spec.warnings.forEach(warn);
      const r = await classifySpectrogram(spec, models, params, {
        onProgress: quiet ? undefined : (p) => p.stage === 'occlusion' && process.stderr.write(`\r[${k + 1}/${files.length}] ${name}: occlusion ${p.done}/${p.total}   `),
      });
      r.warnings.forEach(warn);
      preds.push(r);
    } catch (e) {
      failed++;
      const msg = ((e as Error).message ?? String(e)).split('\n')[0];
      warn(msg.startsWith(name) ? msg : `${name}: ${msg}`);
      // a wrong model fails every file: stop at the first file
      if (/the EEG preset needs|logits output/.test(msg)) {
        for (const s of sessions) await s.release();
        return 2;
      }
    }
  }
  for (const s of sessions) await s.release();
  if (preds.length === 0) {
    warn(`none of the ${files.length} files could be processed; nothing written`);
    return 1;
  }
  writeFileSync(values.out, eegSubmissionCsv(preds, params.classes));
  const out: string[] = [];
  const score = votes ? scoreEeg(preds, votes, params.klEpsilon) : null;
  const klOf = new Map(score?.perFile.map((r) => [r.eegId, r.kl]));
  if (!quiet) {
    out.push(['eeg_id', 'rows', ...params.classes, 'top', ...(votes ? ['KL'] : [])].join('\t'));
    for (const p of preds) {
      const top = p.probabilities.indexOf(Math.max(...p.probabilities));
      const kl = klOf.get(p.eegId);
      out.push([p.eegId, `${p.window.rows}${p.window.rows !== p.rows ? `/${p.rows}` : ''}`, ...p.probabilities.map((v) => v.toFixed(4)), params.classes[top], ...(votes ? [kl === undefined ? '-' : kl.toFixed(4)] : [])].join('\t'));
    }
    out.push(`wrote ${values.out}: ${preds.length} file${preds.length > 1 ? 's' : ''}, ${models.length} model${models.length > 1 ? 's' : ''} (mean of the softmax)${failed ? `; ${failed} failed` : ''}`);
  }
  if (score) {
    if (score.unlabelled.length) warn(`no votes for ${score.unlabelled.join(', ')}; left out of the KL`);
    if (score.missing.length) warn(`${score.missing.length} eeg_id${score.missing.length > 1 ? 's' : ''} in ${basename(values.votes!)} without a file: ${score.missing.join(', ')}`);
    out.push(score.perFile.length ? `KL divergence: ${score.score.toFixed(6)} (mean over ${score.perFile.length} file${score.perFile.length > 1 ? 's' : ''} with votes)` : 'KL divergence: - (no file has votes)');
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  return 0;
}
