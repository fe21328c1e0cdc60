/**
 * Runs the CLI as a real child process, as a user would: `cli` runs the build that the vitest
 * globalSetup made once for this test run (tests/cliBuild.setup.ts: node dist-cli-test/main.mjs,
 * the bundle `voxelbench` runs); `cliFromSource` runs src/cli/main.ts through tsx (kept for
 * tests/cli.build.test.ts, which proves both write the same bytes).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..');
/** Where tests/cliBuild.setup.ts builds the CLI (tools/buildCli.mjs --out). */
export const CLI_BUILD_DIR = resolve(ROOT, 'dist-cli-test');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], env?: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd: ROOT, maxBuffer: 64 << 20, env: env && { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The CLI built once for this run (plain JavaScript; no TypeScript compile per call). */
export function cli(args: string[], env?: Record<string, string>): Promise<CliResult> {
  return run(process.execPath, [resolve(CLI_BUILD_DIR, 'main.mjs'), ...args], env);
}

/** The CLI from its TypeScript source through tsx (.ts decode worker threads). */
export function cliFromSource(args: string[], env?: Record<string, string>): Promise<CliResult> {
  return run(resolve(ROOT, 'node_modules/.bin/tsx'), ['src/cli/main.ts', ...args], env);
}
