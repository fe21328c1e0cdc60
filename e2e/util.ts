/** Shared helpers for the e2e tests. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';

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
