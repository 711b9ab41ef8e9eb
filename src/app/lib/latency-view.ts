/**
 * How the app shows measured latency: milliseconds, speedups beside the MACs ratio, the backends a
 * "compare backends" run can time here, and the part of report.json that records a timing. Pure,
 * tested in Node.
 */
import { adapterLabel, type BackendInfo, type BackendName } from '../../core/measure/backends';
import type { LatencyStats } from '../../core/measure/latency';
import type { CompareRow, DeviceFlags, ModelsTiming } from '../../workers/latency-messages';

/** "0.42 ms", "4.18 ms", "52.3 ms", "312 ms". */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}

/** "1.84×". */
export function formatSpeedup(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`;
}

/** "+4.2%" / "−3.0%": a relative change. */
export function formatDrift(d: number | undefined): string {
  if (d === undefined || !Number.isFinite(d)) return '–';
  const v = (d * 100).toFixed(1);
  if (Number(v) === 0) return '0.0%';
  return d > 0 ? `+${v}%` : `−${v.slice(1)}%`;
}

export interface LatencyComparison {
  original: LatencyStats;
  pruned: LatencyStats;
  /** Pruned median over original median. */
  latencyRatio: number;
  /** Original median over pruned median. */
  speedup: number;
  macsRatio: number;
  /** The speedup MACs promise (1 / MACs ratio). */
  macsSpeedup: number;
}

/** Original and pruned timings (in that order) with the speedup and what MACs promised. */
export function compareLatency(stats: readonly LatencyStats[], macsRatio: number): LatencyComparison {
  const [original, pruned] = stats;
  if (!original || !pruned) throw new Error('two timings are needed: the original and the pruned model');
  return {
    original,
    pruned,
    latencyRatio: pruned.medianMs / original.medianMs,
    speedup: original.medianMs / pruned.medianMs,
    macsRatio,
    macsSpeedup: macsRatio > 0 ? 1 / macsRatio : Infinity,
  };
}

export interface BackendChoice {
  name: BackendName;
  label: string;
  /** False when it cannot run here at all (no WebGPU adapter). */
  available: boolean;
  /** Ticked at first: real hardware paths; not the emulated GPU nor the slow CPU. */
  defaultOn: boolean;
  note: string;
}

/** The backends a comparison can time, as the page's backend probe saw this device. */
export function backendChoices(info: BackendInfo | null): BackendChoice[] {
  const adapter = info?.adapter;
  const gpu: BackendChoice = !adapter
    ? { name: 'webgpu', label: 'WebGPU', available: false, defaultOn: false, note: 'no WebGPU adapter in this browser' }
    : adapter.isFallbackAdapter
      ? { name: 'webgpu', label: 'WebGPU', available: true, defaultOn: false, note: `fallback adapter (${adapterLabel(adapter)}): emulated in software, slow, not this device’s GPU` }
      : { name: 'webgpu', label: 'WebGPU', available: true, defaultOn: true, note: adapterLabel(adapter) };
  return [
    { name: 'wasm', label: 'WASM', available: true, defaultOn: true, note: 'WebAssembly on the CPU' },
    { name: 'webgl', label: 'WebGL', available: true, defaultOn: true, note: 'the GPU through WebGL 2' },
    gpu,
    { name: 'cpu', label: 'CPU', available: true, defaultOn: false, note: 'plain JavaScript: slow, for reference' },
  ];
}

export interface CompareLine {
  backend: BackendName;
  label: string;
  status: CompareRow['status'] | 'not-run';
  note: string;
  fallbackAdapter: boolean;
  original?: LatencyStats;
  pruned?: LatencyStats;
  speedup?: number;
  runs?: number;
}

/** Table lines: every choice in order, timed or not, with each backend's speedup. */
export function compareLines(choices: readonly BackendChoice[], rows: readonly CompareRow[]): CompareLine[] {
  return choices.map((c) => {
    const r = rows.find((x) => x.backend === c.name);
    if (!r) return { backend: c.name, label: c.label, status: 'not-run', note: !c.available ? c.note : c.defaultOn ? 'not ticked' : `${c.note}; not ticked`, fallbackAdapter: false };
    const [original, pruned] = r.stats ?? [];
    return {
      backend: c.name,
      label: c.label,
      status: r.status,
      note: r.note,
      fallbackAdapter: r.fallbackAdapter ?? false,
      original,
      pruned,
      speedup: original && pruned ? original.medianMs / pruned.medianMs : undefined,
      runs: r.runs,
    };
  });
}

const brief = (s: LatencyStats) => ({ medianMs: s.medianMs, minMs: s.minMs, spread: s.spread });

/** What report.json records about a timing: backend, adapter, device, runs, median and min of both models. */
export function latencyReport(timing: ModelsTiming, macsRatio: number, byBackend: readonly CompareRow[] = []) {
  const c = compareLatency(timing.stats, macsRatio);
  const adapter = timing.backend.adapter;
  return {
    backend: timing.backend.name,
    adapter: adapter ? { ...adapter } : undefined,
    device: { ...timing.device } as DeviceFlags,
    where: 'a Web Worker of this page',
    method: 'predict + await data() on every output, batch 1, interleaved original/pruned runs after warm-up, performance.now()',
    warmup: timing.warmup,
    runs: timing.runs,
    original: brief(c.original),
    pruned: brief(c.pruned),
    latencyRatio: c.latencyRatio,
    speedup: c.speedup,
    macsRatio,
    byBackend: byBackend.length
      ? byBackend.map((r) => ({
          backend: r.backend,
          status: r.status,
          note: r.note || undefined,
          fallbackAdapter: r.fallbackAdapter,
          runs: r.runs,
          original: r.stats?.[0] ? brief(r.stats[0]) : undefined,
          pruned: r.stats?.[1] ? brief(r.stats[1]) : undefined,
        }))
      : undefined,
  };
}
