import { describe, expect, it } from 'vitest';
import { isStepId, STEPS, StepsState, stepElementId } from './steps.svelte';

describe('StepsState', () => {
  it('walks the five steps in order, model first', () => {
    expect(STEPS.map((s) => s.id)).toEqual(['model', 'data', 'compress', 'recover', 'export']);
    const steps = new StepsState();
    expect(steps.current).toBe('model');
    expect(steps.next('model')).toBe('data');
    expect(steps.next('export')).toBeNull();
    expect(steps.previous('model')).toBeNull();
    expect(steps.previous('recover')).toBe('compress');
  });

  it('goes to a step; a narrow screen ignores the scroll position, a wide one follows it except right after a jump', () => {
    const steps = new StepsState();
    steps.go('compress');
    expect(steps.current).toBe('compress');
    steps.inView('data');
    expect(steps.current).toBe('compress');
    steps.wide = true;
    steps.inView('data');
    // Within a second of go(): the scroll it started does not move the mark.
    expect(steps.current).toBe('compress');
  });

  it('knows its ids and their sections', () => {
    expect(isStepId('recover')).toBe(true);
    expect(isStepId('nope')).toBe(false);
    expect(stepElementId('export')).toBe('step-export');
  });
});
