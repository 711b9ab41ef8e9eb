/**
 * Issue "Demo models, a demo dataset, and evaluation": the app opens on a trained demo model with
 * the demo test split ready, and Evaluate reproduces the model card's accuracy; a picked folder of
 * labeled PNGs gives the CLI's accuracy; loose images give fidelity; a bad image is a clear error.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureDir, writeSequentialCnn } from './fixtures';
import { collectErrors, dropFiles, goToStep, pickFiles, waitForModel } from './helpers';
import { CLASS_NAMES, generateDataset } from '../src/core/data/procedural';
import { pngBytes } from '../src/core/data/node-images';

test.setTimeout(300_000);

/** demo:test images [0, count) as PNGs in class folders under `root` (every PNG row filter used). */
function writeDemoFolder(root: string, count: number, offset = 0): void {
  const ds = generateDataset('test', { offset, count });
  const per = 32 * 32 * 3;
  for (let i = 0; i < ds.N; i++) {
    const sub = join(root, CLASS_NAMES[ds.labels[i]]);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `test${offset + i}.png`), pngBytes(ds.images.subarray(i * per, (i + 1) * per), 32, 32, 3, { filter: (i % 5) as 0 }));
  }
}

/** The bundled model the app opened on, from the summary ("Built-in demo: <name>"). */
async function demoName(page: Page): Promise<string> {
  const text = (await page.getByTestId('summary').locator('h2').textContent()) ?? '';
  const m = /Built-in demo: ([\w-]+)/.exec(text);
  expect(m, `summary title '${text}'`).not.toBeNull();
  return m![1];
}

/** Top-1 on demo:test as the model card (models/<name>/README.md) states it, e.g. "86.10%". */
function cardTop1(name: string): string {
  const card = readFileSync(join('models', name, 'README.md'), 'utf8');
  const m = /`demo:test`[^\n]*?top-1 (\d+\.\d+)%/.exec(card);
  expect(m, `models/${name}/README.md states top-1 on demo:test`).not.toBeNull();
  return `${m![1]}%`;
}

function cli(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function evaluate(page: Page): Promise<Locator> {
  const button = page.getByTestId('evaluate-button');
  await expect(button).toBeEnabled({ timeout: 120_000 });
  await button.click();
  await expect(page.getByTestId('eval-progress')).toHaveCount(0, { timeout: 240_000 });
  await expect(page.getByTestId('eval-error')).toHaveCount(0);
  const result = page.getByTestId('eval-result');
  await expect(result).toBeVisible();
  return result;
}

/** No tensor is left behind by an evaluation. */
async function expectTensorsFlat(page: Page): Promise<void> {
  const t = page.getByTestId('eval-tensors');
  const before = Number(await t.getAttribute('data-before'));
  expect(before).toBeGreaterThan(0);
  expect(Number(await t.getAttribute('data-after'))).toBe(before);
}

test('first open: the demo model and demo:test are ready, and Evaluate shows the accuracy on the model card', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);
  const name = await demoName(page);
  await expect(page.getByTestId('data-demo-test')).toHaveAttribute('aria-pressed', 'true');
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-n', '2000');
  await expect(page.getByTestId('class-count')).toHaveCount(10);
  await expect(page.getByTestId('class-count').first()).toHaveText('200');
  await expect(page.getByTestId('preview-image')).toHaveCount(8);
  await expect(page.getByTestId('scaling')).toHaveValue('unit');
  await expect(page.getByTestId('preview-range')).toContainText('from 0.00 to 1.00');
  const expected = cardTop1(name);
  await expect(page.getByTestId('card-accuracy')).toContainText(expected);

  const result = await evaluate(page);
  await expect(result.locator('[data-which=original] [data-testid=top1]')).toHaveText(expected);
  await expect(page.getByTestId('eval-row')).toHaveCount(1);
  await expectTensorsFlat(page);

  // A wrong scaling is visible in the preview and costs accuracy.
  await page.getByTestId('scaling').selectOption('raw');
  await expect(page.getByTestId('preview-range')).toContainText('to 255');
  await expect(page.getByTestId('eval-result')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a labeled folder of PNGs picked through the folder input evaluates to the top-1 the CLI gives', async ({ page }) => {
  const errors = collectErrors(page);
  const root = join(fixtureDir('labeled'), 'shapes');
  writeDemoFolder(root, 50);
  writeFileSync(join(root, 'notes.txt'), 'not an image');
  await page.goto('/');
  await waitForModel(page);
  const name = await demoName(page);

  await page.getByTestId('data-folder-input').setInputFiles(root);
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-n', '50', { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-kind', 'labeled');
  await expect(summary).toContainText('shapes');
  await expect(page.getByTestId('label-source')).toContainText("demo dataset's classes");
  await expect(page.locator('[data-testid=class-counts] li[data-class="striped disc"] [data-testid=class-count]')).toHaveText('5');
  await expect(page.getByTestId('skipped-count')).toHaveText('1');
  await expect(page.getByTestId('skipped')).toContainText('not an image');
  await expect(page.getByTestId('data-pick-folder')).toHaveClass(/active/);

  const result = await evaluate(page);
  const fromCli = cli('eval', `models/${name}/model.json`, '--data', root, '--json');
  expect(fromCli.n).toBe(50);
  await expect(result.locator('[data-which=original] [data-testid=top1]')).toHaveText(`${((fromCli.top1 as number) * 100).toFixed(2)}%`);
  await expect(result.locator('[data-which=original] [data-testid=top5]')).toHaveText(`${((fromCli.top5 as number) * 100).toFixed(2)}%`);
  // The CLI on the same demo:test images (no PNGs) agrees too: the PNG round trip is exact.
  const fromDemo = cli('eval', `models/${name}/model.json`, '--data', 'demo:test', '--limit', '50', '--json');
  expect(fromDemo.top1).toBe(fromCli.top1);
  await expectTensorsFlat(page);
  expect(errors).toEqual([]);
});

