/**
 * Issue 13, "the page never freezes": a subset of the fuzz suite's mutations (src/testing/mutations.ts),
 * one or two per class, picked on the built app. Each must end as a clear refusal naming the file
 * (or, for NaN weights, as a model that loads with a warning), with no "this is a bug" text, no page
 * error and no freeze (every step within a time limit, the page answering after it); each is followed
 * by a good model that must still load, run and prune, with the tensor count back where it started.
 * Three memory bombs in a row come before one good model (they once broke the WASM backend).
 */
import { test, expect, type Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, mobilenetV2Like } from '../src/testing/fixtures';
import { mutationsOf, type FuzzCase } from '../src/testing/mutations';
import { collectErrors, pickFiles, waitForModel, setRange } from './helpers';
import { fixtureDir } from './fixtures';

/** [class, variant] of the cases dropped, in order; a nested list is dropped in a row before the good model. */
const PICKED: ([string, string] | [string, string][])[] = [
  ['graph cycle', 'a layer reads a later one'],
  ['graph cycle', 'two layers read each other'],
  ['self-loop', 'a layer reads itself'],
  ['dangling input', 'input from a missing layer'],
  ['huge shapes', 'input 20000x20000'],
  ['huge layer sizes', 'Conv2D filters 1e8'],
  ['bad sizes and strides', 'strides 0'],
  ['config/weight mismatch', 'filters + 1'],
  ['config/weight mismatch', 'kernel_size 5 on a 3x3 kernel'],
  ['NaN weights', 'NaN in a kernel'],
  ['prototype class names', '__proto__'],
  ['prototype class names', 'constructor'],
  ['not a model.json', 'a PNG renamed'],
  [
    ['huge shapes', 'input 20000x20000'],
    ['huge layer sizes', 'Conv2D filters 1e8'],
    ['huge layer sizes', 'Dense units 1e9'],
  ],
];

/** Every step must end within this (a frozen tab never does). */
const STEP_MS = 45_000;

interface Written {
  cls: string;
  name: string;
  expect?: FuzzCase['expect'];
  files: string[];
}

let good: string[][] = [];
let steps: Written[][] = [];

test.beforeAll(async () => {
  await tf.setBackend('cpu');
  const root = fixtureDir('bad-models');
  const exported = await exportModel(mobilenetV2Like());
  const all = mutationsOf('mobilenet-v2-like', exported);
  const write = async (c: FuzzCase, dir: string): Promise<string[]> => {
    mkdirSync(dir, { recursive: true });
    const out: string[] = [];
    for (const f of c.files) {
      const path = join(dir, f.path);
      writeFileSync(path, new Uint8Array(await f.read()));
      out.push(path);
    }
    return out;
  };
  const find = ([cls, variant]: [string, string]): FuzzCase => {
    const c = all.find((x) => x.cls === cls && x.name === `mobilenet-v2-like: ${variant}`);
    if (!c) throw new Error(`no fuzz case ${cls} / ${variant}`);
    return c;
  };
  let n = 0;
  steps = [];
  for (const p of PICKED) {
    const group = (typeof p[0] === 'string' ? [p as [string, string]] : (p as [string, string][])).map(find);
    const written: Written[] = [];
    for (const c of group) written.push({ cls: c.cls, name: c.name, expect: c.expect, files: await write(c, join(root, `case-${n++}`)) });
    steps.push(written);
  }
  // The good model under a new JSON name for each round, so the page's model name says which load it shows.
  const goodDir = join(root, 'good');
  mkdirSync(goodDir, { recursive: true });
  writeFileSync(join(goodDir, 'weights.bin'), new Uint8Array(exported.shards['weights.bin']));
  good = Array.from({ length: steps.length + 1 }, (_, i) => {
    const json = join(goodDir, `good-${i}.json`);
    writeFileSync(json, JSON.stringify(exported.modelJson));
    return [json, join(goodDir, 'weights.bin')];
  });
});

/** The page still answers (a frozen main thread would not). */
async function responsive(page: Page): Promise<void> {
  const answered = await Promise.race([page.evaluate(() => 1 + 1), new Promise<number>((r) => setTimeout(() => r(0), 10_000))]);
  expect(answered, 'the page answers within 10 s').toBe(2);
}

async function loadGood(page: Page, round: number): Promise<number> {
  await pickFiles(page, good[round]);
  await expect(page.getByTestId('model-name')).toHaveText(`good-${round}`, { timeout: STEP_MS });
  await expect(page.getByTestId('load-error')).toHaveCount(0);
  await waitForModel(page, 'ok', STEP_MS);
  return Number(await page.getByTestId('tensor-count').textContent());
}

async function pruneHalf(page: Page): Promise<void> {
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: STEP_MS });
}

test('malformed models dropped on the app are refused clearly or loaded, and a good model still loads and prunes after each', async ({ page }) => {
  test.setTimeout(15 * 60_000);
  const errors = collectErrors(page);
  const counts = new Map<string, { cases: number; refused: number; loaded: number; handled: number }>();
  const record = (cls: string, outcome: 'refused' | 'loaded' | 'unhandled') => {
    const c = counts.get(cls) ?? { cases: 0, refused: 0, loaded: 0, handled: 0 };
    c.cases++;
    if (outcome !== 'unhandled') {
      c[outcome]++;
      c.handled++;
    }
    counts.set(cls, c);
  };

  await page.goto('/?backend=wasm');
  await waitForModel(page);
  const start = await loadGood(page, 0);
  expect(start).toBeGreaterThan(0);

  for (const [i, group] of steps.entries()) {
    for (const c of group) {
      const what = `${c.cls}: ${c.name}`;
      await pickFiles(page, c.files);
      if (c.expect === 'loaded') {
        // Loads with a warning (NaN/Infinity weights): the model runs, under the name of its folder.
        await expect(page.getByTestId('model-name'), what).toHaveText(/^model(\.json)?$/, { timeout: STEP_MS });
        await waitForModel(page, 'ok', STEP_MS);
        await expect(page.getByTestId('load-error'), what).toHaveCount(0);
        record(c.cls, 'loaded');
      } else {
        await expect(page.getByTestId('load-error'), what).toBeVisible({ timeout: STEP_MS });
        const file = (await page.getByTestId('error-file').textContent()) ?? '';
        const problem = (await page.getByTestId('error-problem').textContent()) ?? '';
        expect(file, what).toMatch(/model\.json|weights\.bin/);
        expect(problem.length, what).toBeGreaterThan(10);
        // Control characters from a binary file never reach the page.
        expect(problem, what).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
        record(c.cls, 'refused');
      }
      await expect(page.locator('body'), what).not.toContainText(/this is a bug/i);
      await responsive(page);
    }
    const tensors = await loadGood(page, i + 1);
    expect(tensors, `tensors after ${group.map((c) => c.name).join(', ')}`).toBe(start);
    await pruneHalf(page);
    await responsive(page);
  }

  const table = [...counts].map(([cls, c]) => `${cls.padEnd(24)} ${c.cases} cases, ${c.handled} handled (${c.refused} refused, ${c.loaded} loaded)`);
  console.log(`bad models on the page (start ${start} tensors, back to it after every good reload):\n${table.join('\n')}`);
  test.info().annotations.push({ type: 'counts', description: table.join('; ') });
  expect(errors).toEqual([]);
});
