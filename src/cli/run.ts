/**
 * `voxelbench run <preset>`: any registered preset (src/core/presets) over files on disk, with
 * onnxruntime-node. Everything preset-specific comes from the preset: its parameter flags and
 * usage (derived from its ParamSpecs), its model roles' flags, its labels flag, how its inputs
 * sort into sources and read into items, its run, rows, batch step, exports and metric. Adding a
 * preset to PRESET_DEFS adds it here with no change to this file.
 *
 *   run <preset> --inputs PATH[,PATH...] --<role> m1.onnx[,m2.onnx...] [--<labels> F] [--card F]
 *                [--out DIR] [--<param> v ...] [--shard K/N] [--quiet]
 *
 * Values: the preset's defaults <- the model card (--card, else <first model>.json beside it, else
 * the card in its metadata_props) <- the flags. A folder given to --inputs is listed recursively,
 * its paths relative to the folder's parent (a folder that is one slice folder keeps its name as
 * the item id). Each source is read, run and reduced to a row one at a time (only the current one
 * is held); a source that fails is named on stderr and skipped. With --shard K/N only the sources
 * i with i mod N = K - 1 run, and their rows go to <out>/shard-K-of-N.json for `merge`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inspectModel, type ModelInfo } from '../core/onnx/model';
import { CARD_METADATA_KEY } from '../core/onnx/card';
import { sessionOutputsPredictor, sessionPredictor } from '../core/ortPredictor';
import {
  missingModels,
  paramCliOptions,
  paramCliUsage,
  paramsFromCli,
  presetDefaults,
  presetParamsFromCard,
  validatePreset,
  type AnyPreset,
  type InputFile,
  type ModelHandle,
  type ModelRole,
  type RunProgress,
} from '../core/preset';
import { PRESET_DEFS, presetDef } from '../core/presets';
import { commaList, fileSize, firstLine, parseCli, readFile, readRange, readText, SESSION_OPTIONS, UsageError, withId, type CliOptions } from './args';
import { cliDecodePool } from './decodePool';
import {
  batchReport,
  finishBatch,
  jsonRow,
  readLabels,
  shardFileName,
  writeOut,
  type BatchFailure,
  type BatchOutcome,
  type BatchRow,
  type ModelRef,
  type ShardFile,
} from './batch';

/** What a run is asked to do (from `run`'s flags, or from an alias like `motors`). */
export interface RunConfig {
  inputs: string[];
  /** Model files by role. */
  models: Record<string, string[]>;
  card?: string;
  labels?: string;
  outDir: string;
  /** Where a batch export goes instead of <outDir>/<file> (the motors alias: --out submission.csv). */
  exportPaths?: Record<string, string>;
  /** The parameter flags as parseArgs gives them (paramCliOptions). */
  flags: Record<string, string | boolean | undefined>;
  shard?: { k: number; n: number };
  quiet: boolean;
}

/** How an alias words its messages (defaults: 'item', a generic skipped-files line). */
export interface RunHooks {
  noun?: string;
  skippedLine?(id: string, skipped: readonly { path: string; reason: string }[]): string;
}

const warn = (m: string) => process.stderr.write(`voxelbench: ${m}\n`);

// ---------------------------------------------------------------------------------------------
// flags

