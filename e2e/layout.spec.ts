/**
 * The layout from a small laptop to a large screen: every page (workbench, motors, spine, EEG,
 * protein, brain MRI), each with its demo's data (run where the run is quick on WASM, loaded
 * without running where it is not), at 1024x768, 1440x900 and 1920x1080:
 * - every interactive element (buttons, inputs, selects, links, [tabindex]) lies inside the
 *   viewport and inside the boxes that clip it, or inside a scrolling panel that brings it into
 *   view (it is scrolled there and checked again);
 * - none lies under another element (elementFromPoint at its centre is itself or inside it);
 * - no table cell's text runs past the cell (under the next one), unless the cell clips it;
 * - no select shows its chosen option cut, no text field its value (a list of names grows with it);
 * - no field of a view's readout (the voxel clicked, the volume's shape…) is cut or hidden, and
 *   clicking into the view fills the readout in without changing the canvas's size;
 * - focusing each of them (as Tab does) scrolls nothing that is not a scrolling panel: the app
 *   never shifts sideways, and the document does not scroll sideways;
 * - Share opens its menu inside the viewport;
 * - a screenshot of every page at every size goes into the test's artifacts.
 * The landing page's first Tab stop is the skip link to the gallery; inputs show a focus ring.
 */
import type { Page, TestInfo } from '@playwright/test';
import { join } from 'node:path';
import { expect, test, ROOT } from './util';

