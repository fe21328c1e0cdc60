/**
 * Opening a session replaces nothing until all of it has been checked (issue 15): sessions with
 * wrongly typed values (class names that are objects, a view opacity that is text, a window size
 * that is text, a result whose size does not match its shape; on a kit page a view value or an
 * item status, a saved result, row, facts or meta of the wrong kind) are refused with one message, the
 * volume, model and result on the page stay as they were, and no error screen appears.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { expect, test, fixture, setNumber } from './util';

const TMP = mkdtempSync(join(tmpdir(), 'vb-session-check-'));

const pageState = (page: Page) =>
  page.evaluate(() => {
    const s = window.__voxelbench!.store.getState();
    const r = s.result;
    return {
      volume: s.volume?.fileName ?? null,
      model: s.model?.fileName ?? null,
      status: s.runState.status,
      outputSum: r ? r.run.data.reduce((a, b) => a + b, 0) : null,
      roi: s.settings.roi,
      opacity: s.view.opacity,
      labelNames: s.labelNames,
      runs: window.__voxelbenchShare!.runCount(),
    };
  });

/** The saved session with its workbench state changed by `edit`. */
function variant(path: string, name: string, edit: Edit): string {
  const files = unzipSync(new Uint8Array(readFileSync(path)));
  const m = JSON.parse(strFromU8(files['session.json'])) as { state: { page: Record<string, unknown> } } & Record<string, unknown>;
  edit(m.state.page, m);
  files['session.json'] = strToU8(JSON.stringify(m));
  const out = join(TMP, name);
  writeFileSync(out, zipSync(files));
  return out;
}

type Edit = (page: Record<string, unknown>, m: Record<string, unknown>) => void;

/** Opens each bad variant of `saved`: one message naming the file and `where`, the page's state (`read`) as `before`, no error screen. */
async function expectRefused(page: Page, saved: string, bad: [string, Edit, RegExp][], read: () => Promise<unknown>, before: unknown): Promise<void> {
  for (const [name, edit, where] of bad) {
    await page.getByTestId('share-menu').click();
    await page.getByTestId('session-input').setInputFiles(variant(saved, name, edit));
    const msg = page.getByTestId('message-error').filter({ hasText: 'Could not open the session' });
    await expect(msg).toHaveCount(1);
    await expect(msg).toContainText(name);
    await expect(msg).toContainText(where);
    expect(await read(), name).toEqual(before);
    await expect(page.locator('.crash')).toHaveCount(0);
    await page.keyboard.press('Escape');
  }
}

test('workbench: sessions with wrong types are refused with one message; the page keeps its volume, model and result', async ({ page }) => {
  await page.goto('./');
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  for (const a of ['d', 'h', 'w']) await setNumber(page, `roi-${a}`, 8);
  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('run').click();
  await expect.poll(async () => (await pageState(page)).status, { timeout: 240_000 }).toBe('done');
  await page.getByTestId('share-menu').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  const saved = join(TMP, 'good.vbsession');
  await download.saveAs(saved);
  await page.keyboard.press('Escape');

  // the page moves on (another window size); the bad sessions must leave it, result included, as it is
  await setNumber(page, 'roi-d', 4);
  const before = await pageState(page);
  expect(before).toMatchObject({ volume: 'ball_int16.nii.gz', model: 'tiny3d.onnx', status: 'done', roi: [4, 8, 8] });
  expect(before.outputSum).not.toBeNull();

  const bad: [string, Edit, RegExp][] = [
    ['labels.vbsession', (p) => (p.labelNames = [{ name: 'background' }, { name: 'ball' }]), /state\.labelNames\.0/],
    ['opacity.vbsession', (p) => ((p.view as Record<string, unknown>).opacity = 'x'), /state\.view\.opacity/],
    ['roi.vbsession', (p) => ((p.settings as Record<string, unknown>).roi = 'abc'), /state\.settings\.roi/],
    ['values.vbsession', (_p, m) => (((m.state as Record<string, unknown>).values as Record<string, unknown>).opacity = 'x'), /values\.opacity/],
    ['result.vbsession', (p) => ((p.result as Record<string, unknown>).shape = [1, 2, 2, 2]), /its result has \d+ values/],
  ];
  await expectRefused(page, saved, bad, () => pageState(page), before);

  // the good session still opens, with its result, without running
  await page.getByTestId('share-menu').click();
  await page.getByTestId('session-input').setInputFiles(saved);
  await expect.poll(async () => (await pageState(page)).roi).toEqual([8, 8, 8]);
  const after = await pageState(page);
  expect(after).toMatchObject({ status: 'done', outputSum: before.outputSum, runs: before.runs });
  await expect(page.getByTestId('message-error').filter({ hasText: 'Could not open the session' })).toHaveCount(0);
});

