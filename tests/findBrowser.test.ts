/** The e2e browser choice of tools/findBrowser.ts, with the file checks and commands injected. */
import { describe, expect, it } from 'vitest';
import { ensureBrowser, executablePathFor, findBrowser, INSTALL_LINE, type EnsureEnv } from '../tools/findBrowser';

const PW = '/home/u/.cache/ms-playwright/chromium-1/chrome-linux64/chrome';

/** An environment whose files are `files`; `install` adds files when `npx playwright install chromium` runs. */
function env(files: string[], opts: { chromePath?: string; pw?: string | null; install?: { status: number; adds: string[] } } = {}) {
  const have = new Set(files);
  const ran: string[] = [];
  const logged: string[] = [];
  const e: EnsureEnv = {
    chromePath: opts.chromePath,
    exists: (p) => have.has(p),
    playwrightPath: () => (opts.pw === undefined ? PW : opts.pw),
    run: (cmd, args) => {
      ran.push([cmd, ...args].join(' '));
      for (const f of opts.install?.adds ?? []) have.add(f);
      return opts.install?.status ?? 0;
    },
    log: (l) => logged.push(l),
  };
  return { e, ran, logged };
}

describe('findBrowser', () => {
  it('takes CHROME_PATH first, even when a system Chromium exists', () => {
    const { e } = env(['/opt/chrome', '/usr/bin/chromium'], { chromePath: '/opt/chrome' });
    expect(findBrowser(e)).toEqual({ found: { kind: 'env', path: '/opt/chrome' } });
  });

  it('says so when CHROME_PATH names no file, and installs nothing', () => {
    const { e, ran } = env(['/usr/bin/chromium'], { chromePath: '/opt/nothing' });
    const d = ensureBrowser(e);
    expect(d).toEqual({ error: expect.stringContaining('CHROME_PATH=/opt/nothing does not exist') });
    expect(ran).toEqual([]);
  });

  it("takes Debian's /usr/bin/chromium before Playwright's", () => {
    const { e } = env(['/usr/bin/chromium', PW]);
    const d = findBrowser(e);
    expect(d).toEqual({ found: { kind: 'system', path: '/usr/bin/chromium' } });
    expect(executablePathFor(d)).toBe('/usr/bin/chromium');
  });

  it("takes Playwright's own browser and lets Playwright launch it (no executablePath)", () => {
    const { e, ran } = env([PW]);
    const d = ensureBrowser(e);
    expect(d).toEqual({ found: { kind: 'playwright', path: PW } });
    expect(executablePathFor(d)).toBeUndefined();
    expect(ran).toEqual([]);
  });

  it('installs Playwright\'s Chromium when none is found, then uses it', () => {
    const { e, ran, logged } = env([], { install: { status: 0, adds: [PW] } });
    expect(ensureBrowser(e)).toEqual({ found: { kind: 'playwright', path: PW } });
    expect(ran).toEqual(['npx playwright install chromium']);
    expect(logged[0]).toMatch(/trying `npx playwright install chromium`/);
  });

  it('stops with one line saying what to install when the install fails', () => {
    const { e, ran } = env([], { install: { status: 1, adds: [] } });
    const d = ensureBrowser(e);
    expect(ran).toHaveLength(1);
    expect('error' in d && d.error).toBe(`${INSTALL_LINE} (npx playwright install chromium failed with status 1)`);
    expect('error' in d && d.error.includes('\n')).toBe(false);
    expect(executablePathFor(d)).toBeUndefined();
  });

  it('stops with the line when playwright-core is not installed and nothing else is there', () => {
    const { e } = env([], { pw: null, install: { status: 1, adds: [] } });
    expect(ensureBrowser(e)).toEqual({ error: expect.stringContaining('apt-get install chromium') });
  });
});
