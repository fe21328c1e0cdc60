/**
 * The Chromium the e2e tests run in: `CHROME_PATH` when set, else Debian's /usr/bin/chromium (or
 * another system Chromium), else Playwright's own download. `npm run test:e2e` runs this file
 * before `playwright test`: when no browser is found it tries `npx playwright install chromium`
 * once, and otherwise stops with one line that says what to install. playwright.config.ts calls
 * `findBrowser` too (no install there), so the tests use the browser found here.
 *
 * The decisions are pure over the injected file checks and commands (tests/findBrowser.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** System Chromium builds, in the order they are tried. */
export const SYSTEM_CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium', '/usr/bin/google-chrome'] as const;

export interface BrowserEnv {
  /** process.env.CHROME_PATH. */
  chromePath?: string;
  exists(path: string): boolean;
  /** Where Playwright's own Chromium is (or would be) installed; null when playwright-core is not there. */
  playwrightPath(): string | null;
}

export type Found =
  | { kind: 'env' | 'system'; path: string }
  /** Playwright's own browser: launch without an executablePath (Playwright picks its headless build). */
  | { kind: 'playwright'; path: string };

export type Decision = { found: Found } | { error: string };

/** What to install, in one line. */
export const INSTALL_LINE =
  'no Chromium for the e2e tests: install one (Debian/Ubuntu: apt-get install chromium; or: npx playwright install chromium) or set CHROME_PATH to a Chrome/Chromium executable';

/** The browser to use, without installing anything. */
export function findBrowser(env: BrowserEnv): Decision {
  if (env.chromePath) {
    return env.exists(env.chromePath) ? { found: { kind: 'env', path: env.chromePath } } : { error: `CHROME_PATH=${env.chromePath} does not exist; point it at a Chrome/Chromium executable or unset it` };
  }
  const sys = SYSTEM_CHROMIUMS.find((p) => env.exists(p));
  if (sys) return { found: { kind: 'system', path: sys } };
  const pw = env.playwrightPath();
  if (pw && env.exists(pw)) return { found: { kind: 'playwright', path: pw } };
  return { error: INSTALL_LINE };
}

export interface EnsureEnv extends BrowserEnv {
  /** Runs a command (inherits the output); its exit status. */
  run(cmd: string, args: readonly string[]): number;
  log(line: string): void;
}

/**
 * The browser to use; when none is found (and CHROME_PATH is not set to a wrong path), tries
 * `npx playwright install chromium` once and looks again. The error is the one line to print.
 */
export function ensureBrowser(env: EnsureEnv): Decision {
  const first = findBrowser(env);
  if ('found' in first || env.chromePath) return first;
  env.log('voxelbench: no Chromium found; trying `npx playwright install chromium`…');
  const status = env.run('npx', ['playwright', 'install', 'chromium']);
  const again = findBrowser(env);
  if ('found' in again) return again;
  return { error: status === 0 ? `${INSTALL_LINE} (the Playwright download gave no browser)` : `${INSTALL_LINE} (npx playwright install chromium failed with status ${status})` };
}

/** Playwright's own Chromium path, or null without playwright-core. */
export function playwrightChromium(): string | null {
  try {
    const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');
    return chromium.executablePath();
  } catch {
    return null;
  }
}

/** The environment of this machine. */
export function systemEnv(playwrightPath: string | null, chromePath = process.env.CHROME_PATH): EnsureEnv {
  return {
    chromePath: chromePath || undefined,
    exists: existsSync,
    playwrightPath: () => playwrightPath,
    run: (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

/** The executablePath for playwright.config.ts: undefined for Playwright's own browser (or none: Playwright then says what is missing). */
export function executablePathFor(d: Decision): string | undefined {
  return 'found' in d && d.found.kind !== 'playwright' ? d.found.path : undefined;
}

function main(): void {
  const d = ensureBrowser(systemEnv(playwrightChromium()));
  if ('error' in d) {
    process.stderr.write(`voxelbench: ${d.error}\n`);
    process.exit(1);
  }
  process.stdout.write(`e2e browser: ${d.found.path} (${d.found.kind === 'env' ? 'CHROME_PATH' : d.found.kind === 'system' ? 'system Chromium' : "Playwright's"})\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
