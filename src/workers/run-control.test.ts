import { describe, expect, it } from 'vitest';
import { RunControl } from './run-control';

function harness() {
  const calls: string[] = [];
  let has = false;
  const control: RunControl = new RunControl({
    hasRun: () => has,
    loop: async () => void calls.push('loop'),
    finishStop: async () => void calls.push('finishStop'),
    postStatus: () => void calls.push(`status ${control.activity}`),
  });
  return { control, calls, setRun: (v: boolean) => (has = v) };
}

describe('RunControl', () => {
  it('starts one run per worker, paused when not asked to run', async () => {
    const { control, calls, setRun } = harness();
    let refused = 0;
    await control.start(false, async () => void setRun(true), () => refused++);
    expect(control.pauseRequested).toBe(true);
    expect(control.go).toBe(false);
    await control.start(true, async () => void calls.push('second set-up'), () => refused++);
    expect(refused).toBe(1);
    expect(calls).toEqual([]);
    await control.command('resume');
    expect(control.go).toBe(true);
    expect(calls).toEqual(['loop']);
  });

  it('a pause outside the loop says paused at once; inside it, the loop says so', async () => {
    const { control, calls, setRun } = harness();
    await control.command('pause');
    expect(calls).toEqual([]); // no run yet: nothing to report
    setRun(true);
    await control.command('pause');
    expect(calls).toEqual(['status paused']);
    control.looping = true;
    await control.command('pause');
    expect(calls).toEqual(['status paused']);
  });

  it('a stop during set-up is left to the set-up; a stop while looping to the loop; else it finishes the run', async () => {
    const { control, calls, setRun } = harness();
    let release!: () => void;
    const setUp = new Promise<void>((r) => (release = r));
    void control.start(true, () => setUp, () => undefined);
    await control.command('stop');
    expect(control.stopRequested).toBe(true);
    expect(calls).toEqual([]);
    setRun(true);
    release();
    await control.setUp();
    control.looping = true;
    await control.command('stop');
    expect(calls).toEqual([]);
    control.looping = false;
    await control.command('stop');
    expect(calls).toEqual(['finishStop']);
  });

  it('whilePaused waits until resume or stop, without polling', async () => {
    const { control, setRun } = harness();
    setRun(true);
    control.looping = true;
    await control.command('pause');
    let woke = false;
    const waiting = control.whilePaused().then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(woke).toBe(false);
    await control.command('resume');
    await waiting;
    expect(woke).toBe(true);
    await control.command('pause');
    const again = control.whilePaused();
    await control.command('stop');
    await again;
    expect(control.go).toBe(false);
  });
});
