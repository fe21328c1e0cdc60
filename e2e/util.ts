/** Shared helpers for the e2e tests, and `test`: Playwright's test with the origin guard on every page. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test as base, expect, type BrowserContext, type Locator, type Page, type Request, type Response } from '@playwright/test';

export { expect };

export const ROOT = resolve(import.meta.dirname, '..');
export const fixture = (p: string): string => resolve(ROOT, 'tests/fixtures', p);

/** Serves tests/fixtures under /fixtures/ for this page (the preview server serves dist only). */
export async function serveFixtures(page: Page): Promise<void> {
  await page.route('**/fixtures/**', async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.split('/fixtures/')[1]);
    try {
      await route.fulfill({ body: readFileSync(fixture(rel)), headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
    } catch {
      await route.fulfill({ status: 404, body: 'not found' });
    }
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Types a value into a number field and commits it (the fields commit on Enter or blur). */
export async function setNumber(page: Page, testId: string, value: number): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(String(value));
  await input.press('Enter');
}

/**
 * Pixels of a canvas as shown on screen (a real screenshot; default: the Niivue canvas): the sum
 * of RGB, the coloured ones (channels differ by > 40: base images are grey, overlays are not) and
 * the yellow ones (points).
 */
export async function canvasPixels(page: Page, target: string | Locator = 'niivue-canvas'): Promise<{ sum: number; colored: number; yellow: number }> {
  const png = await (typeof target === 'string' ? page.getByTestId(target) : target).screenshot();
  return page.evaluate(async (bytes) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    const off = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = off.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let sum = 0;
    let colored = 0;
    let yellow = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i];
      const g = d[i + 1];
      const b = d[i + 2];
      sum += r + g + b;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colored++;
      if (r > 150 && g > 120 && b < 90 && r - b > 90) yellow++;
    }
    return { sum, colored, yellow };
  }, [...png]);
}

/** What a frame probe saw: frames, the longest wait between two (ms), quiet frames in a row (under 50 ms apart). */
export interface FrameProbe {
  frames: number;
  longestMs: number;
  quiet: number;
}

/**
 * A probe of the page's main thread (requestAnimationFrame ticks): how many frames, the longest
 * wait between two and how many quiet frames in a row. `reset` starts the measured window.
 */
