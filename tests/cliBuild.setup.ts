/**
 * vitest globalSetup: builds the command line once per test run (tools/buildCli.mjs, esbuild, about
 * a second) into dist-cli-test/, so that every CLI test process starts as plain JavaScript
 * (tests/cliRunner.ts) instead of compiling TypeScript with tsx at each call. Always rebuilt, so the
 * tests run what src/ says now; tests/cli.build.test.ts keeps one comparison with the tsx source path.
 */
import { execFileSync } from 'node:child_process';
import { CLI_BUILD_DIR, ROOT } from './cliRunner';

export default function setup(): void {
  execFileSync(process.execPath, ['tools/buildCli.mjs', '--out', CLI_BUILD_DIR], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
