/**
 * @file Cross-entropy losses: on probabilities (the seed's binary "LogReg" cost and categorical
 * cross-entropy, with an ε guarding the logarithms) and fused with their activations on logits
 * (`softmaxCrossEntropy`, `sigmoidBinaryCrossEntropy`), which are exact and stable for any finite
 * logits. Imports autodiff/ops and the shared reduction of losses/.
 */
import { add, mul, log, neg, softplus, sub } from '../autodiff/ops/elementwise.js'
import { logSoftmax, sum } from '../autodiff/ops/reduce.js'
import { ValueError } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import {
  type Labels,
  type LossOptions,
  expectFeatureAxis,
  expectProbabilities,
  expectTargets,
  labelRows,
  reduceLoss,
} from './reduction.js'

/** Options of the losses that take probabilities. @category losses */
export interface ProbabilityLossOptions extends LossOptions {
  /**
   * Added inside every logarithm. Default 1e-9, the seed's value. A sigmoid or softmax output
   * rounds to exactly 0 or 1 once its logit passes about ±37 in float64 (±17 in float32), and
   * log 0 = −∞ would turn the loss and its gradient 1/p into ∞ and NaN; with ε the loss of one
   * term is at most −log ε ≈ 20.7 and the gradient at most 1/ε. Pass 0 for the exact formula, or
   * better, use the fused loss on logits.
   */
  readonly eps?: number
}

const epsilonOf = (who: string, options: ProbabilityLossOptions): number => {
  const eps = options.eps ?? 1e-9
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(`${who}: eps must be a finite number ≥ 0, got ${String(eps)}.`)
  return eps
}

/**
 * Binary cross-entropy on probabilities, the seed's "LogReg" cost: per position,
 * `−Σ_f [y_f log(p_f + ε) + (1 − y_f) log(1 − p_f + ε)]`, then the mean over positions (or sum).
 * Every feature is an independent yes/no output (multi-label; a one-hot target also works, as in
 * the seed's MNIST example). Targets may be soft, in [0, 1].
 * @param probs `[batch, features]` or `[batch, time, features]`, values in [0, 1] (sigmoid outputs)
 * @param targets the same shape
 * @returns a scalar tensor
 * @example
 * ```ts
 * const probs = sigmoid(tensor([[0], [Math.log(9)]])) // [[0.5], [0.9]]
 * const loss = losses.binaryCrossEntropy(probs, tensor([[1], [0]]), { eps: 0 })
 * console.log(loss.item()) // 1.498…, i.e. (ln 2 + ln 10) / 2
 * ```
 * @category losses
 */
export const binaryCrossEntropy = (probs: Tensor, targets: Tensor, options: ProbabilityLossOptions = {}): Tensor => {
  const who = 'losses.binaryCrossEntropy'
  const p = expectFeatureAxis(who, 'probs', probs)
  const y = expectTargets(who, p, targets, ['probs', 'targets'])
  const eps = epsilonOf(who, options)
  expectProbabilities(who, 'probs', p, 'For logits use losses.sigmoidBinaryCrossEntropy.')
  const terms = add(mul(y, log(add(p, eps))), mul(sub(1, y), log(add(sub(1, p), eps))))
  return reduceLoss(who, neg(sum(terms, -1)), options)
}

/**
 * Categorical cross-entropy on probabilities: per position, `−Σ_c y_c log(p_c + ε)` over the class
 * axis, then the mean over positions (or sum). (The seed's version divides by every element,
 * classes included; this is the usual per-example sum over classes.)
 * @param probs `[batch, classes]` or `[batch, time, classes]`, rows of probabilities (softmax outputs)
 * @param targets one-hot (or soft) rows of the same shape, or integer class indices shaped
 *   `[batch]` / `[batch, time]` (a tensor or an array)
 * @returns a scalar tensor
 * @example
 * ```ts
 * const probs = tensor([[0.2, 0.8], [0.5, 0.5]])
 * console.log(losses.categoricalCrossEntropy(probs, [1, 0], { eps: 0 }).item()) // 0.458…, i.e. (−ln 0.8 − ln 0.5) / 2
 * console.log(losses.categoricalCrossEntropy(probs, tensor([[0, 1], [1, 0]]), { eps: 0 }).item()) // the same, one-hot
 * ```
 * @category losses
 */
