/**
 * What a phone journey costs the user, step by step: the taps, the scrolls needed to bring each
 * tapped control on screen, and the long tasks (> 50 ms) on the page's main thread while the step
 * ran. A scroll is counted when a control is off screen or under the sticky header when the user
 * wants it, which is what a thumb would have to do before the tap.
 */
import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TF_JS = require.resolve('@tensorflow/tfjs/dist/tf.min.js');

export interface StepFigures {
  step: string;
  /** The control the step is for ("Start search"). */
  action: string;
  taps: number;
  scrolls: number;
  /** Scrolls before the main action's own tap (0: it was on screen when wanted). */
  scrollsToAction: number;
  /** How far those scrolls went, in CSS pixels (a screen is 844). */
  scrolledPx: number;
  longTasks: number;
  longTaskMs: number;
  longestTaskMs: number;
  seconds: number;
}

/** Installed before any page script: every long task of the main thread, kept until read. */
export async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push(e.duration);
      }).observe({ entryTypes: ['longtask'] });
    } catch {
      // no Long Tasks API: the figures say 0
    }
  });
}

/** Whether a thumb could tap the control as the page is scrolled now: on screen and not covered (the sticky header). */
async function reachable(loc: Locator): Promise<boolean> {
  return loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    // A visually hidden file input is reached through the label/button that opens it: treat as reachable when on screen.
    return !!hit && (hit === el || el.contains(hit) || hit.contains(el) || (el as HTMLElement).closest('label')?.contains(hit) === true);
  });
}

export class Journey {
  readonly steps: StepFigures[] = [];
  private cur: (StepFigures & { t0: number }) | null = null;

  constructor(
    readonly page: Page,
    readonly name: string,
  ) {}

  /** Starts counting a step; the previous one ends here. */
  async step(step: string, action: string): Promise<void> {
    await this.end();
    await this.drainLongTasks();
    this.cur = { step, action, taps: 0, scrolls: 0, scrollsToAction: 0, scrolledPx: 0, longTasks: 0, longTaskMs: 0, longestTaskMs: 0, seconds: 0, t0: Date.now() };
  }

  /** Ends the step under way: its long tasks are the ones since it began. */
  async end(): Promise<void> {
    const c = this.cur;
    if (!c) return;
    const tasks = await this.drainLongTasks();
    const { t0, ...fig } = c;
    fig.longTasks = tasks.length;
    fig.longTaskMs = Math.round(tasks.reduce((a, b) => a + b, 0));
    fig.longestTaskMs = Math.round(Math.max(0, ...tasks));
    fig.seconds = Math.round((Date.now() - t0) / 100) / 10;
    this.steps.push(fig);
    this.cur = null;
  }

  /** Taps a control as a user would: a scroll first when it is not within reach. `main` marks the step's main action. */
  async tap(loc: Locator, main = false): Promise<void> {
    await this.reach(loc, main);
    await loc.tap();
  }

  /** Taps a number field and types a value in it. */
  async fill(loc: Locator, value: string): Promise<void> {
    await this.reach(loc, false);
    await loc.tap();
    await loc.fill(value);
    await loc.dispatchEvent('change');
  }

  /** Taps a button that opens the file picker and picks `files` (a folder: one path to it). */
  async pick(button: Locator, files: string | string[], main = false): Promise<void> {
    await this.reach(button, main);
    const chooser = this.page.waitForEvent('filechooser');
    await button.tap();
    await (await chooser).setFiles(files);
  }

  private async reach(loc: Locator, main: boolean): Promise<void> {
    const c = this.cur;
    expect(c, 'a tap outside a step').not.toBeNull();
    await expect(loc).toBeVisible();
    if (!(await reachable(loc))) {
      c!.scrolls++;
      if (main) c!.scrollsToAction++;
      const before = await this.page.evaluate(() => scrollY);
      await loc.scrollIntoViewIfNeeded();
      c!.scrolledPx += Math.round(Math.abs((await this.page.evaluate(() => scrollY)) - before));
    }
    c!.taps++;
  }

  private async drainLongTasks(): Promise<number[]> {
    return this.page.evaluate(() => {
      const w = globalThis as unknown as { __longTasks?: number[] };
      return w.__longTasks ? w.__longTasks.splice(0) : [];
    });
  }
}

/**
 * The downloaded files served as a static host would serve them beside a blank page on the app's
 * origin that has the stock tf.min.js and nothing of the app; the model JSON (found by content)
 * loaded with tf.loadLayersModel by its downloaded name, so the weights path inside it must match
 * the weights file's downloaded name. Returns the output shape of a prediction on random input.
 */
export async function predictInPlainTf(
  context: BrowserContext,
  files: string[],
): Promise<{ modelFile: string; weightsFiles: string[]; inputShape: number[]; outputShape: number[]; finite: boolean; params: number }> {
  const byName = new Map(files.map((f) => [basename(f), f]));
  const modelFile = files.map((f) => basename(f)).find((n) => n.endsWith('.json') && 'modelTopology' in JSON.parse(readFileSync(byName.get(n)!, 'utf8')));
  expect(modelFile, `a model JSON among ${[...byName.keys()].join(', ')}`).toBeDefined();
  const manifest = JSON.parse(readFileSync(byName.get(modelFile!)!, 'utf8')).weightsManifest as { paths: string[] }[];
  const weightsFiles = manifest.flatMap((g) => g.paths.map((p) => p.replace(/^\.\//, '')));
  const page = await context.newPage();
  await page.route('**/__plain/**', async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.slice('/__plain/'.length));
    if (name === 'index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>plain tfjs</title>' });
    if (name === 'tf.min.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: readFileSync(TF_JS) });
    const file = byName.get(name);
    if (!file) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, body: readFileSync(file), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
  await page.goto('/__plain/index.html');
  await page.addScriptTag({ url: '/__plain/tf.min.js' });
  const r = await page.evaluate(async (url) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tf = (globalThis as any).tf;
    await tf.setBackend('cpu');
    const m = await tf.loadLayersModel(url);
    const inputShape = m.inputs[0].shape.map((d: number | null, i: number) => (i === 0 ? 1 : (d ?? 32)));
    const x = tf.randomUniform(inputShape);
    const y = m.predict(x);
    const out = { inputShape, outputShape: y.shape as number[], finite: (Array.from(await y.data()) as number[]).every(Number.isFinite), params: m.countParams() as number };
    tf.dispose([x, y]);
    m.dispose();
    return out;
  }, `/__plain/${encodeURIComponent(modelFile!)}`);
  await page.close();
  return { modelFile: modelFile!, weightsFiles, ...r };
}
