/**
 * DDPG as the official AMC code runs it (lib/agent.py), written with tfjs ops so it runs on
 * whatever backend the page or worker has (WASM, WebGPU, CPU).
 *
 *   actor:  s -> 300 -> ReLU -> 300 -> ReLU -> 1 -> sigmoid
 *   critic: ReLU(Ls(s) + La(a)) -> 300 -> ReLU -> 1
 *
 * Weights are plain tensors updated functionally (no tf.Variable: variable names are global in
 * tfjs and two agents in one page would collide), with our own Adam (PyTorch's: eps 1e-8, bias
 * correction) so that the whole agent, optimizer moments included, saves to typed arrays and a
 * restored agent continues exactly where it stopped. Initialization is PyTorch's Linear default,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, drawn from the seeded Rng.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';
import type { DdpgConfig } from './config';
import type { Batch } from './replay';

type Params = tf.Tensor[];

/** Shapes of each network's parameters, in the order the forward functions read them. */
function actorShapes(s: number, h1: number, h2: number): number[][] {
  return [[s, h1], [h1], [h1, h2], [h2], [h2, 1], [1]];
}
function criticShapes(s: number, h1: number, h2: number): number[][] {
  return [[s, h1], [h1], [1, h1], [h1], [h1, h2], [h2], [h2, 1], [1]];
}
/** fan_in of each parameter (for a bias, its layer's fan_in). */
function actorFanIn(s: number, h1: number, h2: number): number[] {
  return [s, s, h1, h1, h2, h2];
}
function criticFanIn(s: number, h1: number, h2: number): number[] {
  return [s, s, 1, 1, h1, h1, h2, h2];
}

function actorForward(p: Params, s: tf.Tensor2D): tf.Tensor2D {
  const [w1, b1, w2, b2, w3, b3] = p;
  const x1 = tf.relu(tf.add(tf.matMul(s, w1 as tf.Tensor2D), b1));
  const x2 = tf.relu(tf.add(tf.matMul(x1 as tf.Tensor2D, w2 as tf.Tensor2D), b2));
  return tf.sigmoid(tf.add(tf.matMul(x2 as tf.Tensor2D, w3 as tf.Tensor2D), b3)) as tf.Tensor2D;
}

function criticForward(p: Params, s: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
  const [ws, bs, wa, ba, w2, b2, w3, b3] = p;
  const x1 = tf.relu(tf.add(tf.add(tf.matMul(s, ws as tf.Tensor2D), bs), tf.add(tf.matMul(a, wa as tf.Tensor2D), ba)));
  const x2 = tf.relu(tf.add(tf.matMul(x1 as tf.Tensor2D, w2 as tf.Tensor2D), b2));
  return tf.add(tf.matMul(x2 as tf.Tensor2D, w3 as tf.Tensor2D), b3) as tf.Tensor2D;
}

function initParams(shapes: number[][], fanIn: number[], rng: Rng): Params {
  return shapes.map((shape, i) => {
    const bound = 1 / Math.sqrt(fanIn[i]);
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let j = 0; j < n; j++) v[j] = rng.uniform(-bound, bound);
    return tf.tensor(v, shape);
  });
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

interface Adam {
  m: Params;
  v: Params;
  step: number;
}

function newAdam(params: Params): Adam {
  return { m: params.map((p) => tf.zerosLike(p)), v: params.map((p) => tf.zerosLike(p)), step: 0 };
}

/** One Adam step; returns the new parameters and replaces the moments in `adam` (old ones disposed). */
function adamStep(params: Params, grads: Params, adam: Adam, lr: number): Params {
  adam.step++;
  const c1 = 1 - BETA1 ** adam.step;
  const c2 = 1 - BETA2 ** adam.step;
  const next = tf.tidy(() =>
    params.map((p, i) => {
      const m = tf.add(tf.mul(adam.m[i], BETA1), tf.mul(grads[i], 1 - BETA1));
      const v = tf.add(tf.mul(adam.v[i], BETA2), tf.mul(tf.square(grads[i]), 1 - BETA2));
      const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), EPS));
      return [tf.sub(p, update), m, v];
    }),
  );
  tf.dispose([...adam.m, ...adam.v]);
  adam.m = next.map((x) => x[1]);
  adam.v = next.map((x) => x[2]);
  return next.map((x) => x[0]);
}

function softUpdate(target: Params, online: Params, tau: number): Params {
  const next = tf.tidy(() => target.map((t, i) => tf.add(tf.mul(t, 1 - tau), tf.mul(online[i], tau))));
  tf.dispose(target);
  return next;
}

export interface AgentSnapshot {
  stateSize: number;
  actor: Float32Array[];
  critic: Float32Array[];
  actorTarget: Float32Array[];
  criticTarget: Float32Array[];
  actorAdam: { m: Float32Array[]; v: Float32Array[]; step: number };
  criticAdam: { m: Float32Array[]; v: Float32Array[]; step: number };
  movingAverage: number | null;
}

export interface UpdateStats {
  criticLoss: number;
  actorLoss: number;
}

export class DdpgAgent {
  private actor: Params;
  private critic: Params;
  private actorTarget: Params;
  private criticTarget: Params;
  private actorAdam: Adam;
  private criticAdam: Adam;
  /** Moving average of batch-mean rewards (the official code's variance-reducing baseline). */
  movingAverage: number | null = null;

  constructor(
    readonly stateSize: number,
    readonly config: DdpgConfig,
    rng: Rng,
  ) {
    const { hidden1: h1, hidden2: h2 } = config;
    this.actor = initParams(actorShapes(stateSize, h1, h2), actorFanIn(stateSize, h1, h2), rng);
    this.critic = initParams(criticShapes(stateSize, h1, h2), criticFanIn(stateSize, h1, h2), rng);
    // Targets start as copies of the online networks (hard update), as in the official code.
    this.actorTarget = this.actor.map((p) => tf.clone(p));
    this.criticTarget = this.critic.map((p) => tf.clone(p));
    this.actorAdam = newAdam(this.actor);
    this.criticAdam = newAdam(this.critic);
  }

