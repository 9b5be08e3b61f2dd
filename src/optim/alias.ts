/**
 * @file The optimisers users reach for: the seed's six (constant-rate SGD, momentum, Adagrad,
 * Adagrad with momentum, RMSprop, Adam) and AdamW, each one `chain(...)` of building blocks. Each
 * takes the learning rate (a number or a schedule) first and an options object second, and returns
 * updates to add with `applyUpdates` (they already contain −η). Imports optim/ siblings only.
 */
import { ValueError } from '../errors.js'
import { type EmptyState, type GradientTransformation, type ParamFilter, chain } from './GradientTransformation.js'
import type { LearningRate } from './schedules.js'
import {
  type ScaleByAdagradState,
  type ScaleByAdamState,
  type ScaleByLearningRateState,
  type ScaleByRmsState,
  type TraceState,
  addDecayedWeights,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  traceMomentum,
} from './transforms.js'

/**
 * The learning rate, checked when the optimiser is built: a negative (gradient ascent), NaN or ±∞
 * constant fails here rather than steps later as NaN parameters. 0 is allowed: it freezes the
 * parameters, which tests of training loops use. A schedule is checked at each step.
 */
const checkedLearningRate = (who: string, learningRate: LearningRate): LearningRate => {
  if (typeof learningRate === 'function') return learningRate
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate < 0) {
    throw new ValueError(`optim.${who}: the learning rate must be a finite number ≥ 0, got ${String(learningRate)}; pass e.g. optim.${who}(1e-3).`)
  }
  return learningRate
}

/**
 * Stochastic gradient descent with a constant (or scheduled) rate, the seed's "constant" scheduler:
 * `w ← w − η g`.
 * @example
 * ```ts
 * const opt = optim.sgd(0.1)
 * const params = { w: tensor([1, -2]) }
 * const [updates] = opt.update({ w: tensor([0.5, 0.5]) }, opt.init(params))
 * console.log(optim.applyUpdates(params, updates).w.toArray()) // [0.95, -2.05]: w − η·g
 * ```
 * @category optimizers
 */
export const sgd = (learningRate: LearningRate): GradientTransformation<readonly [ScaleByLearningRateState]> =>
  chain(scaleByLearningRate(checkedLearningRate('sgd', learningRate)))

export interface MomentumOptions {
  /** μ. Default 0.9. */
  readonly momentum?: number
  /** Nesterov's variant. Default false. */
  readonly nesterov?: boolean
}

/**
 * SGD with momentum, PyTorch's form: `m ← μ m + g`, `w ← w − η m` (nesterov: `w ← w − η (g + μ m)`).
 * With a constant η this equals the seed's `change ← μ change + η g`, `w ← w − change`.
 * `momentum(η, { momentum: 0 })` gives the same updates as `sgd(η)`.
 * @example
 * ```ts
 * const opt = optim.momentum(0.01, { momentum: 0.9 })
 * const g = { w: tensor([1, -1]) }
 * const [first, state] = opt.update(g, opt.init(g))
 * const [second] = opt.update(g, state)
 * console.log(first.w.toArray(), second.w.toArray()) // [-0.01, 0.01] [-0.019, 0.019]: −η·m with m = 0.9·m + g
 * ```
 * @category optimizers
 */
export const momentum = (
  learningRate: LearningRate,
  options: MomentumOptions = {},
): GradientTransformation<readonly [TraceState, ScaleByLearningRateState]> =>
  chain(traceMomentum(options.momentum ?? 0.9, { nesterov: options.nesterov }), scaleByLearningRate(checkedLearningRate('momentum', learningRate)))

export interface AdagradOptions {
  /** Added to √G outside the root. Default 1e-10 (PyTorch). */
  readonly eps?: number
  /** Starting value of G. Default 0. */
  readonly initialAccumulatorValue?: number
  /**
   * Added to G under the root, `√(G + εroot)` (optax's `eps_root`). Default 0. Set it (e.g. 1e-16) to
   * differentiate through an update where a gradient entry is exactly 0, which is NaN otherwise.
   */
  readonly epsRoot?: number
}

/**
 * Adagrad as PyTorch's Adagrad (no learning-rate decay): `G ← G + g²`, `w ← w − η g / (√(G + εroot) + ε)`,
 * ε outside the square root, εroot (default 0) inside it.
 * @example
 * ```ts
 * const opt = optim.adagrad(0.1)
 * const [first, state] = opt.update({ w: tensor([3]) }, opt.init({ w: zeros([1]) }))
 * const [second] = opt.update({ w: tensor([4]) }, state)
 * console.log(first.w.toArray(), second.w.toArray()) // [-0.1] [-0.08] (up to ε): −η·g / √(Σ g²)
 * ```
 * @category optimizers
 */
export const adagrad = (
  learningRate: LearningRate,
  options: AdagradOptions = {},
): GradientTransformation<readonly [ScaleByAdagradState, ScaleByLearningRateState]> =>
  chain(scaleByAdagrad(options), scaleByLearningRate(checkedLearningRate('adagrad', learningRate)))

export interface AdagradMomentumOptions extends AdagradOptions {
  /** μ. Default 0.9. */
  readonly momentum?: number
}

/**
 * The seed's Adagrad with momentum: the Adagrad-scaled gradient feeds a momentum trace,
 * `G ← G + g²`, `m ← μ m + g / (√G + ε)`, `w ← w − η m` (ε outside the root). With a constant η this
 * is the seed's `change ← μ change + η g / (δ + √G)`.
 * @example
 * ```ts
 * const opt = optim.adagradMomentum(0.01, { momentum: 0.9 })
 * const g = { w: tensor([2]) }
 * const [first, state] = opt.update(g, opt.init(g))
 * const [second] = opt.update(g, state)
 * console.log(first.w.toArray(), second.w.toArray()) // [-0.01] [-0.01607…]: m = 2/√4, then 0.9·m + 2/√8
 * ```
 * @category optimizers
 */
