/**
 * Runs a benchmarked command as a child process and reads what it used: CPU seconds (user + system,
 * all threads) and peak RSS, from tools/bench/rusage.cjs (Node) or from the JSON line a Python
 * script prints (monai.py), plus wall seconds and the VB_TIMINGS lines of the CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const RUSAGE = resolve(import.meta.dirname, 'rusage.cjs');

export interface Usage {
  cpuS: number;
  wallS: number;
  maxRssMB: number;
  /** `voxelbench-timings {...}` lines of the CLI (VB_TIMINGS=1). */
  timings: { id: string; readMs: number; runMs: number; readCpuMs?: number; runCpuMs?: number }[];
  stdout: string;
  stderr: string;
}

/** `node --require rusage.cjs <args>`; throws with the child's stderr when it fails. */
export async function measureNode(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Usage> {
  const dir = mkdtempSync(join(tmpdir(), 'vb-rusage-'));
  const out = join(dir, 'rusage.json');
  try {
    const r = await run(process.execPath, ['--require', RUSAGE, ...args], { ...opts, env: { ...opts.env, VB_RUSAGE_OUT: out, VB_TIMINGS: '1' } });
    const u = JSON.parse(readFileSync(out, 'utf8')) as { cpuS: number; maxRssMB: number };
    return { ...r, ...u };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Any command that prints a last stdout line `{"cpuS":..,"maxRssMB":..}` (monai.py). */
export async function measureSelfReporting(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Usage> {
  const r = await run(cmd, args, opts);
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  return { ...r, ...(JSON.parse(last) as { cpuS: number; maxRssMB: number }) };
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> }): Promise<Omit<Usage, 'cpuS' | 'maxRssMB'>> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', rej);
    p.on('close', (code) => {
      if (code !== 0) return rej(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      const timings = stderr
        .split('\n')
        .filter((l) => l.startsWith('voxelbench-timings '))
        .map((l) => JSON.parse(l.slice('voxelbench-timings '.length)) as Usage['timings'][number]);
      res({ wallS: (performance.now() - t0) / 1000, timings, stdout, stderr });
    });
  });
}

/** The CLI as the bench runs it: the built bin (default), or VB_BENCH_CLI (e.g. an older checkout under tsx: "--import tsx /old/src/cli/main.ts"). */
export function cliArgs(): { args: string[]; cwd: string; label: string } {
  const alt = process.env.VB_BENCH_CLI;
  if (alt) return { args: alt.split(' ').filter(Boolean), cwd: process.env.VB_BENCH_CLI_CWD ?? ROOT, label: `VB_BENCH_CLI (${alt})` };
  return { args: [resolve(ROOT, 'bin/voxelbench.mjs')], cwd: ROOT, label: 'voxelbench (built)' };
}

export const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
