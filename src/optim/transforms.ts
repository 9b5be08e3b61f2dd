/**
 * @file Building blocks of optimisers, each a gradient transformation with its equation in its
 * JSDoc: scaling, learning rates, momentum, Adagrad, RMS and Adam preconditioning, weight decay,
 * the seed's L2 penalty and global-norm clipping. Every update is written with differentiable ops
 * on fresh tensors, so nothing is mutated. Imports tensor/, autodiff/ops, tree/ and optim/ siblings.
 *
 * Notation: g is the incoming update (the gradient at the start of a chain), u the outgoing one,
 * w the current parameter, k the step count before the update (0 for the first), t = k + 1.
 */
import { add, cast, div, maximum, mul, sqrt, square } from '../autodiff/ops/elementwise.js'
import { sum } from '../autodiff/ops/reduce.js'
import { ValueError } from '../errors.js'
import { Traced } from '../autodiff/trace.js'
import { Tensor, expectTensor } from '../tensor/Tensor.js'
import { K } from '../tensor/backend.js'
import type { AdamConstants } from '../tensor/kernels.js'
import { scalar, zeros } from '../tensor/creation.js'
import { type Tree, treeFlatten, treeLeaves, treeUnflatten } from '../tree/tree.js'
import {
  type EmptyState,
  type GradientTransformation,
  type ParamFilter,
  allLeaves,
  isWeight,
  mapUpdates,
  masked,
} from './GradientTransformation.js'
import { type LearningRate, asSchedule } from './schedules.js'

// ---- helpers ----

/**
 * √(v + εroot). εroot (optax's `eps_root`) sits under the root so that differentiating *through* an
 * update stays finite where v = 0: d√v/dv = 1/(2√v) is ∞ there, and ∞ · 0 (v's own derivative at a
 * zero gradient) is NaN. εroot = 0 adds no operation, so the default keeps its bits.
 */
const rootOf = (v: Tensor, epsRoot: number): Tensor => sqrt(epsRoot === 0 ? v : add(v, epsRoot))

