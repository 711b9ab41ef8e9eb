/**
 * The phone journey at 390x844 with touch: the guided steps (model -> data -> compress ->
 * recover -> export), each step's main action within a screen or two of the top (the search's
 * Start in the first screen of Compress, pruning by hand one tap below it), details
 * folded away, the first-visit introduction, the layer table scrollable by keyboard, chart data
 * as tables, and the offer to resume an unfinished search at the top of the page after a reload.
 * Screenshots of each step at phone and desktop size go to test-results/journey/.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import { collectErrors, goToStep, waitForModel, setRange } from './helpers';

const PHONE = { width: 390, height: 844 };
const SHOTS = 'test-results/journey';

test.use({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

/** How many screens down the page the bottom of an element sits, measured from the top of the page. */
async function screensDown(loc: Locator): Promise<number> {
  await expect(loc).toBeVisible();
  const box = await loc.boundingBox();
  expect(box).not.toBeNull();
  const scrollY = await loc.page().evaluate(() => window.scrollY);
  const height = await loc.page().evaluate(() => window.innerHeight);
  return (box!.y + scrollY + box!.height) / height;
}

/** Whether an element lies wholly in the viewport as the page is now scrolled. */
async function inViewport(loc: Locator): Promise<boolean> {
  const box = await loc.boundingBox();
  if (!box) return false;
  const { w, h } = await loc.page().evaluate(() => ({ w: window.innerWidth, h: window.innerHeight }));
  return box.y >= 0 && box.x >= 0 && box.y + box.height <= h && box.x + box.width <= w;
}

async function tapStep(page: Page, step: string): Promise<void> {
  await page.getByTestId(`step-${step}`).tap();
  await expect(page.getByTestId(`step-${step}`)).toHaveAttribute('aria-current', 'step');
  // A phone shows the step from its top.
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
}

