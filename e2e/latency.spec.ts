/**
 * Issue "Hardware in the loop": the device card times the reference model here; the compare view
 * shows the measured speedup of a pruned model beside its MACs ratio and records it in report.json;
 * "compare backends" gives a table (WebGPU on SwiftShader is a fallback adapter: labelled, and not
 * ticked by default); a short search with latency as its resource measures a latency table first,
 * shows measured latency ratios, and a resume after a reload reuses the saved table.
 *
 * Timings on this shared machine are noise: only presence, positivity and structure are asserted,
 * never a threshold on a time or a speedup.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForModel, collectErrors, setRange } from './helpers';
import { fixtureDir } from './fixtures';

async function value(l: Locator, name = 'data-value'): Promise<number> {
  return Number(await l.getAttribute(name));
}

async function download(page: Page, click: () => Promise<void>, dir: string): Promise<unknown> {
  const pending = page.waitForEvent('download');
  await click();
  const d = await pending;
  const file = join(dir, d.suggestedFilename());
  await d.saveAs(file);
  return JSON.parse(readFileSync(file, 'utf8'));
}

test('the device card times the reference model; a pruned model shows its measured speedup; backends compare', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = collectErrors(page);
  await page.goto('/?demo=builtin');
  await waitForModel(page);

  // The device card: backend, adapter (SwiftShader here: a fallback), WASM flags, the reference model's latency.
  const card = page.getByTestId('device-card');
  await expect(card).toBeVisible();
  await expect(card.getByTestId('device-backend')).toHaveText('WASM');
  await expect(card.getByTestId('device-adapter')).toHaveAttribute('data-fallback', 'true');
  await expect(card.getByTestId('device-adapter')).toContainText('fallback');
  const ref = card.getByTestId('reference-latency');
  await expect(ref).toBeVisible({ timeout: 60_000 });
  await expect(ref).toHaveAttribute('data-backend', 'wasm');
  expect(await value(ref)).toBeGreaterThan(0);
  await expect(card.getByTestId('device-flags')).toContainText(/thread/);
  await expect(card.getByTestId('reference-drift')).toContainText('first timing');
  // Re-timed on demand: the drift against the first timing shows.
  await card.getByTestId('reference-retime').click();
  await expect(card.getByTestId('reference-drift')).toContainText('since the first of 2 timings', { timeout: 60_000 });
  expect(Number.isFinite(await value(card.getByTestId('reference-drift')))).toBe(true);
  expect(await value(ref)).toBeGreaterThan(0);

  // Prune to half: the compare view times both models and shows the speedup beside the MACs ratio.
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  const result = page.getByTestId('prune-result');
  await expect(result).toBeVisible();
  await expect(result.getByTestId('compare-latency')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  const orig = await value(result.getByTestId('orig-latency'));
  const pruned = await value(result.getByTestId('pruned-latency'));
  expect(orig).toBeGreaterThan(0);
  expect(pruned).toBeGreaterThan(0);
  const speedup = await value(result.getByTestId('latency-speedup'));
  expect(speedup).toBeCloseTo(orig / pruned, 6);
  const macsRatio = (await value(result.getByTestId('pruned-macs'))) / (await value(result.getByTestId('orig-macs')));
  expect(await value(result.getByTestId('macs-speedup'))).toBeCloseTo(1 / macsRatio, 6);
  await expect(result.getByTestId('latency-detail')).toHaveAttribute('data-backend', 'wasm');
  expect(await value(result.getByTestId('latency-detail'), 'data-runs')).toBeGreaterThan(0);

  // The report (builtin-pruned.report.json) carries the measurement.
  const dir = fixtureDir('latency');
  const report = (await download(page, () => result.locator('[data-testid=download-link][data-file="builtin-pruned.report.json"]').click(), dir)) as {
    latency: { backend: string; runs: number; original: { medianMs: number; minMs: number }; pruned: { medianMs: number }; speedup: number; macsRatio: number };
  };
  expect(report.latency.backend).toBe('wasm');
  expect(report.latency.runs).toBeGreaterThan(0);
  expect(report.latency.original.medianMs).toBe(orig);
  expect(report.latency.original.minMs).toBeGreaterThan(0);
  expect(report.latency.original.minMs).toBeLessThanOrEqual(report.latency.original.medianMs);
  expect(report.latency.pruned.medianMs).toBe(pruned);
  expect(report.latency.macsRatio).toBeCloseTo(macsRatio, 9);

  // Compare backends: WASM and WebGL ticked; WebGPU's SwiftShader adapter is labelled a fallback and left out; CPU optional.
  const backends = result.getByTestId('backends');
  await backends.locator('summary').click();
  const pick = (b: string) => backends.locator(`[data-testid=backend-pick][data-backend=${b}]`);
  await expect(pick('wasm')).toBeChecked();
  await expect(pick('webgl')).toBeChecked();
  await expect(pick('webgpu')).not.toBeChecked();
  await expect(pick('webgpu').locator('xpath=..')).toContainText('fallback adapter');
  await expect(pick('cpu')).not.toBeChecked();
  await backends.getByTestId('compare-backends').click();
  const table = backends.getByTestId('backends-table');
  await expect(table).toBeVisible({ timeout: 150_000 });
  const row = (b: string) => table.locator(`[data-testid=backend-row][data-backend=${b}]`);
  await expect(row('wasm')).toHaveAttribute('data-status', 'ok');
  expect(await value(row('wasm').getByTestId('backend-orig'))).toBeGreaterThan(0);
  expect(await value(row('wasm').getByTestId('backend-pruned'))).toBeGreaterThan(0);
  expect(await value(row('wasm').getByTestId('backend-speedup'))).toBeGreaterThan(0);
  // WebGL runs on SwiftShader here too; if it cannot start in a worker the row says so.
  const webgl = await row('webgl').getAttribute('data-status');
  expect(['ok', 'failed']).toContain(webgl);
  if (webgl === 'ok') expect(await value(row('webgl').getByTestId('backend-speedup'))).toBeGreaterThan(0);
  await expect(row('webgpu')).toHaveAttribute('data-status', 'not-run');
  await expect(row('cpu')).toHaveAttribute('data-status', 'not-run');
  await expect(backends.getByTestId('backends-restored')).toContainText('back on WASM');
  // The page's backend never changed.
  await expect(page.getByTestId('backend-name')).toHaveText('WASM');

  // Ticked on purpose, the emulated WebGPU is timed and labelled a fallback adapter in the table.
  await pick('wasm').uncheck();
  await pick('webgl').uncheck();
  await pick('webgpu').check();
  await backends.getByTestId('compare-backends').click();
  await expect(row('webgpu')).toHaveAttribute('data-status', /ok|failed/, { timeout: 200_000 });
  await expect(row('webgpu')).toHaveAttribute('data-fallback', 'true');
  await expect(row('webgpu')).toContainText('fallback adapter');
  if ((await row('webgpu').getAttribute('data-status')) === 'ok') expect(await value(row('webgpu').getByTestId('backend-orig'))).toBeGreaterThan(0);
  await expect(backends.getByTestId('backends-restored')).toContainText('back on WASM');

  // The reference model on the page's backend still times after the round trip.
  await card.getByTestId('reference-retime').click();
  await expect(card.getByTestId('reference-drift')).toContainText('since the first of 3 timings', { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a latency-target search measures a table, shows measured latency ratios, and a resume reuses the saved table', async ({ page }) => {
  test.setTimeout(360_000);
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);
  const panel = page.getByTestId('search-panel');
  await panel.getByTestId('search-resource').selectOption('latency');
  await expect(panel.getByTestId('search-latency-explain')).toContainText('latency table');
  await panel.getByTestId('search-target').fill('0.7');
  await panel.getByTestId('search-episodes').fill('6');
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-warmup').fill('2');
  await panel.getByTestId('search-images').fill('40');
  await panel.getByTestId('search-evaluator').selectOption('slice');
  await panel.getByTestId('search-start').click();

  // The table first (progress, then its summary), then episodes with measured latency.
  const table = panel.getByTestId('latency-table');
  await expect(table).toBeVisible({ timeout: 180_000 });
  expect(await value(table, 'data-layers')).toBeGreaterThan(0);
  await expect(table).toHaveAttribute('data-backend', 'wasm');
  await expect(table).toHaveAttribute('data-reused', 'false');
  await expect(panel.getByTestId('search-error')).toHaveCount(0);
  expect(await value(panel.getByTestId('search-original-latency'))).toBeGreaterThan(0);
  await expect.poll(() => value(page.getByTestId('reward-chart'), 'data-episodes'), { timeout: 120_000, intervals: [100] }).toBeGreaterThanOrEqual(1);
  await expect(panel.getByTestId('search-best')).toContainText(/latency [\d.]+% measured \(table predicted [\d.]+%\)/);

  // A reload mid-search: the resumed search reuses the saved table, not a re-measured one.
  await page.reload();
  await waitForModel(page);
  const offer = page.getByTestId('search-resume-saved');
  await expect(offer).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('search-resume-offer')).toContainText('latency ≤ 70%');
  await offer.click();
  await expect(table).toHaveAttribute('data-reused', 'true', { timeout: 120_000 });
  await expect(panel.getByTestId('latency-table-progress')).toHaveCount(0);
  await expect(panel).toHaveAttribute('data-phase', 'done', { timeout: 240_000 });
  await expect(panel.getByTestId('search-count')).toHaveText('episode 6 of 6');

  // Charts: every episode on the Pareto chart (measured latency) and on latency against MACs.
  expect(await value(page.getByTestId('pareto-chart'), 'data-points')).toBe(6);
  const chart = page.getByTestId('latency-macs-chart');
  await expect(chart).toBeVisible();
  expect(await value(chart, 'data-points')).toBe(6);
  const discordant = await value(chart, 'data-discordant');
  expect(discordant).toBeGreaterThanOrEqual(0);
  expect(discordant).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('latency-macs-summary')).toContainText('Over 6 episodes');

  // The search worker re-timed the reference model (drift on the device card).
  const drift = page.getByTestId('search-drift');
  await expect(drift).toBeVisible();
  expect(await value(drift, 'data-points')).toBeGreaterThanOrEqual(1);
  // Warned of exactly when the drift passed the load change the CLI warns of too (LOAD_CHANGE, 25%).
  const maxDrift = await value(drift, 'data-max-drift');
  await expect(drift.getByTestId('search-drift-warning')).toHaveCount(Math.abs(maxDrift) > 0.25 ? 1 : 0);

  // The log: every episode measured, its ratio the measured latency over the original's.
  const log = (await download(page, () => panel.getByTestId('search-download-log').click(), fixtureDir('latency-search'))) as {
    config: { env: { resource: string } };
    log: { episode: number; resourceRatio: number; predictedRatio: number; latencyMs: number }[];
    latency: { originalMs: number; reused: boolean; table: { layers: number; backend: string } };
  };
  expect(log.config.env.resource).toBe('latency');
  expect(log.log.map((e) => e.episode)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(log.latency.table.layers).toBeGreaterThan(0);
  expect(log.latency.reused).toBe(true);
  // The original's latency was measured again after the reload: ratios of episodes since then use it.
  expect(log.latency.originalMs).toBeGreaterThan(0);
  for (const e of log.log) {
    expect(e.latencyMs).toBeGreaterThan(0);
    expect(e.resourceRatio).toBeGreaterThan(0);
    // The table's prediction is recorded beside it (its accuracy is the predictor's business, not this journey's).
    expect(Number.isFinite(e.predictedRatio)).toBe(true);
  }

  // The best model, compared: its measured speedup beside its MACs ratio.
  await panel.getByTestId('search-pick-best').click();
  const picked = panel.getByTestId('search-picked');
  await expect(picked.getByTestId('compare-latency')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  expect(await value(picked.getByTestId('latency-speedup'))).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
