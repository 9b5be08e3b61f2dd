/**
 * @file Classification accuracy, the seed's metric: the share of positions whose predicted class
 * equals the target class. Not differentiable; returns a number. Imports autodiff/ops (argmax) and
 * the shared layout checks of losses/.
 */
import { argmax } from '../autodiff/ops/reduce.js'
import { concrete } from '../autodiff/trace.js'
import { ShapeError, showShape } from '../errors.js'
import { type Tensor, expectTensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type Labels, expectFeatureAxis, maskWeights, positionShape } from './reduction.js'

export interface AccuracyOptions {
  /** Per-position weights shaped like the positions (or broadcasting with ones), as for losses. */
  readonly mask?: Tensor
  /**
   * With a single output feature (binary classification), the class is 1 when the prediction is
   * ≥ threshold. Default 0.5 (probabilities); use 0 for logits.
   */
  readonly threshold?: number
}

/** Per-position class indices of predictions: argmax over features, or a threshold for one feature. */
const predictedClasses = (p: Tensor, threshold: number): Float64Array | Float32Array =>
  p.shape[p.rank - 1] === 1 ? concrete(p).data.map((v) => (v >= threshold ? 1 : 0)) : argmax(p, -1).data

/**
 * The share of positions (examples, or example-steps for sequences) whose predicted class equals
 * the target's: the argmax of each prediction row (the first maximum on ties — the seed's one-hot
 * argmax) against the argmax of a one-hot target row, or against an integer class index. With one
 * output feature, predictions are thresholded (see `threshold`) and targets are 0/1 (≥ 0.5 is 1).
 * With a mask, the weighted share over unmasked positions. Returns NaN when no position counts.
 * @param predictions `[batch, classes]` or `[batch, time, classes]` (probabilities or logits)
 * @param targets one-hot rows of the same shape, or class indices shaped like the positions
 * @returns a number in [0, 1]
 * @example
 * ```ts
 * const probs = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
 * console.log(losses.accuracy(probs, [1, 1, 1])) // 0.666…, two of three
 * console.log(losses.accuracy(probs, [1, 1, 1], { mask: tensor([1, 0, 1]) })) // 1
 * console.log(losses.accuracy(tensor([[-2], [3]]), [0, 1], { threshold: 0 })) // 1, one logit per example
 * ```
 * @category losses
 */
export const accuracy = (predictions: Tensor, targets: Labels, options: AccuracyOptions = {}): number => {
  const who = 'losses.accuracy'
  const p = expectFeatureAxis(who, 'predictions', predictions)
  const positions = positionShape(p)
  const threshold = options.threshold ?? 0.5
  const predicted = predictedClasses(p, threshold)
  let expected: ArrayLike<number>
  if (Array.isArray(targets) || !shapesEqual(expectTensor(who, 'targets', targets).shape, p.shape)) {
    const shape = Array.isArray(targets) ? [targets.length] : (targets as Tensor).shape
    if (!shapesEqual(shape, positions)) {
      throw new ShapeError(
        `${who}: targets must be one-hot rows shaped like the predictions ${showShape(p.shape)}, or class indices shaped like its positions ${showShape(positions)}; got ${showShape(shape)}.`,
      )
    }
    const raw = Array.isArray(targets) ? targets : concrete(targets as Tensor).data
    expected = p.shape[p.rank - 1] === 1 ? Array.from(raw, (v) => (v >= 0.5 ? 1 : 0)) : raw
  } else {
    expected = predictedClasses(targets as Tensor, 0.5)
  }
  const weights = options.mask === undefined ? null : maskWeights(who, options.mask, positions, 'float64').data
  let hits = 0
  let total = 0
  for (let i = 0; i < predicted.length; i++) {
    const w = weights === null ? 1 : weights[i]
    total += w
    if (predicted[i] === expected[i]) hits += w
  }
  return total > 0 ? hits / total : NaN
}