const SIZES = [
  { width: 1024, height: 768 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
] as const;

/** What is wrong with the layout as shown now: one line per problem (empty when none). */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    const TOL = 1;
    const name = (el: Element): string => {
      const id = el.getAttribute('data-testid');
      const label = el.getAttribute('aria-label') ?? el.getAttribute('title') ?? (el.textContent ?? '').trim().slice(0, 30);
      return `<${el.tagName.toLowerCase()}${id ? ` data-testid="${id}"` : ''}${el.className && typeof el.className === 'string' ? ` class="${el.className}"` : ''}> "${label}"`;
    };
    const box = (r: DOMRect): string => `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]`;
    const clips = (s: CSSStyleDeclaration): boolean => s.overflowX !== 'visible' || s.overflowY !== 'visible';
    const scrolls = (el: Element): boolean => {
      const s = getComputedStyle(el);
      return (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1) || (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1);
    };
    /** null when the element is fully shown and on top at its centre, else why not. */
    const shownProblem = (el: Element): string | null => {
      const r = el.getBoundingClientRect();
      if (r.left < -TOL || r.top < -TOL || r.right > vw + TOL || r.bottom > vh + TOL) return `outside the ${vw}x${vh} viewport ${box(r)}`;
      for (let a = el.parentElement; a; a = a.parentElement) {
        if (!clips(getComputedStyle(a))) continue;
        const c = a.getBoundingClientRect();
        // the clipping box's content area (its scroll bars do not show content)
        const right = c.left + a.clientLeft + a.clientWidth;
        const bottom = c.top + a.clientTop + a.clientHeight;
        if (r.left < c.left - TOL || r.top < c.top - TOL || r.right > right + TOL || r.bottom > bottom + TOL) return `cut by ${name(a)} ${box(c)}: it is at ${box(r)}`;
      }
      const x = Math.min(vw - 1, Math.max(0, r.left + r.width / 2));
      const y = Math.min(vh - 1, Math.max(0, r.top + r.height / 2));
      const hit = document.elementFromPoint(x, y);
      if (!hit || (hit !== el && !el.contains(hit))) {
        // a control inside a label is hit through its label's other parts only when it is the label's control
        if (!(hit instanceof HTMLLabelElement && hit.control === el)) return `covered at its centre by ${hit ? name(hit) : 'nothing'} ${box(r)}`;
      }
      return null;
    };
    const SELECTOR = 'button, input, select, textarea, a[href], summary, [tabindex]';
    const els = [...document.querySelectorAll(SELECTOR)].filter((el) => {
      if (el instanceof HTMLInputElement && el.type === 'hidden') return false;
      if (el.closest('[data-layout-skip]') && document.activeElement !== el) return false; // the skip link, shown when focused
      // not rendered: display none, visibility hidden, or inside a closed <details> (content-visibility hidden)
      return el.getClientRects().length > 0 && el.checkVisibility({ visibilityProperty: true });
    });
    const frame = [document.documentElement, document.body, document.getElementById('root'), ...document.querySelectorAll('.app, .topbar, .layout, main, .dropzone')].filter(
      (e): e is HTMLElement => e instanceof HTMLElement,
    );
    const frameScroll = () => frame.map((e) => `${e.scrollLeft},${e.scrollTop}`).join(' ');
    const still = frameScroll();
    if (frame.some((e) => e.scrollLeft !== 0)) problems.push('the page is shifted sideways before any focus');
    for (const e of frame) if (e.scrollWidth > e.clientWidth + TOL) problems.push(`${name(e)} is ${e.scrollWidth} px wide in ${e.clientWidth} px (it would scroll sideways)`);
    for (const el of els) {
      let why = shownProblem(el);
      if (why) {
        let panel: Element | null = null;
        for (let a = el.parentElement; a && !panel; a = a.parentElement) if (scrolls(a)) panel = a;
        if (panel) {
          el.scrollIntoView({ block: 'center', inline: 'center' });
          const after = shownProblem(el);
          why = after ? `${after} even after scrolling ${name(panel)}` : null;
        }
      }
      if (why) problems.push(`${name(el)}: ${why}`);
      // as Tab would: focusing it must not scroll the page's frame (only scrolling panels may move)
      (el as HTMLElement).focus();
      if (frameScroll() !== still) {
        problems.push(`focusing ${name(el)} scrolled the page's frame: ${frameScroll()}`);
        for (const e of frame) e.scrollLeft = e.scrollTop = 0;
      }
    }
    (document.activeElement as HTMLElement | null)?.blur();
    // a select whose chosen option is cut (a select cannot show an ellipsis: "divide by 255" read
    // "divide by 25"): its text, in its font, against the select's width less its arrow
    const ctx = document.createElement('canvas').getContext('2d')!;
    for (const sel of document.querySelectorAll('select')) {
      if (!sel.getClientRects().length) continue;
      const st = getComputedStyle(sel);
      ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      const text = sel.selectedOptions[0]?.text ?? '';
      const need = ctx.measureText(text).width;
      const room = sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) - 16;
      if (need > room + TOL) problems.push(`${name(sel)}: its choice "${text}" needs ${Math.ceil(need)} px, it shows ${Math.floor(room)}`);
    }
    // a text field whose value is cut: a one-line field's text past its box, a list's box scrolling instead of growing with it
    for (const inp of document.querySelectorAll('input[type=text]')) {
      if (!(inp instanceof HTMLInputElement) || !inp.getClientRects().length || !inp.checkVisibility({ visibilityProperty: true })) continue;
      const st = getComputedStyle(inp);
      ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      const need = ctx.measureText(inp.value).width;
      const room = inp.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
      if (need > room + TOL) problems.push(`${name(inp)}: its value "${inp.value.slice(0, 40)}" needs ${Math.ceil(need)} px, it shows ${Math.floor(room)}`);
    }
    for (const ta of document.querySelectorAll('textarea')) {
      if (!ta.getClientRects().length || !ta.checkVisibility({ visibilityProperty: true })) continue;
      if (ta.scrollHeight > ta.clientHeight + TOL) problems.push(`${name(ta)}: its text is ${ta.scrollHeight} px tall in a ${ta.clientHeight} px box`);
    }
    // text that runs past its table cell, under the next one (a cell that clips, as .ellipsis does,
    // is fine; the controls in a cell are checked above)
    for (const td of document.querySelectorAll('td')) {
      if (!td.getClientRects().length || td.querySelector(SELECTOR) || clips(getComputedStyle(td))) continue;
      if (td.scrollWidth > td.clientWidth + TOL) problems.push(`${name(td)}: its text is ${td.scrollWidth} px wide in a ${td.clientWidth} px cell`);
    }
    // a field of a view's readout cut at its end or pushed below its lines (only a .shrink field, a
    // name or a list of values, gives way, with an ellipsis and its full text in its title)
    for (const ro of document.querySelectorAll('.readout')) {
      if (!ro.getClientRects().length) continue;
      const c = ro.getBoundingClientRect();
      const st = getComputedStyle(ro);
      const right = c.left + ro.clientLeft + ro.clientWidth - parseFloat(st.paddingRight);
      const bottom = c.top + ro.clientTop + ro.clientHeight - parseFloat(st.paddingBottom);
      for (const f of ro.querySelectorAll(':scope > :not(.readout-row), :scope > .readout-row > *')) {
        const r = f.getBoundingClientRect();
        if (r.right > right + TOL || r.bottom > bottom + TOL) problems.push(`${name(f)}: cut by the readout ${name(ro)} ${box(c)}: it is at ${box(r)}`);
      }
    }
    if (document.scrollingElement && document.scrollingElement.scrollWidth > vw) problems.push(`the document is ${document.scrollingElement.scrollWidth} px wide in a ${vw} px window`);
    if (els.length < 5) problems.push(`only ${els.length} interactive elements found`);
    return problems;
  });
}

