/**
 * A link asks before it fetches from another site (issue 15): nothing is requested from another
 * origin until the user agreed in the dialog that names the hosts and files; Cancel loads nothing
 * and leaves the page as it was; "trust" skips the dialog next time; private and link-local
 * addresses (a router's admin page, the cloud metadata service) are refused without a request. A kit
 * link whose later file is missing or unreadable adds none of its files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { expect, test, fixture, ROOT, trustOrigins } from './util';

const EVIL = 'https://evil.example';
const METADATA = 'http://169.254.169.254/latest/meta-data/';
const ROUTER = 'http://192.168.1.1/admin';
const LINK = `./?v=1&preset=workbench&model=${EVIL}/m/tiny3d.onnx&data=${EVIL}/d/ball_int16.nii.gz&roi=8,8,8&backend=wasm`;

/** Every request the context makes off the app's origin, and the other origin served with the fixtures. */
async function watch(context: BrowserContext): Promise<{ off: string[]; served: string[] }> {
  const off: string[] = [];
  const served: string[] = [];
  context.on('request', (r) => {
    if (!r.url().startsWith('http://localhost:')) off.push(r.url());
  });
  await context.route(`${EVIL}/**`, async (route) => {
    const url = route.request().url();
    served.push(url);
    const file = url.endsWith('.onnx') ? fixture('models/tiny3d.onnx') : fixture('volumes/ball_int16.nii.gz');
    await route.fulfill({ body: readFileSync(file), headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'application/octet-stream' } });
  });
  for (const host of ['http://169.254.169.254/**', 'http://192.168.1.1/**']) await context.route(host, (route) => route.abort());
  return { off, served };
}

const loaded = (page: Page) =>
  page.evaluate(() => {
    const s = window.__voxelbench!.store.getState();
    return { volume: s.volume?.fileName ?? null, model: s.model?.fileName ?? null, status: s.runState.status };
  });

const crashScreen = (page: Page) => page.locator('.crash');

test('another site: nothing is fetched before consent; the dialog names hosts and files; Cancel loads nothing and the page stays usable', async ({ page, context }) => {
  const { off, served } = await watch(context);
  await page.goto(LINK);
  const dialog = page.getByTestId('link-consent');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('consent-host')).toHaveCount(1);
  await expect(dialog.getByTestId('consent-host')).toContainText('evil.example');
  await expect(dialog.getByTestId('consent-file')).toHaveText(['tiny3d.onnx', 'ball_int16.nii.gz']);
  expect(off).toEqual([]);
  await dialog.getByTestId('consent-cancel').click();
  await expect(dialog).toBeHidden();
  await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
  await expect(page.getByTestId('message-warning').getByText(/files from evil\.example were not loaded/)).toBeVisible();
  expect(off).toEqual([]);
  expect(served).toEqual([]);
  expect(await loaded(page)).toEqual({ volume: null, model: null, status: 'idle' });
  expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
  // usable: a volume opened by hand loads
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await expect.poll(async () => (await loaded(page)).volume).toBe('ball_int16.nii.gz');
  await expect(crashScreen(page)).toHaveCount(0);
  expect(off).toEqual([]);
});

test('another site: Load fetches and runs; asked again next time unless "trust" was ticked, then opened without asking', async ({ page, context }) => {
  const { off, served } = await watch(context);
  await page.goto(LINK);
  await page.getByTestId('consent-load').click();
  await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
  expect(await loaded(page)).toEqual({ volume: 'ball_int16.nii.gz', model: 'tiny3d.onnx', status: 'done' });
  expect(served.sort()).toEqual([`${EVIL}/d/ball_int16.nii.gz`, `${EVIL}/m/tiny3d.onnx`]);

  // not trusted: asked again
  const b = await context.newPage();
  const before = off.length;
  await b.goto(LINK);
  await expect(b.getByTestId('link-consent')).toBeVisible();
  expect(off.length).toBe(before);
  await b.getByTestId('consent-trust').check();
  await b.getByTestId('consent-load').click();
  await b.evaluate(() => window.__voxelbenchShare!.linkOpened());
  expect((await loaded(b)).status).toBe('done');
  expect(await b.evaluate(() => localStorage.getItem('voxelbench-trusted-hosts'))).toContain('"https://evil.example"');

  // trusted: no dialog
  const c = await context.newPage();
  await c.goto(LINK);
  await c.waitForFunction(() => window.__voxelbenchShare !== undefined);
  await c.evaluate(() => window.__voxelbenchShare!.linkOpened());
  await expect(c.getByTestId('link-consent')).toHaveCount(0);
  expect(await loaded(c)).toEqual({ volume: 'ball_int16.nii.gz', model: 'tiny3d.onnx', status: 'done' });
});

