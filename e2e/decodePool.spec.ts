/**
 * The page's slice decode pool (src/worker/decodePool.ts: dedicated workers with the same
 * libjpeg-turbo WASM as the CLI) gives PIL's bytes for every slice of a bundled sample folder and
 * for real slices and colour/progressive JPEGs (tests/fixtures/motors/jpeg/pil.json), the same
 * stacked tomogram as the CLI's decoding in Node, and names a broken file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { decodeGrayImage } from '../src/core/motors/decode';
import { stackSliceFiles } from '../src/core/motors/tomogram';
import { ROOT } from './util';

const REF = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/motors/jpeg/pil.json'), 'utf8')) as { files: Record<string, { shape: number[]; sha256: string }> };

test('the page decode pool gives PIL\'s bytes and the CLI\'s tomogram', async ({ page }) => {
  await page.goto('e2e/harness.html');
  await page.waitForFunction(() => document.title === 'harness ready');
  const id = 'tomo_sim_003';
  const dir = join(ROOT, 'public/samples/tomograms', id);
  const names = readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort();
  const fixtures = Object.keys(REF.files).filter((f) => f.startsWith('tests/'));
  const files: Record<string, string> = Object.fromEntries(fixtures.map((f) => [f, readFileSync(join(ROOT, f)).toString('base64')]));
  files['cut.jpg'] = readFileSync(join(ROOT, fixtures[0])).subarray(0, 500).toString('base64');

  const r = await page.evaluate(
    (req) => (window as unknown as { harness: { decodePool(x: unknown): Promise<{ shape: number[]; volume: string; planes: string[]; files: Record<string, { shape?: number[]; sha256?: string; error?: string }>; ms: number; workers: number }> } }).harness.decodePool(req),
    { id, folder: names.map((n) => `../samples/tomograms/${id}/${n}`), files },
  );
  console.log(`page pool: ${names.length} slices in ${r.ms.toFixed(0)} ms on ${r.workers} worker(s)`);

  // every plane = PIL's gray bytes of that slice
  expect(r.planes).toEqual(names.map((n) => REF.files[`public/samples/tomograms/${id}/${n}`].sha256));
  // the whole tomogram = what the CLI's core stacking gives in Node
  const node = await stackSliceFiles(id, names.map((n) => ({ name: `${id}/${n}`, read: () => new Uint8Array(readFileSync(join(dir, n))) })), decodeGrayImage);
  expect(r.shape).toEqual(node.tomogram.shape);
  expect(r.volume).toBe(createHash('sha256').update(node.tomogram.data).digest('hex'));
  // real slices, colour 4:2:0 / 4:4:4, progressive, odd size
  for (const f of fixtures) expect(r.files[f], f).toEqual(REF.files[f]);
  // a cut-short file is an InputError naming it
  expect(r.files['cut.jpg'].error).toMatch(/^InputError: cut\.jpg: cannot decode the JPEG image/);
});