/** At each size: no layout problems, Share opens inside the viewport, a screenshot into the artifacts. */
async function checkSizes(page: Page, testInfo: TestInfo, pageName: string): Promise<void> {
  const all: string[] = [];
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const at = `${size.width}x${size.height}`;
    await page.screenshot({ path: testInfo.outputPath(`${pageName}-${at}.png`) });
    for (const p of await layoutProblems(page)) all.push(`${pageName} at ${at}: ${p}`);
    // the same with every folded part of the forms and panels unfolded ("more (mean, std)", the log…), then folded back
    const folded = await page.evaluate(() => {
      const closed = [...document.querySelectorAll('details:not([open])')] as HTMLDetailsElement[];
      for (const d of closed) {
        d.open = true;
        d.setAttribute('data-unfolded', '');
      }
      return closed.length;
    });
    if (folded > 0) {
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      for (const p of await layoutProblems(page)) all.push(`${pageName} at ${at}, unfolded: ${p}`);
      await page.evaluate(() => {
        for (const d of document.querySelectorAll('details[data-unfolded]')) {
          (d as HTMLDetailsElement).open = false;
          d.removeAttribute('data-unfolded');
        }
      });
    }
    // Share: clickable (Playwright's click checks that it receives the click), its menu on screen
    await page.getByTestId('share-menu').click();
    const pop = page.getByRole('dialog', { name: 'Share' });
    await expect(pop).toBeVisible();
    const r = (await pop.boundingBox())!;
    if (r.x < 0 || r.y < 0 || r.x + r.width > size.width + 1 || r.y + r.height > size.height + 1) all.push(`${pageName} at ${at}: the Share menu is outside the viewport ${JSON.stringify(r)}`);
    await page.keyboard.press('Escape');
    await expect(pop).toBeHidden();
  }
  expect(all, all.join('\n')).toEqual([]);
}

/**
 * Clicks into the view (a quarter in from its left, inside the first tile of a multiplanar view)
 * so that its readout shows the voxel there (`readoutTestId`); the canvas keeps its size.
 */
async function clickView(page: Page, readoutTestId: string): Promise<void> {
  const canvas = page.getByTestId('niivue-canvas');
  const before = (await canvas.boundingBox())!;
  await page.mouse.click(before.x + before.width * 0.25, before.y + before.height * 0.3);
  await expect(page.getByTestId(readoutTestId)).toBeVisible();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  expect(await canvas.boundingBox()).toEqual(before);
}

/** Waits for a kit page's batch to finish. */
async function batchDone(page: Page, hook: '__voxelbenchMotors' | '__voxelbenchSpine' | '__voxelbenchEeg' | '__voxelbenchProtein', timeout: number): Promise<void> {
  await page.waitForFunction((h) => window[h] !== undefined, hook);
  await expect.poll(() => page.evaluate((h) => window[h]!.store.getState().batch.status, hook), { timeout }).toBe('done');
}

