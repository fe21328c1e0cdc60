/**
 * `voxelbench run <preset>`: any registered preset (src/core/presets) over files on disk, with
 * onnxruntime-node. Everything preset-specific comes from the preset: its parameter flags and
 * usage (derived from its ParamSpecs), its model roles' flags, its labels flag, its extra inputs'
 * flags (protein: --cells), how its inputs sort into sources and read into items, its run, rows,
 * batch step, exports and metric. Adding a preset to PRESET_DEFS adds it here with no change to
 * this file. The subcommands `motors`, `spine`, `spectrogram`, `protein` and `brain` are this run
 * with their own flag names and lines (./aliases.ts).
 *
 *   run <preset> --inputs PATH[,PATH...] --<role> m1.onnx[,m2.onnx...] [--<labels> F] [--<extra> PATH]
 *                [--card F] [--out DIR] [--<param> v ...] [--relax-dims] [--shard K/N] [--quiet]
 *
 * Values: the preset's defaults <- the model cards (--card, else <model>.json beside the first
 * model of each role, else the card in its metadata_props (`convert --card`); a later role's card
 * adds its values) <- what each model says about itself (the preset's `fromModel`: motors finds a
 * model that divides its input by 255 itself, one line each) <- the flags. Before the batch, a
 * preset with a `plan` says how much work an item is (motors: windows per tomogram, and the flag
 * that changes it), and after the first steps of the first item how long an item and the batch
 * will take. A model with a fixed batch dim is fed calls of that size (src/core/ortPredictor.ts).
 * --relax-dims (or a card with "relaxDims": true, at the top or under "inference") makes the models'
 * fixed spatial dims symbolic before they are checked, as `infer --relax-dims` does. A folder given to --inputs
 * is listed recursively, its paths relative to the folder's parent (a folder that is one slice
 * folder keeps its name as the item id). Each source is read, run and reduced to a row one at a
 * time (only the current one is held); a source that fails is named on stderr and skipped. With
 * --shard K/N only the sources i with i mod N = K - 1 run, and their rows go to
 * <out>/shard-K-of-N.json for `merge`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hasFixedSpatialDims, inspectModel, relaxSpatialDims, type ModelInfo } from '../core/onnx/model';
import { CARD_METADATA_KEY } from '../core/onnx/card';
import { sessionOutputsPredictor, sessionPredictor } from '../core/ortPredictor';
import {
  cardExpects,
  changedParams,
  cliFlag,
  formatParam,
  getPath,
  itemFacts,
  missingModels,
  paramCliOptions,
  paramCliUsage,
  paramsFromCli,
  presetDefaults,
  presetParamsFromCard,
  scopeLine,
  validatePreset,
  type AnyPreset,
  type CardExpects,
  type CardSource,
  type InputFile,
  type ModelHandle,
  type ModelRole,
  type ParamValue,
  type RunPlan,
  type RunProgress,
} from '../core/preset';
import { PRESET_DEFS, presetDef } from '../core/presets';
import { checkPresetMemory, cliBudget, type MemoryBudget } from '../core/memoryGuard';
import { totalmem } from 'node:os';
import { commaList, fileSize, firstLine, numberFlag, parseCli, readFile, readRange, readText, SESSION_OPTIONS, UsageError, withId, type CliOptions } from './args';
import { cliDecodePool } from './decodePool';
import { POOL_MIN_FILES, type DecodePool } from '../core/motors/decodePool';
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
  /** A folder given to inputs is listed relative to itself (its entries are the top level), not to its parent (`spine --studies DIR`). */
  inputsWithin?: boolean;
  /** Files or folders for the preset's extra inputs, by key (protein: cells). */
  extras?: Record<string, string[]>;
  /** Model files by role. */
  models: Record<string, string[]>;
  card?: string;
  labels?: string;
  outDir: string;
  /** Where a batch export goes instead of <outDir>/<file> (the motors alias: --out submission.csv); null: not written. */
  exportPaths?: Record<string, string | null>;
  /** The parameter flags as parseArgs gives them (paramCliOptions). */
  flags: Record<string, string | boolean | undefined>;
  /** Make the models' fixed spatial dims symbolic (also when a card says "relaxDims": true). */
  relaxDims?: boolean;
  shard?: { k: number; n: number };
  quiet: boolean;
  /** --memory GB: what one item's run may take (default: 75 % of this machine's memory). */
  memoryGb?: number | null;
}

