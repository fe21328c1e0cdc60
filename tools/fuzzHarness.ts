/**
 * The fuzz suite's runner: seeded cases for each target (tools/fuzzTargets.ts), each run in a
 * worker (tools/fuzzWorker.ts) with a time limit and memory limits, classified
 * clean error / sane result / hang / crash / raw error / insane result. Used by `npm run fuzz`
 * (tools/fuzz.ts) and by tests/fuzz.test.ts. Node only.
 *
 * The workers are child processes, not worker threads: a V8 fatal error ("invalid size error"
 * when a library grows an array past V8's limit) ends the whole process, threads and all, so
 * only a process isolates a case. Limits: a case that does not answer within `timeoutMs` is a
 * hang (the worker is killed and a fresh one started); the worker's V8 heap is capped
 * (--max-old-space-size, as resourceLimits would for a thread), and since typed arrays live
 * outside that heap, its resident memory is watched too (/proc/<pid>/statm): past `memoryMb`, the
 * running case is a crash. Hangs can be rerun alone with a longer limit (`rerunAlone`) to tell a
 * loaded machine from a real hang.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { caseSeed, Rng } from './fuzzMutate';
import { makeCase, targetByName, type FuzzInput } from './fuzzTargets';
import type { WorkerCase, WorkerReply } from './fuzzWorker';

export type CaseKind = 'clean' | 'sane' | 'hang' | 'crash' | 'raw' | 'insane';
export const KINDS: readonly CaseKind[] = ['clean', 'sane', 'hang', 'crash', 'raw', 'insane'];

export interface CaseResult {
  target: string;
  index: number;
  kind: CaseKind;
  detail?: string;
  ms: number;
  /** The input, kept for findings (not clean, not sane). */
  input?: FuzzInput;
}

export interface FuzzOptions {
  targets?: readonly string[];
  /** Cases per target. */
  cases?: number;
  /** Exactly these cases instead (the same inputs as in a full run with this seed). */
  items?: readonly { target: string; index: number }[];
  seed: number;
  /** Per case (default 2000 ms). */
  timeoutMs?: number;
  /** Worker V8 heap limit and the resident-memory budget above the start (default 1024 MB). */
  memoryMb?: number;
  /** Worker threads at once (default 1). */
  jobs?: number;
  /** Called after each case (progress). */
  onCase?(r: CaseResult, done: number, total: number): void;
}

export interface FuzzReport {
  counts: Record<string, Record<CaseKind, number>>;
  /** Cases that were not clean or sane. */
  findings: CaseResult[];
  /** Slowest clean or sane case per target (ms). */
  slowest: Record<string, number>;
  ms: number;
}

const WORKER = fileURLToPath(new URL('./fuzzWorker.ts', import.meta.url));

interface Slot {
  worker: ChildProcess;
  ready: Promise<void>;
  busy?: { c: WorkerCase; index: number; t0: number; timer: ReturnType<typeof setTimeout>; done: (r: CaseResult) => void };
}

