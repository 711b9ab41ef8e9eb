import { describe, expect, it } from 'vitest';
import type { FromLatencyWorker, ReferenceTiming, ToLatencyWorker } from '../../workers/latency-messages';
import { LatencyClient } from './latency-client';

class FakeWorker {
  posted: ToLatencyWorker[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromLatencyWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  postMessage(m: ToLatencyWorker) {
    this.posted.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  send(m: FromLatencyWorker) {
    this.onmessage?.({ data: m } as MessageEvent<FromLatencyWorker>);
  }
}

const timing = (medianMs: number): ReferenceTiming => ({ medianMs, drift: 0, checks: 1, runs: 20, warmup: 3, backend: { name: 'wasm', reason: '' }, device: {}, at: 0 });

function setup() {
  const workers: FakeWorker[] = [];
  const client = new LatencyClient(() => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  return { client, workers };
}

describe('LatencyClient', () => {
  it('makes one worker on first use and answers each request by its id, progress on the way', async () => {
    const { client, workers } = setup();
    const a = client.reference('wasm');
    const b = client.reference('wasm');
    expect(workers).toHaveLength(1);
    const [ra, rb] = workers[0].posted;
    expect(ra).toMatchObject({ type: 'reference', backend: 'wasm' });
    expect(ra.id).not.toBe(rb.id);
    workers[0].send({ type: 'reference', id: rb.id, result: timing(2) });
    workers[0].send({ type: 'reference', id: ra.id, result: timing(1) });
    expect((await a).medianMs).toBe(1);
    expect((await b).medianMs).toBe(2);
  });

  it('passes progress and rejects with the worker’s message', async () => {
    const { client, workers } = setup();
    const seen: string[] = [];
    const p = client.compare([], 32, ['wasm'], 'wasm', { warmup: 1, runs: 2, budgetMs: 10 }, (_f, what) => seen.push(what));
    const id = workers[0].posted[0].id;
    workers[0].send({ type: 'progress', id, fraction: 0, what: 'timing on WASM (1 of 1)' });
    workers[0].send({ type: 'error', id, message: 'boom' });
    await expect(p).rejects.toThrow('boom');
    expect(seen).toEqual(['timing on WASM (1 of 1)']);
  });

  it('a crashed worker fails what was pending, and the next request starts a new one', async () => {
    const { client, workers } = setup();
    const p = client.reference();
    workers[0].onerror?.({ message: 'out of memory' } as ErrorEvent);
    await expect(p).rejects.toThrow(/timing worker failed: out of memory/);
    expect(workers[0].terminated).toBe(true);
    const q = client.reference();
    expect(workers).toHaveLength(2);
    workers[1].send({ type: 'reference', id: workers[1].posted[0].id, result: timing(3) });
    expect((await q).medianMs).toBe(3);
  });

  it('says so when no worker can be made (Node, old browsers)', async () => {
    const client = new LatencyClient(() => {
      throw new Error('Worker is not defined');
    });
    await expect(client.reference()).rejects.toThrow(/could not start the timing worker: Worker is not defined/);
  });
});