const finite = (who: string, name: string, value: number): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${who}: ${name} must be a finite number, got ${String(value)}.`)
  }
  return value
}

const nonNegative = (who: string, name: string, value: number): number => {
  if (!(finite(who, name, value) >= 0)) throw new ValueError(`${who}: ${name} must be ≥ 0, got ${value}.`)
  return value
}

/** A decay rate of an exponential moving average: 0 ≤ β < 1 (β = 1 would never move). */
const decayRate = (who: string, name: string, value: number): number => {
  if (!(finite(who, name, value) >= 0 && value < 1)) throw new ValueError(`${who}: ${name} must be in [0, 1), got ${value}.`)
  return value
}

const zerosLike = (x: Tensor): Tensor => zeros(x.shape, { dtype: x.dtype })

/** A tree of zeros shaped like the parameters: the initial value of a moment. */
const zerosTree = (who: string, params: unknown): Tree => mapUpdates(`${who}.init`, zerosLike, params, {}, 'params') as Tree

/** The step count of a state, checked: a scalar tensor holding a whole number ≥ 0. */
const readCount = (who: string, count: unknown): number => {
  const c = expectTensor(who, 'state.count', count)
  const k = c.size === 1 ? c.data[0] : NaN
  if (!(Number.isInteger(k) && k >= 0)) {
    throw new ValueError(`${who}: state.count must be a scalar tensor holding a whole number ≥ 0, got shape [${c.shape.join(', ')}] with value ${k}. Create the state with init(params).`)
  }
  return k
}

/** Step counts are float64 scalars: exact up to 2⁵³ steps and storable with the parameters. */
const countTensor = (k: number): Tensor => scalar(k, 'float64')

const needsParams = (who: string, params: unknown): void => {
  if (params === undefined) {
    throw new ValueError(`${who}: needs the current parameters to compute λ·w; call update(grads, state, params).`)
  }
}

// ---- scaling ----

/**
 * Multiplies every update by a constant: `u = factor · g`. Stateless.
 * @example
 * ```ts
 * const opt = optim.scale(-0.5) // a fixed step against the gradient
 * const [updates] = opt.update({ w: tensor([2, -4]) }, opt.init({}))
 * console.log(updates.w.toArray()) // [-1, 2]
 * ```
 * @category optimizers
 */
export const scale = (factor: number): GradientTransformation<EmptyState> => {
  finite('optim.scale', 'factor', factor)
  return {
    init: () => ({}),
    update: (updates, state) => [mapUpdates('optim.scale', (g) => mul(g, factor), updates) as typeof updates, state],
  }
}

/** State of `scaleByLearningRate`: the number of updates made so far. */
export interface ScaleByLearningRateState {
  readonly count: Tensor
}

export interface ScaleByLearningRateOptions {
  /** Multiply by −η (a descent step) rather than η. Default true. */
  readonly flipSign?: boolean
}

/**
 * Scales by the learning rate, with the sign flipped so that the result descends:
 * `u = −η(k) · g`, where η is a number or a schedule of the step count k (0 on the first update).
 * The count is kept even for a constant rate, so the state has the same structure either way.
 * @example
 * ```ts
 * const opt = optim.scaleByLearningRate(optim.exponentialDecay(0.1, { decayRate: 0.5 })) // η halves every step
 * const g = { w: tensor([1]) }
 * const [first, state] = opt.update(g, opt.init(g))
 * const [second] = opt.update(g, state)
 * console.log(first.w.toArray(), second.w.toArray(), state.count.item()) // [-0.1] [-0.05] 1
 * const adamCosine = optim.chain(optim.scaleByAdam(), optim.scaleByLearningRate(optim.cosineDecay(1e-3, { decaySteps: 1000 })))
 * ```
 * @category optimizers
 */
export const scaleByLearningRate = (
  learningRate: LearningRate,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<ScaleByLearningRateState> => {
  const who = 'optim.scaleByLearningRate'
  const schedule = asSchedule(who, learningRate)
  const sign = (options.flipSign ?? true) ? -1 : 1
  return {
    init: () => ({ count: countTensor(0) }),
    update: (updates, state) => {
      const k = readCount(who, state.count)
      const eta = schedule(k)
      if (typeof eta !== 'number' || !Number.isFinite(eta)) {
        throw new ValueError(`${who}: the learning-rate schedule returned ${String(eta)} at step ${k}; it must return a finite number.`)
      }
      const factor = sign * eta
      return [mapUpdates(who, (g) => mul(g, factor), updates) as typeof updates, { count: countTensor(k + 1) }]
    },
  }
}

// ---- momentum ----

/** State of `traceMomentum`: the running trace, shaped like the parameters. */
export interface TraceState {
  readonly trace: Tree
}

export interface TraceMomentumOptions {
  /** Use Nesterov's look-ahead form. Default false. */
  readonly nesterov?: boolean
}

/**
 * Heavy-ball momentum as PyTorch's SGD writes it (dampening 0): `m_t = μ · m_{t−1} + g`, `u = m_t`;
 * with `nesterov`, `u = g + μ · m_t`. The trace starts at zero, so the first update is g itself.
 * (The seed accumulates `μ · change + η · g` instead; with a constant η that is η times this trace.)
 * @example
 * ```ts
 * const opt = optim.traceMomentum(0.9)
 * const g = { w: tensor([1]) }
 * const [first, state] = opt.update(g, opt.init(g))
 * const [second] = opt.update(g, state)
 * console.log(first.w.toArray(), second.w.toArray()) // [1] [1.9]: m = 0.9·m + g
 * const sameAsMomentum = optim.chain(optim.traceMomentum(0.9), optim.scaleByLearningRate(0.01)) // ≡ optim.momentum(0.01)
 * ```
 * @category optimizers
 */
export const traceMomentum = (decay: number, options: TraceMomentumOptions = {}): GradientTransformation<TraceState> => {
  const who = 'optim.traceMomentum'
  nonNegative(who, 'decay', decay)
  const nesterov = options.nesterov ?? false
  return {
    init: (params) => ({ trace: zerosTree(who, params) }),
    update: (updates, state) => {
      const trace = mapUpdates(who, (g, m) => add(mul(m, decay), g), updates, { 'state.trace': state.trace }) as Tree
      const out = nesterov ? mapUpdates(who, (g, m) => add(g, mul(m, decay)), updates, { trace }) : trace
      return [out as typeof updates, { trace }]
    },
  }
}

// ---- adaptive preconditioners ----

/** State of `scaleByAdagrad`: the running sum of squared gradients. */
export interface ScaleByAdagradState {
  readonly sumOfSquares: Tree
}

export interface ScaleByAdagradOptions {
  /** Added to the square root of the sum, outside it (PyTorch's placement). Default 1e-10 (PyTorch). */
  readonly eps?: number
  /** Starting value of the sum. Default 0. */
  readonly initialAccumulatorValue?: number
  /** Added to the sum under the square root, `√(G + εroot)` (optax's `eps_root`). Default 0. */
  readonly epsRoot?: number
}

/**
 * Adagrad's per-coordinate scaling (Duchi et al.), as PyTorch's Adagrad computes it:
 * `G_t = G_{t−1} + g²`, `u = g / (√(G_t + εroot) + ε)` — ε outside the square root, as in the seed;
 * εroot (default 0) inside it, for differentiating through the update. (The seed
 * keeps one accumulator per row of a weight matrix, the diagonal of Σ g·gᵀ, and δ = 1e-8; this is
 * the usual per-element form.)
 * @example
 * ```ts
 * const opt = optim.scaleByAdagrad()
 * const [first, state] = opt.update({ w: tensor([3]) }, opt.init({ w: zeros([1]) }))
 * const [second] = opt.update({ w: tensor([4]) }, state)
 * console.log(first.w.toArray(), second.w.toArray()) // [1] [0.8] (up to ε): g / √(Σ g²), i.e. 3/3 then 4/5
 * const sameAsAdagrad = optim.chain(optim.scaleByAdagrad(), optim.scaleByLearningRate(0.1)) // ≡ optim.adagrad(0.1)
 * ```
 * @category optimizers
 */
export const scaleByAdagrad = (options: ScaleByAdagradOptions = {}): GradientTransformation<ScaleByAdagradState> => {
  const who = 'optim.scaleByAdagrad'
  const eps = nonNegative(who, 'eps', options.eps ?? 1e-10)
  const initial = nonNegative(who, 'initialAccumulatorValue', options.initialAccumulatorValue ?? 0)
  const epsRoot = nonNegative(who, 'epsRoot', options.epsRoot ?? 0)
  return {
    init: (params) => ({
      sumOfSquares: mapUpdates(`${who}.init`, (w) => add(zerosLike(w), initial), params, {}, 'params') as Tree,
    }),
    update: (updates, state) => {
      const sumOfSquares = mapUpdates(who, (g, s) => add(s, square(g)), updates, { 'state.sumOfSquares': state.sumOfSquares }) as Tree
      const out = mapUpdates(who, (g, s) => div(g, add(rootOf(s, epsRoot), eps)), updates, { sumOfSquares })
      return [out as typeof updates, { sumOfSquares }]
    },
  }
}

/** State of `scaleByRms`: the moving average of squared gradients. */
export interface ScaleByRmsState {
  readonly nu: Tree
}

export interface ScaleByRmsOptions {
  /** Decay ρ of the moving average. Default 0.9 (the seed, Keras; PyTorch's default α is 0.99). */
  readonly decay?: number
  /** Added to the root mean square, outside the square root (PyTorch's placement). Default 1e-8. */
  readonly eps?: number
  /** Added to v under the square root, `√(v_t + εroot)` (optax's `eps_root`). Default 0. */
  readonly epsRoot?: number
}

/**
 * RMSprop's scaling (Tieleman & Hinton), as PyTorch's RMSprop computes it:
 * `v_t = ρ · v_{t−1} + (1 − ρ) · g²`, `u = g / (√(v_t + εroot) + ε)`, v₀ = 0 — ε outside the square
 * root, εroot (default 0) inside it, for differentiating through the update. (The
 * seed writes `g / √(v_t + δ)`; the two differ only while v_t is comparable to ε.)
 * @example
 * ```ts
 * const opt = optim.scaleByRms({ decay: 0.9 })
 * const [updates] = opt.update({ w: tensor([2]) }, opt.init({ w: zeros([1]) }))
 * console.log(updates.w.toArray()) // [3.162…]: g / √(0.1·g²) = √10 on the first step
 * const sameAsRmsprop = optim.chain(optim.scaleByRms({ decay: 0.9 }), optim.scaleByLearningRate(1e-3)) // ≡ optim.rmsprop(1e-3)
 * ```
 * @category optimizers
 */
export const scaleByRms = (options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> => {
  const who = 'optim.scaleByRms'
  const rho = decayRate(who, 'decay', options.decay ?? 0.9)
  const eps = nonNegative(who, 'eps', options.eps ?? 1e-8)
  const epsRoot = nonNegative(who, 'epsRoot', options.epsRoot ?? 0)
  return {
    init: (params) => ({ nu: zerosTree(who, params) }),
    update: (updates, state) => {
      const nu = mapUpdates(who, (g, v) => add(mul(v, rho), mul(square(g), 1 - rho)), updates, { 'state.nu': state.nu }) as Tree
      const out = mapUpdates(who, (g, v) => div(g, add(rootOf(v, epsRoot), eps)), updates, { nu })
      return [out as typeof updates, { nu }]
    },
  }
}

/** State of `scaleByAdam`: step count and the first (mu) and second (nu) moment estimates. */
export interface ScaleByAdamState {
  readonly count: Tensor
  readonly mu: Tree
  readonly nu: Tree
}

export interface ScaleByAdamOptions {
  /** Decay of the first moment. Default 0.9. */
  readonly b1?: number
  /** Decay of the second moment. Default 0.999. */
  readonly b2?: number
  /** Added to √v̂, outside the square root. Default 1e-8. */
  readonly eps?: number
  /**
   * Added to v̂ under the square root, `√(v̂ + εroot)` (optax's `eps_root`). Default 0. Non-zero, the
   * step runs as composed ops rather than the one-pass kernel (which computes `√v̂`).
   */
  readonly epsRoot?: number
}

/** One leaf's new moments and update. */
interface AdamStep {
  readonly update: Tensor
  readonly m: Tensor
  readonly v: Tensor
}

/** Adam on one leaf as differentiable ops (so an optimiser step can itself be differentiated). */
const adamStepComposed = (g: Tensor, m: Tensor, v: Tensor, c: AdamConstants, epsRoot: number): AdamStep => {
  const mNext = add(mul(m, c.b1), mul(g, 1 - c.b1))
  const vNext = add(mul(v, c.b2), mul(square(g), 1 - c.b2))
  return { update: div(mul(mNext, c.correct1), add(rootOf(mul(vNext, c.correct2), epsRoot), c.eps)), m: mNext, v: vNext }
}

/**
 * Adam on one leaf in a single pass (the backend's `adam` kernel) when nothing is being
 * differentiated, else `adamStepComposed`. The kernel rounds as the composed ops do, so both give
 * the same bits. The kernel has no εroot, so a non-zero one always takes the composition.
 */
const adamStep = (g: Tensor, m: Tensor, v: Tensor, c: AdamConstants, epsRoot: number): AdamStep => {
  if (epsRoot !== 0 || [g, m, v].some((x) => x instanceof Traced || x.dtype !== g.dtype)) return adamStepComposed(g, m, v, c, epsRoot)
  const step = K.adam(g.data, m.data, v.data, c)
  return { update: new Tensor(step.update, g.shape), m: new Tensor(step.m, g.shape), v: new Tensor(step.v, g.shape) }
}

/**
 * Adam's scaling, Kingma & Ba's Algorithm 1 (as PyTorch's Adam): with t = k + 1,
 * `m_t = β₁ m_{t−1} + (1 − β₁) g`, `v_t = β₂ v_{t−1} + (1 − β₂) g²`,
 * `m̂ = m_t / (1 − β₁ᵗ)`, `v̂ = v_t / (1 − β₂ᵗ)`, `u = m̂ / (√(v̂ + εroot) + ε)` (εroot default 0).
 * Bias correction counts updates (t = 1 on the first); the seed counted epochs instead.
 * @example
 * ```ts
 * const opt = optim.scaleByAdam()
 * const [updates] = opt.update({ w: tensor([0.5, -20]) }, opt.init({ w: zeros([2]) }))
 * console.log(updates.w.toArray()) // [1, -1] (up to ε): the first step is sign(g), whatever |g|
 * const sameAsAdam = optim.chain(optim.scaleByAdam(), optim.scale(-1e-3)) // ≡ optim.adam(1e-3)
 * ```
 * @category optimizers
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const who = 'optim.scaleByAdam'
  const b1 = decayRate(who, 'b1', options.b1 ?? 0.9)
  const b2 = decayRate(who, 'b2', options.b2 ?? 0.999)
  const eps = nonNegative(who, 'eps', options.eps ?? 1e-8)
  const epsRoot = nonNegative(who, 'epsRoot', options.epsRoot ?? 0)
  return {
    init: (params) => ({ count: countTensor(0), mu: zerosTree(who, params), nu: zerosTree(who, params) }),
    update: (updates, state) => {
      const t = readCount(who, state.count) + 1
      const constants: AdamConstants = { b1, b2, eps, correct1: 1 / (1 - b1 ** t), correct2: 1 / (1 - b2 ** t) }
      const steps: AdamStep[] = []
      const out = mapUpdates(who, (g, m, v) => {
        const step = adamStep(g, m, v, constants, epsRoot)
        steps.push(step)
        return step.update
      }, updates, { 'state.mu': state.mu, 'state.nu': state.nu })
      const { def } = treeFlatten(updates, who)
      return [out as typeof updates, { count: countTensor(t), mu: treeUnflatten(def, steps.map((s) => s.m)), nu: treeUnflatten(def, steps.map((s) => s.v)) }]
    },
  }
}

// ---- weight decay ----

export interface WeightDecayOptions {
  /** Which leaves are decayed. `addDecayedWeights`: every leaf; `l2`: `isWeight` (not biases). */
  readonly filter?: ParamFilter
}

const decayedWeights = (who: string, weightDecay: number): GradientTransformation<EmptyState> => ({
  init: () => ({}),
  update: (updates, state, params) => {
    needsParams(who, params)
    return [mapUpdates(who, (g, w) => add(g, mul(w, weightDecay)), updates, { params }) as typeof updates, state]
  },
})

/**
 * Adds decayed weights to the updates: `u = g + λ · w` on the leaves `filter` selects (all by
 * default). Placed after an adaptive scaling and before the learning rate, it is decoupled weight
 * decay (Loshchilov & Hutter, AdamW); placed first, it is an L2 penalty (see `l2`). Needs `params`.
 * @example
 * ```ts
 * const opt = optim.addDecayedWeights(0.1)
 * const params = { w: tensor([1, -2]), b: tensor([5]) }
 * const [updates] = opt.update({ w: zeros([2]), b: zeros([1]) }, opt.init(params), params)
 * console.log(updates.w.toArray(), updates.b.toArray()) // [0.1, -0.2] [0.5]: g + λ·w on every leaf
 * const adamw = optim.chain(optim.scaleByAdam(), optim.addDecayedWeights(0.01), optim.scaleByLearningRate(1e-3)) // ≡ optim.adamw(1e-3)
 * ```
 * @category optimizers
 */
export const addDecayedWeights = (weightDecay: number, options: WeightDecayOptions = {}): GradientTransformation<EmptyState> => {
  const who = 'optim.addDecayedWeights'
  finite(who, 'weightDecay', weightDecay)
  const filter = options.filter ?? allLeaves
  return filter === allLeaves ? decayedWeights(who, weightDecay) : masked(decayedWeights(who, weightDecay), filter)
}

/**
 * The seed's L2 penalty λ: adds `λ · w` to the gradient of every weight, `g ← g + λ · w`, leaving
 * biases alone (the default filter `isWeight` treats leaves named `b…` or `…bias…` as biases; pass
 * `filter` to decide otherwise). It equals adding `½ λ Σ w²` to the loss. Put it first in a chain,
 * so the optimiser sees the penalised gradient: `chain(l2(1e-4), adam(1e-3))`. Needs `params`.
 * @example
 * ```ts
 * const opt = optim.l2(0.1)
 * const params = { wLayer: tensor([1, -2]), bLayer: tensor([5]) }
 * const [updates] = opt.update({ wLayer: tensor([1, 1]), bLayer: tensor([1]) }, opt.init(params), params)
 * console.log(updates.wLayer.toArray(), updates.bLayer.toArray()) // [1.1, 0.8] [1]: biases are left alone
 * const seedAdam = optim.chain(optim.l2(1e-3), optim.adam(1e-3)) // the seed's Adam with λ = 1e-3
 * ```
 * @category optimizers
 */
export const l2 = (lambda: number, options: WeightDecayOptions = {}): GradientTransformation<EmptyState> => {
  const who = 'optim.l2'
  nonNegative(who, 'lambda', lambda)
  return masked(decayedWeights(who, lambda), options.filter ?? isWeight)
}

// ---- clipping ----

/**
 * The global norm of a tree of tensors, `√(Σ_leaves Σ x²)`, as a float64 scalar tensor (the sum is
 * accumulated in float64 so that float32 leaves cannot lose it). 0 for a tree without leaves.
 * @example
 * ```ts
 * console.log(optim.globalNorm({ a: tensor([3]), b: [tensor([[4]])] }).item()) // 5
 * ```
 * @category optimizers
 */
export const globalNorm = (tree: unknown): Tensor =>
  sqrt(treeLeaves(tree, 'optim.globalNorm').reduce<Tensor>((acc, x) => add(acc, cast(sum(square(x)), 'float64')), scalar(0, 'float64')))

/**
 * Rescales all updates together when their global norm exceeds `maxNorm`:
 * `u = g · maxNorm / max(‖g‖, maxNorm)`, where ‖g‖ is the norm over all leaves — so ‖u‖ ≤ maxNorm and
 * the direction is kept. (PyTorch's clip_grad_norm_ divides by ‖g‖ + 1e-6; this form never divides
 * by zero because maxNorm > 0, and leaves gradients under the limit exactly as they are.) Stateless.
 * @example
 * ```ts
 * const opt = optim.clipByGlobalNorm(1)
 * const [clipped] = opt.update({ a: tensor([3]), b: tensor([4]) }, opt.init({}))
 * console.log(clipped.a.toArray(), clipped.b.toArray()) // [0.6] [0.8]: norm 5 scaled to 1, direction kept
 * const [kept] = opt.update({ a: tensor([0.3]), b: tensor([0.4]) }, opt.init({}))
 * console.log(kept.a.toArray()) // [0.3]: under the limit, unchanged
 * const clippedAdam = optim.chain(optim.clipByGlobalNorm(1), optim.adam(1e-3))
 * ```
 * @category optimizers
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<EmptyState> => {
  const who = 'optim.clipByGlobalNorm'
  if (!(finite(who, 'maxNorm', maxNorm) > 0)) throw new ValueError(`${who}: maxNorm must be positive, got ${maxNorm}.`)
  return {
    init: () => ({}),
    update: (updates, state) => {
      const factor = div(maxNorm, maximum(globalNorm(updates), maxNorm))
      return [mapUpdates(who, (g) => mul(g, cast(factor, g.dtype)), updates) as typeof updates, state]
    },
  }
}