/** The fixed flags of `run`; the preset adds its roles', its labels' and its parameters' flags. */
const RUN_FLAGS = {
  inputs: { type: 'string', multiple: true },
  card: { type: 'string' },
  out: { type: 'string' },
  shard: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies CliOptions;

/** parseArgs options of `run <preset>`; throws when two of them have the same name (a preset's mistake). */
export function runOptions(preset: AnyPreset): CliOptions {
  const opts: CliOptions = { ...RUN_FLAGS };
  const add = (name: string, o: CliOptions[string], what: string) => {
    if (name in opts) throw new Error(`the ${preset.id} preset's ${what} flag --${name} clashes with another flag`);
    opts[name] = o;
  };
  for (const r of preset.models) add(r.cli, { type: 'string', multiple: true }, `${r.role} models'`);
  if (preset.labels) add(preset.labels.cli, { type: 'string' }, 'labels');
  for (const [k, o] of Object.entries(paramCliOptions(preset.params))) add(k, o, 'parameter');
  return opts;
}

export function runUsage(preset: AnyPreset): string {
  const roles = preset.models.map((r) => `${r.min ? '' : '['}--${r.cli} ${r.role}1.onnx[,${r.role}2.onnx...]${r.min ? '' : ']'}`).join(' ');
  const labels = preset.labels ? ` [--${preset.labels.cli} F]` : '';
  return [
    `usage: voxelbench run ${preset.id} --inputs PATH[,PATH...] ${roles}${labels} [--card F] [--out DIR]`,
    `       [--<parameter> v ...] [--shard K/N] [--quiet]`,
    `${preset.name}: ${preset.info.task}`,
    `  inputs: ${preset.info.input}`,
    `  models: ${preset.info.model}`,
    ...preset.models.map((r) => `    --${r.cli}  ${r.label}${r.min ? ` (at least ${r.min})` : ' (optional)'}`),
    `  output: ${preset.info.output}`,
    ...(preset.labels ? [`  --${preset.labels.cli} F  ${preset.labels.label}${preset.info.metric ? `: ${preset.info.metric}` : ''}`] : []),
    '  parameters (defaults <- model card <- these flags):',
    ...paramCliUsage(preset.params, presetDefaults(preset)),
  ].join('\n');
}

export function parseShard(s: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && k >= 1 && k <= n)) throw new UsageError(`--shard must be K/N with 1 <= K <= N, got '${s}'`);
  return { k, n };
}