test('dropped loose images are unlabeled: after pruning, Evaluate gives agreement and mean KL', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = fixtureDir('loose');
  const ds = generateDataset('val', { count: 12 });
  const files = Array.from({ length: 12 }, (_, i) => {
    const f = join(dir, `photo-${i}.png`);
    writeFileSync(f, pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    return f;
  });
  await page.goto('/');
  await waitForModel(page);
  // Dropped on the page (not on the data panel): images without weight files go to the data panel.
  await dropFiles(page, files);
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-kind', 'unlabeled', { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-n', '12');
  await expect(page.getByTestId('needs-prune')).toBeVisible();
  await expect(page.getByTestId('evaluate-button')).toBeDisabled();

  const slider = page.getByTestId('ratio-slider');
  await slider.evaluate((el) => {
    const input = el as HTMLInputElement;
    input.value = '0.5';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('evaluate-button')).toHaveText('Evaluate original and pruned');

  const result = await evaluate(page);
  await expect(result).toHaveAttribute('data-kind', 'unlabeled');
  await expect(page.getByTestId('eval-row')).toHaveCount(2);
  const agreement = Number(await result.getByTestId('agreement').getAttribute('data-value'));
  const kl = Number(await result.getByTestId('mean-kl').getAttribute('data-value'));
  expect(agreement).toBeGreaterThanOrEqual(0);
  expect(agreement).toBeLessThanOrEqual(1);
  expect(kl).toBeGreaterThan(0);
  await expect(result.getByTestId('agreement')).toHaveText(/^\d+\.\d\d%$/);
  await expectTensorsFlat(page);
  expect(errors).toEqual([]);
});

test('a bad image gives a clear error naming it; the data already there and the app keep working', async ({ page }) => {
  const errors = collectErrors(page);
  const root = join(fixtureDir('bad'), 'mixed');
  writeDemoFolder(root, 10);
  writeFileSync(join(root, 'disc', 'broken.png'), 'this is not a PNG');
  await page.goto('/');
  await waitForModel(page);
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-n', '2000', { timeout: 60_000 });

  await page.getByTestId('data-folder-input').setInputFiles(root);
  await expect(page.getByTestId('data-error')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('data-error-file')).toHaveText('mixed/disc/broken.png');
  await expect(page.getByTestId('data-error-problem')).toContainText('is not an image this browser can read');
  await expect(page.getByTestId('data-error-fix')).toContainText(/Re-save it as a PNG or JPEG, or remove it/);
  // The demo split is still the data, and evaluation still works on a good folder.
  await expect(summary).toHaveAttribute('data-n', '2000');
  await expect(page.getByTestId('data-demo-test')).toHaveAttribute('aria-pressed', 'true');

  const good = join(fixtureDir('good'), 'shapes');
  writeDemoFolder(good, 20, 100);
  await page.getByTestId('data-folder-input').setInputFiles(good);
  await expect(page.getByTestId('data-error')).toHaveCount(0);
  await expect(summary).toHaveAttribute('data-n', '20', { timeout: 60_000 });
  const result = await evaluate(page);
  await expect(result.locator('[data-which=original] [data-testid=top1]')).toHaveText(/^\d+\.\d\d%$/);

  // An empty class folder and a drop of non-images are refused the same way.
  const empty = join(fixtureDir('empty'), 'classes');
  mkdirSync(join(empty, 'cats'), { recursive: true });
  writeFileSync(join(empty, 'cats', 'readme.txt'), 'no images here');
  mkdirSync(join(empty, 'dogs'), { recursive: true });
  writeFileSync(join(empty, 'dogs', 'a.png'), pngBytes(new Uint8Array(4 * 4 * 3), 4, 4, 3));
  await page.getByTestId('data-folder-input').setInputFiles(empty);
  await expect(page.getByTestId('data-error-file')).toHaveText('classes/cats/');
  await expect(page.getByTestId('data-error-problem')).toContainText('class folder with no images');
  await page.getByTestId('data-error').getByRole('button', { name: 'Dismiss' }).click();
  // One picked image that is not an image: the same clear error.
  const fake = join(fixtureDir('fake'), 'holiday.jpg');
  writeFileSync(fake, 'plain text');
  await page.getByTestId('data-file-input').setInputFiles(fake);
  await expect(page.getByTestId('data-error-file')).toHaveText('holiday.jpg');
  await expect(page.getByTestId('data-error-problem')).toContainText('is not an image this browser can read');
  await page.getByTestId('data-error').getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('data-error')).toHaveCount(0);
  await expect(summary).toHaveAttribute('data-n', '20');
  expect(errors).toEqual([]);
});