test('protein (a kit page): a session with a mistyped view, item, result or row is refused; the page keeps its fields of view and results', async ({ page }) => {
  await page.goto('./?demo=protein&backend=wasm');
  await page.waitForFunction(() => window.__voxelbenchProtein !== undefined);
  const state = () =>
    page.evaluate(() => {
      const s = window.__voxelbenchProtein!.store.getState();
      return { batch: s.batch.status, items: s.items.map((t) => `${t.id}:${t.status}`), selected: s.selected, view: s.view, params: s.params, preset: window.__voxelbench!.store.getState().preset };
    });
  await expect.poll(async () => (await state()).batch, { timeout: 180_000 }).toBe('done');
  await page.getByTestId('share-menu').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  const saved = join(TMP, 'protein.vbsession');
  await download.saveAs(saved);
  await page.keyboard.press('Escape');
  const before = await state();
  expect(before.items).toHaveLength(2);

  const bad: [string, Edit, RegExp][] = [
    ['protein-view.vbsession', (p) => ((p.view as Record<string, unknown>).camOpacity = 'x'), /view\.camOpacity: expected number, got string/],
    ['protein-view2.vbsession', (p) => (p.view = 'abc'), /state\.view/],
    ['protein-status.vbsession', (p) => ((p.items as Record<string, unknown>[])[0].status = { done: true }), /state\.items\.0\.status/],
    // a saved result or row of the wrong kind (checked against the preset's own schemas)
    ['protein-row.vbsession', (p) => (((p.items as Record<string, unknown>[])[0].row as Record<string, unknown>).probabilities = [{ p: 0.5 }]), /items\.0\([^)]+\)\.row\.probabilities\.0: expected a number/],
    ['protein-result.vbsession', (p) => (((p.items as Record<string, unknown>[])[1].result as Record<string, unknown>).camShape = { d: 1 }), /items\.1\([^)]+\)\.result\.camShape/],
    // what an item says of itself (InputFacts) and what the page shows of it (its meta), of the wrong kind
    ['protein-facts.vbsession', (p) => (((p.items as Record<string, unknown>[])[0].facts as Record<string, unknown>).spacing = '0.6'), /state\.items\.0\.facts\.spacing \(sim_protein_00\d\): /],
    ['protein-meta.vbsession', (p) => (((p.items as Record<string, unknown>[])[1].meta as Record<string, unknown>).width = '64'), /items\.1\(sim_protein_00\d\)\.meta\.width: expected a number/],
  ];
  await expectRefused(page, saved, bad, state, before);

  // the session as the app saved it opens, facts and meta included, without running
  const facts = () => page.evaluate(() => window.__voxelbenchProtein!.store.getState().items.map((t) => [t.facts, t.meta]));
  const factsBefore = await facts();
  expect(factsBefore.every(([f, m]) => f && m)).toBe(true);
  await page.getByTestId('share-menu').click();
  await page.getByTestId('session-input').setInputFiles(saved);
  await expect(page.getByText('Opened the session protein.vbsession').first()).toBeAttached({ timeout: 60_000 });
  expect(await state()).toEqual(before);
  expect(await facts()).toEqual(factsBefore);
  await expect(page.getByTestId('message-error').filter({ hasText: 'Could not open the session' })).toHaveCount(0);
});
