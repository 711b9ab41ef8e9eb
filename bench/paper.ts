/**
 * The AMC paper's published numbers (He, Lin, Liu, Wang, Li, Han: "AMC: AutoML for Model
 * Compression and Acceleration on Mobile Devices", ECCV 2018, arXiv 1802.03494), quoted so that
 * BENCHMARKS.md can print them beside ours. These are the only figures in the bench that are not
 * measured by it, and every table that shows them labels them "paper".
 */

export const PAPER = 'He et al., AMC, ECCV 2018 (arXiv 1802.03494)';

/** CIFAR-10 at 50% MACs, top-1 (%) without fine-tuning, and AMC after fine-tuning (the paper's CIFAR-10 results). */
export const PAPER_CIFAR = [
  { model: 'Plain-20', original: 90.5, uniform: 83.9, amc: 86.0, amcFineTuned: 90.2, target: 0.5, like: 'plain-cnn' },
  { model: 'ResNet-56', original: 92.8, uniform: 87.4, amc: 90.1, amcFineTuned: 91.9, target: 0.5, like: 'resnet-like' },
] as const;

/**
 * ImageNet MobileNet-V1 (original: 70.6% top-1, 569M MACs, 119 ms on a phone): the paper's measured
 * latency and speedup of the pruned models (phone; Titan Xp GPU in `gpuSpeedup`).
 */
export const PAPER_MOBILENET = {
  original: { macsM: 569, top1: 70.6, phoneMs: 119 },
  rows: [
    { policy: 'AMC, 50% MACs', macsM: 285, top1: 70.5, phoneMs: 64.4, phoneSpeedup: 1.81, gpuSpeedup: 1.43 },
    { policy: 'AMC, 50% latency', macsM: 272, top1: 70.2, phoneMs: 59.7, phoneSpeedup: 1.95, gpuSpeedup: 1.53 },
    { policy: 'uniform 0.75 width', macsM: 325, top1: 68.4, phoneMs: 69.5, phoneSpeedup: 1.7, gpuSpeedup: undefined },
  ],
} as const;
