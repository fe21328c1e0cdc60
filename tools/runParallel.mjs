#!/usr/bin/env node
/**
 * Runs npm scripts side by side (`node tools/runParallel.mjs typecheck lint`): each one's output is
 * held and printed whole when it ends, so the logs do not interleave; exits with the first non-zero
 * status, after all have ended. Used by `npm test` for the two checks that each use one core.
 */
/* global process, console, Buffer */
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node tools/runParallel.mjs <npm script> [<npm script> ...]');
  process.exit(2);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const runs = scripts.map(
  (name) =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const child = spawn(npm, ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => out.push(d));
      child.on('error', (e) => out.push(Buffer.from(`${e.message}\n`)));
      child.on('close', (code, signal) => {
        const status = code ?? (signal ? 1 : 0);
        process.stdout.write(`--- npm run ${name}: ${status === 0 ? 'ok' : `failed (${signal ?? `exit ${status}`})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        process.stdout.write(Buffer.concat(out));
        resolve(status);
      });
    }),
);
const statuses = await Promise.all(runs);
process.exit(statuses.find((s) => s !== 0) ?? 0);
