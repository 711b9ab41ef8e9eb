import { expect, test } from '@playwright/test';
import { datasetChecksum } from '../src/core/data/procedural';

test('the demo dataset has the same pixels in Chromium as in Node for the same seed', async ({ page }) => {
  await page.goto('/');
  await page.waitForFunction(() => typeof window.amcDatasetChecksum === 'function');
  for (const [split, count] of [['train', 300], ['val', 200], ['test', 200]] as const) {
    const inBrowser = await page.evaluate(([s, n]) => window.amcDatasetChecksum!(s, n), [split, count] as const);
    expect(inBrowser, `demo:${split}, first ${count} images`).toBe(datasetChecksum(split, count));
  }
});