test('private and link-local addresses are refused from a link without any request, even next to another site', async ({ page, context }) => {
  const { off } = await watch(context);
  for (const link of [
    `./?v=1&preset=workbench&model=${METADATA}&backend=wasm`,
    `./?v=1&preset=workbench&data=${ROUTER}&backend=wasm`,
    `./?v=1&preset=workbench&model=${EVIL}/m/tiny3d.onnx&data=${ROUTER}`,
    `./?v=1&preset=protein&model=${EVIL}/m/protein.onnx&data=${METADATA}`,
  ]) {
    await page.goto(link);
    await page.waitForFunction(() => window.__voxelbenchShare !== undefined);
    await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
    await expect(page.getByTestId('message-error').getByText(/a link may not load from/)).toBeVisible();
    await expect(page.getByTestId('message-error').getByText(/(a link-local address|a private network address)/)).toBeVisible();
    await expect(page.getByTestId('link-consent')).toHaveCount(0);
    await expect(crashScreen(page)).toHaveCount(0);
  }
  expect(off).toEqual([]);
});

test('a kit link is all or nothing: when a later file is missing (404) or unreadable, nothing of it is added and the message names the file', async ({ page, context }) => {
  const FILES = 'https://vb-files.example';
  await trustOrigins(context, FILES);
  await context.route(`${FILES}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice(1);
    const headers = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'application/octet-stream' };
    // broken.parquet: a damaged spectrogram (fuzz case 3190); missing.parquet: not there
    const file = path === 'broken.parquet' ? join(ROOT, 'tests/fixtures/fuzz/parquet_3190.parquet') : join(ROOT, 'public', path);
    await route.fulfill(path !== 'missing.parquet' && existsSync(file) ? { body: readFileSync(file), headers } : { status: 404, body: 'not found', headers });
  });
  const inputs = () =>
    page.evaluate(() => {
      const s = window.__voxelbenchEeg!.store.getState();
      return { items: s.items.map((t) => t.id), models: s.models.map((m) => m.name), labels: s.labels?.name ?? null, busy: s.busy };
    });
  for (const [later, named] of [
    ['broken.parquet', /broken\.parquet: the Parquet file is damaged or truncated/],
    ['missing.parquet', /missing\.parquet/],
  ] as const) {
    await page.goto(`./?v=1&preset=eeg&model=${FILES}/models/eeg_spectrogram.onnx&data=${FILES}/samples/eeg/sim_seizure_001.parquet&data=${FILES}/${later}&labels=${FILES}/samples/eeg/votes.csv&backend=wasm`);
    await page.waitForFunction(() => window.__voxelbenchShare !== undefined && window.__voxelbenchEeg !== undefined);
    await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
    await expect(page.getByTestId('message-error').filter({ hasText: named }).first()).toBeVisible();
    await expect(page.getByTestId('message-error').filter({ hasText: /Nothing of the link was opened/ }).first()).toBeVisible();
    // the page as it was before the link: no model, no spectrogram (not even the readable first one), no votes
    expect(await inputs(), later).toEqual({ items: [], models: [], labels: null, busy: null });
    expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
    await expect(crashScreen(page)).toHaveCount(0);
  }
});