/** An item that ran: what an alias prints its line from. */
export interface ItemDone {
  item: unknown;
  result: unknown;
  /** Its row as stored (plain JSON). */
  row: unknown;
  /** The item files written for it (paths). */
  files: string[];
  /** Time of the run (ms). */
  ms: number;
}

/** How an alias words its messages and what it adds (all optional; the defaults are `run`'s). */
export interface RunHooks {
  /** What an input is called ('tomogram'), and its plural (default: noun + 's'). */
  noun?: string;
  nouns?: string;
  skippedLine?(id: string, skipped: readonly { path: string; reason: string }[]): string;
  /** The stderr line of a source that failed (default: `<id>: <message>`). */
  failedLine?(id: string, message: string): string;
  /** The values after the cards and the flags, before they are checked (the spine alias: fallback <= threshold). */
  params?(p: unknown): unknown;
  /** The message for a model its role refuses (default: `--<flag>: <name>: <problem>`). */
  refused?(m: { name: string; info: ModelInfo; flag: string; problem: string; params: unknown }): string;
  /** Which of a source's items run (default: all). */
  keepItem?(item: unknown): boolean;
  /** Called after each item ran, its files written. */
  onItem?(done: ItemDone): void;
}

/** What runBatch gives back: the exit code; for a whole batch what was written and scored; the values and the labels used. */
export interface BatchRun {
  code: number;
  outcome?: BatchOutcome;
  params: unknown;
  labels: unknown;
}

const warn = (m: string) => process.stderr.write(`voxelbench: ${m}\n`);

// ---------------------------------------------------------------------------------------------
// flags

/** The fixed flags of `run`; the preset adds its roles', its labels', its extra inputs' and its parameters' flags. */
const RUN_FLAGS = {
  inputs: { type: 'string', multiple: true },
  card: { type: 'string' },
  out: { type: 'string' },
  'relax-dims': { type: 'boolean', default: false },
  shard: { type: 'string' },
  memory: { type: 'string' },
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
  for (const x of preset.inputs.extras ?? []) add(x.cli, { type: 'string', multiple: true }, `${x.key} inputs'`);
  for (const [k, o] of Object.entries(paramCliOptions(preset.params))) add(k, o, 'parameter');
  return opts;
}

