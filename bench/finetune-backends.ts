/**
 * Fine-tune time per epoch on each tfjs backend, and what each backend lacks for training:
 * WASM in Node, and WASM, WebGL, WebGPU and CPU in headless Chromium (the project's flags), all
 * through one function (bench/browser/finetune.ts). Writes bench/finetune-backends.json and
 * prints a table.
 *
 *   npx tsx bench/finetune-backends.ts [--models mobilenet-like,plain-cnn] [--backends wasm,webgl,webgpu,cpu]
 *                                      [--images 256] [--gl 256] [--small 64] [--batch 32] [--no-node] [--out FILE]
 *
 * WASM trains `--images` images per timed epoch (after a warm-up epoch of the same size), WebGL `--gl`;
 * WebGPU here is SwiftShader (a fallback adapter, emulated on the CPU) and CPU is pure JavaScript:
 * both only run `--small` images, to learn which kernels work, and their times are marked as not
 * representative. Each Node run is a child process (WASM's gradient kernels, once installed, are
 * global to a process; the stock-kernel check needs a process that never installed them).
 * Timings on a shared 2-core machine move up to 2x between runs: compare rows of one run, and read
 * `load` (the 1-minute load average before each row) and `beside` (other busy processes).
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { buildApp, finetuneInChromium } from './browser';
import { finetuneBench, type FinetuneBenchPlan, type FinetuneBenchResult } from './browser/finetune';
import type { BackendName } from '../src/core/measure/backends';

const log = (s: string) => process.stderr.write(`${s}\n`);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Other processes using the CPU now (this one and its children excluded), to say what ran beside the bench. */
function beside(): string[] {
  try {
    const out = execFileSync('ps', ['-eo', 'pid,ppid,pcpu,args', '--sort=-pcpu'], { encoding: 'utf8' });
    return out
      .split('\n')
      .slice(1)
      .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+([\d.]+)\s+(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null && Number(m[3]) >= 10 && Number(m[1]) !== process.pid && Number(m[2]) !== process.pid && !m[4].startsWith('ps '))
      .map((m) => `${m[3]}% ${m[4].replace(/\/work\/main\/node_modules\/[^ ]*\/(tsx|vitest)[^ ]*/g, '$1').slice(0, 160)}`);
  } catch {
    return [];
  }
}

// A child: one Node plan, its result as JSON on stdout.
if (process.argv[2] === '--node-one') {
  const plan = JSON.parse(process.argv[3]) as FinetuneBenchPlan;
  const [{ initBackend }, { loadModel }, { filesFromPath }] = await Promise.all([import('../src/core/measure/backends'), import('../src/core/model/load'), import('../src/core/model/node-files')]);
  const teacher = await loadModel(filesFromPath(`models/${plan.model}/model.json`));
  const r = await finetuneBench(teacher, plan, (b) => initBackend(b), 'Node', log);
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
}

function nodeRun(plan: FinetuneBenchPlan): Promise<FinetuneBenchResult> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--node-one', JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      for (const line of String(d).split('\n')) if (line.trim()) log(line);
    });
    child.on('close', (code) => {
      try {
        ok(JSON.parse(out) as FinetuneBenchResult);
      } catch {
        const error = `Node run exited ${code}: ${err.trim().split('\n').pop() ?? ''}`;
        ok({ model: plan.model, where: 'Node', requested: plan.backend, used: null, reason: '', images: plan.images, batchSize: plan.batchSize, heldOut: 0, student: { params: 0, keep: {} }, kernels: { used: [], missing: [] }, stockStep: { ok: false }, error, totalSeconds: 0 });
      }
    });
  });
}

type Row = FinetuneBenchResult & { load: number; representative: boolean; note?: string };

function representative(r: FinetuneBenchResult): { representative: boolean; note?: string } {
  if (r.syncRead) return { representative: false };
  if (r.used === 'webgpu' && r.adapterFallback !== false) return { representative: false, note: 'WebGPU on a fallback adapter (SwiftShader): emulated, time not representative' };
  if (r.used === 'webgl') return { representative: true, note: 'WebGL on SwiftShader (no GPU here): emulated, what this machine gives, not a GPU' };
  if (r.used === 'cpu') return { representative: false, note: 'pure-JS CPU backend: few images, a last resort' };
  return { representative: true };
}