export const adagradMomentum = (
  learningRate: LearningRate,
  options: AdagradMomentumOptions = {},
): GradientTransformation<readonly [ScaleByAdagradState, TraceState, ScaleByLearningRateState]> =>
  chain(
    scaleByAdagrad({ eps: options.eps, initialAccumulatorValue: options.initialAccumulatorValue, epsRoot: options.epsRoot }),
    traceMomentum(options.momentum ?? 0.9),
    scaleByLearningRate(checkedLearningRate('adagradMomentum', learningRate)),
  )

export interface RmspropOptions {
  /** ρ, the decay of the moving average of g². Default 0.9 (the seed; PyTorch's α defaults to 0.99). */
  readonly decay?: number
  /** Added to √v outside the root (PyTorch's placement). Default 1e-8. */
  readonly eps?: number
  /**
   * Added to v under the root, `√(v + εroot)` (optax's `eps_root`). Default 0. Set it (e.g. 1e-16) to
   * differentiate through an update where a gradient entry is exactly 0, which is NaN otherwise.
   */
  readonly epsRoot?: number
}

/**
 * RMSprop as PyTorch's RMSprop (no momentum, not centred): `v ← ρ v + (1 − ρ) g²`,
 * `w ← w − η g / (√(v + εroot) + ε)`, v₀ = 0, ε outside the square root, εroot (default 0) inside it
 * (the seed puts δ inside: `√(v + δ)`).
 * @example
 * ```ts
 * const opt = optim.rmsprop(1e-3, { decay: 0.9 })
 * const [updates] = opt.update({ w: tensor([2, -0.02]) }, opt.init({ w: zeros([2]) }))
 * console.log(updates.w.toArray()) // [-0.00316…, 0.00316…]: −η·g / √(0.1·g²), the same size for both on the first step
 * ```
 * @category optimizers
 */
export const rmsprop = (
  learningRate: LearningRate,
  options: RmspropOptions = {},
): GradientTransformation<readonly [ScaleByRmsState, ScaleByLearningRateState]> =>
  chain(scaleByRms(options), scaleByLearningRate(checkedLearningRate('rmsprop', learningRate)))

export interface AdamOptions {
  /** β₁. Default 0.9. */
  readonly b1?: number
  /** β₂. Default 0.999. */
  readonly b2?: number
  /** ε, added to √v̂ outside the root. Default 1e-8. */
  readonly eps?: number
  /**
   * Added to v̂ under the root, `√(v̂ + εroot)` (optax's `eps_root`). Default 0. Set it (e.g. 1e-16) to
   * differentiate through an update where a gradient entry is exactly 0, which is NaN otherwise.
   */
  readonly epsRoot?: number
}

/**
 * Adam (Kingma & Ba, Algorithm 1; PyTorch's Adam): with t the update number from 1,
 * `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`, `w ← w − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ) + εroot) + ε)`.
 * `adam(η)` gives the same updates as `chain(scaleByAdam(), scale(−η))`.
 * @example
 * ```ts
 * const opt = optim.adam(1e-3, { b1: 0.9, b2: 0.999, eps: 1e-8 })
 * let params = { w: tensor([1, -2]) }
 * let state = opt.init(params)
 * const loss = (p: typeof params) => sum(square(p.w))
 * for (let step = 0; step < 3; step++) {
 *   const [updates, next] = opt.update(grad(loss)(params), state, params)
 *   params = optim.applyUpdates(params, updates)
 *   state = next
 * }
 * console.log(params.w.toArray()) // [0.997, -1.997]: each step about η towards 0
 * ```
 * @category optimizers
 */
export const adam = (
  learningRate: LearningRate,
  options: AdamOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, ScaleByLearningRateState]> =>
  chain(scaleByAdam(options), scaleByLearningRate(checkedLearningRate('adam', learningRate)))

export interface AdamwOptions extends AdamOptions {
  /** λ of the decoupled decay. Default 0.01 (PyTorch). */
  readonly weightDecay?: number
  /** Which leaves decay. Default: every leaf, as PyTorch; pass `isWeight` to spare biases. */
  readonly filter?: ParamFilter
}

/**
 * AdamW (Loshchilov & Hutter; PyTorch's AdamW): Adam with decoupled weight decay,
 * `w ← w − η · (m̂ / (√v̂ + ε) + λ w)`, the decay using the weights before the step and scaled by the
 * same (possibly scheduled) η. Needs `params` in `update`.
 * @example
 * ```ts
 * const opt = optim.adamw(0.1, { weightDecay: 0.5, filter: optim.isWeight })
 * const params = { w: tensor([2]), b: tensor([2]) }
 * const [updates] = opt.update({ w: zeros([1]), b: zeros([1]) }, opt.init(params), params)
 * console.log(updates.w.toArray(), updates.b.toArray()) // [-0.1] [0]: with no gradient only the decay −η·λ·w moves w
 * ```
 * @category optimizers
 */
export const adamw = (
  learningRate: LearningRate,
  options: AdamwOptions = {},
): GradientTransformation<readonly [ScaleByAdamState, EmptyState, ScaleByLearningRateState]> =>
  chain(
    scaleByAdam({ b1: options.b1, b2: options.b2, eps: options.eps, epsRoot: options.epsRoot }),
    addDecayedWeights(options.weightDecay ?? 0.01, { filter: options.filter }),
    scaleByLearningRate(checkedLearningRate('adamw', learningRate)),
  )
