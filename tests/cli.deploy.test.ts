/**
 * deploy/: the Slurm job-array script and the Kubernetes Indexed Job manifest. Beyond `bash -n`
 * and a YAML parse, both run here for real on a small batch: the Slurm script under a stand-in
 * `sbatch` that runs each job at once (array tasks in order, then the merge), the manifest's
 * shard and merge scripts with JOB_COMPLETION_INDEX set and the volumes mapped to folders; both
 * must write the submission.csv of one `run`.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { writeMrc } from '../src/core/io';
import { makeVolume } from '../src/core/volume';
import { cli, ROOT } from './cliRunner';

const exec = promisify(execFile);
const SLURM = resolve(ROOT, 'deploy/slurm-array.sh');
const K8S = resolve(ROOT, 'deploy/k8s-indexed-job.yaml');
const MODEL = resolve(ROOT, 'tests/fixtures/motors/tiny_motor.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-deploy-'));
const TOMS = join(tmp, 'toms');
/** The tiny model's values: the tomograms are 8 x 16 x 16. */
const RUN_ARGS = '--input-size 8,16,16 --roi 8,16,16 --overlap 0 --sw-batch 1 --tta identity --quantile 0.3';

beforeAll(() => {
  // five small MRC tomograms with a bright blob at different places (one without)
  mkdirSync(TOMS, { recursive: true });
  const [D, H, W] = [8, 16, 16];
  for (let t = 0; t < 5; t++) {
    const v = new Float32Array(D * H * W);
    for (let i = 0; i < v.length; i++) v[i] = ((i * 7919 + t * 104729) % 31) / 100;
    if (t !== 2) for (let z = 2; z < 5; z++) for (let y = 2 + 2 * t; y < 5 + 2 * t; y++) for (let x = 3; x < 6; x++) v[(z * H + y) * W + x] = 2 + t / 10;
    writeFileSync(join(TOMS, `tomo_${t}.mrc`), writeMrc(makeVolume(v, [D, H, W], { spacing: [100, 100, 100], unit: 'angstrom' })));
  }
});

/** submission.csv of one run over the same tomograms with the same values. */
async function oneRun(): Promise<string> {
  const out = join(tmp, 'one');
  const r = await cli(['run', 'motors', '--inputs', TOMS, '--models', MODEL, '--out', out, '--quiet', ...RUN_ARGS.split(' ')]);
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(join(out, 'submission.csv'), 'utf8');
}

/** The shell scripts of the manifest's containers, by container name. */
function manifestScripts(docs: Record<string, unknown>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of docs) {
    const spec = (d.spec as { template?: { spec: { containers: unknown[]; initContainers?: unknown[] } } })?.template?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as { name: string; command: string[]; args: string[] }[]) {
      expect(c.command).toEqual(['bash', '-c']);
      out[c.name] = c.args[0];
    }
  }
  return out;
}

describe('deploy/slurm-array.sh', () => {
  it('is valid bash', async () => {
    await expect(exec('bash', ['-n', SLURM])).resolves.toBeDefined();
  });

  it('submits one array task per shard and a merge after them; the merge writes what one run writes', { timeout: 300_000 }, async () => {
    // a stand-in sbatch: records its arguments, runs the job now (each array index in order) with its output where --output says
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'sbatch'),
      `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "${join(tmp, 'sbatch.log')}"
array=""; output=""; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) array="\${1#--array=}"; array="\${array%%%*}" ;;
    --output=*) output="\${1#--output=}" ;;
    --*) ;;
    *) args=("$@"); break ;;
  esac
  shift
done
if [ -n "$array" ]; then
  for ((k = \${array%-*}; k <= \${array#*-}; k++)); do SLURM_ARRAY_TASK_ID=$k bash "\${args[@]}" > "\${output//%a/$k}" 2>&1; done
else
  bash "\${args[@]}" > "$output" 2>&1
fi
echo "$RANDOM;cluster"
`,
    );
    chmodSync(join(bin, 'sbatch'), 0o755);
    const out = join(tmp, 'slurm');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PRESET: 'motors', INPUTS: TOMS, MODELS: MODEL, OUT: out, SHARDS: '3', RUN_ARGS, ARRAY_LIMIT: '2' };
    const r = await exec('bash', [SLURM], { env, cwd: tmp });
    expect(r.stdout).toMatch(/^submitted: shards \d+ \(array 1-3\), merge \d+ after them; results in /);
    const calls = readFileSync(join(tmp, 'sbatch.log'), 'utf8').trim().split('\n');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/--array=1-3%2 .*slurm-array\.sh --shard$/);
    expect(calls[1]).toMatch(/--dependency=afterok:\d+ .*slurm-array\.sh --merge$/);
    expect(readFileSync(join(out, 'logs/merge.log'), 'utf8')).toMatch(/^wrote .*submission\.csv: 5 rows$/m);
    expect(readFileSync(join(out, 'submission.csv'), 'utf8')).toBe(await oneRun());
  });
});

describe('deploy/k8s-indexed-job.yaml', () => {
  const docs = parseAllDocuments(readFileSync(K8S, 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown> & { kind: string; metadata: { name: string }; spec: Record<string, unknown>; data: Record<string, string> };
  });

  it('parses: a ConfigMap, an Indexed Job with one completion per shard, a merge Job, one results volume', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['ConfigMap/voxelbench-run', 'Job/voxelbench-shards', 'Job/voxelbench-merge']);
    const [config, shards, merge] = docs;
    expect(shards.spec.completionMode).toBe('Indexed');
    expect(shards.spec.completions).toBe(Number(config.data.SHARDS));
    const claims = (job: typeof shards) =>
      (job.spec as { template: { spec: { volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } } }).template.spec.volumes.find((v) => v.name === 'results')!.persistentVolumeClaim.claimName;
    expect(claims(shards)).toBe('voxelbench-results');
    expect(claims(merge)).toBe('voxelbench-results');
  });

  it('its scripts are valid bash; run with JOB_COMPLETION_INDEX 0..N-1 and then the merge, they write what one run writes', { timeout: 300_000 }, async () => {
    const scripts = manifestScripts(docs);
    expect(Object.keys(scripts)).toEqual(['shard', 'wait-for-shards', 'merge']);
    for (const s of Object.values(scripts)) await expect(exec('bash', ['-n', '-c', s])).resolves.toBeDefined();
    expect(scripts.shard).toContain('K=$((JOB_COMPLETION_INDEX + 1))');
    expect(scripts.shard).toContain('--shard "$K/$SHARDS"');

    // the pod's folders mapped onto this machine: /repo = the repository, /results = a folder
    const results = join(tmp, 'k8s-results');
    mkdirSync(results, { recursive: true });
    const local = (s: string) => s.replaceAll('/results', results);
    const env = { ...process.env, PRESET: 'motors', INPUTS: TOMS, MODEL_FLAG: '--models', MODELS: MODEL, SHARDS: '2', RUN_ARGS, LABELS: '' };
    await Promise.all([0, 1].map((i) => exec('bash', ['-c', local(scripts.shard)], { cwd: ROOT, env: { ...env, JOB_COMPLETION_INDEX: String(i) } })));
    await exec('bash', ['-c', local(scripts['wait-for-shards'])], { env });
    const m = await exec('bash', ['-c', local(scripts.merge)], { cwd: ROOT, env });
    expect(m.stdout).toMatch(/^wrote .*submission\.csv: 5 rows\n$/);
    expect(readFileSync(join(results, 'submission.csv'), 'utf8')).toBe(await oneRun());
  });
});
