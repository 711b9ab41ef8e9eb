/**
 * Issue "The AMC search": a short search in the worker fills the charts; a reload in the middle
 * offers to resume it and loses no finished episode; it finishes; a point of the cost/accuracy
 * chart loads that pruned model into the comparison and its export downloads.
 */
import { test, expect, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForModel, collectErrors, pickFiles, goToStep } from './helpers';
import { fixtureDir, writeSequentialCnn } from './fixtures';

const EPISODES = 10;
const WARMUP = 3;

async function attr(page: Page, testId: string, name: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute(name));
}

/** Elements of the search panel sticking out past the right edge of the page. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const panel = document.querySelector('[data-testid=search-panel]')!;
    return Array.from(panel.querySelectorAll('*'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 1;
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
  });
}

test('a short search fills the charts, survives a reload, finishes, and its best model exports', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);
  const panel = page.getByTestId('search-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId('past-searches')).toContainText('(0)');

  // Defaults: constrained, MACs, target 0.5, 300 episodes with the paper's 100 warm-up episodes.
  await expect(panel.getByTestId('search-target')).toHaveValue('0.5');
  await expect(panel.getByTestId('search-episodes')).toHaveValue('300');
  await expect(panel.getByTestId('search-warmup-count')).toHaveText('100');
  await panel.getByTestId('search-episodes').fill(String(EPISODES));
  await expect(panel.getByTestId('search-warmup-count')).toHaveText('3'); // a third of a short budget
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-warmup').fill(String(WARMUP));
  await panel.getByTestId('search-images').fill('100');
  await expect(panel.getByTestId('search-explain')).toContainText('100 demo:val images, top-1 accuracy');
  await panel.getByTestId('search-start').click();

  // Episodes arrive from the worker and fill the three charts.
  await expect.poll(() => attr(page, 'reward-chart', 'data-episodes'), { timeout: 90_000, intervals: [100] }).toBeGreaterThanOrEqual(2);
  await expect(panel.getByTestId('search-progress')).toContainText(/episode \d+ of 10/);
  await expect(panel.getByTestId('policy-bar').first()).toBeVisible();
  expect(await panel.getByTestId('policy-bar').count()).toBe(await attr(page, 'policy-chart', 'data-groups'));
  expect(await attr(page, 'pareto-chart', 'data-points')).toBeGreaterThanOrEqual(2);
  await expect(panel.getByTestId('search-uniform')).toContainText('every group at');
  const seen = await attr(page, 'reward-chart', 'data-episodes');
  expect(seen).toBeLessThan(EPISODES);

  // A reload in the middle of the search: the page offers to resume it with every finished episode.
  await page.reload();
  await waitForModel(page);
  const offer = page.getByTestId('search-resume-saved');
  await expect(offer).toBeVisible({ timeout: 30_000 });
  const text = (await offer.textContent()) ?? '';
  const m = /Resume search \((\d+) of 10 episodes done\)/.exec(text);
  expect(m, text).not.toBeNull();
  const saved = Number(m![1]);
  expect(saved).toBeGreaterThanOrEqual(seen);
  expect(saved).toBeLessThan(EPISODES);
  await offer.click();

  // The restored log is on the charts at once, then the search runs to the end of its budget.
  await expect.poll(() => attr(page, 'reward-chart', 'data-episodes'), { timeout: 30_000 }).toBeGreaterThanOrEqual(saved);
  await expect(panel).toHaveAttribute('data-phase', 'done', { timeout: 180_000 });
  expect(await attr(page, 'reward-chart', 'data-episodes')).toBe(EPISODES);
  await expect(panel.getByTestId('search-count')).toHaveText(`episode ${EPISODES} of ${EPISODES}`);
  await expect(panel.getByTestId('search-gain')).toContainText(/points? (above|below) uniform|the same as uniform/);
  await expect(panel.locator('[data-testid=past-search][data-state=done]')).toHaveCount(1);
  await expect(panel.getByTestId('past-episodes')).toHaveText(`${EPISODES} of ${EPISODES} episodes`);

  // The log has every episode once, in order: no finished episode was lost or run twice.
  const logDownload = page.waitForEvent('download');
  await panel.getByTestId('search-download-log').click();
  const logFile = join(fixtureDir('search'), 'search-log.json');
  await (await logDownload).saveAs(logFile);
  const log = JSON.parse(readFileSync(logFile, 'utf8'));
  expect(log.log.map((e: { episode: number }) => e.episode)).toEqual([...Array(EPISODES).keys()]);
  expect(log.log.map((e: { phase: string }) => e.phase)).toEqual([...Array(EPISODES).keys()].map((i) => (i < WARMUP ? 'warm-up' : 'learning')));
  for (const e of log.log) expect(e.resourceRatio).toBeLessThanOrEqual(0.5);
  expect(log.config.episodes).toBe(EPISODES);
  expect(log.best.reward).toBe(Math.max(...log.log.map((e: { reward: number }) => e.reward)));

  // Click the best point of the cost/accuracy chart: its model is compared with the original.
  const chart = page.getByTestId('pareto-chart');
  await chart.scrollIntoViewIfNeeded();
  const bx = await attr(page, 'pareto-chart', 'data-best-x');
  const by = await attr(page, 'pareto-chart', 'data-best-y');
  await chart.click({ position: { x: bx, y: by } });
  const picked = panel.getByTestId('search-picked');
  await expect(picked).toBeVisible();
  await expect(picked).toHaveAttribute('data-which', 'amc');
  await expect(picked).toHaveAttribute('data-episode', String(log.best.episode));
  const result = picked.getByTestId('prune-result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  const origMacs = Number(await result.getByTestId('orig-macs').getAttribute('data-value'));
  const prunedMacs = Number(await result.getByTestId('pruned-macs').getAttribute('data-value'));
  expect(prunedMacs).toBe(log.best.macs);
  expect(prunedMacs / origMacs).toBeLessThanOrEqual(0.5);

  // Export: the three files download, and the report's policy is the best episode's.
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await result.getByTestId('download-all').click();
  await expect.poll(() => downloads.length).toBe(3);
  const dir = fixtureDir('search-export');
  const files: Record<string, string> = {};
  for (const d of downloads) {
    files[d.suggestedFilename()] = join(dir, d.suggestedFilename());
    await d.saveAs(files[d.suggestedFilename()]);
  }
  // Named after the model, as tf.io's downloads://mobilenet-like-pruned names them.
  expect(Object.keys(files).sort()).toEqual(['mobilenet-like-pruned.json', 'mobilenet-like-pruned.report.json', 'mobilenet-like-pruned.weights.bin']);
  const report = JSON.parse(readFileSync(files['mobilenet-like-pruned.report.json'], 'utf8'));
  expect(report.policy).toEqual(log.best.keep);
  expect(report.pruned.macs).toBe(log.best.macs);
  // ...with the search it comes from.
  expect(report.search.picked).toMatchObject({ which: 'amc', episode: log.best.episode, reward: log.best.reward });
  expect(report.search.config.episodes).toBe(EPISODES);
  expect(report.search.uniform.ratio).toBeGreaterThan(0);
  const modelJson = JSON.parse(readFileSync(files['mobilenet-like-pruned.json'], 'utf8'));
  expect(modelJson.weightsManifest[0].paths).toEqual(['./mobilenet-like-pruned.weights.bin']);
  const bytes = modelJson.weightsManifest[0].weights.reduce((s: number, w: { shape: number[] }) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  expect(readFileSync(files['mobilenet-like-pruned.weights.bin']).byteLength).toBe(bytes);

  // "Compare and export the best" picks the same episode.
  await panel.getByTestId('search-pick-best').click();
  await expect(picked).toHaveAttribute('data-episode', String(log.best.episode));
  // "Compare uniform" picks the uniform baseline at the same target (to fine-tune and compare it too).
  await panel.getByTestId('search-pick-uniform').click();
  await expect(picked).toHaveAttribute('data-which', 'uniform');

  // Past searches can be deleted.
  await panel.getByTestId('past-delete').click();
  await expect(panel.getByTestId('past-search')).toHaveCount(0);
  await expect(panel.getByTestId('past-searches')).toContainText('(0)');
  expect(errors).toEqual([]);
});

test('a search on a dropped model resumes after a reload with that model restored from browser storage', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = collectErrors(page);
  const cnn = await writeSequentialCnn(fixtureDir('search-cnn'), { size: 16, channels: 3, filters: 32, classes: 4, modelFile: 'my-cnn.json' });
  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, cnn.files);
  await expect(page.locator('#model-title')).toHaveText('my-cnn');
  await waitForModel(page);
  const panel = page.getByTestId('search-panel');
  // A tiny model scores fast: a budget long enough that the reload comes mid-search.
  await panel.getByTestId('search-episodes').fill('40');
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-images').fill('300');
  // 4 outputs, not the demo's 10 classes: the reward is agreement with the original model.
  await expect(panel.getByTestId('search-explain')).toContainText('300 demo:val images, agreement with the original model');
  await panel.getByTestId('search-start').click();
  await expect.poll(() => attr(page, 'reward-chart', 'data-episodes'), { timeout: 60_000, intervals: [100] }).toBeGreaterThanOrEqual(1);

  await page.reload();
  await waitForModel(page);
  // The page opened on the bundled demo model; resuming brings the dropped model back.
  await expect(page.getByTestId('search-resume-offer')).toContainText('my-cnn');
  await expect(page.getByTestId('search-resume-saved')).toContainText(/Resume search \(\d+ of 40 episodes done\)/);
  await page.getByTestId('search-resume-saved').click();
  await expect(page.locator('#model-title')).toHaveText('my-cnn');
  await expect(panel).toHaveAttribute('data-phase', 'done', { timeout: 150_000 });
  expect(await attr(page, 'reward-chart', 'data-episodes')).toBe(40);
  await panel.getByTestId('search-pick-best').click();
  await expect(panel.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
  expect(Number(await panel.getByTestId('pruned-macs').getAttribute('data-value'))).toBeLessThanOrEqual(0.5 * Number(await panel.getByTestId('orig-macs').getAttribute('data-value')));
  expect(errors).toEqual([]);
});

test('the search panel fits a 390 px screen with its charts filled', async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);
  await goToStep(page, 'compress');
  const panel = page.getByTestId('search-panel');
  await panel.getByTestId('search-episodes').fill('3');
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-images').fill('50');
  await panel.getByTestId('search-random').check();
  await panel.getByTestId('search-start').click();
  await expect(panel).toHaveAttribute('data-phase', 'done', { timeout: 120_000 });
  expect(await attr(page, 'reward-chart', 'data-random-episodes')).toBe(3);
  await expect(panel.getByTestId('search-random-best')).toBeVisible();
  expect(await overflowing(page)).toEqual([]);
  const box = await page.getByTestId('pareto-chart').boundingBox();
  expect(box!.width).toBeGreaterThan(250);
  expect(box!.width).toBeLessThanOrEqual(390);
  expect(errors).toEqual([]);
  await context.close();
});
