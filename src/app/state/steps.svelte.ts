/**
 * The guided flow: model -> data -> compress -> recover -> export. On a phone (and any screen
 * narrower than WIDE_QUERY) one step is shown at a time and the step bar switches between them;
 * on a wide screen every step is on one page and the step bar scrolls to it. Every panel stays
 * in the DOM either way: a hidden step is hidden with CSS, so its work (a search, a fine-tune)
 * goes on while the user looks at another.
 */
export const STEPS = [
  { id: 'model', label: 'Model', title: 'Your model' },
  { id: 'data', label: 'Data', title: 'Images to score on' },
  { id: 'compress', label: 'Compress', title: 'Compress: search or by hand' },
  { id: 'recover', label: 'Recover', title: 'Recover accuracy: fine-tune' },
  { id: 'export', label: 'Export', title: 'Export' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

/** From this width every step shows on one page. */
export const WIDE_QUERY = '(min-width: 1024px)';

export function isStepId(v: unknown): v is StepId {
  return STEPS.some((s) => s.id === v);
}

/** The section element of a step (ModelView gives each step this id). */
export const stepElementId = (id: StepId) => `step-${id}`;

function stepFromHash(): StepId {
  const h = globalThis.location?.hash?.slice(1) ?? '';
  return isStepId(h) ? h : 'model';
}

function matchWide(): boolean {
  return typeof matchMedia === 'function' && matchMedia(WIDE_QUERY).matches;
}

export class StepsState {
  /** The step on screen (a phone) or in view (a wide screen). */
  current = $state<StepId>(stepFromHash());
  /** True on a wide screen: all steps on one page. */
  wide = $state(matchWide());
  /** The width the page opened at: folded details start open on a wide screen. */
  readonly openedWide = matchWide();

  /** Until then a wide screen's scrolling does not move the mark (the scroll go() started). */
  private quietUntil = 0;

  constructor() {
    if (typeof matchMedia === 'function') {
      matchMedia(WIDE_QUERY).addEventListener('change', (e) => (this.wide = e.matches));
    }
  }

  /** Goes to a step: shows it alone on a phone (from its top), scrolls to it on a wide screen. */
  go(id: StepId): void {
    this.current = id;
    this.quietUntil = (globalThis.performance?.now() ?? 0) + 1000;
    if (typeof location !== 'undefined' && typeof history !== 'undefined') {
      const url = new URL(location.href);
      url.hash = id;
      history.replaceState(history.state, '', url);
    }
    if (typeof document === 'undefined') return;
    if (this.wide) {
      document.getElementById(stepElementId(id))?.scrollIntoView({ block: 'start' });
    } else {
      window.scrollTo({ top: 0 });
    }
  }

  /** A wide screen's scrolling marks the step in view (no scrolling, no history). */
  inView(id: StepId): void {
    if (this.wide && (globalThis.performance?.now() ?? 0) >= this.quietUntil) this.current = id;
  }

  next(id: StepId): StepId | null {
    const i = STEPS.findIndex((s) => s.id === id);
    return i >= 0 && i < STEPS.length - 1 ? STEPS[i + 1].id : null;
  }

  previous(id: StepId): StepId | null {
    const i = STEPS.findIndex((s) => s.id === id);
    return i > 0 ? STEPS[i - 1].id : null;
  }
}