test('a phone walks the steps: each step alone, its main action within reach, details folded, export at the end', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = collectErrors(page);
  await page.goto('/?demo=builtin');

  // First visit: what this does, in plain words, before anything else; the backend's reason below it.
  const intro = page.getByTestId('intro');
  await expect(intro).toBeVisible();
  await expect(intro).toContainText('reinforcement-learning agent');
  await expect(intro).toContainText('nothing is uploaded');
  expect(await inViewport(page.getByTestId('intro-dismiss'))).toBe(true);
  await expect(page.getByTestId('backend-reason')).toBeVisible();
  const introBox = (await intro.boundingBox())!;
  const reasonBox = (await page.getByTestId('backend-reason').boundingBox())!;
  expect(reasonBox.y).toBeGreaterThan(introBox.y + introBox.height - 1);
  await waitForModel(page);
  await page.screenshot({ path: `${SHOTS}/phone-0-first-visit.png` });

  // Dismissed once, gone after a reload too.
  await page.getByTestId('intro-dismiss').tap();
  await expect(intro).toHaveCount(0);
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('intro')).toHaveCount(0);
  await expect(page.getByTestId('intro-show')).toBeVisible();

  // The step bar: five steps, the first current.
  const bar = page.getByTestId('step-bar');
  await expect(bar.locator('a')).toHaveCount(5);
  await expect(page.getByTestId('step-model')).toHaveAttribute('aria-current', 'step');
  expect(await inViewport(bar)).toBe(true);

  // 1. Model: loading is at the top, the next step within a screen; details folded away.
  expect(await screensDown(page.getByTestId('dropzone').getByRole('button', { name: 'Choose files' }))).toBeLessThanOrEqual(1);
  expect(await screensDown(page.getByTestId('step-next-model'))).toBeLessThanOrEqual(2);
  for (const fold of ['fold-device', 'fold-layers', 'fold-groups']) {
    await expect(page.getByTestId(fold)).not.toHaveAttribute('open', '');
  }
  await expect(page.getByTestId('data-panel')).toBeHidden();
  await expect(page.getByTestId('prune-panel')).toBeHidden();
  await page.screenshot({ path: `${SHOTS}/phone-1-model.png` });
  const modelHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`model step: ${modelHeight} px tall (${(modelHeight / PHONE.height).toFixed(1)} screens)`);

  // The layer table, opened on demand: a hint says it scrolls sideways, and the keyboard scrolls it.
  await page.getByTestId('fold-layers').locator('summary').tap();
  const scroller = page.getByTestId('layer-scroll');
  await expect(scroller).toBeVisible();
  await expect(scroller).toHaveAttribute('tabindex', '0');
  await expect(scroller).toHaveAttribute('aria-label', /Layers table/);
  await expect(page.getByTestId('layer-scroll-hint')).toBeVisible();
  await expect(page.getByTestId('layer-scroll-hint')).toContainText('Scroll sideways');
  await scroller.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
  await expect.poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  await scroller.screenshot({ path: `${SHOTS}/phone-1b-layer-table-scrolled.png` });
  await page.getByTestId('fold-layers').locator('summary').tap();

  // 2. Data.
  await page.getByTestId('step-next-model').tap();
  await expect(page.getByTestId('step-data')).toHaveAttribute('aria-current', 'step');
  await expect(page.getByTestId('data-panel')).toBeVisible();
  await expect(page.getByTestId('dropzone')).toBeHidden();
  expect(await screensDown(page.getByTestId('data-demo-val'))).toBeLessThanOrEqual(1);
  expect(await screensDown(page.getByTestId('evaluate-button'))).toBeLessThanOrEqual(2);
  await page.screenshot({ path: `${SHOTS}/phone-2-data.png` });

  // 3. Compress: the search's Start in the first screen of the step; pruning by hand one tap away.
  await tapStep(page, 'compress');
  await expect(page.getByTestId('search-panel')).toBeVisible();
  await expect(page.getByTestId('prune-panel')).toBeVisible();
  const searchDown = await screensDown(page.getByTestId('search-start'));
  console.log(`search start: ${searchDown.toFixed(2)} screens down`);
  expect(searchDown).toBeLessThanOrEqual(1);
  expect(await inViewport(page.getByTestId('search-start'))).toBe(true);
  await page.screenshot({ path: `${SHOTS}/phone-3-compress.png` });
  await page.getByTestId('jump-by-hand').tap();
  expect(await inViewport(page.getByTestId('ratio-slider'))).toBe(true);
  const scrolled = await page.evaluate(() => window.scrollY);
  const pruneDown = (await screensDown(page.getByTestId('prune-button'))) - scrolled / PHONE.height;
  console.log(`prune button: ${pruneDown.toFixed(2)} screens below the jump to "By hand"`);
  expect(pruneDown).toBeLessThanOrEqual(2);
  await page.screenshot({ path: `${SHOTS}/phone-3a-by-hand.png` });
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').tap();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('step-compress')).toHaveClass(/done/);

  // 4. Recover: fine-tuning the model just pruned is the first thing on the step.
  await tapStep(page, 'recover');
  await expect(page.getByTestId('ft-subject')).toBeVisible();
  expect(await screensDown(page.getByTestId('ft-start'))).toBeLessThanOrEqual(2);
  await page.screenshot({ path: `${SHOTS}/phone-4-recover.png` });

  // 5. Export: the pruned model's download at the top of the step.
  await tapStep(page, 'export');
  const download = page.getByTestId('export-step-download');
  expect(await screensDown(download)).toBeLessThanOrEqual(1);
  expect(await inViewport(download)).toBe(true);
  await page.screenshot({ path: `${SHOTS}/phone-5-export.png` });
  const files: string[] = [];
  page.on('download', (d) => files.push(d.suggestedFilename()));
  await download.tap();
  await expect.poll(() => files.length).toBeGreaterThanOrEqual(2);
  expect(files).toContain('builtin-pruned.json');

  // The body never scrolls sideways on any step.
  for (const step of ['model', 'data', 'compress', 'recover', 'export']) {
    await tapStep(page, step);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  }
  expect(errors).toEqual([]);
});

