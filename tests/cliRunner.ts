/** Runs the CLI as a real child process (tsx src/cli/main.ts ...), as a user would. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(resolve(ROOT, 'node_modules/.bin/tsx'), ['src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
