/**
 * The fuzz suite's fixed-seed sample inside `npm test`: for every reader, 200 seeded mutations of
 * its bundled samples (truncations, byte flips, lying header fields, huge counts, loops), each in
 * a worker process with a 2 s limit and a memory limit (tools/fuzzHarness.ts). Every case must end
 * in an InputError naming the file or a result whose every field is sane; a case past 2 s (a
 * loaded machine) is run again alone with 10 s and must finish then. The full run is
 * `npm run fuzz -- --cases 10000`.
 */
import { describe, expect, it } from 'vitest';
import { rerunAlone, runFuzz, type CaseResult } from '../tools/fuzzHarness';
import { TARGETS } from '../tools/fuzzTargets';

const SEED = 20251207;
const CASES = Number(process.env.VB_FUZZ_CASES ?? 200);

const line = (f: CaseResult) => `${f.target} #${f.index}: ${f.kind} after ${f.ms.toFixed(0)} ms: ${f.detail ?? ''}`;

describe(`fuzz: ${CASES} seeded mutations per reader (seed ${SEED})`, () => {
  it.each(TARGETS.map((t) => [t.label, t.name]))('%s: clean errors and sane results only', async (_label, name) => {
    const rep = await runFuzz({ targets: [name], cases: CASES, seed: SEED, timeoutMs: 2000, memoryMb: 1024 });
    const c = rep.counts[name];
    expect(c.clean + c.sane + c.hang + c.crash + c.raw + c.insane).toBe(CASES);
    // the mutations reach the reader: most inputs are refused, some still read
    expect(c.clean + c.sane).toBeGreaterThan(0);
    const hangs = rep.findings.filter((f) => f.kind === 'hang');
    const again = await rerunAlone(hangs, { seed: SEED, timeoutMs: 10_000 });
    const bad = [...rep.findings.filter((f) => f.kind !== 'hang'), ...again.filter((r) => r.kind !== 'clean' && r.kind !== 'sane')];
    expect(bad.map(line)).toEqual([]);
  }, 300_000);
});
