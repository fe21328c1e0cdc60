#!/usr/bin/env node
/**
 * `voxelbench` / `npx voxelbench` / `npm run cli`: the built command line (dist-cli/main.mjs, made
 * by tools/buildCli.mjs). It is (re)built first when it is missing or older than a source file under
 * src/ (a fresh clone, an edit), which takes a second once; every later call starts as plain JavaScript.
 */
/* global process, URL */
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = new URL('../dist-cli/main.mjs', import.meta.url);

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function stale() {
  const built = statSync(main, { throwIfNoEntry: false });
  if (!built) return true;
  try {
    return ['src/cli', 'src/core'].some((d) => newest(`${root}/${d}`) > built.mtimeMs);
  } catch {
    return false; // an installed package without its sources: use what was built
  }
}

if (stale()) {
  const r = spawnSync(process.execPath, [`${root}/tools/buildCli.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write('voxelbench: building the command line (node tools/buildCli.mjs) failed\n');
    process.exit(1);
  }
}
await import(main.href);
