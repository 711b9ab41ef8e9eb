/**
 * The app on a phone-sized screen (390 px): nothing makes the page itself scroll sideways;
 * the wide layer table scrolls inside its own box.
 */
import { test, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { writeGraphModel, fixtureDir } from './fixtures';
import { waitForModel, pickFiles } from './helpers';

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });

/** Elements sticking out past the right edge, unless a scrolling/clipping ancestor contains them. */
async function overflow(page: Page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const width = doc.clientWidth;
    const offenders: string[] = [];
    const clipped = (el: Element): boolean => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
      }
      return false;
    };
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if ((r.right > width + 1 || r.left < -1) && !clipped(el)) {
        offenders.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
      }
    }
    return {
      width,
      docScroll: doc.scrollWidth,
      bodyScroll: document.body.scrollWidth,
      offenders: offenders.slice(0, 10),
    };
  });
}

test('at 390 px the body never overflows horizontally, and the layer table scrolls in its own box', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  let o = await overflow(page);
  expect(o.width).toBe(390);
  expect(o.offenders).toEqual([]);
  expect(o.docScroll).toBeLessThanOrEqual(390);
  expect(o.bodyScroll).toBeLessThanOrEqual(390);

  // The table fits in the card's width; if its columns are wider, its own box scrolls.
  // On a phone the layer table is folded away until asked for.
  await page.getByTestId('fold-layers').locator('summary').click();
  const box = await page.getByTestId('layer-table').locator('xpath=..').boundingBox();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(390);

  // The error panel (long file names and messages) wraps too.
  await pickFiles(page, writeGraphModel(join(fixtureDir('mobile'), 'a-rather-long-folder-name-for-a-graph-model-export')));
  await expect(page.getByTestId('load-error')).toBeVisible();
  o = await overflow(page);
  expect(o.offenders).toEqual([]);
  expect(o.docScroll).toBeLessThanOrEqual(390);
});
