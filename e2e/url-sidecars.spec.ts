/**
 * Issue 14, "names": a model opened from a URL brings the files beside it, as a dropped folder
 * does: labels.txt (or class_names.txt) names its classes, a Teachable Machine metadata.json
 * names the model; the ones a host does not have (404) are not missed out loud.
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fixtureDir, writeSequentialCnn } from './fixtures';
import { collectErrors, waitForModel } from './helpers';

test('?url= reads labels.txt and metadata.json beside model.json; a missing class_names.txt is silent', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = collectErrors(page);
  const m = await writeSequentialCnn(join(fixtureDir('url-sidecars'), 'remote'), { size: 8, channels: 3, filters: 8, classes: 3 });
  const host = 'https://models.example.test';
  const asked: string[] = [];
  const served: Record<string, string | Buffer> = {
    'model.json': readFileSync(m.modelJson),
    'weights.bin': readFileSync(m.weights),
    'labels.txt': '0 fern\n1 moss\n2 ivy\n',
    'metadata.json': JSON.stringify({ modelName: 'Garden plants', packageName: '@teachablemachine/image' }),
  };
  await page.route(`${host}/**`, async (route) => {
    const name = basename(new URL(route.request().url()).pathname);
    asked.push(name);
    const headers = { 'access-control-allow-origin': '*' };
    const body = served[name];
    if (body === undefined) return route.fulfill({ status: 404, headers, body: 'not found' });
    return route.fulfill({ status: 200, headers, contentType: name.endsWith('.json') ? 'application/json' : name.endsWith('.txt') ? 'text/plain' : 'application/octet-stream', body });
  });
  await page.goto('/?url=' + encodeURIComponent(`${host}/garden/model.json`));
  await waitForModel(page);
  await expect(page.getByTestId('model-name')).toHaveText('Garden plants');
  await expect(page.getByTestId('model-classes')).toContainText('3 class names (from labels.txt): fern, moss, ivy');
  expect(asked.sort()).toEqual(['class_names.txt', 'labels.txt', 'metadata.json', 'model.json', 'weights.bin']);
  await expect(page.getByTestId('load-error')).toHaveCount(0);
  expect(errors).toEqual([]);
});
