import { describe, expect, it } from 'vitest';
import { calibrationWarning, compareScores, imagesToSeparate, noiseMargin, pointsText, rewardSetWarning, SMALL_REWARD_SET } from './noise';

describe('noise of a score on n images', () => {
  it('is two standard errors of a proportion, never less than one step of 1/n', () => {
    expect(noiseMargin(100, 0.5)).toBeCloseTo(0.1, 10);
    expect(noiseMargin(500, 0.5)).toBeCloseTo(2 * Math.sqrt(0.25 / 500), 10);
    // 4 images: steps of 25 points; the margin is 50 points.
    expect(noiseMargin(4, 0.5)).toBeCloseTo(0.5, 10);
    // A perfect score has no variance, but one image more or less still moves it by 1/n.
    expect(noiseMargin(50, 1)).toBeCloseTo(1 / 50, 10);
    expect(noiseMargin(0)).toBe(1);
  });

  it('says how many images a difference needs: n ≈ 4·p(1−p)/d²', () => {
    expect(imagesToSeparate(0.01, 0.5)).toBe(10_000);
    expect(imagesToSeparate(0.05, 0.5)).toBe(400);
    expect(imagesToSeparate(0.01, 0.9)).toBe(3600);
    expect(imagesToSeparate(0.1, 1)).toBe(10);
    expect(imagesToSeparate(0)).toBe(Infinity);
    // The rule and the margin agree: with that many images the difference is at the margin.
    expect(noiseMargin(imagesToSeparate(0.05, 0.5), 0.5)).toBeLessThanOrEqual(0.05 + 1e-12);
  });

  it('words a comparison as above/below, and within noise when n cannot tell', () => {
    expect(compareScores(0.5, 0.516, 10_000, 'uniform').text).toBe('1.6 points below uniform');
    expect(compareScores(0.75, 0.5, 4, 'uniform')).toMatchObject({ withinNoise: true, text: '25.0 points above uniform (within noise: ±48.4 points on 4 images)' });
    expect(compareScores(0.8, 0.7, 1000, 'random search')).toMatchObject({ withinNoise: false, text: '10.0 points above random search' });
    expect(compareScores(0.6, 0.6, 500, 'uniform').text).toMatch(/^the same as uniform \(within noise/);
    expect(pointsText(0.01)).toBe('1.0 point');
    expect(pointsText(-0.016)).toBe('1.6 points');
  });

  it('warns, with the reason and the images it would take, when the reward set is too small', () => {
    const w = rewardSetWarning(4)!;
    expect(w).toContain('Only 4 reward images');
    expect(w).toContain('steps of 25 points');
    expect(w).toContain('about 400 images');
    expect(w).toContain('about 10,000');
    expect(rewardSetWarning(1, 0.5, 'image')).toMatch(/^Only 1 image: a score on them moves in steps of 100 points/);
    expect(rewardSetWarning(SMALL_REWARD_SET)).toBeNull();
    expect(rewardSetWarning(500)).toBeNull();
  });

  it('warns when calibration is tiny or shares the reward images', () => {
    expect(calibrationWarning(0)).toBeNull();
    expect(calibrationWarning(4)).toMatch(/Only 4 calibration images/);
    expect(calibrationWarning(64)).toBeNull();
    expect(calibrationWarning(64, true)).toMatch(/also reward images/);
  });
});
