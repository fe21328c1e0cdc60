/**
 * Content-Security-Policy (issue 15). Every e2e test runs under the origin guard of e2e/util.ts:
 * on every page of its context no CSP violation (events and console lines, pages and workers), no
 * request off the app's origin, the policy header on each app document and no error screen. So
 * the gallery demos are proven where they run in full (workbench, motors and share, spine, eeg,
 * protein and brain specs); here: the landing page under the header `vite preview` sends as the
 * deploy files do, and that the guard finds each kind of problem (a guard that cannot fail would
 * prove nothing).
 */
import { expect, test, watchOrigin } from './util';

test('landing page: the policy header, no CSP violation, no request off the origin (the guard)', async ({ page }) => {
  const res = await page.goto('./');
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
  await expect(page.getByTestId('gallery')).toBeVisible();
});

test.describe('the origin guard itself', () => {
  test.use({ originGuard: false });

  test('finds a CSP violation, a request off the origin, a document without the header and an error screen', async ({ page, context }) => {
    const guard = await watchOrigin(context);
    await context.route('https://not-the-app.test/**', (route) => route.fulfill({ body: '{}', headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' } }));
    await context.route('**/no-policy.html', (route) => route.fulfill({ body: '<!doctype html><title>no policy</title>', contentType: 'text/html' }));
    await page.goto('./');
    await expect(page.getByTestId('gallery')).toBeVisible();
    // an inline script (script-src 'self' refuses it), a fetch to another site (connect-src allows https: on consent), an error screen
    await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      await fetch('https://not-the-app.test/data.json');
      const crash = document.createElement('div');
      crash.className = 'crash';
      crash.textContent = 'Something went wrong';
      document.body.append(crash);
    });
    expect(await page.evaluate(() => (window as Window & { __inline?: number }).__inline)).toBeUndefined();
    const other = await context.newPage();
    await other.goto('./no-policy.html');
    const f = await guard.findings();
    // one per policy that refuses it (index.html's meta tag and the header: the same policy twice)
    expect(f.violations.length).toBeGreaterThanOrEqual(1);
    for (const v of f.violations) expect(v).toMatch(/^http:\/\/localhost:\d+\/: script-src-elem blocked inline at /);
    expect(f.cspConsole.length).toBeGreaterThanOrEqual(1);
    for (const line of f.cspConsole) expect(line).toMatch(/inline script violates the following Content Security Policy directive .script-src /);
    expect(f.offOrigin).toEqual(['https://not-the-app.test/data.json']);
    expect(f.noCspHeader).toEqual([expect.stringMatching(/^200 http:\/\/localhost:\d+\/no-policy\.html$/)]);
    expect(f.crashed).toEqual([expect.stringMatching(/^http:\/\/localhost:\d+\/: Something went wrong$/)]);
  });
});
