/**
 * `npm run fuzz [-- --cases 10000] [--targets nifti,tiff-stack] [--seed 1] [--jobs 1] [--timeout 2000]
 * [--memory 1024] [--out fuzz-out] [--rerun 20000]`: seeded mutations of the bundled samples for
 * every reader (tools/fuzzTargets.ts), each case in a worker thread with a time and memory limit
 * (tools/fuzzHarness.ts). Prints the table (cases, clean errors, sane results, hangs, crashes,
 * raw errors, insane results per reader), saves every finding's input under --out, and reruns the
 * hangs alone with the --rerun limit to say how long they really take. Exit code 1 on any finding.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KINDS, reportTable, rerunAlone, runFuzz, saveFindings } from './fuzzHarness';
import { TARGETS } from './fuzzTargets';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '200' },
    targets: { type: 'string' },
    seed: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '2000' },
    memory: { type: 'string', default: '1024' },
    out: { type: 'string', default: join(tmpdir(), 'voxelbench-fuzz') },
    rerun: { type: 'string', default: '20000' },
    quiet: { type: 'boolean', default: false },
  },
});

const int = (k: keyof typeof values, min: number): number => {
  const n = Number(values[k]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`fuzz: --${k} must be a whole number >= ${min}, got '${String(values[k])}'\n`);
    process.exit(2);
  }
  return n;
};

const targets = values.targets ? values.targets.split(',').map((s) => s.trim()) : TARGETS.map((t) => t.name);
const seed = int('seed', 0);
const label = (t: string) => TARGETS.find((x) => x.name === t)?.label ?? t;
let last = 0;
const rep = await runFuzz({
  targets,
  cases: int('cases', 1),
  seed,
  jobs: int('jobs', 1),
  timeoutMs: int('timeout', 1),
  memoryMb: int('memory', 64),
  onCase: (r, done, total) => {
    if (r.kind !== 'clean' && r.kind !== 'sane') process.stderr.write(`\n${r.target} #${r.index}: ${r.kind} (${r.ms.toFixed(0)} ms) ${r.detail ?? ''}\n`);
    if (!values.quiet && (done - last >= 50 || done === total)) {
      last = done;
      process.stderr.write(`\r${done}/${total} cases`);
    }
  },
});
process.stderr.write('\n');
saveFindings(rep.findings, values.out!);
process.stdout.write(`seed ${seed}, ${(rep.ms / 1000).toFixed(0)} s\n\n${reportTable(rep, label)}\n`);
const hangs = rep.findings.filter((f) => f.kind === 'hang');
if (hangs.length) {
  process.stdout.write(`\nhangs rerun alone (limit ${values.rerun} ms):\n`);
  const again = await rerunAlone(hangs, { seed, timeoutMs: int('rerun', 1), memoryMb: int('memory', 64) });
  for (const [i, r] of again.entries()) process.stdout.write(`  ${r.target} #${r.index}: ${hangs[i].ms.toFixed(0)} ms in the run, alone: ${r.kind} after ${r.ms.toFixed(0)} ms ${r.detail ?? ''}\n`);
}
if (rep.findings.length) {
  const by = KINDS.filter((k) => k !== 'clean' && k !== 'sane').map((k) => `${rep.findings.filter((f) => f.kind === k).length} ${k}`).join(', ');
  process.stdout.write(`\n${rep.findings.length} findings (${by}); inputs saved under ${values.out}/\n`);
  for (const f of rep.findings.slice(0, 40)) process.stdout.write(`  ${f.target} #${f.index}: ${f.kind} ${f.detail ?? ''}\n`);
}
process.exitCode = rep.findings.length ? 1 : 0;
