/**
 * Pause, resume and stop for a worker host's run (the search's episodes, the fine-tune's epochs),
 * in one place: what the page asked for, whether the host's loop is running, and the three
 * commands' dispatch. A host writes only its own set-up, loop, status and stop (the hooks).
 *
 * Commands arrive between units of work (an episode, a training step): the loop checks `go`
 * before each one; a run that must pause mid-unit waits in `whilePaused()`, which resume and stop
 * wake at once (no polling).
 */
export interface RunHooks {
  /** Whether the run is set up (start finished). */
  hasRun(): boolean;
  /** Runs units until done, a pause or a stop; returns at once if it already runs. */
  loop(): Promise<void>;
  /** Ends the run as the user stopped it (saves, says so). */
  finishStop(): Promise<void>;
  postStatus(): void;
}

export class RunControl {
  /** The host's loop is running. */
  looping = false;
  pauseRequested = false;
  stopRequested = false;
  private starting: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly hooks: RunHooks) {}

  /**
   * The start command: one run per worker (`refuse` says so to a second start). `run` false sets
   * the run up paused (it waits for resume).
   */
  start(run: boolean, setUp: () => Promise<void>, refuse: () => void): Promise<void> {
    if (this.starting) {
      refuse();
      return Promise.resolve();
    }
    this.pauseRequested = !run;
    this.starting = setUp();
    return this.starting;
  }

  /** Resolves once the run's set-up has ended (at once when none began). */
  async setUp(): Promise<void> {
    await this.starting;
  }

  /** Pause, resume or stop, as the page sent it. */
  command(type: 'pause' | 'resume' | 'stop'): Promise<void> {
    return type === 'pause' ? this.pause() : type === 'resume' ? this.resume() : this.stop();
  }

  pause(): Promise<void> {
    this.pauseRequested = true;
    if (!this.looping && this.hooks.hasRun()) this.hooks.postStatus();
    return Promise.resolve();
  }

  resume(): Promise<void> {
    this.pauseRequested = false;
    this.wakeUp();
    return this.hooks.loop();
  }

  stop(): Promise<void> {
    this.stopRequested = true;
    this.wakeUp();
    // While the run is still being set up, the set-up sees the request and stops it once there is a run to stop.
    if (this.starting && !this.hooks.hasRun()) return Promise.resolve();
    return this.looping ? Promise.resolve() : this.hooks.finishStop();
  }

  /** Neither a pause nor a stop is asked for: the loop may run its next unit. */
  get go(): boolean {
    return !this.pauseRequested && !this.stopRequested;
  }

  /** The status of a run that is neither done nor stopped: running while the loop runs and no pause is asked for. */
  get activity(): 'running' | 'paused' {
    return this.looping && !this.pauseRequested ? 'running' : 'paused';
  }

  /** Waits while a pause is asked for (and no stop), until resume or stop. */
  async whilePaused(): Promise<void> {
    while (this.pauseRequested && !this.stopRequested) await new Promise<void>((w) => (this.wake = w));
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