test('workbench: the landing page (gallery first in Tab order, focus rings), then a volume and a model loaded, at three sizes', async ({ page }, testInfo) => {
  await page.goto('./');
  await expect(page.getByTestId('gallery')).toBeVisible();
  // the first Tab stop is the skip link; it shows when focused and takes the focus to the gallery
  await page.keyboard.press('Tab');
  const skip = page.getByTestId('skip-to-gallery');
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport({ ratio: 1 });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('gallery-brain')).toBeFocused();
  await checkSizes(page, testInfo, 'workbench-landing');

  await page.getByTestId('volume-input').setInputFiles(join(ROOT, 'public/demo/meshnet/t1.nii.gz'));
  await page.getByTestId('model-input').setInputFiles([join(ROOT, 'public/demo/meshnet/model.onnx')]);
  await expect(page.getByTestId('model-name')).toBeVisible({ timeout: 120_000 });
  await expect.poll(() => page.evaluate(() => window.__voxelbench!.store.getState().volume !== null), { timeout: 120_000 }).toBe(true);
  // a number field reached by Tab shows a focus ring
  const num = page.locator('input.num').first();
  await num.focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  await expect(num).toBeFocused();
  const ring = await num.evaluate((el) => {
    const s = getComputedStyle(el);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  expect(ring.style).not.toBe('none');
  expect(ring.width).toBeGreaterThanOrEqual(2);
  await clickView(page, 'readout');
  // the fullest readout a run gives (eight output channels, a label with its card's name): every field stays on its two lines
  await page.evaluate(() => {
    const store = window.__voxelbench!.store;
    const r = store.getState().readout!;
    store.setState({ readout: { ...r, base: [1234.5678], overlay: Array.from({ length: 8 }, (_, c) => -12.34567 * (c + 1)), label: 7 }, labelNames: Array.from({ length: 8 }, (_, k) => `left cerebral structure ${k}`) });
  });
  await expect(page.getByTestId('readout-label')).toContainText('left cerebral structure 7');
  await checkSizes(page, testInfo, 'workbench');
});

const RUN_PAGES = [
  { preset: 'motors', hook: '__voxelbenchMotors', timeout: 300_000 },
  { preset: 'spine', hook: '__voxelbenchSpine', timeout: 300_000 },
  { preset: 'eeg', hook: '__voxelbenchEeg', timeout: 200_000 },
  { preset: 'protein', hook: '__voxelbenchProtein', timeout: 200_000 },
] as const;

for (const p of RUN_PAGES) {
  test(`${p.preset}: empty, then its demo run on WASM, at three sizes`, async ({ page }, testInfo) => {
    await page.goto(`./?preset=${p.preset}&backend=wasm`); // headless WebGPU is SwiftShader: far slower
    await expect(page.getByTestId(`${p.preset}-demo-hero`)).toBeVisible();
    await checkSizes(page, testInfo, `${p.preset}-empty`);
    await page.setViewportSize(SIZES[1]);
    const t0 = Date.now();
    await page.getByTestId(`${p.preset}-demo-hero`).click();
    await batchDone(page, p.hook, p.timeout);
    console.log(`${p.preset}: demo run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (p.preset === 'spine') await clickView(page, 'spine-readout-voxel');
    if (p.preset === 'motors') await clickView(page, 'motor-readout-voxel');
    await checkSizes(page, testInfo, p.preset);
  });
}

test('brain MRI: empty, then the demo volume and model loaded (not run: MeshNet takes minutes on WASM), at three sizes', async ({ page }, testInfo) => {
  await page.goto('./?preset=brain&backend=wasm');
  await expect(page.getByTestId('brain-demo-hero')).toBeVisible();
  await checkSizes(page, testInfo, 'brain-empty');
  await page.getByTestId('brain-model-input').setInputFiles([join(ROOT, 'public/demo/meshnet/model.onnx'), join(ROOT, 'public/demo/meshnet/card.json')]);
  await page.getByTestId('brain-volume-input').setInputFiles(join(ROOT, 'public/demo/meshnet/t1.nii.gz'));
  await expect.poll(() => page.evaluate(() => window.__voxelbenchBrain!.store.getState().items.map((t) => t.meta !== undefined)), { timeout: 120_000 }).toEqual([true]);
  await expect.poll(() => page.evaluate(() => window.__voxelbenchBrain!.store.getState().models.length), { timeout: 120_000 }).toBe(1);
  await page.waitForFunction(() => (window.__voxelbench?.nv.volumes.length ?? 0) > 0, null, { timeout: 120_000 });
  await clickView(page, 'brain-readout-voxel');
  await checkSizes(page, testInfo, 'brain');
});

test('status line: an item that fails is named there, never "Ready."', async ({ page }) => {
  await page.goto('./?preset=eeg&backend=wasm');
  await expect(page.getByTestId('statusline')).toBeVisible();
  await page.getByTestId('eeg-file-input').setInputFiles({ name: 'broken.parquet', mimeType: 'application/octet-stream', buffer: Buffer.from('not a parquet file') });
  await expect(page.locator('[data-testid^="eeg-file-"][data-status="error"]')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByTestId('statusline')).not.toHaveText('Ready.');
  await expect(page.getByTestId('statusline')).toContainText('broken');
});