test('the offer to resume an unfinished search is at the top of the page after a reload, whichever step is on screen', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = collectErrors(page);
  await page.goto('/?demo=builtin');
  await page.getByTestId('intro-dismiss').tap();
  await waitForModel(page);
  await goToStep(page, 'compress');
  const panel = page.getByTestId('search-panel');
  await panel.getByTestId('search-episodes').fill('60');
  await panel.getByText('More settings').tap();
  await panel.getByTestId('search-images').fill('50');
  await panel.getByTestId('search-start').tap();
  await expect.poll(async () => Number(await page.getByTestId('reward-chart').getAttribute('data-episodes')), { timeout: 90_000, intervals: [100] }).toBeGreaterThanOrEqual(1);
  await panel.getByTestId('search-pause').tap();
  await expect(panel).toHaveAttribute('data-phase', 'paused', { timeout: 60_000 });

  // The chart's data, as a table a keyboard and a screen reader reach.
  const table = page.getByTestId('reward-table');
  await table.locator('summary').tap();
  await expect(table.locator('tbody tr').first()).toBeVisible();
  await expect(table.getByRole('region')).toHaveAttribute('tabindex', '0');
  await page.getByTestId('reward-chart').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/phone-3b-search-charts-table.png` });
  await expect(page.getByTestId('policy-table')).toBeVisible();
  await expect(page.getByTestId('pareto-table')).toBeVisible();

  // Reloaded on the Data step: the offer sits at the top, in the first screen.
  await goToStep(page, 'data');
  await page.reload();
  // The model step is not on screen: wait for the model's check run, not for its card.
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-state', 'ok', { timeout: 90_000 });
  await expect(page.getByTestId('step-data')).toHaveAttribute('aria-current', 'step');
  const offer = page.getByTestId('search-resume-offer');
  await expect(offer).toBeVisible({ timeout: 30_000 });
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  expect(await inViewport(page.getByTestId('search-resume-saved'))).toBe(true);
  await page.screenshot({ path: `${SHOTS}/phone-6-resume-offer.png` });
  await tapStep(page, 'model');
  expect(await inViewport(page.getByTestId('search-resume-saved'))).toBe(true);

  // Resuming goes to the Compress step, where the search goes on.
  await page.getByTestId('search-resume-saved').tap();
  await expect(page.getByTestId('step-compress')).toHaveAttribute('aria-current', 'step');
  await expect(panel).toHaveAttribute('data-phase', /running|pausing|starting/, { timeout: 60_000 });
  await expect(offer).toHaveCount(0);
  await panel.getByTestId('search-stop').tap();
  await expect(panel).toHaveAttribute('data-phase', 'stopped', { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test.describe('on a desktop', () => {
  test.use({ viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false, deviceScaleFactor: 1 });

  test('every step is on one page; the step bar scrolls to each and marks it', async ({ page }) => {
    test.setTimeout(120_000);
    const errors = collectErrors(page);
    await page.goto('/?demo=builtin');
    await waitForModel(page);
    await page.screenshot({ path: `${SHOTS}/desktop-0-first-visit.png` });
    await page.getByTestId('intro-dismiss').click();
    // All steps shown at once, the details open.
    for (const id of ['dropzone', 'data-panel', 'prune-panel', 'search-panel', 'finetune-panel', 'export-step']) {
      await expect(page.getByTestId(id)).toBeVisible();
    }
    await expect(page.getByTestId('fold-layers')).toHaveAttribute('open', '');
    await page.screenshot({ path: `${SHOTS}/desktop-1-model.png` });
    for (const [n, step] of (['data', 'compress', 'recover', 'export'] as const).entries()) {
      await goToStep(page, step);
      if (step === 'compress') {
        await setRange(page.getByTestId('ratio-slider'), 0.5);
        await page.getByTestId('prune-button').click();
        await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
        await goToStep(page, step);
      }
      const title = page.locator(`#step-${step}-title`);
      expect(await inViewport(title), step).toBe(true);
      await page.screenshot({ path: `${SHOTS}/desktop-${n + 2}-${step}.png` });
    }
    await expect(page.getByTestId('export-step-download')).toBeVisible();
    expect(errors).toEqual([]);
  });
});
