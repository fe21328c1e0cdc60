/**
 * Content-Security-Policy (issue 15): every gallery demo runs under the policy (the meta tag of
 * index.html, and the header `vite preview` sends as the deploy files do) with no violation and no
 * request off the app's origin. Each demo is followed until its model loaded and its run reported
 * progress (an item running with progress or done, the workbench's first windows), which covers
 * the runtime, the worker, WASM and the viewer; the full runs are other specs' work.
 */
import { expect, test, type Page } from '@playwright/test';

declare global {
  interface Window {
    __cspViolations?: { directive: string; blocked: string; source: string }[];
  }
}

/** Progress of the page's run: a first result is there. */
const progressed: Record<string, (page: Page) => Promise<boolean>> = {
  brain: (page) =>
    page.evaluate(() => {
      const s = window.__voxelbench?.store.getState();
      return !!s && (s.runState.status === 'done' || (s.runState.status === 'running' && s.runState.done > 0));
    }),
  ...Object.fromEntries(
    (['motors', 'spine', 'eeg', 'protein', 'brain-mri'] as const).map((name) => [
      name,
      (page: Page) =>
        page.evaluate((n) => {
          const hook = { motors: window.__voxelbenchMotors, spine: window.__voxelbenchSpine, eeg: window.__voxelbenchEeg, protein: window.__voxelbenchProtein, 'brain-mri': window.__voxelbenchBrain }[n];
          const s = hook?.store.getState() as { batch: { status: string }; items: { status: string; progress?: unknown }[] } | undefined;
          // a result, or a run whose first progress arrived from the worker
          return !!s && (s.batch.status === 'done' || s.items.some((t) => t.status === 'done' || (t.status === 'running' && t.progress !== undefined)));
        }, name),
    ]),
  ),
};

for (const name of ['brain', 'motors', 'spine', 'eeg', 'protein', 'brain-mri']) {
  test(`${name} demo: no CSP violation, no request off the origin`, async ({ page }) => {
    const off: string[] = [];
    const cspConsole: string[] = [];
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith('http://localhost:') && !u.startsWith('data:') && !u.startsWith('blob:')) off.push(u);
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) cspConsole.push(m.text());
    });
    page.on('worker', (w) => w.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspConsole.push(`worker: ${m.text()}`)));
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations!.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: `${e.sourceFile}:${e.lineNumber}` }));
    });
    const res = await page.goto(`./?demo=${name}&backend=wasm`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    await expect.poll(() => progressed[name](page), { timeout: 180_000, intervals: [250, 500, 1000] }).toBe(true);
    // a couple of frames so the viewer draws what arrived
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await page.evaluate(() => window.__cspViolations)).toEqual([]);
    expect(cspConsole).toEqual([]);
    expect(off).toEqual([]);
    await expect(page.locator('.crash')).toHaveCount(0);
  });
}