export const categoricalCrossEntropy = (probs: Tensor, targets: Labels, options: ProbabilityLossOptions = {}): Tensor => {
  const who = 'losses.categoricalCrossEntropy'
  const p = expectFeatureAxis(who, 'probs', probs)
  const y = labelRows(who, p, targets, ['probs', 'targets'])
  const eps = epsilonOf(who, options)
  expectProbabilities(who, 'probs', p, 'For logits use losses.softmaxCrossEntropy.')
  return reduceLoss(who, neg(sum(mul(y, log(add(p, eps))), -1)), options)
}

/**
 * Softmax and categorical cross-entropy fused: per position,
 * `−Σ_c y_c log softmax(z)_c = Σ_c y_c (logSumExp(z) − z_c)`, through `logSoftmax`, which shifts by
 * the maximum logit — exact and finite for any finite logits, including |z| = 1000, where
 * `categoricalCrossEntropy(softmax(z))` would need its ε. The gradient is `softmax(z) − y` per
 * position (for rows y summing to 1), divided by the number of positions under 'mean'.
 * @param logits `[batch, classes]` or `[batch, time, classes]`
 * @param labels one-hot (or soft) rows of the same shape, or integer class indices shaped
 *   `[batch]` / `[batch, time]` (a tensor or an array)
 * @returns a scalar tensor
 * @example
 * ```ts
 * const logits = tensor([[0, Math.log(3)], [1000, -1000]])
 * console.log(losses.softmaxCrossEntropy(logits, [1, 0]).item()) // 0.1438…, i.e. (ln(4/3) + 0) / 2
 * const g = grad((z: Tensor) => losses.softmaxCrossEntropy(z, [1, 0]))(logits)
 * console.log(g.toArray()) // [[0.125, -0.125], [0, 0]], i.e. (softmax(z) − y) / 2
 * ```
 * @category losses
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: Labels, options: LossOptions = {}): Tensor => {
  const who = 'losses.softmaxCrossEntropy'
  const z = expectFeatureAxis(who, 'logits', logits)
  const y = labelRows(who, z, labels, ['logits', 'labels'])
  return reduceLoss(who, neg(sum(mul(y, logSoftmax(z, -1)), -1)), options)
}

/**
 * Sigmoid and binary cross-entropy fused: per position,
 * `Σ_f [softplus(z_f) − y_f z_f]`, which equals `−[y log σ(z) + (1 − y) log(1 − σ(z))]` exactly;
 * softplus is computed as `max(z, 0) + log1p(e^−|z|)`, so the loss is finite and exact for any
 * finite logits (at z = ±1000 it is 0 or 1000, not NaN). The gradient is `σ(z) − y`.
 * @param logits `[batch, features]` or `[batch, time, features]`
 * @param targets the same shape, values in [0, 1]
 * @returns a scalar tensor
 * @example
 * ```ts
 * const logits = tensor([[1000], [-1000], [0]])
 * console.log(losses.sigmoidBinaryCrossEntropy(logits, tensor([[0], [1], [1]])).item()) // 666.897…, i.e. (1000 + 1000 + ln 2) / 3
 * ```
 * @category losses
 */
export const sigmoidBinaryCrossEntropy = (logits: Tensor, targets: Tensor, options: LossOptions = {}): Tensor => {
  const who = 'losses.sigmoidBinaryCrossEntropy'
  const z = expectFeatureAxis(who, 'logits', logits)
  const y = expectTargets(who, z, targets, ['logits', 'targets'])
  return reduceLoss(who, sum(sub(softplus(z), mul(y, z)), -1), options)
}
