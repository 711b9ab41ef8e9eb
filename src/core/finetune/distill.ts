/**
 * The distillation loss (Hinton et al., 2015): the student matches the teacher's softened output.
 *
 *   loss = w * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - w) * CE(labels, softmax(s))
 *
 * per image, averaged over the batch; without labels w = 1. Models that end in a softmax give
 * probabilities, not logits: their log is a logit up to a constant per row, which softmax ignores,
 * so `asLogits` feeds either kind through the same formula.
 */
import * as tf from '@tensorflow/tfjs';

/** Probabilities below this are clipped before the log (a softmax in float32 can round to 0). */
const PROB_FLOOR = 1e-7;

export type OutputKind = 'probabilities' | 'logits';

/** Logits of a model's output: the output itself, or the log of probabilities. */
export function asLogits(y: tf.Tensor2D, kind: OutputKind): tf.Tensor2D {
  return kind === 'logits' ? y : tf.log(tf.clipByValue(y, PROB_FLOOR, 1));
}

/** Whether rows of a model's output look like probability distributions (non-negative, summing to 1). */
export function outputKindOf(values: Float32Array | number[], classes: number): OutputKind {
  for (let r = 0; r * classes < values.length; r++) {
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const v = values[r * classes + j];
      if (!(v >= 0)) return 'logits';
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return 'logits';
  }
  return 'probabilities';
}

export interface DistillTerms {
  /** Per image: T^2 * KL(teacher_T || student_T), in nats. */
  distill: tf.Tensor1D;
  /** Per image: cross-entropy of the student against the labels (undefined without labels). */
  crossEntropy?: tf.Tensor1D;
}

/** Both terms per image, from teacher and student logits [batch, classes] and optional one-hot labels. */
export function distillTerms(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature: number, oneHot?: tf.Tensor2D): DistillTerms {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const logQ = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1);
    const distill = tf.mul(kl, temperature * temperature) as tf.Tensor1D;
    if (!oneHot) return { distill };
    const crossEntropy = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(studentLogits)), -1)) as tf.Tensor1D;
    return { distill, crossEntropy };
  });
}

/** The training loss per image: the weighted sum of the terms (distillation alone without labels). */
export function distillLoss(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature: number, distillWeight: number, oneHot?: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const { distill, crossEntropy } = distillTerms(teacherLogits, studentLogits, temperature, oneHot);
    if (!crossEntropy) return distill;
    return tf.add(tf.mul(distill, distillWeight), tf.mul(crossEntropy, 1 - distillWeight)) as tf.Tensor1D;
  });
}