test('a Teachable-Machine-like model: [-1, 1] by default, its metadata.json labels map the folders, other sizes are resized', async ({ page }) => {
  const errors = collectErrors(page);
  const tm = await writeSequentialCnn(join(fixtureDir('tm'), 'export'), { size: 12, channels: 3, filters: 8, classes: 4, metadata: true });
  const root = join(fixtureDir('tm-data'), 'photos');
  const ds = generateDataset('val', { count: 9 });
  ['Class 2', 'class_1', 'class 4', 'unknown'].forEach((folder, k) => {
    mkdirSync(join(root, folder), { recursive: true });
    for (let j = 0; j < 2; j++) {
      const i = (k * 2 + j) % ds.N;
      writeFileSync(join(root, folder, `${j}.png`), pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    }
  });
  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, tm.files);
  await expect(page.getByTestId('summary')).toContainText('model.json');
  await waitForModel(page);

  // The demo split is 10 classes; this model has 4: the demo images serve as unlabeled data.
  const summary = page.getByTestId('data-summary');
  await expect(summary).toHaveAttribute('data-kind', 'unlabeled', { timeout: 60_000 });
  await expect(page.getByTestId('label-source')).toContainText('has 4 outputs');
  await expect(page.getByTestId('scaling')).toHaveValue('signed');
  await expect(page.getByTestId('preview-range')).toContainText('([-1, 1]). Dark and harsh is right');

  await page.getByTestId('data-folder-input').setInputFiles(root);
  await expect(summary).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-n', '6');
  await expect(summary).toContainText('12x12x3');
  await expect(page.getByTestId('label-source')).toContainText("the model's metadata.json");
  await expect(page.getByTestId('unmatched')).toContainText('unknown');
  await expect(page.locator('[data-testid=class-counts] li[data-class="class 1"] [data-testid=class-count]')).toHaveText('2');
  await expect(page.locator('[data-testid=class-counts] li[data-class="class 3"] [data-testid=class-count]')).toHaveText('0');
  await expect(page.getByTestId('skipped-count')).toHaveText('2');
  await expect(page.getByTestId('preview-image').first()).toHaveJSProperty('width', 12);
  const result = await evaluate(page);
  await expect(result.locator('[data-which=original] [data-testid=top1]')).toHaveText(/^\d+\.\d\d%$/);
  await expect(result).toContainText('scaled to [-1, 1]');
  await expectTensorsFlat(page);
  expect(errors).toEqual([]);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });

  test('at 390 px the data panel, its preview, counts, errors and results fit without sideways scrolling', async ({ page }) => {
    const root = join(fixtureDir('phone'), 'a-rather-long-folder-name-for-the-evaluation-images');
    writeDemoFolder(root, 20);
    writeFileSync(join(root, 'checkered square', 'an-unusually-long-file-name-that-is-not-an-image-at-all.txt'), 'x');
    await page.goto('/');
    await waitForModel(page);
    await goToStep(page, 'data');
    await page.getByTestId('data-folder-input').setInputFiles(root);
    await expect(page.getByTestId('data-summary')).toHaveAttribute('data-n', '20', { timeout: 60_000 });
    await page.getByTestId('skipped').locator('summary').click();
    await evaluate(page);
    const bad = join(fixtureDir('phone-bad'), 'another-long-folder-name-with-a-broken-image-inside');
    mkdirSync(join(bad, 'disc'), { recursive: true });
    writeFileSync(join(bad, 'disc', 'a-broken-image-with-a-long-name.png'), 'not a png');
    await page.getByTestId('data-folder-input').setInputFiles(bad);
    await expect(page.getByTestId('data-error')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('data-panel').scrollIntoViewIfNeeded();
    const o = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const offenders: string[] = [];
      const clipped = (el: Element): boolean => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const x = getComputedStyle(p).overflowX;
          if (x === 'auto' || x === 'scroll' || x === 'hidden' || x === 'clip') return true;
        }
        return false;
      };
      for (const el of Array.from(document.querySelectorAll('[data-testid=data-panel] *'))) {
        const r = el.getBoundingClientRect();
        if (r.width && r.height && (r.right > width + 1 || r.left < -1) && !clipped(el)) offenders.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
      }
      return { width, doc: document.documentElement.scrollWidth, offenders: offenders.slice(0, 10) };
    });
    expect(o.width).toBe(390);
    expect(o.offenders).toEqual([]);
    expect(o.doc).toBeLessThanOrEqual(390);
    for (const id of ['evaluate-button', 'scaling', 'data-pick-folder', 'preview']) {
      const box = await page.getByTestId(id).boundingBox();
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
    }
  });
});
