/**
 * One-op model runs for the WebGPU op-table test (e2e/webgpuOps.spec.ts): onnxruntime-web (the
 * same default import and session options as the worker) in this page, with ORT's verbose log
 * captured to tell which execution provider each node was placed on.
 */
import * as ort from 'onnxruntime-web';

export interface OpFeed {
  name: string;
  type: 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
  dims: number[];
  data: number[];
  /** Made here instead of `data` (inputs too large to pass from the test): 'hashU8/255' = tests/realModels.ts hashU8 / 255. */
  gen?: 'hashU8/255';
}

/** tests/realModels.ts hashU8(shape) / 255 as float32. */
function hashU8Div255(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround((Math.imul(i, 2654435761 | 0) >>> 24) / 255);
  return out;
}

export interface OpRun {
  ok: boolean;
  error?: string;
  /** Output tensors (as numbers) by name. */
  outputs?: Record<string, { dims: number[]; data: number[] }>;
  /** Where ORT placed the nodes ('JsExecutionProvider' = WebGPU, 'CPUExecutionProvider'), from its verbose log. */
  placements: Placement[];
  ms: number;
}

let configured = false;
const log: string[] = [];
/** Lines dropped from the front of `log` (marks are absolute line numbers). */
let dropped = 0;

function configure(): void {
  if (configured) return;
  configured = true;
  ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)) : 1;
  // ORT's global log level stays at 'warning'; the WebGPU sessions log their node placements (verbose)
  ort.env.logLevel = 'warning';
  // ORT's C++ log goes to console.log/console.error (emscripten's print/printErr)
  for (const k of ['log', 'error', 'warn', 'info'] as const) {
    const orig = console[k].bind(console);
    console[k] = (...a: unknown[]) => {
      const line = a.map(String).join(' ');
      log.push(line);
      if (log.length > 20000) {
        log.splice(0, 10000);
        dropped += 10000;
      }
      // ORT's own lines (hundreds per verbose session) stay here: sending each to the test runner costs time
      if (!/\[[VIWEF]:onnxruntime:/.test(line)) orig(...a);
    };
  }
}

/** One "Node placements" block of ORT's verbose log: an EP and its nodes ('Op (name)'), or all nodes. */
export interface Placement {
  ep: string;
  count: number;
  /** Empty when the log said 'All nodes placed on [ep]'. */
  nodes: string[];
  all: boolean;
}

/** The node placements ORT logged (session_state.cc VerifyEachNodeIsAssignedToAnEp) since `from`; subgraphs give more blocks. */
function placements(from: number): Placement[] {
  const out: Placement[] = [];
  let cur: Placement | null = null;
  for (const raw of log.slice(Math.max(0, from - dropped))) {
    if (!raw.includes('VerifyEachNodeIsAssignedToAnEp')) {
      cur = null;
      continue;
    }
    const line = raw.replace(/^.*?VerifyEachNodeIsAssignedToAnEp\] ?/, '');
    const m = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (m) {
      cur = { ep: m[2], count: Number(m[3]), nodes: [], all: m[1] === 'All nodes' };
      out.push(cur);
    } else if (cur && /^\s+\S/.test(line)) cur.nodes.push(line.trim());
  }
  return out;
}

const toNumbers = (d: ort.Tensor['data']): number[] => Array.from(d as ArrayLike<number | bigint | boolean>, (v) => Number(v));

export async function runOp(modelUrl: string, feeds: OpFeed[], backend: 'webgpu' | 'wasm'): Promise<OpRun> {
  configure();
  const from = dropped + log.length;
  const t0 = performance.now();
  let s: ort.InferenceSession | null = null;
  try {
    const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    s = await ort.InferenceSession.create(bytes, {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
      logSeverityLevel: backend === 'webgpu' ? 0 : 2,
      logVerbosityLevel: 0,
    });
    const inputs: Record<string, ort.Tensor> = {};
    for (const f of feeds) {
      const data =
        f.gen === 'hashU8/255' ? hashU8Div255(f.dims.reduce((a, b) => a * b, 1))
        : f.type === 'float32' ? Float32Array.from(f.data)
        : f.type === 'int64' ? BigInt64Array.from(f.data, (v) => BigInt(v))
        : f.type === 'int32' ? Int32Array.from(f.data)
        : f.type === 'uint8' ? Uint8Array.from(f.data)
        : f.type === 'int8' ? Int8Array.from(f.data)
        : Uint8Array.from(f.data);
      inputs[f.name] = new ort.Tensor(f.type, data, f.dims);
    }
    const res = await s.run(inputs);
    const outputs: OpRun['outputs'] = {};
    for (const [k, t] of Object.entries(res)) {
      outputs[k] = { dims: [...t.dims], data: toNumbers(t.location === 'gpu-buffer' ? await t.getData() : t.data) };
    }
    return { ok: true, outputs, placements: placements(from), ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), placements: placements(from), ms: performance.now() - t0 };
  } finally {
    await s?.release().catch(() => undefined);
  }
}

/** The raw log since a mark (for debugging a placement the parser missed). */
export const opLog = (from = 0): string[] => log.slice(Math.max(0, from - dropped));
