/**
 * The built command line (`npm run build:cli` -> dist-cli/, started by bin/voxelbench.mjs, the
 * package's `bin`): it runs as plain JavaScript with its decode worker threads (.mjs) and writes the
 * same submission.csv as the CLI run from source (tsx, .ts worker threads) on the bundled sample
 * folders (64 JPEG slices each: decoded by the worker pool) and the same `infer` output bytes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cliFromSource, ROOT } from './cliRunner';

const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-built-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function built(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [resolve(ROOT, 'bin/voxelbench.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('the built CLI (bin/voxelbench.mjs)', () => {
  it('prints its usage', async () => {
    const r = await built(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}voxelbench infer --model M\.onnx/);
  });

  it('motors on the sample folders: the same submission.csv as from source, with and without decode threads', async () => {
    const args = (out: string) => ['motors', '--models', resolve(ROOT, 'public/models/motor_heatmap.onnx'), '--tomograms', resolve(ROOT, 'public/samples/tomograms'), '--out', out, '--quiet'];
    const a = await built(args(join(tmp, 'built.csv')));
    // the sample folders win over the .mrc files of the same ids (one note each), nothing else on stderr
    expect(a.stderr.trim().split('\n').every((l) => /skipped tomograms\/tomo_sim_00\d\.mrc, kept the folder/.test(l))).toBe(true);
    expect(a.code).toBe(0);
    const one = await built(args(join(tmp, 'one-thread.csv')), { VB_DECODE_THREADS: '1' });
    expect(one.code).toBe(0);
    const src = await cliFromSource(args(join(tmp, 'source.csv')));
    expect(src.code).toBe(0);
    const csv = readFileSync(join(tmp, 'built.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('tomo_id,Motor axis 0,Motor axis 1,Motor axis 2');
    expect(csv.trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(tmp, 'one-thread.csv'), 'utf8')).toBe(csv);
    expect(readFileSync(join(tmp, 'source.csv'), 'utf8')).toBe(csv);
  }, 600_000);

  it('infer writes the same bytes as from source', async () => {
    const dir = resolve(ROOT, 'tests/fixtures/parity/gaussian_batch');
    const args = (out: string) => ['infer', '--model', join(dir, 'model.onnx'), '--input', join(dir, 'input.npy'), '--out', out, '--roi', '8,16,16', '--overlap', '0.25', '--mode', 'gaussian', '--sw-batch', '3', '--quiet'];
    expect((await built(args(join(tmp, 'b.npy')))).code).toBe(0);
    expect((await cliFromSource(args(join(tmp, 's.npy')))).code).toBe(0);
    expect(readFileSync(join(tmp, 'b.npy')).equals(readFileSync(join(tmp, 's.npy')))).toBe(true);
  });

  it('a build leaves only its own files in its folder (chunks are named by hash: an earlier build\'s would pile up)', async () => {
    const out = join(tmp, 'rebuilt');
    const buildInto = () => promisify(execFile)(process.execPath, [resolve(ROOT, 'tools/buildCli.mjs'), '--out', out], { cwd: ROOT });
    await buildInto();
    const first = readdirSync(out).sort();
    expect(first).toContain('main.mjs');
    expect(first).toContain('decodeWorker.mjs');
    expect(first.filter((f) => /^chunk-.*\.mjs$/.test(f)).length).toBeGreaterThan(0);
    // what an earlier build of other code left: a chunk under another hash
    writeFileSync(join(out, 'chunk-STALE000.mjs'), 'export {};\n');
    writeFileSync(join(out, 'chunk-STALE000.mjs.map'), '{}\n');
    await buildInto();
    expect(existsSync(join(out, 'chunk-STALE000.mjs'))).toBe(false);
    expect(existsSync(join(out, 'chunk-STALE000.mjs.map'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(first);
  }, 120_000);
});
