/**
 * Issue 14's phone journey, end to end, at 390x844 with touch and the main thread slowed down 4x
 * (Chrome DevTools Protocol), with the smallest settings the UI allows:
 *   a. a bundled demo model: load, data, a 2-episode search, pick the best, fine-tune 1 epoch,
 *      download, and the download loaded in a plain tfjs page;
 *   b. a model of one's own (built here with tfjs, not a demo model) chosen as a folder, with its
 *      own loose images for fidelity, through the same steps.
 * Each step's taps, scrolls and main-thread long tasks go to test-results/journey/journey-figures.json
 * and the log; screenshots of each step to test-results/journey/journey-<a|b>-<n>-<step>.png.
 */
import { test, expect, type Download, type Page } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureDir, writeSequentialCnn } from './fixtures';
import { collectErrors, waitForModel } from './helpers';
import { Journey, observeLongTasks, predictInPlainTf, type StepFigures } from './journey-meter';
import { generateDataset } from '../src/core/data/procedural';
import { pngBytes } from '../src/core/data/node-images';

const OUT = 'test-results/journey';
const FIGURES = join(OUT, 'journey-figures.json');
const CPU_SLOWDOWN = 4;
const EPISODES = '2';
const OWN_IMAGES = 24;

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

type Figures = { steps: StepFigures[]; export: Awaited<ReturnType<typeof predictInPlainTf>> & { files: string[] } };
const results: Record<string, Figures> = {};

/** Adds a journey's figures to the file (each test adds its own, so one that fails does not lose the other's). */
function saveFigures(name: string, figures: Figures): void {
  results[name] = figures;
  mkdirSync(OUT, { recursive: true });
  const journeys = existsSync(FIGURES) ? (JSON.parse(readFileSync(FIGURES, 'utf8')).journeys as Record<string, Figures>) : {};
  journeys[name] = figures;
  writeFileSync(FIGURES, JSON.stringify({ viewport: '390x844', touch: true, cpuSlowdown: CPU_SLOWDOWN, episodes: Number(EPISODES), journeys }, null, 2) + '\n');
  console.log(`figures of journey ${name} written to ${FIGURES}`);
}