function table(rows: Row[]): string {
  const head = ['backend', 'where', 'model', 'images', 's / 1000 img', 'loss (warm-up -> timed)', 'held-out KL', 'grad vs CPU', 'missing kernels (stock)', 'load', 'error / note'];
  const body = rows.map((r) => [
    r.requested,
    r.where,
    r.model,
    String(r.timed ? r.images : '-'),
    r.secondsPer1000 !== undefined ? `${r.secondsPer1000.toFixed(1)}${r.representative ? '' : ' *'}` : '-',
    r.timed && r.warmup ? `${r.warmup.trainLoss.toFixed(3)} -> ${r.timed.trainLoss.toFixed(3)}` : '-',
    r.heldOutLoss ? r.heldOutLoss.map((v) => v.toFixed(2)).join(' > ') : '-',
    (r.patchedStep ?? r.stockStep).grad ? (r.patchedStep ?? r.stockStep).grad!.worstRelErr.toExponential(0) : '-',
    r.kernels.missing.join(' ') || (r.used && !r.syncRead ? 'none' : '-'),
    r.load.toFixed(1),
    [r.syncRead ? `dataSync probe: ${r.syncRead.ok ? 'ok' : r.syncRead.error}` : undefined, r.error, r.stockStep.error && r.patchedStep ? `stock: ${r.stockStep.missingKernel ?? r.stockStep.error}; patched` : r.stockStep.error, r.note].filter(Boolean).join('; '),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((s, i) => s.padEnd(w[i])).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)].join('\n');
}

const models = (flag('models') ?? 'mobilenet-like,plain-cnn').split(',');
const backends = (flag('backends') ?? 'wasm,webgl,webgpu,cpu').split(',') as BackendName[];
const images = Number(flag('images') ?? 256);
const small = Number(flag('small') ?? 64);
const glImages = Number(flag('gl') ?? images);
const batchSize = Number(flag('batch') ?? 32);
const out = flag('out') ?? 'bench/finetune-backends.json';
const withNode = !process.argv.includes('--no-node') && backends.includes('wasm');

const started = new Date().toISOString();
const besideAtStart = beside();
log(`fine-tune backends: ${models.join(', ')} on ${backends.join(', ')}; ${images} images (WebGPU, CPU: ${small}), batch ${batchSize}`);
log(`beside this bench: ${besideAtStart.join(' | ') || 'nothing busy'}`);
const rows: Row[] = [];
const add = (r: FinetuneBenchResult, load: number) => rows.push({ ...r, load, ...representative(r) });

if (withNode) {
  for (const model of models) {
    const load = loadavg()[0];
    add(await nodeRun({ model, backend: 'wasm', images, batchSize }), load);
  }
}
const buildSeconds = await buildApp(log);
const plans: FinetuneBenchPlan[] = [];
for (const backend of backends) {
  // tfjs-webgpu's dataSync goes through an OffscreenCanvas 'webgpu' context (the Distiller once called it; it reads with data() now).
  if (backend === 'webgpu' || backend === 'webgl') plans.push({ model: '-', backend, images: 0, batchSize: 0, syncReadProbe: true });
  for (const model of models) plans.push({ model, backend, images: backend === 'webgpu' || backend === 'cpu' ? small : backend === 'webgl' ? glImages : images, batchSize });
}
const loads: number[] = [];
const chromium = await finetuneInChromium(plans, log, 900_000, (_plan, i) => (loads[i] = loadavg()[0]));
chromium.results.forEach((r, i) => add(r, loads[i] ?? loadavg()[0]));
// Node WASM once more after Chromium: on a shared machine, two Node rows show how far the load moved the numbers.
if (withNode) {
  for (const model of models) {
    const load = loadavg()[0];
    const r = await nodeRun({ model, backend: 'wasm', images, batchSize });
    rows.push({ ...r, load, representative: true, note: 'again, after the Chromium runs' });
  }
}
const besideAtEnd = beside();

const fastest = rows.filter((r) => r.representative && r.secondsPer1000 !== undefined && !r.error).sort((a, b) => a.secondsPer1000! - b.secondsPer1000!);
const result = {
  what: 'Distillation fine-tune (src/core/finetune/distiller.ts) of each demo model uniformly pruned to 50% per group, demo:train images with labels and the demo augmentation, Adam, batch ' + batchSize + '. Time: the second (timed) epoch after a warm-up epoch, steps only (held-out scoring excluded), as seconds per 1000 training images.',
  started,
  finished: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version },
  chromium: { version: chromium.version, userAgent: chromium.userAgent, crossOriginIsolated: chromium.crossOriginIsolated, buildSeconds },
  beside: { atStart: besideAtStart, atEnd: besideAtEnd },
  fastest: fastest.map((r) => `${r.where} ${r.requested} ${r.model}: ${r.secondsPer1000!.toFixed(1)} s / 1000 images`),
  rows,
};
writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
console.log(table(rows));
console.log('* not representative: WebGPU on SwiftShader (a fallback adapter) and the pure-JS CPU backend, run on few images only to learn which kernels work.');
console.log(`beside it: ${besideAtStart.length ? besideAtStart.join(' | ') : 'nothing busy'}`);
log(`wrote ${out}`);
