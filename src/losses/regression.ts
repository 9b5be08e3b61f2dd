/**
 * @file Regression losses: squared error (the seed's "OLS" cost). Imports autodiff/ops and the
 * shared reduction of losses/.
 */
import { square, sub } from '../autodiff/ops/elementwise.js'
import { sum } from '../autodiff/ops/reduce.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type LossOptions, expectFeatureAxis, expectTargets, reduceLoss } from './reduction.js'

/**
 * Squared error, the seed's "OLS" cost: per position (example, or example and step), the squared
 * distance `Σ_f (ŷ_f − y_f)²` over the feature axis; then the mean over positions (batch, and time
 * for sequences) or their sum. For `[batch, features]` this is the seed's `(1/N) Σ_n Σ_f (ŷ − y)²`;
 * with one output feature it is the usual mean squared error. (PyTorch's MSELoss also divides by
 * the number of features.) VJP: `2 (ŷ − y) / positions`.
 * @param predictions `[batch, features]` or `[batch, time, features]`
 * @param targets the same shape
 * @returns a scalar tensor
 * @example
 * ```ts
 * const predictions = tensor([[1, 2], [3, 4]])
 * const targets = tensor([[0, 2], [1, 1]])
 * console.log(losses.mse(predictions, targets).item()) // 7, i.e. (1 + 13) / 2
 * console.log(losses.mse(predictions, targets, { reduction: 'sum' }).item()) // 14
 * console.log(losses.mse(predictions, targets, { mask: tensor([1, 0]) }).item()) // 1, the second row ignored
 * ```
 * @category losses
 */
export const mse = (predictions: Tensor, targets: Tensor, options: LossOptions = {}): Tensor => {
  const who = 'losses.mse'
  const p = expectFeatureAxis(who, 'predictions', predictions)
  const y = expectTargets(who, p, targets, ['predictions', 'targets'])
  return reduceLoss(who, sum(square(sub(p, y)), -1), options)
}