  /** mu(s): the actor's deterministic action for one state, in [0, 1]. */
  async act(state: Float32Array): Promise<number> {
    const y = tf.tidy(() => actorForward(this.actor, tf.tensor2d(state, [1, this.stateSize])));
    try {
      return (await y.data())[0];
    } finally {
      y.dispose();
    }
  }

  /** Q(s, a) for one state-action pair (for tests and the UI). */
  async value(state: Float32Array, action: number): Promise<number> {
    const q = tf.tidy(() => criticForward(this.critic, tf.tensor2d(state, [1, this.stateSize]), tf.tensor2d([action], [1, 1])));
    try {
      return (await q.data())[0];
    } finally {
      q.dispose();
    }
  }

  /** One gradient step for the critic, then the actor, then the soft target updates. */
  async update(batch: Batch): Promise<UpdateStats> {
    const { discount, tau, actorLr, criticLr, baselineAlpha } = this.config;
    let mean = 0;
    for (let i = 0; i < batch.size; i++) mean += batch.rewards[i];
    mean /= batch.size;
    this.movingAverage = this.movingAverage === null ? mean : this.movingAverage + baselineAlpha * (mean - this.movingAverage);
    const baseline = this.movingAverage;

    const n = batch.size;
    const s = tf.tensor2d(batch.states, [n, this.stateSize]);
    const a = tf.tensor2d(batch.actions, [n, 1]);
    const s2 = tf.tensor2d(batch.nexts, [n, this.stateSize]);
    const r = tf.tensor2d(batch.rewards, [n, 1]);
    const notDone = tf.tensor2d(batch.notDone, [n, 1]);

    const targetQ = tf.tidy(() => {
      const nextQ = criticForward(this.criticTarget, s2, actorForward(this.actorTarget, s2));
      return tf.add(tf.sub(r, baseline), tf.mul(tf.mul(notDone, discount), nextQ));
    });
    const criticLossFn = (...p: tf.Tensor[]) => tf.losses.meanSquaredError(targetQ, criticForward(p, s, a)) as tf.Scalar;
    const criticGrad = tf.valueAndGrads(criticLossFn);
    const { value: criticLoss, grads: cg } = criticGrad(this.critic);
    const newCritic = adamStep(this.critic, cg, this.criticAdam, criticLr);
    tf.dispose(cg);
    tf.dispose(this.critic);
    this.critic = newCritic;

    const critic = this.critic;
    const actorLossFn = (...p: tf.Tensor[]) => tf.neg(tf.mean(criticForward(critic, s, actorForward(p, s)))) as tf.Scalar;
    const { value: actorLoss, grads: ag } = tf.valueAndGrads(actorLossFn)(this.actor);
    const newActor = adamStep(this.actor, ag, this.actorAdam, actorLr);
    tf.dispose(ag);
    tf.dispose(this.actor);
    this.actor = newActor;

    this.actorTarget = softUpdate(this.actorTarget, this.actor, tau);
    this.criticTarget = softUpdate(this.criticTarget, this.critic, tau);
    tf.dispose([s, a, s2, r, notDone, targetQ]);
    const [cl, al] = await Promise.all([criticLoss.data(), actorLoss.data()]);
    tf.dispose([criticLoss, actorLoss]);
    return { criticLoss: cl[0], actorLoss: al[0] };
  }

  async snapshot(): Promise<AgentSnapshot> {
    const read = (ps: Params) => Promise.all(ps.map(async (p) => (await p.data()) as Float32Array));
    return {
      stateSize: this.stateSize,
      actor: await read(this.actor),
      critic: await read(this.critic),
      actorTarget: await read(this.actorTarget),
      criticTarget: await read(this.criticTarget),
      actorAdam: { m: await read(this.actorAdam.m), v: await read(this.actorAdam.v), step: this.actorAdam.step },
      criticAdam: { m: await read(this.criticAdam.m), v: await read(this.criticAdam.v), step: this.criticAdam.step },
      movingAverage: this.movingAverage,
    };
  }

  /** Replaces every weight, target and optimizer moment with a snapshot's. */
  restore(s: AgentSnapshot): void {
    if (s.stateSize !== this.stateSize) throw new Error(`agent snapshot has state size ${s.stateSize}, this agent ${this.stateSize}.`);
    const load = (old: Params, values: Float32Array[]) => {
      const next = old.map((p, i) => tf.tensor(values[i], p.shape));
      tf.dispose(old);
      return next;
    };
    this.actor = load(this.actor, s.actor);
    this.critic = load(this.critic, s.critic);
    this.actorTarget = load(this.actorTarget, s.actorTarget);
    this.criticTarget = load(this.criticTarget, s.criticTarget);
    this.actorAdam = { m: load(this.actorAdam.m, s.actorAdam.m), v: load(this.actorAdam.v, s.actorAdam.v), step: s.actorAdam.step };
    this.criticAdam = { m: load(this.criticAdam.m, s.criticAdam.m), v: load(this.criticAdam.v, s.criticAdam.v), step: s.criticAdam.step };
    this.movingAverage = s.movingAverage;
  }

  dispose(): void {
    tf.dispose([...this.actor, ...this.critic, ...this.actorTarget, ...this.criticTarget]);
    tf.dispose([...this.actorAdam.m, ...this.actorAdam.v, ...this.criticAdam.m, ...this.criticAdam.v]);
  }
}