async function slowPhone(page: Page): Promise<void> {
  await observeLongTasks(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
}

async function shot(j: Journey, n: number, step: string): Promise<void> {
  await j.page.screenshot({ path: join(OUT, `journey-${j.name}-${n}-${step}.png`) });
}

/** Compress, pick, recover, export: the same for both models once the data is there. */
async function searchToExport(j: Journey, ftSetup: () => Promise<void>): Promise<string[]> {
  const page = j.page;
  const panel = page.getByTestId('search-panel');

  await j.step('search', 'Start search');
  await j.tap(page.getByTestId('step-compress'));
  await j.fill(panel.getByTestId('search-episodes'), EPISODES);
  await j.tap(panel.getByTestId('search-start'), true);
  await shot(j, 3, 'search-started');
  await expect(panel).toHaveAttribute('data-phase', 'done', { timeout: 150_000 });

  await j.step('pick', 'Compare and export the best');
  await j.tap(panel.getByTestId('search-pick-best'), true);
  await expect(panel.getByTestId('search-picked').getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
  await shot(j, 4, 'picked');

  await j.step('recover', 'Start fine-tuning');
  await j.tap(page.getByTestId('step-recover'));
  const ft = page.getByTestId('finetune-panel');
  await expect(ft.getByTestId('ft-subject')).toContainText('episode');
  await ftSetup();
  await j.fill(ft.getByTestId('ft-epochs'), '1');
  await j.tap(ft.getByTestId('ft-start'), true);
  await expect(ft.getByTestId('ft-status')).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
  await shot(j, 5, 'recovered');

  await j.step('export', 'Download the fine-tuned model');
  await j.tap(page.getByTestId('step-export'));
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await j.tap(page.getByTestId('export-step-ft-download'), true);
  await expect.poll(() => downloads.length).toBe(3);
  await shot(j, 6, 'export');
  await j.end();
  const dir = fixtureDir(`journey-${j.name}`);
  const files: string[] = [];
  for (const d of downloads) {
    const to = join(dir, d.suggestedFilename());
    await d.saveAs(to);
    files.push(to);
  }
  return files;
}

function report(name: string, steps: StepFigures[]): void {
  const rows = steps.map(
    (s) =>
      `  ${s.step.padEnd(8)} ${String(s.taps).padStart(2)} taps ${String(s.scrolls).padStart(2)} scrolls of ${String(s.scrolledPx).padStart(4)} px (${s.scrollsToAction} before "${s.action}")  ` +
      `${String(s.longTasks).padStart(3)} long tasks ${String(s.longTaskMs).padStart(6)} ms (longest ${s.longestTaskMs} ms)  ${s.seconds} s`,
  );
  console.log(`journey ${name}, 390x844, touch, CPU ${CPU_SLOWDOWN}x slower:\n${rows.join('\n')}`);
}

/** Fails when the app regresses: every main action within one scroll (Start search with none), the export loads in plain tfjs and predicts. */
function expectReasonable(steps: StepFigures[]): void {
  expect(steps.find((s) => s.step === 'search')!.scrollsToAction, 'Start search in the first screen of Compress').toBe(0);
  for (const s of steps) {
    expect(s.scrollsToAction, `${s.step}: scrolls before "${s.action}"`).toBeLessThanOrEqual(1);
    expect(s.scrolls, `${s.step}: scrolls`).toBeLessThanOrEqual(2);
    expect(s.taps, `${s.step}: taps`).toBeLessThanOrEqual(5);
  }
}

test('a. a bundled demo model on a slow phone: load, data, search, pick, recover, export, loaded in plain tfjs', async ({ page, context }) => {
  test.setTimeout(300_000);
  const errors = collectErrors(page);
  await slowPhone(page);
  const j = new Journey(page, 'a');

  await j.step('load', 'Dismiss the introduction (the demo model loads by itself)');
  await page.goto('/?demo=builtin');
  await waitForModel(page);
  await j.tap(page.getByTestId('intro-dismiss'), true);
  await shot(j, 1, 'model');

  await j.step('data', 'Evaluate');
  await j.tap(page.getByTestId('step-data'));
  await j.tap(page.getByTestId('data-demo-val'));
  await expect(page.getByTestId('data-summary')).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await j.tap(page.getByTestId('evaluate-button'), true);
  await expect(page.getByTestId('eval-result')).toBeVisible({ timeout: 120_000 });
  await shot(j, 2, 'data');

  const files = await searchToExport(j, async () => {
    await j.fill(page.getByTestId('ft-count'), '64');
  });
  report('a (demo model)', j.steps);
  const r = await predictInPlainTf(context, files);
  saveFigures('a', { steps: j.steps, export: { ...r, files: files.map((f) => f.split('/').pop()!) } });
  console.log(`journey a export: ${results.a.export.files.join(', ')}; ${r.modelFile} in plain tfjs: ${JSON.stringify(r.inputShape)} -> ${JSON.stringify(r.outputShape)}`);
  // Named after the model, as tf.io's downloads://builtin-finetuned would name them.
  expect(results.a.export.files.sort()).toEqual(['builtin-finetuned.json', 'builtin-finetuned.report.json', 'builtin-finetuned.weights.bin']);
  expect(r.weightsFiles).toEqual(['builtin-finetuned.weights.bin']);
  expect(r.outputShape).toEqual([1, 10]);
  expect(r.finite).toBe(true);
  expectReasonable(j.steps);
  expect(errors).toEqual([]);
});

test('b. a model of ones own, its own loose images, on a slow phone: through search, pick, recover, export, loaded in plain tfjs', async ({ page, context }) => {
  test.setTimeout(300_000);
  const errors = collectErrors(page);
  const dir = join(fixtureDir('journey-own'), 'leaf-spots');
  const classes = 3;
  await writeSequentialCnn(dir, { size: 32, channels: 3, filters: 16, classes });
  writeFileSync(join(dir, 'labels.txt'), 'healthy\nrust\nscab\n');
  const imgDir = fixtureDir('journey-images');
  const ds = generateDataset('val', { count: OWN_IMAGES });
  const images = Array.from({ length: OWN_IMAGES }, (_, i) => {
    const f = join(imgDir, `IMG_${1000 + i}.png`);
    writeFileSync(f, pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    return f;
  });

  await slowPhone(page);
  const j = new Journey(page, 'b');

  await j.step('load', 'Choose folder');
  await page.goto('/?demo=builtin');
  await waitForModel(page);
  await j.tap(page.getByTestId('intro-dismiss'));
  await j.pick(page.getByTestId('dropzone').getByRole('button', { name: 'Choose folder' }), dir, true);
  await expect(page.getByTestId('model-name')).toHaveText('leaf-spots', { timeout: 60_000 });
  await waitForModel(page);
  await expect(page.getByTestId('model-classes')).toContainText('healthy');
  await shot(j, 1, 'model');

  await j.step('data', 'Choose images');
  await j.tap(page.getByTestId('step-data'));
  await expect(page.getByTestId('data-own-images')).toBeVisible();
  await j.pick(page.getByTestId('data-pick-files'), images, true);
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-n', String(OWN_IMAGES), { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-kind', 'unlabeled');
  await shot(j, 2, 'data');

  const files = await searchToExport(j, async () => {
    await j.tap(page.getByTestId('ft-source-data'));
  });
  report('b (own model, own images)', j.steps);
  const r = await predictInPlainTf(context, files);
  saveFigures('b', { steps: j.steps, export: { ...r, files: files.map((f) => f.split('/').pop()!) } });
  console.log(`journey b export: ${results.b.export.files.join(', ')}; ${r.modelFile} in plain tfjs: ${JSON.stringify(r.inputShape)} -> ${JSON.stringify(r.outputShape)}`);
  expect(r.modelFile).toBe('leaf-spots-finetuned.json');
  expect(r.weightsFiles).toEqual(['leaf-spots-finetuned.weights.bin']);
  expect(r.outputShape).toEqual([1, classes]);
  expect(r.finite).toBe(true);
  expectReasonable(j.steps);
  expect(errors).toEqual([]);
});
