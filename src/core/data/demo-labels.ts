/**
 * Whose labels are the demo dataset's: the bundled demo models' (trained on it, recognized by the
 * fingerprint of their topology and weights), or a model the user says was trained on it. No other
 * model is scored against them, whatever its output count: a 10-class digit classifier scored on the
 * demo's shape labels gives a number that means nothing. Every place that decides whether the demo
 * images are labeled for a model asks `demoLabelsApply`.
 */
import { CLASS_NAMES, NUM_CLASSES } from './procedural';

/**
 * core/hash.ts modelFingerprint of each bundled model (models/<name>/), as loaded. demo-labels.test.ts
 * loads every folder in models/ and fails when a model is retrained without this table following it.
 */
export const DEMO_MODEL_FINGERPRINTS: Readonly<Record<string, string>> = Object.freeze({
  'mobilenet-like': '8eaf6adf-209610',
  'resnet-like': '852090a1-176378',
  'plain-cnn': '510a9256-289642',
  builtin: 'df0cef7c-69834',
});

/** The bundled demo model with this fingerprint, if one has it. */
export function demoModelOf(fingerprint: string | undefined): string | undefined {
  if (!fingerprint) return undefined;
  return Object.keys(DEMO_MODEL_FINGERPRINTS).find((k) => DEMO_MODEL_FINGERPRINTS[k] === fingerprint);
}

export interface DemoLabels {
  /** True: the demo images carry labels for this model (accuracy); false: they are unlabeled for it (fidelity only). */
  apply: boolean;
  /** Why, as a reason code. */
  why: 'demo model' | 'opt-in' | 'not a demo model' | 'outputs';
  /** The bundled model it is, when it is one. */
  demo?: string;
  /** Whether the user could opt in (10 outputs, not a known demo model). */
  canOptIn: boolean;
  /** One sentence for the page: what the demo images measure on this model and why. */
  text: string;
}

/**
 * Whether the demo dataset's labels are this model's own.
 * @param outputs the model's class count (its first output's [batch, classes] width), if known
 * @param fingerprint the model's core/hash.ts modelFingerprint
 * @param userOptIn the user said the model was trained on the demo dataset's classes, in its order
 */
export function demoLabelsApply(outputs: number | undefined, fingerprint: string | undefined, userOptIn: boolean): DemoLabels {
  const demo = demoModelOf(fingerprint);
  if (outputs !== NUM_CLASSES) {
    return {
      apply: false,
      why: 'outputs',
      demo,
      canOptIn: false,
      text: `the model has ${outputs ?? 'an unknown number of'} outputs, not the demo dataset's ${NUM_CLASSES} classes: the demo images are unlabeled for it (agreement of a pruned model with the original, not accuracy)`,
    };
  }
  if (demo) {
    return { apply: true, why: 'demo model', demo, canOptIn: false, text: `a bundled demo model (${demo}), trained on the demo dataset: its ${NUM_CLASSES} classes are the model's own` };
  }
  if (userOptIn) {
    return { apply: true, why: 'opt-in', canOptIn: true, text: `you said this model was trained on the demo dataset's ${NUM_CLASSES} classes, in the demo models' order (${CLASS_NAMES.join(', ')})` };
  }
  return {
    apply: false,
    why: 'not a demo model',
    canOptIn: true,
    text: `the model is not one of the bundled demo models, so the demo dataset's labels are not its own (10 outputs are not enough to say so): the demo images are unlabeled for it (agreement with the original, not accuracy); your own images measure it`,
  };
}
