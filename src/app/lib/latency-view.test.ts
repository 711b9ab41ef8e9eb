import { describe, expect, it } from 'vitest';
import type { LatencyStats } from '../../core/measure/latency';
import type { CompareRow, ModelsTiming } from '../../workers/latency-messages';
import { backendChoices, compareLatency, compareLines, formatDrift, formatMs, formatSpeedup, latencyReport } from './latency-view';

const stats = (medianMs: number, backend = 'wasm'): LatencyStats => ({ medianMs, minMs: medianMs * 0.9, spread: 0.1, runs: 10, warmup: 2, backend, flags: {} });

describe('latency view', () => {
  it('formats milliseconds, speedups and drift', () => {
    expect(formatMs(0.4213)).toBe('0.42 ms');
    expect(formatMs(4.18)).toBe('4.18 ms');
    expect(formatMs(52.34)).toBe('52.3 ms');
    expect(formatMs(312.4)).toBe('312 ms');
    expect(formatMs(undefined)).toBe('–');
    expect(formatSpeedup(1.8423)).toBe('1.84×');
    expect(formatSpeedup(Infinity)).toBe('–');
    expect(formatDrift(0.042)).toBe('+4.2%');
    expect(formatDrift(-0.03)).toBe('−3.0%');
    expect(formatDrift(0)).toBe('0.0%');
    expect(formatDrift(-0.0001)).toBe('0.0%');
  });

  it('gives the measured speedup beside the one MACs promise', () => {
    const c = compareLatency([stats(10), stats(4)], 0.25);
    expect(c.speedup).toBeCloseTo(2.5, 12);
    expect(c.latencyRatio).toBeCloseTo(0.4, 12);
    expect(c.macsSpeedup).toBeCloseTo(4, 12);
    expect(() => compareLatency([stats(1)], 0.5)).toThrow(/two timings/);
  });

  it('lists the backends a comparison can time: a fallback WebGPU adapter is labelled and off by default', () => {
    const none = backendChoices({ name: 'wasm', reason: '' });
    expect(none.map((c) => c.name)).toEqual(['wasm', 'webgl', 'webgpu', 'cpu']);
    expect(none.find((c) => c.name === 'webgpu')).toMatchObject({ available: false, defaultOn: false });
    const adapter = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device', isFallbackAdapter: true };
    const soft = backendChoices({ name: 'wasm', reason: '', adapter }).find((c) => c.name === 'webgpu')!;
    expect(soft).toMatchObject({ available: true, defaultOn: false });
    expect(soft.note).toMatch(/fallback adapter \(SwiftShader\)/);
    const real = backendChoices({ name: 'webgpu', reason: '', adapter: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA RTX', isFallbackAdapter: false } }).find((c) => c.name === 'webgpu')!;
    expect(real).toMatchObject({ available: true, defaultOn: true, note: 'NVIDIA RTX' });
    expect(none.find((c) => c.name === 'cpu')!.defaultOn).toBe(false);
  });

  it('builds the comparison table: every backend in order, timed or not, with its speedup', () => {
    const choices = backendChoices({ name: 'wasm', reason: '' });
    const rows: CompareRow[] = [
      { backend: 'wasm', status: 'ok', note: '', stats: [stats(8), stats(4)], runs: 10, warmup: 2 },
      { backend: 'webgl', status: 'failed', note: 'WebGL requested but failed (no context)' },
    ];
    const lines = compareLines(choices, rows);
    expect(lines.map((l) => [l.backend, l.status])).toEqual([
      ['wasm', 'ok'],
      ['webgl', 'failed'],
      ['webgpu', 'not-run'],
      ['cpu', 'not-run'],
    ]);
    expect(lines[0].speedup).toBeCloseTo(2, 12);
    expect(lines[1].note).toMatch(/no context/);
    expect(lines[2].note).toMatch(/no WebGPU adapter/);
    expect(lines[3].note).toBe('plain JavaScript: slow, for reference; not ticked');
  });

  it('records a timing in report.json with the backend, device, runs, median and min of both models', () => {
    const timing: ModelsTiming = { stats: [stats(10), stats(5)], backend: { name: 'wasm', reason: '' }, device: { wasmSimd: true, cores: 2 }, warmup: 3, runs: 20 };
    const r = latencyReport(timing, 0.3, [{ backend: 'cpu', status: 'ok', note: '', stats: [stats(80, 'cpu'), stats(30, 'cpu')], runs: 5, warmup: 1 }]);
    expect(r).toMatchObject({ backend: 'wasm', runs: 20, warmup: 3, speedup: 2, latencyRatio: 0.5, macsRatio: 0.3, device: { wasmSimd: true, cores: 2 } });
    expect(r.original).toEqual({ medianMs: 10, minMs: 9, spread: 0.1 });
    expect(r.byBackend?.[0]).toMatchObject({ backend: 'cpu', status: 'ok', runs: 5, original: { medianMs: 80 }, pruned: { medianMs: 30 } });
    // report.json holds it: it goes through JSON unchanged (no NaN, Infinity or function turned into null or dropped).
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(latencyReport(timing, 0.3).byBackend).toBeUndefined();
  });
});
