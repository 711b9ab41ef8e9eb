/**
 * WebGPU forced with ?backend=webgpu. Headless Chromium's adapter is SwiftShader, a fallback adapter:
 * the automatic choice would be WASM, but an explicit choice must still run there. Kept tiny: SwiftShader is slow.
 */
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { writeSequentialCnn, fixtureDir, type FixtureModel } from './fixtures';
import { waitForModel, pickFiles, layerRows } from './helpers';

let tiny: FixtureModel;

test.beforeAll(async () => {
  // Named tiny-export.json, next to metadata.json: only its content says it is the model.
  tiny = await writeSequentialCnn(join(fixtureDir('webgpu'), 'tiny'), {
    size: 6,
    channels: 1,
    filters: 4,
    classes: 3,
    modelFile: 'tiny-export.json',
    metadata: true,
  });
});

test('a forced WebGPU backend runs a dropped model on the SwiftShader fallback adapter', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('backend-name')).toHaveText('WebGPU', { timeout: 60_000 });
  await expect(page.getByTestId('backend-reason')).toContainText('WebGPU requested');
  await expect(page.getByTestId('adapter')).toContainText('fallback');

  await pickFiles(page, tiny.files);
  await expect(page.getByTestId('summary')).toContainText('tiny-export.json');
  await waitForModel(page, 'ok', 110_000);
  await expect(page.getByTestId('total-params')).toHaveAttribute('title', tiny.params.toLocaleString('en-US'));
  const rows = await layerRows(page);
  expect(rows.find((r) => r.layer === 'conv1')?.shape).toBe('[?, 6, 6, 4]');
  await expect(page.getByTestId('run-status')).toContainText('runs on webgpu: output shapes [1, 3]');
});
