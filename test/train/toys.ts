/**
 * @file Tiny models and datasets for the training tests, built from core ops only: a linear
 * regression, a linear classifier, and a scalar linear recurrence for truncated BPTT.
 */
import {
  type Key, type Tensor, add, argmax, equal, logSoftmax, matmul, mean, mul, normal, randomKey, splitKey, square,
  stack, sub, sum, tensor, transpose, unstack, zeros,
} from '../../src/index.js'
import type { LossFn } from '../../src/train/index.js'

export interface LinearParams {
  readonly w: Tensor
  readonly b: Tensor
}

export interface Regression {
  readonly inputs: Tensor
  readonly targets: Tensor
}

/** y = x·[1, −2, 0.5] + 0.3 + small noise, n samples. */
export const regressionData = (n: number, seed = 1): Regression => {
  const [kx, kn] = splitKey(randomKey(seed))
  const inputs = normal(kx, [n, 3])
  const targets = add(add(matmul(inputs, tensor([[1], [-2], [0.5]])), 0.3), mul(normal(kn, [n, 1]), 0.01))
  return { inputs, targets }
}

export const linearInit = (features = 3): LinearParams => ({ w: zeros([features, 1]), b: zeros([1]) })

/** Mean squared error of a linear model. */
export const mseLoss: LossFn<LinearParams, Regression> = (p, batch) =>
  mean(square(sub(add(matmul(batch.inputs, p.w), p.b), batch.targets)))

/**
 * The mean squared error plus a small random linear term drawn from the step key, so that the
 * per-batch keys matter and a resumed run must reproduce them exactly.
 */
export const noisyMseLoss: LossFn<LinearParams, Regression> = (p, batch, { key }) => {
  const base = mean(square(sub(add(matmul(batch.inputs, p.w), p.b), batch.targets)))
  return key === undefined ? base : add(base, mul(sum(mul(normal(key as Key, p.w.shape), p.w)), 0.01))
}

export interface Classification {
  readonly inputs: Tensor
  readonly targets: Tensor
}

/** Two Gaussian blobs in 2-D, one-hot targets [n, 2]. */
export const blobs = (n: number, seed = 2): Classification => {
  const [kx, kl] = splitKey(randomKey(seed))
  const noise = normal(kx, [n, 2]).data
  const labels = Array.from(normal(kl, [n]).data, (v) => (v > 0 ? 1 : 0))
  const xs = labels.flatMap((c, i) => [(c === 1 ? 1.5 : -1.5) + noise[2 * i], (c === 1 ? 1 : -1) + noise[2 * i + 1]])
  return {
    inputs: tensor(xs, { shape: [n, 2] }),
    targets: tensor(labels.flatMap((c) => (c === 1 ? [0, 1] : [1, 0])), { shape: [n, 2] }),
  }
}

/** Softmax cross-entropy of logits against one-hot targets, batch mean. */
export const crossEntropy = (logits: Tensor, targets: Tensor): Tensor => mul(mean(sum(mul(targets, logSoftmax(logits)), -1)), -1)

/** Share of rows whose argmax matches the one-hot target's. */
export const accuracy = (predictions: Tensor, targets: Tensor): Tensor => mean(equal(argmax(predictions), argmax(targets)))

export interface RecurrenceParams {
  readonly w: Tensor
  readonly u: Tensor
}

/**
 * h_t = w·h_{t−1} + u·x_t on inputs [batch, time, 1] from h (default zeros [batch, 1]); returns the
 * outputs [batch, time, 1] and the final h.
 */
export const recurrence = (p: RecurrenceParams, xs: Tensor, h0?: Tensor): { outputs: Tensor; h: Tensor } => {
  let h = h0 ?? zeros([xs.shape[0], 1])
  const hs: Tensor[] = []
  for (const x of unstack(transpose(xs, [1, 0, 2]))) {
    h = add(mul(p.w, h), mul(p.u, x))
    hs.push(h)
  }
  return { outputs: transpose(stack(hs, 0), [1, 0, 2]), h }
}

/** Window loss for truncated BPTT: mean squared error of the recurrence from the carried state. */
export const recurrenceLoss: LossFn<RecurrenceParams, Regression, Tensor> = (p, batch, { state }) => {
  const { outputs, h } = recurrence(p, batch.inputs, state)
  return [mean(square(sub(outputs, batch.targets))), { state: h }]
}
