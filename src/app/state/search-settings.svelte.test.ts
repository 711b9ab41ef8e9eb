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