function startWorker(memoryMb: number): Slot {
  // TypeScript through tsx's loader; the V8 heap capped; output dropped (V8 prints its fatal errors)
  const worker = fork(WORKER, [], { execArgv: ['--import', 'tsx', `--max-old-space-size=${memoryMb}`, '--max-semi-space-size=16'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const slot: Slot = { worker, ready: Promise.resolve() };
  slot.ready = new Promise((resolve, reject) => {
    const onMsg = (m: unknown) => {
      if (m === 'ready') {
        worker.off('message', onMsg);
        resolve();
      }
    };
    worker.on('message', onMsg);
    worker.once('error', reject);
    worker.once('exit', (code, signal) => reject(new Error(`the worker died while starting (${signal ?? code})`)));
  });
  slot.ready.catch(() => {}); // a worker killed before it was needed
  return slot;
}

const PAGE = 4096;

/** Resident bytes of a process (Linux /proc; 0 where unknown). */
function residentBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** Runs the cases; never throws for what a case does. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 2000;
  const memoryMb = opts.memoryMb ?? 1024;
  const jobs = Math.max(1, opts.jobs ?? 1);
  const counts: FuzzReport['counts'] = {};
  const slowest: Record<string, number> = {};
  const findings: CaseResult[] = [];
  const queue: { target: string; index: number }[] = opts.items
    ? [...opts.items]
    : (opts.targets ?? []).flatMap((target) => Array.from({ length: opts.cases ?? 0 }, (_, index) => ({ target, index })));
  const names = [...new Set(queue.map((q) => q.target))];
  for (const name of names) counts[name] = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<CaseKind, number>;
  const total = queue.length;
  const samples = new Map(names.map((n) => [n, targetByName(n).samples()]));
  let done = 0;
  let nextId = 1;
  const record = (r: CaseResult) => {
    counts[r.target][r.kind]++;
    if (r.kind === 'clean' || r.kind === 'sane') slowest[r.target] = Math.max(slowest[r.target] ?? 0, r.ms);
    else findings.push(r);
    done++;
    opts.onCase?.(r, done, total);
  };

  const slots: Slot[] = [];
  const replace = async (s: Slot) => {
    const i = slots.indexOf(s);
    s.worker.kill('SIGKILL');
    const fresh = startWorker(memoryMb);
    slots[i] = fresh;
    await fresh.ready.catch(() => {}); // killed at the end of the run before it was needed
    return fresh;
  };
  const finish = (s: Slot, r: Omit<CaseResult, 'target' | 'index' | 'input'>) => {
    const b = s.busy;
    if (!b) return;
    clearTimeout(b.timer);
    s.busy = undefined;
    const keep = r.kind !== 'clean' && r.kind !== 'sane';
    b.done({ target: b.c.target, index: b.index, ...r, ...(keep ? { input: b.c.input } : {}) });
  };
  const watchdog = setInterval(() => {
    for (const s of slots) {
      if (!s.busy) continue;
      const rss = residentBytes(s.worker.pid);
      if (rss <= memoryMb * 2 ** 20) continue;
      finish(s, { kind: 'crash', detail: `resident memory passed ${memoryMb} MB (${(rss / 2 ** 20).toFixed(0)} MB)`, ms: performance.now() - s.busy.t0 });
      void replace(s);
    }
  }, 20);

  const runOne = (slot: Slot, item: { target: string; index: number }): Promise<CaseResult> =>
    new Promise((resolve) => {
      const t = targetByName(item.target);
      const input = makeCase(t, samples.get(item.target)!, new Rng(caseSeed(opts.seed, item.target, item.index)));
      const c: WorkerCase = { id: nextId++, target: item.target, input };
      const started = performance.now();
      const timer = setTimeout(() => {
        if (slot.busy?.c.id !== c.id) return;
        finish(slot, { kind: 'hang', detail: `no answer after ${timeoutMs} ms`, ms: performance.now() - started });
        void replace(slot);
      }, timeoutMs);
      slot.busy = { c, index: item.index, t0: started, timer, done: resolve };
      const onMessage = (m: WorkerReply | string) => {
        if (typeof m === 'string' || m.id !== c.id) return;
        cleanup();
        finish(slot, { kind: m.kind, detail: m.detail, ms: m.ms });
      };
      const onError = (e: Error) => {
        cleanup();
        finish(slot, { kind: 'crash', detail: `${e.name}: ${e.message}`.slice(0, 300), ms: performance.now() - started });
        void replace(slot);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        if (slot.busy?.c.id === c.id) {
          finish(slot, { kind: 'crash', detail: `the worker died (${signal ?? `exit code ${code}`})`, ms: performance.now() - started });
          void replace(slot);
        }
      };
      const cleanup = () => {
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        slot.worker.off('exit', onExit);
      };
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.on('exit', onExit);
      slot.worker.send(c);
    });

  try {
    for (let j = 0; j < Math.min(jobs, queue.length); j++) slots.push(startWorker(memoryMb));
    await Promise.all(
      slots.map(async (_, j) => {
        for (;;) {
          const item = queue.shift();
          if (!item) return;
          const ok = await slots[j].ready.then(
            () => true,
            () => false,
          );
          if (!ok) await replace(slots[j]); // it died while starting: a fresh one
          record(await runOne(slots[j], item));
        }
      }),
    );
  } finally {
    clearInterval(watchdog);
    for (const s of slots) s.worker.kill('SIGKILL');
  }
  return { counts, findings, slowest, ms: performance.now() - t0 };
}

/** Reruns cases alone, each in a fresh worker, with a longer limit: how long a hang really takes. */
export async function rerunAlone(cases: readonly Pick<CaseResult, 'target' | 'index'>[], opts: { seed: number; timeoutMs: number; memoryMb?: number }): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) {
    let r: CaseResult | undefined;
    await runFuzz({ items: [{ target: c.target, index: c.index }], seed: opts.seed, timeoutMs: opts.timeoutMs, memoryMb: opts.memoryMb, onCase: (x) => (r = x) });
    out.push(r!);
  }
  return out;
}

/** Writes each finding's input files under `dir/<target>/<kind>-<index>/`. */
export function saveFindings(findings: readonly CaseResult[], dir: string): void {
  for (const f of findings) {
    if (!f.input) continue;
    const d = join(dir, f.target, `${f.kind}-${f.index}`);
    mkdirSync(d, { recursive: true });
    for (const file of f.input.files) writeFileSync(join(d, file.name.replace(/[\\/]/g, '_')), file.bytes);
    writeFileSync(join(d, 'finding.txt'), `${f.target} case ${f.index}: ${f.kind} after ${f.ms.toFixed(0)} ms\n${f.detail ?? ''}\n`);
  }
}

/** The table: cases and outcomes per target, as Markdown. */
export function reportTable(rep: FuzzReport, label: (t: string) => string = (t) => t): string {
  const rows = Object.entries(rep.counts).map(([t, c]) => {
    const n = KINDS.reduce((a, k) => a + c[k], 0);
    return `| ${label(t)} | ${n} | ${c.clean} | ${c.sane} | ${c.hang} | ${c.crash} | ${c.raw} | ${c.insane} | ${(rep.slowest[t] ?? 0).toFixed(0)} |`;
  });
  return ['| reader | cases | clean error | sane result | hang | crash | raw error | insane result | slowest passing case (ms) |', '|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