const listFlag = (v: string | boolean | (string | boolean)[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => commaList(String(x)));

/** `voxelbench run <preset> ...` */
export async function run(argv: string[]): Promise<number> {
  const [id, ...rest] = argv;
  if (id === undefined || id === '--help' || id === '-h') {
    process.stdout.write(`usage: voxelbench run <preset> ...; presets: ${Object.keys(PRESET_DEFS).join(', ')} (run <preset> --help lists its flags)\n`);
    return id === undefined ? 2 : 0;
  }
  let preset: AnyPreset;
  try {
    preset = presetDef(id);
  } catch (e) {
    throw new UsageError(firstLine(e), { cause: e });
  }
  const { values } = parseCli(rest, runOptions(preset));
  const v = values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  if (v.help) {
    process.stdout.write(runUsage(preset) + '\n');
    return 0;
  }
  const inputs = listFlag(v.inputs);
  if (inputs.length === 0) throw new UsageError(`run ${preset.id} needs --inputs (run ${preset.id} --help lists the flags)`);
  const flags: RunConfig['flags'] = {};
  for (const k of Object.keys(paramCliOptions(preset.params))) flags[k] = v[k] as string | boolean | undefined;
  const cfg: RunConfig = {
    inputs,
    models: Object.fromEntries(preset.models.map((r) => [r.role, listFlag(v[r.cli])])),
    card: v.card as string | undefined,
    labels: preset.labels ? (v[preset.labels.cli] as string | undefined) : undefined,
    outDir: (v.out as string | undefined) ?? '.',
    flags,
    shard: typeof v.shard === 'string' ? parseShard(v.shard) : undefined,
    quiet: v.quiet === true,
  };
  const r = await runBatch(preset, cfg);
  if (r.outcome) {
    const lines = batchReport(r.outcome, cfg.quiet);
    if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  }
  return r.code;
}

// ---------------------------------------------------------------------------------------------
// inputs

/**
 * The files under the given paths, by the path the preset sorts ('tomo_1/slice_0000.jpg'): a
 * folder is listed recursively relative to its parent, a file is its own name. Hidden entries
 * ('.DS_Store', '.git') are left out.
 */
export function listInputs(inputs: readonly string[], noun: string): Map<string, string> {
  const files = new Map<string, string>();
  const seenDirs = new Set<string>();
  const add = (rel: string, abs: string) => {
    const prev = files.get(rel);
    if (prev !== undefined && prev !== abs) warn(`${rel}: given twice ('${prev}' and '${abs}'); using '${prev}'`);
    else files.set(rel, abs);
  };
  const walk = (dir: string, rel: string) => {
    const real = realpathSync(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    for (const name of names) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p, `${rel}/${name}`);
      else if (st?.isFile()) add(`${rel}/${name}`, p);
    }
  };
  for (const input of inputs) {
    const abs = resolve(input);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new UsageError(`cannot read ${noun}s '${input}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    if (st.isDirectory()) walk(abs, basename(abs));
    else add(basename(abs), abs);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// models and values

interface ModelFile {
  role: ModelRole<unknown>;
  path: string;
  name: string;
  bytes: Uint8Array;
  info: ModelInfo;
}

function readModels(preset: AnyPreset, byRole: Record<string, string[]>): ModelFile[] {
  const out: ModelFile[] = [];
  for (const role of preset.models as readonly ModelRole<unknown>[]) {
    for (const path of byRole[role.role] ?? []) {
      const bytes = readFile(path, 'model');
      let info: ModelInfo;
      try {
        info = inspectModel(bytes);
      } catch (e) {
        throw new UsageError(`${basename(path)}: ${firstLine(e)}`, { cause: e });
      }
      out.push({ role, path, name: basename(path), bytes, info });
    }
  }
  const counts = Object.fromEntries(preset.models.map((r) => [r.role, (byRole[r.role] ?? []).length]));
  const missing = missingModels(preset, counts);
  if (missing) throw new UsageError(`${missing} (${preset.models.map((r) => `--${r.cli}`).join(', ')})`);
  return out;
}

/** The model card: --card, else <first model>.json beside it, else the first model's metadata_props card. */
function findCard(path: string | undefined, first: ModelFile | undefined): { name: string; json: unknown } | null {
  const parse = (text: string, name: string) => {
    try {
      return { name, json: JSON.parse(text) as unknown };
    } catch (e) {
      throw new UsageError(`model card '${name}' is not JSON: ${firstLine(e)}`, { cause: e });
    }
  };
  if (path) return parse(readText(path, 'model card'), basename(path));
  if (!first) return null;
  const beside = first.path.replace(/\.onnx$/i, '') + '.json';
  if (existsSync(beside)) return parse(readText(beside, 'model card'), basename(beside));
  const inside = first.info.metadata[CARD_METADATA_KEY];
  return inside === undefined ? null : parse(inside, `${first.name} (metadata_props '${CARD_METADATA_KEY}')`);
}

/** The run's values: the preset's defaults <- the card <- the flags, checked. */
export function runParams(preset: AnyPreset, card: { name: string; json: unknown } | null, flags: RunConfig['flags']): unknown {
  let params = presetDefaults(preset);
  if (card) {
    try {
      params = presetParamsFromCard(preset, card.json, params);
    } catch (e) {
      throw new UsageError(`${card.name}: ${firstLine(e)}`, { cause: e });
    }
  }
  try {
    params = paramsFromCli(preset.params, flags, params);
  } catch (e) {
    throw new UsageError(firstLine(e), { cause: e });
  }
  const problems = validatePreset(preset, params);
  if (problems.length) throw new UsageError(problems[0]);
  return params;
}

async function openSessions(models: readonly ModelFile[]): Promise<{ handles: Record<string, ModelHandle[]>; sessions: ort.InferenceSession[] }> {
  const handles: Record<string, ModelHandle[]> = {};
  const sessions: ort.InferenceSession[] = [];
  const tensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);
  for (const m of models) {
    const session = await ort.InferenceSession.create(m.bytes, SESSION_OPTIONS).catch((e: Error) => {
      throw new UsageError(`${m.name}: onnxruntime could not load the model: ${firstLine(e)}`);
    });
    sessions.push(session);
    const input = m.info.inputs[0].name;
    (handles[m.role.role] ??= []).push({
      name: m.name,
      info: m.info,
      predictor: sessionPredictor(session, tensor, input, m.info.outputs[0].name),
      outputs: sessionOutputsPredictor(session, tensor, input),
    });
  }
  return { handles, sessions };
}

/** CPU milliseconds of the whole process (all threads: decode workers, onnxruntime's pool) since `from`. */
const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** Sources with at least this many files are decoded by the worker-thread pool. */
const POOL_MIN_FILES = 16;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * A file on disk as a preset reads it: `bytes` reads the whole file at each access (not kept, so
 * that a slice folder's files are held only while each is decoded), `range` reads a part of it
 * (a slab of an MRC tomogram) without reading the rest.
 */
export function diskFile(path: string, abs: string, noun: string): InputFile {
  return {
    path,
    get bytes() {
      return readFile(abs, noun);
    },
    range: {
      get size() {
        return fileSize(abs, noun);
      },
      read: (offset, length) => readRange(abs, offset, length, noun),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the batch

/**
 * Runs a preset over the configured inputs. Returns the exit code and, for a whole batch (no
 * --shard), what was written and scored; the caller prints it.
 */
export async function runBatch(preset: AnyPreset, cfg: RunConfig, hooks: RunHooks = {}): Promise<{ code: number; outcome?: BatchOutcome; params: unknown }> {
  const noun = hooks.noun ?? 'item';
  const note = (m: string) => {
    if (!cfg.quiet) process.stderr.write(`${m}\n`);
  };

  const models = readModels(preset, cfg.models);
  const card = findCard(cfg.card, models[0]);
  const params = runParams(preset, card, cfg.flags);
  if (card) {
    const forPreset = (card.json as { preset?: unknown } | null)?.preset;
    if (typeof forPreset === 'string' && !forPreset.startsWith(preset.id)) warn(`${card.name} is a card for the '${forPreset}' preset, not '${preset.id}'`);
    note(`using the values of the model card ${card.name}`);
  }
  for (const m of models) {
    const problems = m.role.check(m.info, m.name, params);
    if (problems.length) throw new UsageError(withId(m.name, problems[0]));
  }
  const labels = cfg.labels && !cfg.shard ? readLabels(preset, cfg.labels, params) : null;
  if (cfg.labels && cfg.shard) note(`${basename(cfg.labels)}: a shard does not score; give the labels to merge`);

  // sources: every file under the inputs, sorted by the preset
  const files = listInputs(cfg.inputs, noun);
  const sorted = preset.inputs.sort([...files.keys()]);
  for (const n of sorted.notes) warn(n);
  const unused = [...sorted.models, ...sorted.cards, ...sorted.labels, ...sorted.ignored];
  if (unused.length) note(`not used among the inputs: ${unused.slice(0, 4).join(', ')}${unused.length > 4 ? `, and ${unused.length - 4} more` : ''}`);
  const sources = sorted.sources;
  if (sources.length === 0) throw new UsageError(`no ${noun}s in '${cfg.inputs.join(', ')}' (${preset.name}: ${preset.info.input})`);
  const mine = sources.map((s, i) => ({ s, i })).filter(({ i }) => !cfg.shard || i % cfg.shard.n === cfg.shard.k - 1);

  const { handles, sessions } = await openSessions(models);
  const pool = cliDecodePool();
  const rows: BatchRow[] = [];
  const failed: BatchFailure[] = [];
  const itemFiles: string[] = [];
  try {
    for (const [k, { s: src, i }] of mine.entries()) {
      const head = `\r[${k + 1}/${mine.length}] ${src.id}: `;
      const show = cfg.quiet ? undefined : (line: string) => process.stderr.write(`${head}${line}   `);
      try {
        const paths = [...new Set([...src.paths, ...Object.values(src.extra ?? {})])];
        const inputFiles: InputFile[] = paths.map((p) => diskFile(p, files.get(p) ?? p, noun));
        const tRead = performance.now();
        const cRead = process.cpuUsage();
        const read = await preset.inputs.read(src, inputFiles, params, {
          onProgress: show && ((p) => show(`reading ${p.done}/${p.total}`)),
          // worker threads pay off on folders of many slices (starting them costs about one slice's decode)
          ...(pool && paths.length >= POOL_MIN_FILES ? { decodeImage: pool.decode, decodeInto: pool.decodeInto, decodeConcurrency: pool.concurrency } : {}),
        });
        const readMs = performance.now() - tRead;
        // the decode threads are idle while the item runs: stop them (they start again for the next folder)
        pool?.close();
        const readCpuMs = cpuMsSince(cRead);
        for (const w of read.warnings) warn(withId(src.id, w));
        if (read.skipped.length) warn(hooks.skippedLine ? hooks.skippedLine(src.id, read.skipped) : skippedLine(src.id, read.skipped));
        for (const [j, item] of read.items.entries()) {
          const tRun = performance.now();
          const cRun = process.cpuUsage();
          const result = await preset.run(item, handles, params, { onProgress: show && ((p: RunProgress) => show(progressText(p))) });
          // VB_TIMINGS=1: one JSON line per item on stderr (npm run bench reads it)
          if (process.env.VB_TIMINGS) process.stderr.write(`voxelbench-timings ${JSON.stringify({ id: preset.inputs.itemId(item), readMs, runMs: performance.now() - tRun, readCpuMs, runCpuMs: cpuMsSince(cRun) })}\n`);
          for (const e of preset.itemExports ?? []) {
            const file = e.file(item, result);
            writeOut(join(cfg.outDir, file), e.write(item, result, params));
            itemFiles.push(file);
          }
          rows.push({ source: i, item: j, id: preset.inputs.itemId(item), row: jsonRow(preset.row(item, result, params)) });
        }
        if (show) process.stderr.write('\n');
      } catch (e) {
        if (show) process.stderr.write('\n');
        failed.push({ source: i, id: src.id, error: withId(src.id, firstLine(e)) });
        warn(withId(src.id, firstLine(e)));
      }
    }
  } finally {
    for (const s of sessions) await s.release();
    pool?.close();
  }

  if (cfg.shard) {
    const { k, n } = cfg.shard;
    const shard: ShardFile = {
      voxelbench: 'shard',
      version: 1,
      preset: preset.id,
      shard: { k, n },
      params,
      models: modelRefs(preset, models),
      card: card?.name ?? null,
      sources: sources.map((s) => s.id),
      rows,
      failed,
      itemFiles,
    };
    const path = join(cfg.outDir, shardFileName(k, n));
    writeOut(path, JSON.stringify(shard, null, 1) + '\n');
    if (!cfg.quiet) process.stdout.write(`wrote ${path}: shard ${k} of ${n}, ${mine.length} of ${sources.length} ${noun}s, ${rows.length} rows${failed.length ? `; ${failed.length} failed` : ''}\n`);
    return { code: mine.length > 0 && rows.length === 0 ? 1 : 0, params };
  }
  if (rows.length === 0) {
    warn(`none of the ${sources.length} ${noun}s could be processed; nothing written`);
    return { code: 1, params };
  }
  const done = finishBatch(preset, params, rows, labels, cfg.outDir, cfg.exportPaths);
  return { code: 0, params, outcome: { ...done, failed, itemFiles: itemFiles.length } };
}

export function modelRefs(preset: AnyPreset, models: readonly ModelFile[]): Record<string, ModelRef[]> {
  return Object.fromEntries(preset.models.map((r) => [r.role, models.filter((m) => m.role.role === r.role).map((m) => ({ name: m.name, sha256: sha256(m.bytes) }))]));
}

function progressText(p: RunProgress): string {
  return `${p.stage ? `${p.stage}, ` : ''}step ${p.done}/${p.total}, ~${(p.etaMs / 1000).toFixed(1)} s left`;
}

function skippedLine(id: string, skipped: readonly { path: string; reason: string }[]): string {
  const names = skipped.slice(0, 3).map((s) => `'${basename(s.path)}'`).join(', ') + (skipped.length > 3 ? ', ...' : '');
  const reasons = [...new Set(skipped.map((s) => s.reason))].join('; ');
  return `${id}: skipped ${skipped.length} file${skipped.length > 1 ? 's' : ''} (${names}): ${reasons}`;
}