export function runUsage(preset: AnyPreset): string {
  const roles = preset.models.map((r) => `${r.min ? '' : '['}--${r.cli} ${r.role}1.onnx[,${r.role}2.onnx...]${r.min ? '' : ']'}`).join(' ');
  const labels = preset.labels ? ` [--${preset.labels.cli} F]` : '';
  const extras = (preset.inputs.extras ?? []).map((x) => ` [--${x.cli} PATH]`).join('');
  return [
    `usage: voxelbench run ${preset.id} --inputs PATH[,PATH...] ${roles}${labels}${extras} [--card F] [--out DIR]`,
    `       [--<parameter> v ...] [--relax-dims] [--shard K/N] [--memory GB] [--quiet]`,
    `${preset.name}: ${preset.info.task}`,
    `  inputs: ${preset.info.input}`,
    ...(preset.inputs.extras ?? []).map((x) => `    --${x.cli} PATH[,PATH...]  ${x.label}, matched to the inputs by id`),
    `  models: ${preset.info.model}`,
    ...preset.models.map((r) => `    --${r.cli}  ${r.label}${r.min ? ` (at least ${r.min})` : ' (optional)'}`),
    `    --relax-dims  make the models' fixed spatial dims symbolic (as infer --relax-dims)`,
    `    --memory GB  what one item's run may take (default: 75 % of this machine's memory); a run estimated above it is refused`,
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

/** A flag's values (repeated and/or comma-separated) as one list. */
export const listFlag = (v: string | boolean | (string | boolean)[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => commaList(String(x)));

/** The preset's parameter flags out of parseArgs values. */
export function paramFlags(preset: AnyPreset, values: Record<string, unknown>): RunConfig['flags'] {
  const flags: RunConfig['flags'] = {};
  for (const k of Object.keys(paramCliOptions(preset.params))) flags[k] = values[k] as string | boolean | undefined;
  return flags;
}

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
  const cfg: RunConfig = {
    inputs,
    extras: Object.fromEntries((preset.inputs.extras ?? []).map((x) => [x.key, listFlag(v[x.cli])])),
    models: Object.fromEntries(preset.models.map((r) => [r.role, listFlag(v[r.cli])])),
    card: v.card as string | undefined,
    labels: preset.labels ? (v[preset.labels.cli] as string | undefined) : undefined,
    outDir: (v.out as string | undefined) ?? '.',
    flags: paramFlags(preset, v),
    relaxDims: v['relax-dims'] === true,
    shard: typeof v.shard === 'string' ? parseShard(v.shard) : undefined,
    quiet: v.quiet === true,
    memoryGb: typeof v.memory === 'string' ? numberFlag(v.memory, 'memory', 'a number of gigabytes > 0', (x) => x > 0, [1])[0] : null,
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
 * folder is listed recursively relative to its parent (`within`: to itself), a file is its own
 * name. Hidden entries ('.DS_Store', '.git') are left out. `what` names the inputs in messages.
 */
export function listInputs(inputs: readonly string[], what: string, within = false): Map<string, string> {
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
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p, r);
      else if (st?.isFile()) add(r, p);
    }
  };
  for (const input of inputs) {
    const abs = resolve(input);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new UsageError(`cannot read ${what} '${input}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    if (st.isDirectory()) walk(abs, within ? '' : basename(abs));
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
  /** Its fixed spatial dims were made symbolic (--relax-dims). */
  relaxed: boolean;
}

function readModels(preset: AnyPreset, byRole: Record<string, string[]>): ModelFile[] {
  const out: ModelFile[] = [];
  for (const role of preset.models as readonly ModelRole<unknown>[]) {
    for (const path of byRole[role.role] ?? []) {
      if (!existsSync(path)) throw new UsageError(`--${role.cli}: no such model file '${path}'`);
      const bytes = readFile(path, 'model');
      let info: ModelInfo;
      try {
        info = inspectModel(bytes);
      } catch (e) {
        throw new UsageError(`${basename(path)}: ${firstLine(e)}`, { cause: e });
      }
      out.push({ role, path, name: basename(path), bytes, info, relaxed: false });
    }
  }
  const counts = Object.fromEntries(preset.models.map((r) => [r.role, (byRole[r.role] ?? []).length]));
  const missing = missingModels(preset, counts);
  if (missing) throw new UsageError(`${missing} (${preset.models.map((r) => `--${r.cli}`).join(', ')})`);
  return out;
}

/** A model with its fixed spatial dims made symbolic (itself when it has none). */
function relaxed(m: ModelFile): ModelFile {
  if (!m.info.inputs.some(hasFixedSpatialDims)) return m;
  const bytes = relaxSpatialDims(m.bytes);
  return { ...m, bytes, info: inspectModel(bytes), relaxed: true };
}

export interface ModelCard {
  name: string;
  json: unknown;
}

/**
 * The model cards: for the first model of each role, its card (--card for the first role's, else
 * <model>.json beside it, else the model's metadata_props card); roles without a card add none.
 */
function findCards(path: string | undefined, models: readonly ModelFile[]): ModelCard[] {
  const parse = (text: string, name: string) => {
    try {
      return { name, json: JSON.parse(text) as unknown };
    } catch (e) {
      throw new UsageError(`model card '${name}' is not JSON: ${firstLine(e)}`, { cause: e });
    }
  };
  const firsts = [...new Set(models.map((m) => m.role))].map((r) => models.find((m) => m.role === r)!);
  const cards: ModelCard[] = [];
  if (path) cards.push(parse(readText(path, 'model card'), basename(path)));
  for (const [i, m] of firsts.entries()) {
    if (i === 0 && path) continue;
    const beside = m.path.replace(/\.onnx$/i, '') + '.json';
    const inside = m.info.metadata[CARD_METADATA_KEY];
    if (existsSync(beside)) cards.push(parse(readText(beside, 'model card'), basename(beside)));
    else if (inside !== undefined) cards.push(parse(inside, `${m.name} (metadata_props '${CARD_METADATA_KEY}')`));
  }
  return cards;
}

/** A model as `fromModel` sees it. */
export interface ModelSays {
  name: string;
  role: string;
  info: ModelInfo;
}

/**
 * The run's values: the preset's defaults <- each card in turn <- what each model says about itself
 * (`fromModel`; its lines go to `notes`) <- the flags (<- an alias's rule), checked. A flag that
 * overrides what a model says is kept, with a warning in `notes`.
 */
export function runParams(
  preset: AnyPreset,
  cards: readonly ModelCard[],
  flags: RunConfig['flags'],
  adjust?: (p: unknown) => unknown,
  models: readonly ModelSays[] = [],
  notes: string[] = [],
): unknown {
  let params = presetDefaults(preset);
  for (const card of cards) {
    try {
      params = presetParamsFromCard(preset, card.json, params);
    } catch (e) {
      throw new UsageError(`${card.name}: ${firstLine(e)}`, { cause: e });
    }
  }
  for (const m of models) {
    const said = preset.fromModel?.(m.info, m.name, m.role, params);
    if (!said) continue;
    params = said.params;
    notes.push(...said.notes);
  }
  try {
    params = paramsFromCli(preset.params, flags, params);
  } catch (e) {
    throw new UsageError(firstLine(e), { cause: e });
  }
  for (const m of models) {
    const said = preset.fromModel?.(m.info, m.name, m.role, params);
    const keys = said ? changedParams(preset.params, params, said.params) : [];
    if (keys.length === 0) continue;
    const what = keys.map((k) => {
      const spec = preset.params.find((x) => x.key === k)!;
      return `--${cliFlag(spec) ?? k} ${formatParam(getPath(params, k) as ParamValue)} (the model asks for ${formatParam(getPath(said!.params, k) as ParamValue)})`;
    });
    notes.push(`warning: ${m.name}: kept ${what.join(', ')} as the flags say`);
  }
  if (adjust) params = adjust(params);
  const problems = validatePreset(preset, params);
  if (problems.length) throw new UsageError(problems[0]);
  return params;
}

/** The first problem a model's role finds with it, as the line that refuses it (null when it can be used). */
function modelProblem(m: ModelFile, params: unknown, hooks: RunHooks): string | null {
  const [problem] = m.role.check(m.info, m.name, params);
  if (problem === undefined) return null;
  if (hooks.refused) return hooks.refused({ name: m.name, info: m.info, flag: m.role.cli, problem, params });
  let line = `--${m.role.cli}: ${withId(m.name, problem)}`;
  // a fixed-size model that would fit with symbolic spatial dims: say how
  if (!m.relaxed && !/--relax-dims/.test(problem) && m.info.inputs.some(hasFixedSpatialDims) && m.role.check(relaxed(m).info, m.name, params).length === 0) {
    line += ' (--relax-dims makes its spatial dims symbolic)';
  }
  return line;
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
      predictor: sessionPredictor(session, tensor, input, m.info.outputs[0].name, { model: m.name, dims: m.info.inputs[0].dims }),
      outputs: sessionOutputsPredictor(session, tensor, input, { model: m.name, dims: m.info.inputs[0].dims }),
    });
  }
  return { handles, sessions };
}

/** CPU milliseconds of the whole process (all threads: decode workers, onnxruntime's pool) since `from`. */
const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};


const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * A file on disk as a preset reads it: `bytes` reads the whole file at each access (not kept, so
 * that a slice folder's files are held only while each is decoded), `range` reads a part of it
 * (a slab of an MRC tomogram) without reading the rest.
 */
export function diskFile(path: string, abs: string, noun: string): InputFile {
  return {
    path,
    localPath: abs,
    get bytes() {
      return readFile(abs, noun);
    },
    range: {
      get size() {
        return fileSize(abs, noun);
      },
      read: (offset, length) => readRange(abs, offset, length, noun),
      readInto: (offset, into) => readRange(abs, offset, into.length, noun, into),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the batch

/**
 * Runs a preset over the configured inputs. Returns the exit code and, for a whole batch (no
 * --shard), what was written and scored; the caller prints it.
 */
export async function runBatch(preset: AnyPreset, cfg: RunConfig, hooks: RunHooks = {}): Promise<BatchRun> {
  const noun = hooks.noun ?? 'item';
  const nouns = hooks.nouns ?? `${noun}s`;
  const note = (m: string) => {
    if (!cfg.quiet) process.stderr.write(`${m}\n`);
  };

  // --out is a folder (made when missing): an existing file there would fail only at the first write
  const out = statSync(cfg.outDir, { throwIfNoEntry: false });
  if (out && !out.isDirectory()) throw new UsageError(`--out '${cfg.outDir}' is a file; give a folder (it is made when missing)`);
  let models = readModels(preset, cfg.models);
  const cards = findCards(cfg.card, models);
  const said: string[] = [];
  const params = runParams(preset, cards, cfg.flags, hooks.params, models.map((m) => ({ name: m.name, role: m.role.role, info: m.info })), said);
  if (cfg.relaxDims || cards.some((c) => getPath(c.json, 'relaxDims') === true || getPath(c.json, 'inference.relaxDims') === true)) models = models.map(relaxed);
  for (const m of models) {
    const problem = modelProblem(m, params, hooks);
    if (problem) throw new UsageError(problem);
  }
  // the memory guard: the values alone before any input is read, then each item before it runs
  const budget: MemoryBudget = cliBudget(totalmem(), cfg.memoryGb ?? null);
  const infos = Object.fromEntries(preset.models.map((r) => [r.role, models.filter((m) => m.role.role === r.role).map((m) => m.info)]));
  const upFront = checkPresetMemory(preset, params, null, infos, budget);
  if (upFront) throw new UsageError(upFront);
  for (const card of cards) {
    // a card of another registered preset ('motors' for spine); a card of the page's generic segmentation ('segmentation', the brain demo's) is fine
    const forPreset = (card.json as { preset?: unknown } | null)?.preset;
    const other = typeof forPreset === 'string' && !forPreset.startsWith(preset.id) && Object.keys(PRESET_DEFS).some((id) => forPreset.startsWith(id));
    if (other) warn(`${card.name} is a card for the '${forPreset}' preset, not '${preset.id}'`);
    note(`using the values of the model card ${card.name}`);
  }
  for (const line of said) {
    if (line.startsWith('warning: ')) warn(line.slice('warning: '.length));
    else note(line);
  }
  // what the cards say the models expect of their input (an item outside it gets one line)
  const scope: CardExpects[] = [];
  for (const card of cards) {
    try {
      const e = cardExpects(card.name, card.json);
      if (e) scope.push(e);
    } catch (e) {
      throw new UsageError(`${card.name}: ${firstLine(e)}`, { cause: e });
    }
  }
  const labels = cfg.labels && !cfg.shard ? readLabels(preset, cfg.labels, params) : null;
  if (cfg.labels && cfg.shard) note(`${basename(cfg.labels)}: a shard does not score; give the labels to merge`);

  // sources: every file under the inputs, sorted by the preset; then the extra inputs matched to them by id
  const files = listInputs(cfg.inputs, nouns, cfg.inputsWithin);
  const sorted = preset.inputs.sort([...files.keys()]);
  for (const n of sorted.notes) warn(n);
  const unused = [...sorted.models, ...sorted.cards, ...sorted.labels, ...sorted.ignored];
  const sources = sorted.sources;
  for (const x of preset.inputs.extras ?? []) {
    const given = cfg.extras?.[x.key] ?? [];
    if (given.length === 0) continue;
    const byId = new Map(sources.map((s) => [s.id, s]));
    for (const [rel, abs] of listInputs(given, x.label)) {
      const id = x.idOf(rel);
      const src = id === null ? undefined : byId.get(id);
      if (!src) {
        unused.push(rel);
        continue;
      }
      src.extra = { ...src.extra, [x.key]: abs };
      files.set(abs, abs);
    }
  }
  if (unused.length) note(`not used among the inputs: ${unused.slice(0, 4).join(', ')}${unused.length > 4 ? `, and ${unused.length - 4} more` : ''}`);
  if (sources.length === 0) throw new UsageError(`no ${nouns} in '${cfg.inputs.join(', ')}' (${preset.name}: ${preset.info.input})`);
  const mine = sources.map((s, i) => ({ s, i })).filter(({ i }) => !cfg.shard || i % cfg.shard.n === cfg.shard.k - 1);
  const plan = preset.plan?.(params, Object.fromEntries(preset.models.map((r) => [r.role, models.filter((m) => m.role.role === r.role).length]))) ?? null;
  if (plan) note(planLine(preset, plan, params, mine.length, noun, nouns, cards, cfg.flags));
  let estimated = false;

  // a source's files, each once; worker threads pay off on folders of many slices (starting them costs about one slice's decode)
  const pathsOf = (src: (typeof mine)[number]['s']): string[] => [...new Set([...src.paths, ...Object.values(src.extra ?? {})])];
  const pool = cliDecodePool();
  const onPool = (paths: readonly string[]): DecodePool | null => (pool && paths.length >= POOL_MIN_FILES ? pool : null);
  // the first source goes on the pool: its decode threads start while the sessions open
  if (mine.length > 0) onPool(pathsOf(mine[0].s))?.warm();
  let opened: Awaited<ReturnType<typeof openSessions>>;
  try {
    opened = await openSessions(models);
  } catch (e) {
    pool?.close();
    throw e;
  }
  const { handles, sessions } = opened;
  const rows: BatchRow[] = [];
  const failed: BatchFailure[] = [];
  const itemFiles: string[] = [];
  try {
    for (const [k, { s: src, i }] of mine.entries()) {
      // the progress line (stderr) is ended before anything else is printed
      let open = false;
      const show = cfg.quiet
        ? undefined
        : (line: string) => {
            process.stderr.write(`\r[${k + 1}/${mine.length}] ${src.id}: ${line}   `);
            open = true;
          };
      const end = () => {
        if (open) process.stderr.write('\n');
        open = false;
      };
      try {
        const paths = pathsOf(src);
        const decoders = onPool(paths);
        const inputFiles: InputFile[] = paths.map((p) => diskFile(p, files.get(p) ?? p, noun));
        const tRead = performance.now();
        const cRead = process.cpuUsage();
        const read = await preset.inputs.read(src, inputFiles, params, {
          onProgress: show && ((p) => show(`reading ${p.done}/${p.total}`)),
          // items are run, never shown or saved: a reader may skip what the run never reads
          modelOnly: true,
          ...(decoders ? { decodeImage: decoders.decode, decodeInto: decoders.decodeInto, decodeConcurrency: decoders.concurrency } : {}),
        });
        const readMs = performance.now() - tRead;
        // the decode threads are idle while the item runs: stop them (they start again for the next folder)
        pool?.close();
        const readCpuMs = cpuMsSince(cRead);
        end();
        for (const w of read.warnings) warn(withId(src.id, w));
        if (read.skipped.length) warn(hooks.skippedLine ? hooks.skippedLine(src.id, read.skipped) : skippedLine(src.id, read.skipped));
        for (const [j, item] of read.items.entries()) {
          if (hooks.keepItem && !hooks.keepItem(item)) continue;
          const outOfScope = scopeLine(preset.inputs.itemId(item), itemFacts(preset, item, params), scope);
          if (outOfScope) warn(outOfScope);
          const refusal = checkPresetMemory(preset, params, item, infos, budget);
          if (refusal) {
            // one line, and the next item runs
            const id = preset.inputs.itemId(item);
            failed.push({ source: i, id, error: withId(id, refusal) });
            warn(hooks.failedLine ? hooks.failedLine(id, refusal) : withId(id, refusal));
            continue;
          }
          const t0 = performance.now();
          const cRun = process.cpuUsage();
          const result = await preset.run(item, handles, params, {
            onProgress:
              show &&
              ((p: RunProgress) => {
                if (plan && !estimated && p.done > 0 && p.total > 0) {
                  estimated = true;
                  end();
                  note(estimateLine(p, mine.length - k, noun, nouns));
                }
                show(progressText(p));
              }),
          });
          const ms = performance.now() - t0;
          end();
          // VB_TIMINGS=1: one JSON line per item on stderr (npm run bench reads it)
          if (process.env.VB_TIMINGS) process.stderr.write(`voxelbench-timings ${JSON.stringify({ id: preset.inputs.itemId(item), readMs, runMs: ms, readCpuMs, runCpuMs: cpuMsSince(cRun) })}\n`);
          const written: string[] = [];
          for (const e of preset.itemExports ?? []) {
            const file = e.file(item, result);
            const path = join(cfg.outDir, file);
            writeOut(path, e.write(item, result, params));
            itemFiles.push(file);
            written.push(path);
          }
          const row = jsonRow(preset.row(item, result, params));
          rows.push({ source: i, item: j, id: preset.inputs.itemId(item), row });
          hooks.onItem?.({ item, result, row, files: written, ms });
        }
      } catch (e) {
        end();
        const msg = firstLine(e);
        failed.push({ source: i, id: src.id, error: withId(src.id, msg) });
        warn(hooks.failedLine ? hooks.failedLine(src.id, msg) : withId(src.id, msg));
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
      card: cards.length ? cards.map((c) => c.name).join(', ') : null,
      sources: sources.map((s) => s.id),
      rows,
      failed,
      itemFiles,
    };
    const path = join(cfg.outDir, shardFileName(k, n));
    writeOut(path, JSON.stringify(shard, null, 1) + '\n');
    if (!cfg.quiet) process.stdout.write(`wrote ${path}: shard ${k} of ${n}, ${mine.length} of ${sources.length} ${nouns}, ${rows.length} rows${failed.length ? `; ${failed.length} failed` : ''}\n`);
    return { code: mine.length > 0 && rows.length === 0 ? 1 : 0, params, labels };
  }
  if (rows.length === 0) {
    warn(`none of the ${sources.length} ${nouns} could be processed; nothing written`);
    return { code: 1, params, labels };
  }
  const done = finishBatch(preset, params, rows, labels, cfg.outDir, cfg.exportPaths);
  return { code: 0, params, labels, outcome: { ...done, failed, itemFiles: itemFiles.length } };
}

export function modelRefs(preset: AnyPreset, models: readonly ModelFile[]): Record<string, ModelRef[]> {
  return Object.fromEntries(preset.models.map((r) => [r.role, models.filter((m) => m.role.role === r.role).map((m) => ({ name: m.name, sha256: sha256(m.bytes) }))]));
}

/** How long: '1 h 3 min', '4 min 10 s', '35 s', '0.4 s'. */
export function durationText(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Where a value comes from: the flag, a card that gives it, or the preset's default. */
function valueSource(preset: AnyPreset, key: string, cards: readonly ModelCard[], flags: RunConfig['flags']): string {
  const spec = preset.params.find((s) => s.key === key);
  if (!spec) return '';
  const flag = cliFlag(spec);
  if (flag && flags[flag] !== undefined) return `from --${flag}`;
  const paths = spec.card ? ((Array.isArray(spec.card) ? spec.card : [spec.card]) as readonly CardSource[]).map((c) => (typeof c === 'string' ? c : c.path)) : [];
  const card = [...cards].reverse().find((c) => paths.some((p) => getPath(c.json, p) !== undefined));
  return card ? `from the model card ${card.name}` : "the preset's default";
}

/** The line before the batch: the plan of one item, the whole batch's steps, and the flag that changes the work. */
function planLine(preset: AnyPreset, plan: RunPlan, params: unknown, items: number, noun: string, nouns: string, cards: readonly ModelCard[], flags: RunConfig['flags']): string {
  let line = `${plan.line}; ${items} ${items === 1 ? noun : nouns}: ${plan.steps * items} in all`;
  const spec = plan.lever ? preset.params.find((s) => s.key === plan.lever) : undefined;
  const flag = spec && cliFlag(spec);
  if (spec && flag) line += ` (${spec.label} ${formatParam(getPath(params, spec.key) as ParamValue)} ${valueSource(preset, spec.key, cards, flags)}; --${flag} changes it)`;
  return line;
}

/** After the first steps: how long an item and the rest of the batch will take at that pace. */
function estimateLine(p: RunProgress, left: number, noun: string, nouns: string): string {
  const perItem = (p.elapsedMs / p.done) * p.total;
  return `estimate from the first ${p.done} of ${p.total} steps (${durationText(p.elapsedMs)}): about ${durationText(perItem)} per ${noun}${left > 1 ? `, ${durationText(perItem * left)} for the ${left} ${nouns} to run` : ''}`;
}

function progressText(p: RunProgress): string {
  return `${p.stage ? `${p.stage}, ` : ''}step ${p.done}/${p.total}, ~${(p.etaMs / 1000).toFixed(1)} s left`;
}

function skippedLine(id: string, skipped: readonly { path: string; reason: string }[]): string {
  const names = skipped.slice(0, 3).map((s) => `'${basename(s.path)}'`).join(', ') + (skipped.length > 3 ? ', ...' : '');
  const reasons = [...new Set(skipped.map((s) => s.reason))].join('; ');
  return `${id}: skipped ${skipped.length} file${skipped.length > 1 ? 's' : ''} (${names}): ${reasons}`;
}
