/**
 * @file What every loss shares: the layout of its arguments, how the per-position losses are
 * reduced (mean or sum, with an optional mask), and the checks with their error messages. Imports
 * tensor/ and autodiff/ops only.
 *
 * Layout. The last axis of predictions and targets is the feature (or class) axis; every axis
 * before it is a position: `[batch, features]` has one position per example, `[batch, time,
 * features]` one per example and step. A loss first computes one value per position — the sum over
 * the feature axis of the elementwise terms, so a cross-entropy is a proper sum over classes and
 * the squared error of a vector output is its squared distance (the seed's costs sum over features
 * too) — and then reduces over positions:
 * - `reduction: 'mean'` (default): the average over all positions, i.e. over the batch and, for
 *   sequences, over time as well. (The seed divides by the batch size only and so sums over time;
 *   averaging over time keeps the loss's scale independent of the sequence length.)
 * - `reduction: 'sum'`: the sum over all positions.
 * - `mask`: weights per position, shaped like the positions (`[batch]`, `[batch, time]`) or
 *   broadcasting to them with ones (`[batch, 1]`); a trailing feature axis of size 1 is also
 *   accepted. Masked positions (weight 0) are excluded, and the mean divides by the total weight —
 *   with a 0/1 mask, the number of unmasked positions. A fully masked batch has loss 0.
 */
import { cast, div, greater, mul, where } from '../autodiff/ops/elementwise.js'
import { mean, sum } from '../autodiff/ops/reduce.js'
import { broadcastTo, oneHot, reshape, stopGradient } from '../autodiff/ops/structural.js'
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type DType, type Tensor, expectTensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'

/** How per-position losses are combined. @category losses */
export type Reduction = 'mean' | 'sum'

/** Options shared by every loss. @category losses */
export interface LossOptions {
  /** 'mean' (default) averages over positions (batch, and time for sequences); 'sum' adds them. */
  readonly reduction?: Reduction
  /**
   * Per-position weights (0 = ignore), shaped `[batch]` or `[batch, time]` like the positions, or
   * broadcasting to them with ones. Carries no gradient.
   */
  readonly mask?: Tensor
}

/** Class labels: a tensor of one-hot (or soft) rows, or integer class indices (a tensor or array). */
export type Labels = Tensor | readonly number[]

/** The positions of a prediction: its shape without the feature axis. */
export const positionShape = (x: Tensor): readonly number[] => x.shape.slice(0, -1)

/** Checks that `x` has a batch axis and a feature axis. */
export const expectFeatureAxis = (who: string, name: string, x: unknown): Tensor => {
  const t = expectTensor(who, name, x)
  if (t.rank < 2) {
    const hint = t.rank === 1 ? ` For one output per example, reshape to [${t.shape[0]}, 1].` : ''
    throw new ShapeError(
      `${who}: ${name} must have a batch axis and a feature axis ([batch, features] or [batch, time, features]), got shape ${showShape(t.shape)}.${hint}`,
    )
  }
  return t
}

/** Checks that targets have the predictions' shape, and casts them to the predictions' dtype. */
export const expectTargets = (who: string, predictions: Tensor, targets: unknown, names: readonly [string, string]): Tensor => {
  const y = expectTensor(who, names[1], targets)
  if (!shapesEqual(predictions.shape, y.shape)) {
    throw new ShapeError(
      `${who}: ${names[0]} and ${names[1]} must have the same shape, got ${names[0]} ${showShape(predictions.shape)} and ${names[1]} ${showShape(y.shape)}.`,
    )
  }
  return cast(y, predictions.dtype)
}

/** Throws unless every value of `x` lies in [0, 1] (probabilities); names the first offender. */
export const expectProbabilities = (who: string, name: string, x: Tensor, hint: string): void => {
  const data = x.data
  for (let i = 0; i < data.length; i++) {
    if (!(data[i] >= 0 && data[i] <= 1)) {
      throw new ValueError(`${who}: ${name} must be probabilities in [0, 1], found ${data[i]} at flat index ${i} of ${showShape(x.shape)}. ${hint}`)
    }
  }
}

/**
 * Turns labels into rows shaped like `reference` ([..., classes]): a tensor of that shape is taken
 * as it is (one-hot or soft labels); integer indices shaped like the positions become one-hot rows.
 */
export const labelRows = (who: string, reference: Tensor, labels: Labels, names: readonly [string, string]): Tensor => {
  const classes = reference.shape[reference.rank - 1]
  const positions = positionShape(reference)
  const shape = Array.isArray(labels) ? [labels.length] : expectTensor(who, names[1], labels).shape
  if (!Array.isArray(labels) && shapesEqual(shape, reference.shape)) return cast(labels as Tensor, reference.dtype)
  if (!shapesEqual(shape, positions)) {
    throw new ShapeError(
      `${who}: ${names[1]} must be one-hot rows shaped like the ${names[0]} ${showShape(reference.shape)}, or class indices shaped ` +
        `like its positions ${showShape(positions)}; got ${showShape(shape)}.`,
    )
  }
  try {
    return oneHot(labels as Tensor | readonly number[], classes, { dtype: reference.dtype })
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(`${who}: class indices in ${names[1]} must be integers in [0, ${classes}) for ${classes} classes. (${e.message})`)
    throw e
  }
}

/**
 * The mask as weights broadcast over positions of shape `target`, validated: same rank (a trailing
 * axis of size 1 is dropped first), each axis 1 or the position's size, values finite and ≥ 0.
 * Carries no gradient.
 */
export const maskWeights = (who: string, mask: unknown, target: readonly number[], dtype: DType): Tensor => {
  const given = expectTensor(who, 'mask', mask)
  let m = stopGradient(given)
  if (m.rank === target.length + 1 && m.shape[m.rank - 1] === 1) m = reshape(m, m.shape.slice(0, -1))
  const fits = m.rank === target.length && m.shape.every((d, i) => d === 1 || d === target[i])
  if (!fits) {
    throw new ShapeError(
      `${who}: mask must have shape ${showShape(target)} (the positions: the predictions' shape without the feature axis), ` +
        `or broadcast to it with ones (e.g. ${showShape(target.map((d, i) => (i === 0 ? d : 1)))}); got ${showShape(given.shape)}.`,
    )
  }
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]
    if (!(v >= 0 && Number.isFinite(v))) throw new ValueError(`${who}: mask values must be finite weights ≥ 0 (1 keeps, 0 ignores a position), found ${v}.`)
  }
  return broadcastTo(cast(m, dtype), target)
}

/**
 * Reduces per-position losses to a scalar according to `reduction` and `mask` (see the file header).
 */
export const reduceLoss = (who: string, perPosition: Tensor, options: LossOptions): Tensor => {
  const reduction = options.reduction ?? 'mean'
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new ValueError(`${who}: reduction must be 'mean' or 'sum', got ${JSON.stringify(reduction)}.`)
  }
  if (options.mask === undefined) return reduction === 'sum' ? sum(perPosition) : mean(perPosition)
  const w = maskWeights(who, options.mask, perPosition.shape, perPosition.dtype)
  // `where`, not a bare product, so the value ignores whatever padded positions hold (0 · ∞ is NaN);
  // their gradient is 0 as long as their own values are finite.
  const total = sum(where(greater(w, 0), mul(perPosition, w), 0))
  if (reduction === 'sum') return total
  let weight = 0
  for (const v of w.data) weight += v
  // The weights carry no gradient, so the denominator is a constant; an empty mask gives 0, not 0/0.
  return div(total, weight > 0 ? weight : 1)
}
