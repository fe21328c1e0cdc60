/**
 * The core guard: src/core may not use DOM or Node types (tsconfig.core.json, run by `npm run
 * typecheck`) nor import src/ui or src/worker (eslint.config.js). Both are checked here on small
 * files placed in src/core: what the guard must refuse is refused, what core may use passes.
 */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cliRunner';

/** Diagnostics of `source` as a file in src/core under a tsconfig (only that file, plus the config's declaration files). */
function typecheck(config: string, source: string): string[] {
  const file = resolve(ROOT, 'src/core/motors/__guard__.ts');
  const read = ts.readConfigFile(resolve(ROOT, config), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (resolve(name) === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file, ...parsed.fileNames.filter((f) => f.endsWith('.d.ts'))], parsed.options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('tsconfig.core.json: no DOM, no Node in src/core', () => {
  const dom = 'export const body = document.body;\nexport const canvas = (c: HTMLCanvasElement) => c.width;\nexport const env = process.env;\nexport const buf = (b: Buffer) => b.length;\n';

  it('refuses the DOM and Node globals that the main tsconfig allows', { timeout: 120_000 }, () => {
    const errors = typecheck('tsconfig.core.json', dom);
    for (const name of ['document', 'process', 'Buffer']) expect(errors.some((e) => e.includes(`Cannot find name '${name}'`)), name).toBe(true);
    // (TypeScript's ES library declares an empty HTMLCanvasElement; none of its members exist)
    expect(errors.some((e) => e.startsWith("Property 'width' does not exist on type 'HTMLCanvasElement'"))).toBe(true);
    expect(errors).toHaveLength(4);
    expect(typecheck('tsconfig.json', dom)).toEqual([]);
  });

  it('allows what the page, the worker and Node share (types/core/platform.d.ts)', { timeout: 120_000 }, () => {
    const shared = [
      'export const text = new TextDecoder().decode(new TextEncoder().encode("x"));',
      'export const t = performance.now();',
      'export const aborted = (s?: AbortSignal) => s?.aborted === true;',
      'export const q = new URLSearchParams("a=1").get("a");',
      'export const copy = structuredClone({ a: [1] });',
      'export const b64 = atob(btoa("x"));',
      'export const tick = () => new Promise<void>((r) => setTimeout(r, 0));',
    ].join('\n');
    expect(typecheck('tsconfig.core.json', shared)).toEqual([]);
  });
});

describe('eslint: src/core does not import src/ui or src/worker', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const restricted = async (code: string, path = 'src/core/motors/__guard__.ts') => {
    const [r] = await eslint.lintText(code, { filePath: resolve(ROOT, path) });
    return r.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
  };

  it('refuses static, type-only and dynamic imports of the page and the worker, and React', { timeout: 120_000 }, async () => {
    for (const code of [
      "import { useMotors } from '../../ui/motors/state';\nexport const s = useMotors;\n",
      "import type { WorkerApi } from '../../worker/api';\nexport type W = WorkerApi;\n",
      "export { App } from '../../ui/App';\n",
      "export const load = () => import('../../worker/runPreset');\n",
      "import { useState } from 'react';\nexport const s = useState;\n",
    ]) {
      const m = await restricted(code);
      expect(m, code).toHaveLength(1);
      expect(m[0]).toMatch(/src\/core (must not import from src\/ui or src\/worker|is plain TypeScript)/);
    }
  });

  it('allows core imports in core, and the page imports in the page', { timeout: 120_000 }, async () => {
    expect(await restricted("import { readVolume } from '../io';\nexport const r = readVolume;\n")).toEqual([]);
    expect(await restricted("import { useMotors } from './motors/state';\nexport const s = useMotors;\n", 'src/ui/__guard__.ts')).toEqual([]);
  });
});
