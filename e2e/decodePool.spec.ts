/**
 * The page's slice decode pool (src/worker/decodePool.ts: dedicated workers with the same
 * libjpeg-turbo WASM as the CLI) gives PIL's bytes for every slice of a bundled sample folder and
 * for real slices and colour/progressive JPEGs (tests/fixtures/motors/jpeg/pil.json), the same
 * stacked tomogram as the CLI's decoding in Node, and names a broken file. The motors page reads
 * slice folders through it (nested workers started by the inference worker, each reading its slice
 * files itself into reused buffers, none falling back): the tomograms it reads equal the CLI's,
 * and its submission.csv equals `voxelbench motors` on the same folder; cancelling
 * such a read (the tomogram removed from the queue) stops the pool's workers.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { decodeGrayImage } from '../src/core/motors/decode';
import { stackSliceFiles } from '../src/core/motors/tomogram';
import { expect, test, perFrameAnimations, ROOT } from './util';

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

test('the motors page decodes slice folders on the pool: the CLI\'s tomograms and the CLI\'s submission.csv', async ({ page }) => {
  // and tomo_sim_001 with each slice three times: the CLI decodes only the slices its resize reads (modelOnly), the page all
  const ids = ['tomo_sim_001', 'tomo_sim_003', 'tomo_sim_001x3'];
  const root = mkdtempSync(join(tmpdir(), 'motors-pool-'));
  // the decode workers the page starts (nested: started by the inference worker)
  const decodeWorkers: string[] = [];
  page.on('worker', (w) => {
    if (/decodeSlice/.test(w.url())) decodeWorkers.push(w.url());
  });
  // a decode worker's read of a slice file that gave up BYOB reads into reused buffers
  const fellBack: string[] = [];
  page.on('console', (m) => {
    if (/Blob\.arrayBuffer|decode pool did not start/.test(m.text())) fellBack.push(m.text());
  });
  try {
    for (const id of ids.slice(0, 2)) cpSync(join(ROOT, 'public/samples/tomograms', id), join(root, 'two', id), { recursive: true });
    const one = join(ROOT, 'public/samples/tomograms/tomo_sim_001');
    mkdirSync(join(root, 'two', ids[2]));
    readdirSync(one)
      .sort()
      .forEach((n, z) => {
        for (let k = 0; k < 3; k++) copyFileSync(join(one, n), join(root, 'two', ids[2], `slice_${String(3 * z + k).padStart(4, '0')}.jpg`));
      });
    await page.goto('./?preset=motors');
    await page.waitForFunction(() => window.__voxelbenchMotors !== undefined);
    await page.getByTestId('tomogram-folder-input').setInputFiles(join(root, 'two'));
    for (const id of ids) await expect(page.getByTestId(`queue-status-${id}`)).toHaveText('waiting', { timeout: 120_000 });
    expect(decodeWorkers.length, 'the page started no decode worker').toBeGreaterThan(0);
    expect(fellBack).toEqual([]);

    // each tomogram as read = the CLI's core stacking in Node (libjpeg-turbo), voxel for voxel
    for (const id of ids) {
      const got = await page.evaluate(async (tid) => {
        const t = await window.__voxelbenchMotors!.tomogram(tid);
        if (!t) return null;
        const d = new Uint8Array(await crypto.subtle.digest('SHA-256', t.data.slice()));
        return { shape: t.shape, sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('') };
      }, id);
      const dir = join(root, 'two', id);
      const names = readdirSync(dir).sort();
      const node = await stackSliceFiles(id, names.map((n) => ({ name: `${id}/${n}`, read: () => new Uint8Array(readFileSync(join(dir, n))) })), decodeGrayImage);
      expect(got, id).toEqual({ shape: node.tomogram.shape, sha256: createHash('sha256').update(node.tomogram.data).digest('hex') });
    }

    // run on WASM with the demo model and its card; the exported submission.csv = the CLI's
    await page.getByTestId('motor-model-input').setInputFiles([join(ROOT, 'public/models/motor_heatmap.onnx'), join(ROOT, 'public/models/motor_heatmap.json')]);
    await expect(page.getByTestId('params-from')).toContainText('motor_heatmap.json');
    await page.getByTestId('motor-backend').selectOption('wasm');
    await page.getByTestId('motor-run').click();
    await expect.poll(() => page.evaluate(() => window.__voxelbenchMotors!.store.getState().batch.status), { timeout: 180_000 }).toMatch(/done|cancelled|error/);
    const statuses = await page.evaluate(() => window.__voxelbenchMotors!.store.getState().items.map((t) => `${t.id} ${t.status} ${t.error ?? ''}`.trim()));
    expect(statuses.sort()).toEqual(ids.map((id) => `${id} done`).sort());
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-submission').click()]);
    const csv = readFileSync(await dl.path(), 'utf8');
    const out = join(root, 'submission.csv');
    execFileSync(process.execPath, [join(ROOT, 'bin/voxelbench.mjs'), 'motors', '--models', join(ROOT, 'public/models/motor_heatmap.onnx'), '--tomograms', join(root, 'two'), '--out', out, '--quiet'], { cwd: ROOT, stdio: 'pipe' });
    expect(csv).toBe(readFileSync(out, 'utf8'));
    expect(csv.trim().split('\n').length).toBe(1 + ids.length);
    // each tomogram's detection before the batch's cutoff (the CSV shows only those above it): the
    // CLI's, from a one-shard run's rows; scores to onnxruntime-web WASM vs onnxruntime-node rounding
    const shardDir = join(root, 'shard');
    execFileSync(process.execPath, [join(ROOT, 'bin/voxelbench.mjs'), 'run', 'motors', '--inputs', join(root, 'two'), '--models', join(ROOT, 'public/models/motor_heatmap.onnx'), '--out', shardDir, '--shard', '1/1', '--quiet'], { cwd: ROOT, stdio: 'pipe' });
    const shard = JSON.parse(readFileSync(join(shardDir, 'shard-1-of-1.json'), 'utf8')) as { rows: { id: string; row: { score: number; point: number[] } }[] };
    const onPage = await page.evaluate(() => window.__voxelbenchMotors!.store.getState().items.map((t) => ({ id: t.id, result: t.result as { score: number; point: number[] } | undefined })));
    for (const id of ids) {
      const cli = shard.rows.find((r) => r.id === id)!.row;
      const got = onPage.find((t) => t.id === id)!.result!;
      expect(got.point, id).toEqual(cli.point);
      expect(Math.abs(got.score - cli.score), id).toBeLessThan(1e-5);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cancelling a slice folder\'s read stops the page decode pool', async ({ page }) => {
  const root = mkdtempSync(join(tmpdir(), 'motors-pool-cancel-'));
  const decoders: { closed: boolean }[] = [];
  page.on('worker', (w) => {
    if (!/decodeSlice/.test(w.url())) return;
    const d = { closed: false };
    decoders.push(d);
    w.on('close', () => (d.closed = true));
  });
  try {
    // 300 slices of 640 x 640 (one textured slice, copied): a read of some seconds
    const n = 640;
    const rgba = new Uint8Array(n * n * 4);
    for (let i = 0; i < n * n; i++) {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = (i % n) ^ ((i / n) | 0) ^ ((i * 7919) % 31);
      rgba[4 * i + 3] = 255;
    }
    const dir = join(root, 'long');
    mkdirSync(dir);
    writeFileSync(join(dir, 'slice_0000.jpg'), encodeJpeg({ data: rgba, width: n, height: n }, 95).data);
    for (let z = 1; z < 300; z++) copyFileSync(join(dir, 'slice_0000.jpg'), join(dir, `slice_${String(z).padStart(4, '0')}.jpg`));
    await page.goto('./?preset=motors');
    await page.waitForFunction(() => window.__voxelbenchMotors !== undefined);
    await page.getByTestId('tomogram-folder-input').setInputFiles(root);
    const progress = () => page.evaluate(() => window.__voxelbenchMotors!.store.getState().items.find((t) => t.id === 'long')?.loadProgress ?? 0);
    await expect.poll(progress, { timeout: 120_000 }).toBeGreaterThan(0);
    expect(await progress()).toBeLessThan(1);
    expect(decoders.length).toBeGreaterThan(0);
    // the queue's bar steps with the read: nothing is drawn at every frame while the decode workers work
    expect(await perFrameAnimations(page)).toEqual([]);
    // removing the tomogram from the queue cancels its read (the worker aborts it)
    await page.getByRole('button', { name: 'Remove long' }).click();
    await expect(page.getByTestId('queue-status-long')).toHaveCount(0);
    // every decode worker the read started is gone
    await expect.poll(() => decoders.every((d) => d.closed), { timeout: 30_000 }).toBe(true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
