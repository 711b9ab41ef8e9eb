/**
 * The five-minute lesson: two or three sentences beside the chart each one explains, for a
 * teacher showing AMC on the demo models. One place, so the words stay consistent.
 */
export const LESSONS = {
  groups:
    'A channel group is a set of layers whose channels go together: a convolution, the BatchNorm after it, and every layer that reads its output. Layers whose outputs are added (residual connections) must keep matching channel counts, so everything feeding one Add prunes as one group.',
  reward:
    'The first episodes are warm-up: the agent acts at random and only fills its memory. Then it learns from the rewards (accuracy without fine-tuning), and its exploration noise shrinks every episode, so later episodes follow what it has learned.',
  policy:
    'The agent walks the network one group at a time. At each step it sees eleven numbers about the layer (its position, size, stride, kernel, MACs, and how much has been removed so far and is left) and chooses the fraction of channels to keep; a wall then caps the choice so the whole network can still meet the target.',
  pareto:
    'Each point is one pruned network. Uniform pruning cuts every group by the same ratio; random search spends the same budget on random policies. A learned policy earns its keep when it sits above both at the same cost; small gaps are within noise on a few hundred images.',
  latency:
    'MACs count multiply-adds; latency is what this device measures. Small layers are dominated by fixed costs per layer and by memory traffic, and some kernels (depthwise convolutions) run far below peak, so halving the MACs rarely halves the time: a latency target is measured here, on your device.',
  finetune:
    'Fine-tuning recovers what pruning cost: the pruned network learns to match the original’s softened outputs (distillation), so no labels are needed. The held-out curve shows whether it generalizes, and the best held-out epoch is the one kept.',
} as const;

export type Lesson = keyof typeof LESSONS;
