/**
 * Gallery thumbnails rendered by the app itself: serves a build, opens every demo card of the
 * landing page (`?demo=<name>`, one per registry entry with a demo) in headless Chromium, waits
 * for the link to be applied (run and view), screenshots the result region and writes it,
 * without black edge bands (a viewer's letterbox), downscaled, to public/gallery/<name>.png. Commit the PNGs (a few tens of kB each).
 *
 *   VB_DIST=dist-gallery npx vite build && VB_DIST=dist-gallery npx tsx tools/gallery.ts [name ...]
 *
 * The result region is the first of `[data-gallery-region]` (a preset page may mark its own), the
 * Niivue canvas, a page's own `<canvas data-testid="…-canvas">`, the page's <main>. Demos run on WASM (`&backend=wasm`). Env: VB_DIST (build folder, default dist), VB_PORT (default 4190),
 * CHROMIUM (default /usr/bin/chromium), GALLERY_WIDTH (default 360).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decode, encode } from 'fast-png';
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs } from '../playwright.config';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = process.env.VB_DIST ?? 'dist';
const PORT = Number(process.env.VB_PORT ?? 4190);
const WIDTH = Number(process.env.GALLERY_WIDTH ?? 360);
const OUT = resolve(ROOT, 'public/gallery');
/** Where the result is, first match wins: a region a page marks, the Niivue view, a page's own canvas (eeg-canvas…). */
const REGIONS = ['[data-gallery-region]', '[data-testid="niivue-canvas"]', 'canvas[data-testid$="-canvas"]', 'main'];

/** Box-filter downscale of an RGB(A) image to `width` (aspect kept), RGB out. */
export function downscale(img: { width: number; height: number; data: ArrayLike<number>; channels: number }, width: number): { width: number; height: number; data: Uint8Array } {
  const f = img.width / width;
  const height = Math.max(1, Math.round(img.height / f));
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * f);
    const y1 = Math.max(y0 + 1, Math.min(img.height, Math.floor((y + 1) * f)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * f);
      const x1 = Math.max(x0 + 1, Math.min(img.width, Math.floor((x + 1) * f)));
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += img.data[(yy * img.width + xx) * img.channels + c];
        out[(y * width + x) * 3 + c] = Math.round(s / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { width, height, data: out };
}

/** The image without the rows and columns at its edges that are black (a viewer's letterbox bands), RGB(A) as given. */
export function trimBlack<T extends { width: number; height: number; data: ArrayLike<number>; channels: number }>(img: T, level = 12): { width: number; height: number; data: Uint8Array; channels: number } {
  const dark = (x: number, y: number): boolean => {
    const o = (y * img.width + x) * img.channels;
    return img.data[o] < level && img.data[o + 1] < level && img.data[o + 2] < level;
  };
  const rowDark = (y: number): boolean => Array.from({ length: img.width }, (_, x) => x).every((x) => dark(x, y));
  const colDark = (x: number, y0: number, y1: number): boolean => Array.from({ length: y1 - y0 }, (_, i) => y0 + i).every((y) => dark(x, y));
  let top = 0;
  while (top < img.height - 1 && rowDark(top)) top++;
  let bottom = img.height;
  while (bottom > top + 1 && rowDark(bottom - 1)) bottom--;
  let left = 0;
  while (left < img.width - 1 && colDark(left, top, bottom)) left++;
  let right = img.width;
  while (right > left + 1 && colDark(right - 1, top, bottom)) right--;
  const width = right - left;
  const height = bottom - top;
  const data = new Uint8Array(width * height * img.channels);
  for (let y = 0; y < height; y++)
    for (let i = 0; i < width * img.channels; i++) data[y * width * img.channels + i] = img.data[((top + y) * img.width + left) * img.channels + i];
  return { width, height, data, channels: img.channels };
}

/** The card's thumbnail: downscaled to `width`, 5 bits per channel (a third of the PNG size, no visible banding at this size). */
export function thumbnail(img: { width: number; height: number; data: ArrayLike<number>; channels: number }, width: number): { width: number; height: number; data: Uint8Array } {
  const small = downscale(img, Math.min(width, img.width));
  for (let i = 0; i < small.data.length; i++) small.data[i] &= 0xf8;
  return small;
}

async function waitForServer(url: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    if (i > 200) throw new Error(`${url}: vite preview did not start`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Waits until two screenshots a few seconds apart are the same (for pages without share hooks). */
async function stableShot(page: Page, selector: string, timeoutMs: number): Promise<Buffer> {
  const t0 = Date.now();
  let last = await page.locator(selector).first().screenshot();
  for (;;) {
    await page.waitForTimeout(3000);
    const next = await page.locator(selector).first().screenshot();
    if (next.equals(last) || Date.now() - t0 > timeoutMs) return next;
    last = next;
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort', '--outDir', DIST], { cwd: ROOT, stdio: 'ignore', detached: true });
  const base = `http://localhost:${PORT}/`;
  try {
    await waitForServer(base);
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, serviceWorkers: 'block' });
    const landing = await context.newPage();
    await landing.goto(base);
    const names = await landing.locator('[data-testid^="gallery-"][href]').evaluateAll((cards) =>
      cards.map((c) => new URL((c as HTMLAnchorElement).href).searchParams.get('demo')).filter((n): n is string => !!n),
    );
    await landing.close();
    mkdirSync(OUT, { recursive: true });
    for (const name of names) {
      if (only.length > 0 && !only.includes(name)) continue;
      const t0 = Date.now();
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`${name}: ${e.message}`));
      // WASM: headless Chromium's WebGPU is SwiftShader, far slower than WASM
      await page.goto(`${base}?demo=${encodeURIComponent(name)}&backend=wasm`);
      await page.waitForFunction(() => window.__voxelbench !== undefined && window.__voxelbenchShare !== undefined, null, { timeout: 300_000 });
      await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
      await page.waitForLoadState('networkidle');
      // the region may appear only once the result is in: wait for one (up to a minute), else the page
      let selector = 'main';
      for (let i = 0; i < 60 && selector === 'main'; i++) {
        for (const sel of REGIONS.slice(0, -1)) {
          if ((await page.locator(sel).count()) > 0) {
            selector = sel;
            break;
          }
        }
        if (selector === 'main') await page.waitForTimeout(1000);
      }
      const png = await stableShot(page, selector, 600_000);
      const small = thumbnail(trimBlack(decode(png)), WIDTH);
      const file = resolve(OUT, `${name}.png`);
      const bytes = encode({ width: small.width, height: small.height, data: small.data, channels: 3 });
      writeFileSync(file, bytes);
      console.log(`${name}: ${small.width}×${small.height}, ${(bytes.byteLength / 1024).toFixed(0)} kB, ${((Date.now() - t0) / 1000).toFixed(1)} s -> public/gallery/${name}.png`);
      await page.close();
    }
    await browser.close();
  } finally {
    if (server.pid) process.kill(-server.pid);
  }
}

await main();