export async function startFrameProbe(page: Page): Promise<{ read(): Promise<FrameProbe>; reset(): Promise<void> }> {
  type Probe = FrameProbe & { last: number };
  await page.evaluate(() => {
    const w = window as Window & { __frameProbe?: Probe };
    if (w.__frameProbe) return; // one probe per page
    const probe = { frames: 0, longestMs: 0, quiet: 0, last: performance.now() };
    w.__frameProbe = probe;
    const tick = (t: number) => {
      const gap = t - probe.last;
      probe.longestMs = Math.max(probe.longestMs, gap);
      probe.quiet = gap < 50 ? probe.quiet + 1 : 0;
      probe.last = t;
      probe.frames++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return {
    read: () => page.evaluate(() => ({ ...(window as Window & { __frameProbe?: Probe }).__frameProbe! })),
    reset: () =>
      page.evaluate(() => {
        const p = (window as Window & { __frameProbe?: Probe }).__frameProbe!;
        p.longestMs = 0;
        p.frames = 0;
        p.quiet = 0;
        p.last = performance.now();
      }),
  };
}

/** The kit pages' test handles (window.__voxelbench<Page>.store). */
export type KitHandle = '__voxelbenchMotors' | '__voxelbenchEeg' | '__voxelbenchBrain' | '__voxelbenchSpine' | '__voxelbenchProtein';

/**
 * What moves while a kit page works: the batch, each item's status, read and run progress (a
 * window, a stage). A wait fails only when this stays the same too long (see untilSettled).
 */
export function kitProgress(page: Page, handle: KitHandle): Promise<string> {
  return page.evaluate((h) => {
    type Entry = { status: string; loadProgress?: number; progress?: { stage?: string; done?: number } };
    const store = (window as unknown as Record<string, { store: { getState(): { batch: { status: string }; items: Entry[] } } } | undefined>)[h]?.store;
    if (!store) return 'no page';
    const s = store.getState();
    return JSON.stringify([s.batch.status, s.items.map((t) => [t.status, t.loadProgress ?? null, t.progress?.stage ?? null, t.progress?.done ?? null])]);
  }, handle);
}

/**
 * Waits on the app's own state until `done`, for as long as it moves: fails when `progress` has not
 * changed for `stallMs`, never after a fixed total (a loaded machine is slower, not stuck). Give
 * stallMs from a measured step time where the test has one (stallAfter).
 */
export async function untilSettled<S>(read: () => Promise<S>, opts: { done: (s: S) => boolean; progress: () => Promise<string>; stallMs: number; what: string }): Promise<S> {
  let last = '';
  let since = Date.now();
  for (;;) {
    const s = await read();
    if (opts.done(s)) return s;
    const p = await opts.progress();
    if (p !== last) {
      last = p;
      since = Date.now();
    } else if (Date.now() - since > opts.stallMs) {
      throw new Error(`${opts.what}: nothing moved for ${Math.round(opts.stallMs / 1000)} s (${p.slice(0, 300)})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * How long a step may go without visible progress, from a measured time: `factor` times it, at
 * least `floorMs` (the first window, a worker start). Before anything is measured: `firstMs`.
 */
export function stallAfter(measuredMs: number | undefined, factor = 10, floorMs = 20_000, firstMs = 180_000): number {
  return measuredMs === undefined || !Number.isFinite(measuredMs) ? firstMs : Math.max(floorMs, factor * measuredMs);
}

/** The canvas's pixels once two reads, two frames apart, agree: the view has drawn what the page's state says (no fixed sleep). */
export async function stablePixels(page: Page, target: string | Locator = 'niivue-canvas'): Promise<{ sum: number; colored: number; yellow: number }> {
  let prev = await canvasPixels(page, target);
  for (;;) {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const next = await canvasPixels(page, target);
    if (next.sum === prev.sum && next.colored === prev.colored && next.yellow === prev.yellow) return next;
    prev = next;
  }
}

/**
 * The longest wait between two animation frames while `act` runs (clicks, typed values) and until
 * the page has settled: `settle` (e.g. the viewer's queue done) and then 30 quiet frames in a row.
 * One probe per page (installed on first use).
 */
export async function longestFrameGap(page: Page, act: () => Promise<unknown>, settle?: () => Promise<unknown>): Promise<FrameProbe> {
  const probe = await startFrameProbe(page);
  await probe.reset();
  await act();
  if (settle) await settle();
  await expect.poll(async () => (await probe.read()).quiet, { timeout: 120_000 }).toBeGreaterThan(30);
  return probe.read();
}

/** Resolves when the page's viewer has done what it was asked (two frames for React's effects, then its queue). */
export function viewerSettled(page: Page): Promise<void> {
  return page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    await window.__voxelbench!.viewer.idle();
  });
}

/**
 * Runs `steps` one after another, each measured by longestFrameGap (settled by `settle`); the
 * longest wait between two frames per step (ms), also logged under `label`.
 */
export async function frameGaps(page: Page, label: string, steps: readonly (readonly [string, () => Promise<unknown>])[], settle?: () => Promise<unknown>): Promise<Record<string, number>> {
  const gaps: Record<string, number> = {};
  for (const [what, act] of steps) gaps[what] = Math.round((await longestFrameGap(page, act, settle)).longestMs);
  console.log(`${label}, longest wait between two frames (ms): ${JSON.stringify(gaps)}`);
  return gaps;
}

/**
 * Links from these test origins open without the consent dialog, as after "trust this host"
 * (the dialog itself: e2e/linkConsent.spec.ts).
 */
export async function trustOrigins(context: BrowserContext, ...origins: string[]): Promise<void> {
  await context.addInitScript((o) => localStorage.setItem('voxelbench-trusted-hosts', JSON.stringify({ state: { origins: o }, version: 0 })), origins);
}

/** What an origin guard saw in a browser context (empty lists when all is well). */
export interface OriginFindings {
  /** `securitypolicyviolation` events of the pages (directive, blocked URL, where). */
  violations: string[];
  /** Console lines of pages and their workers that report a Content-Security-Policy block. */
  cspConsole: string[];
  /** Requests off the app's origin (not localhost, data: or blob:, nor a reserved test host). */
  offOrigin: string[];
  /** App documents served without the Content-Security-Policy header. */
  noCspHeader: string[];
  /** Error screens (.crash) on the pages still open. */
  crashed: string[];
}

/**
 * Hosts under the reserved `.example` domain (RFC 2606: never a real site) are the ones tests route
 * themselves to stand for another site (share links, link consent, remote files); every other
 * request off the app's origin is one the app must not make.
 */
const testHost = (url: string): boolean => /^https?:\/\/([a-z0-9-]+\.)*example(:\d+)?\//i.test(url);
const appUrl = (url: string): boolean => url.startsWith('http://localhost:');
const CSP_LINE = /Content[ -]Security[ -]Policy/i;

/**
 * Watches every page of `context` (those open now and those opened later, with their workers) for
 * Content-Security-Policy violations (the pages' `securitypolicyviolation` events and the console
 * lines of pages and workers), requests off the app's origin, app documents without the CSP header
 * and, when read, error screens. `findings()` settles the open pages first (a task turn, so that
 * events already queued arrive).
 */
export async function watchOrigin(context: BrowserContext): Promise<{ findings(): Promise<OriginFindings> }> {
  const found: Omit<OriginFindings, 'crashed'> = { violations: [], cspConsole: [], offOrigin: [], noCspHeader: [] };
  await context.exposeBinding('__vbCspViolation', (source, v: string) => found.violations.push(`${source.page?.url() ?? '?'}: ${v}`));
  await context.addInitScript(() => {
    const w = window as unknown as { __vbCspViolation?: (v: string) => void; __vbCspWatched?: boolean };
    if (w.__vbCspWatched) return; // once per document, should the script run again in it
    w.__vbCspWatched = true;
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__vbCspViolation?.(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const onPage = (page: Page): void => {
    page.on('console', (m) => {
      if (CSP_LINE.test(m.text())) found.cspConsole.push(m.text());
    });
    page.on('worker', (w) => w.on('console', (m) => CSP_LINE.test(m.text()) && found.cspConsole.push(`worker: ${m.text()}`)));
  };
  context.pages().forEach(onPage);
  context.on('page', onPage);
  context.on('request', (r: Request) => {
    const u = r.url();
    if (!appUrl(u) && !u.startsWith('data:') && !u.startsWith('blob:') && !testHost(u)) found.offOrigin.push(u);
  });
  context.on('response', (r: Response) => {
    const req = r.request();
    // the app's own documents as the server sends them (not from a service worker's cache, not a 304 revalidation)
    if (req.serviceWorker() || !req.isNavigationRequest() || !appUrl(r.url()) || r.fromServiceWorker() || r.status() !== 200) return;
    if (!(r.headers()['content-security-policy'] ?? '').includes("script-src 'self' 'wasm-unsafe-eval'")) found.noCspHeader.push(`${r.status()} ${r.url()}`);
  });
  return {
    async findings() {
      const crashed: string[] = [];
      for (const page of context.pages()) {
        if (page.isClosed()) continue;
        try {
          await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
          for (const c of await page.locator('.crash').allInnerTexts()) crashed.push(`${page.url()}: ${c}`);
        } catch (e) {
          if (!page.isClosed()) throw e;
        }
      }
      return { violations: [...found.violations], cspConsole: [...found.cspConsole], offOrigin: [...found.offOrigin], noCspHeader: [...found.noCspHeader], crashed };
    },
  };
}

/**
 * Playwright's `test` with the origin guard on (README, Security): in every test, every page of
 * its context runs under the Content-Security-Policy with no violation, requests nothing off the
 * app's origin (tests' own `.example` hosts aside), gets the policy header with each app document
 * and shows no error screen; checked when the test has passed (so a failure shows its own cause).
 * `test.use({ originGuard: false })` turns it off for a test that checks the guard itself
 * (e2e/csp.spec.ts).
 */
export const test = base.extend<{ originGuard: boolean; originGuardCheck: void }>({
  originGuard: [true, { option: true }],
  originGuardCheck: [
    async ({ context, originGuard }, use, testInfo) => {
      if (!originGuard) return use();
      const guard = await watchOrigin(context);
      await use();
      if (testInfo.status !== testInfo.expectedStatus) return;
      const f = await guard.findings();
      expect(f, 'the origin guard (e2e/util.ts): CSP violations, requests off the origin, documents without the CSP header, error screens').toEqual({
        violations: [],
        cspConsole: [],
        offOrigin: [],
        noCspHeader: [],
        crashed: [],
      });
    },
    { auto: true },
  ],
});

/**
 * What would animate at the display's frame rate while the app works: each progress bar's fill is
 * moved (as a progress step moves it), then the document's running animations whose timing is not
 * stepped are listed ("CSSTransition width linear"). Each costs the page a style, layout and paint
 * (or a composite) in every frame, CPU that a read's decode workers and a run's model threads
 * need on a 2-core laptop. Throws when there is no progress bar to move.
 */
export async function perFrameAnimations(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const fills = [...document.querySelectorAll<HTMLElement>('.progress-fill')];
    if (!fills.length) throw new Error('perFrameAnimations: no progress bar on the page');
    for (const f of fills) f.style.width = f.style.width === '37%' ? '38%' : '37%';
    const out: string[] = [];
    for (const a of document.getAnimations()) {
      const effect = a.effect as KeyframeEffect | null;
      if (!effect || a.playState !== 'running') continue;
      const easings = [effect.getTiming().easing ?? 'linear', ...effect.getKeyframes().map((k) => k.easing ?? 'linear')];
      if (easings.some((e) => e.startsWith('steps('))) continue;
      const what = a instanceof CSSTransition ? a.transitionProperty : a instanceof CSSAnimation ? a.animationName : a.id;
      out.push(`${a.constructor.name} ${what} ${easings.join(',')}`);
    }
    return out;
  });
}
