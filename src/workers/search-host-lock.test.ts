/**
 * Two tabs, one saved search: SearchHost takes the search's lock before it runs a saved search, a
 * second host (another tab's worker) is refused while the first holds it and can start once the
 * first stops; a search deleted meanwhile is not written back; a full storage is reported and the
 * search goes on.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, randomImages, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { MemoryStore, startMessage } from '../testing/search-host';
import { FakeLocks } from '../testing/fake-locks';
import { messageLog } from '../testing/messages';
import { exportFiles } from '../core/export/files';
import { loadModel } from '../core/model/load';
import { searchConfig, type SearchConfig } from '../core/search/config';
import { SearchHost } from './search-host';
import { LOCKED_ELSEWHERE, lockedSearchIds, tryLockSearch } from './search-lock';
import { StorageFullError } from './storage-full';
import type { ModelFiles, ScoringSpec } from './payload';
import type { FromWorker, ToWorker } from './search-messages';
import type { SearchMeta, SearchProgress, SearchStore } from './search-store';

let files: ModelFiles;
let data: Extract<ScoringSpec, { kind: 'images' }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV2Like.build(), 3)));
  files = exportFiles(model);
  data = { kind: 'images', name: 'random', ...randomImages(30, 8, 4), eval: { imageSize: 8, batchSize: 15 } };
});

const config = (episodes: number): SearchConfig => searchConfig({ episodes, seed: 7, env: { target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: 1, hidden1: 32, hidden2: 32 } });
const start = (c: SearchConfig, extra: Partial<Extract<ToWorker, { type: 'start' }>> = {}): ToWorker => startMessage(files, data, c, extra);

function makeHost(store: SearchStore | null, locks: FakeLocks) {
  const { messages, push, until } = messageLog<FromWorker>();
  const host = new SearchHost({
    post: push,
    store,
    lock: (id) => tryLockSearch(id, locks),
    initBackend: async () => ({ name: 'wasm', reason: 'test' }),
    burnIn: { minMs: 50, maxMs: 200 },
    driftEvery: 0,
  });
  return { host, messages, until };
}

const episodes = (m: FromWorker[]) => m.filter((x) => x.type === 'episode');
const statuses = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'status' ? [x.status] : []));
const errors = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'error' ? [x] : []));

describe('two tabs, one saved search', () => {
  it('a second tab is refused while the first runs the search, and can resume it once the first stops', async () => {
    const locks = new FakeLocks();
    const store = new MemoryStore();
    const a = makeHost(store, locks);
    await a.host.handle(start(config(20)));
    await a.until((m) => episodes(m).length >= 1);
    expect(await lockedSearchIds(locks)).toEqual(new Set(['s1']));

    const bStore = new MemoryStore();
    const b = makeHost(bStore, locks);
    await b.host.handle(start(config(20), { resume: store.last.progress, meta: store.last.meta }));
    await b.until((m) => errors(m).length > 0);
    expect(errors(b.messages)[0]).toEqual({ type: 'error', message: LOCKED_ELSEWHERE + '.', fatal: true });
    // Refused before anything loaded or ran: no ready, no episode, nothing written.
    expect(b.messages.map((m) => m.type)).toEqual(['error']);
    expect(bStore.saved).toEqual([]);

    // Paused, the first tab still holds it.
    await a.host.handle({ type: 'pause' });
    await a.until((m) => statuses(m).includes('paused'));
    expect(await lockedSearchIds(locks)).toEqual(new Set(['s1']));

    await a.host.handle({ type: 'stop' });
    await a.until((m) => statuses(m).includes('stopped'));
    await new Promise((r) => setTimeout(r, 0));
    expect(await lockedSearchIds(locks)).toEqual(new Set());
    const stopped = store.last;
    expect(stopped.meta.stopped).toBe(true);

    const c = makeHost(bStore, locks);
    await c.host.handle(start(config(20), { resume: stopped.progress, meta: { ...stopped.meta, stopped: false } }));
    await c.until((m) => episodes(m).length >= 1);
    const restored = c.messages.find((m) => m.type === 'restored') as Extract<FromWorker, { type: 'restored' }>;
    expect(restored.amc.length).toBe(stopped.meta.episodes);
    expect(bStore.last.meta.episodes).toBe(stopped.meta.episodes + episodes(c.messages).length);
    await c.host.handle({ type: 'stop' });
    await c.until((m) => statuses(m).includes('stopped'));
  });

  it('lets go of the lock when the search finishes or fails', async () => {
    const locks = new FakeLocks();
    const a = makeHost(new MemoryStore(), locks);
    await a.host.handle(start(config(2)));
    await a.until((m) => statuses(m).includes('done'));
    await new Promise((r) => setTimeout(r, 0));
    expect(await lockedSearchIds(locks)).toEqual(new Set());

    const broken = makeHost(new MemoryStore(), locks);
    await broken.host.handle(start(config(2), { model: { modelJson: '{"not": "a model"}', weights: new ArrayBuffer(0) } }));
    await broken.until((m) => errors(m).some((e) => e.fatal));
    await new Promise((r) => setTimeout(r, 0));
    expect(await lockedSearchIds(locks)).toEqual(new Set());
  });

  it('takes no lock for a search that is not saved or already finished (it writes nothing)', async () => {
    const locks = new FakeLocks();
    const held = await tryLockSearch('s1', locks);
    const unsaved = makeHost(null, locks);
    await unsaved.host.handle(start(config(2), { meta: null }));
    await unsaved.until((m) => statuses(m).includes('done'));
    expect(errors(unsaved.messages)).toEqual([]);
    held!();
  });

  it('does not write back a search deleted while it ran, and says so', async () => {
    const locks = new FakeLocks();
    const saved: SearchMeta[] = [];
    // Deleted (from the list, or another tab) after the first episode's save.
    const store: SearchStore = {
      async saveProgress(_id: string, _progress: SearchProgress, meta: SearchMeta) {
        if (saved.length >= 1) return false;
        saved.push(structuredClone(meta));
        return true;
      },
    };
    const a = makeHost(store, locks);
    await a.host.handle(start(config(4)));
    await a.until((m) => statuses(m).includes('done'));
    expect(saved.length).toBe(1);
    const notes = errors(a.messages);
    expect(notes).toHaveLength(1);
    expect(notes[0].fatal).toBe(false);
    expect(notes[0].message).toContain('deleted from this browser');
    const eps = episodes(a.messages) as Extract<FromWorker, { type: 'episode' }>[];
    expect(eps.map((e) => e.saved)).toEqual([true, false, false, false]);
  });

  it('reports a full storage with what to delete; the search goes on and what was saved stays', async () => {
    const locks = new FakeLocks();
    class FullAfterTwo extends MemoryStore {
      override async saveProgress(id: string, progress: SearchProgress, meta: SearchMeta) {
        if (this.saved.length >= 2) throw new StorageFullError('this browser\'s storage for this site is full, so this was not written; everything saved before is intact. To make room, delete what you no longer need: saved search "old" (3 of 10 episodes), 40.0 MB', []);
        await super.saveProgress(id, progress, meta);
      }
    }
    const store = new FullAfterTwo();
    const a = makeHost(store, locks);
    await a.host.handle(start(config(4)));
    await a.until((m) => statuses(m).includes('done'));
    expect(episodes(a.messages)).toHaveLength(4);
    expect(store.saved.map((s) => s.meta.episodes)).toEqual([1, 2]);
    const notes = errors(a.messages);
    expect(notes.length).toBeGreaterThanOrEqual(1);
    expect(notes.every((n) => !n.fatal)).toBe(true);
    expect(notes[0].message).toContain('storage for this site is full');
    expect(notes[0].message).toContain('saved search "old" (3 of 10 episodes), 40.0 MB');
  });
});
