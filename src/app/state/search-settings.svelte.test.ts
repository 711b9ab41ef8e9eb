import { describe, expect, it } from 'vitest';
import { calibrationImages, searchConfig } from '../../core/search/config';
import type { SearchMeta } from '../../workers/search-store';
import { SearchSettings } from './search-settings.svelte';

const meta = (config: SearchMeta['config'], calibration?: number) => ({ config, randomBaseline: false, data: { kind: 'demo', count: 40, labeled: true, ...(calibration !== undefined ? { calibration } : {}) } }) as unknown as SearchMeta;

describe('search settings: the evaluator', () => {
  it('starts on auto, and the evaluator it resolves to goes into the config the worker runs', () => {
    const s = new SearchSettings();
    expect(s.evaluator).toBe('auto');
    expect(s.configFromSettings('bn').evaluator).toBe('bn');
    expect(calibrationImages('bn')).toBe(256);
    expect(calibrationImages('slice')).toBe(0);
  });

  it('comes back from a saved search, and a search saved before evaluators existed reads as what it ran', () => {
    const s = new SearchSettings();
    s.settingsFrom(meta(searchConfig({ evaluator: 'refit+bn' }), 64));
    expect(s.evaluator).toBe('refit+bn');
    s.settingsFrom(meta(searchConfig(), 64));
    expect(s.evaluator).toBe('refit');
    s.settingsFrom(meta(searchConfig()));
    expect(s.evaluator).toBe('slice');
  });
});

describe('search settings: a shared link', () => {
  it('opens in the state it was shared from, the demo model first', () => {
    const a = new SearchSettings();
    a.resource = 'latency';
    a.target = 0.4;
    a.episodes = 60;
    a.seed = 7;
    a.rewardImages = 300;
    a.evaluator = 'refit+bn';
    a.randomBaseline = true;
    const query = a.settingsQuery({ demo: 'resnet-like' });
    expect(query.startsWith('?demo=resnet-like&')).toBe(true);
    const b = new SearchSettings();
    b.settingsFromUrl(query);
    expect([b.resource, b.target, b.episodes, b.seed, b.rewardImages, b.evaluator, b.randomBaseline]).toEqual(['latency', 0.4, 60, 7, 300, 'refit+bn', true]);
  });

  it('leaves values it cannot use at their defaults', () => {
    const s = new SearchSettings();
    s.settingsFromUrl('?resource=flops&target=2&episodes=-3&seed=x&evaluator=magic&images=0');
    const d = new SearchSettings();
    expect([s.resource, s.target, s.episodes, s.seed, s.evaluator, s.rewardImages]).toEqual([d.resource, d.target, d.episodes, d.seed, d.evaluator, d.rewardImages]);
  });
});
