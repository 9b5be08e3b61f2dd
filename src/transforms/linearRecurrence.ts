/**
 * @file linearRecurrence: the first-order linear recurrence `h_t = a_t ⊙ h_{t−1} + b_t` as one
 * kernel primitive — a loop over time forwards, the reverse recurrence backwards — with a
 * differentiable VJP that is itself a linear recurrence run backwards, so every order of
 * differentiation goes through the same kernel. Imports tensor/ and autodiff/ only.
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { abs, add, maximum, mul, neg, softplus, sub } from '../autodiff/ops/elementwise.js'
import { defineKernelPrimitive } from '../autodiff/primitive.js'
import { batchSize, batchedFirst, broadcastTo, concat, expandDims, moveAxis, reshape, slice, take } from '../autodiff/ops/structural.js'
import { K } from '../tensor/backend.js'
import { tensor, zeros } from '../tensor/creation.js'
import { shapesEqual } from '../tensor/shape.js'
import { Tensor, expectTensor } from '../tensor/Tensor.js'
import { associativeScan } from './associativeScan.js'

/** Options of `linearRecurrence`. @category transforms */
export interface LinearRecurrenceOptions {
  /**
   * The trailing axis of a, b and h0 holds (re, im) pairs (length 2) and ⊙ is the complex product:
   * a complex diagonal recurrence (LRU, S5) as pairs of reals. Default false.
   */
  readonly complex?: boolean
}

interface Params {
  readonly complex: boolean
}

// ---- complex pairs written with primitives (the differentiable VJP needs them) ----

/** Entry k (0: re, 1: im) of the trailing pair axis, keeping the axis. */
const part = (x: Tensor, k: 0 | 1): Tensor => slice(x, [...x.shape.slice(0, -1).map((d) => [0, d] as const), [k, k + 1]])

/** x̅: the imaginary parts negated. */
const conj = (x: Tensor): Tensor => mul(x, tensor([1, -1], { dtype: x.dtype }))

/** x ⊙ y as complex numbers (real products when not `complex`). */
const times = (x: Tensor, y: Tensor, complex: boolean): Tensor => {
  if (!complex) return mul(x, y)
  const [xr, xi, yr, yi] = [part(x, 0), part(x, 1), part(y, 0), part(y, 1)]
  return concat([sub(mul(xr, yr), mul(xi, yi)), add(mul(xr, yi), mul(xi, yr))], -1)
}

/** x with its time axis (0) reversed (a reversed linear recurrence is this one between two flips). */
export const flipTime = (x: Tensor): Tensor => take(x, Array.from({ length: x.shape[0] }, (_, t) => x.shape[0] - 1 - t), 0)

/** h_{t−1} for every step t of `hs` `[time ≥ 1, ...]`: h0, then every state but the last. */
const statesBefore = (hs: Tensor, h0: Tensor): Tensor => {
  const time = hs.shape[0]
  return time === 1 ? expandDims(h0, 0) : concat([expandDims(h0, 0), slice(hs, [[0, time - 1]])], 0)
}

// ---- the primitive ----

const linearRecurrencePrimitive: (inputs: readonly Tensor[], params: Params) => Tensor[] = defineKernelPrimitive<Params, null>({
  name: 'linearRecurrence',
  // The outputs are the only thing the backward kernel reads besides the inputs: no residuals.
  forward: ([a, b, h0], { complex }) => ({
    outs: [new Tensor(K.linearRecurrence(a.data, b.data, h0.data, a.shape[0], h0.size, complex), a.shape)],
    residuals: null,
  }),
  vjp: ([g], { inputs: [a, , h0], outs: [hs], params: { complex } }) => {
    if (g === null) return [null, null, null]
    const gs = g.size === hs.size ? g : broadcastTo(g, hs.shape)
    const d = K.linearRecurrenceBackward(gs.data, a.data, hs.data, h0.data, a.shape[0], h0.size, complex)
    return [new Tensor(d.da, a.shape), new Tensor(d.db, a.shape), new Tensor(d.dh0, h0.shape)]
  },
  differentiableVjp: ([g], { inputs: [a, , h0], outs: [hs], params: { complex } }) => {
    const time = a.shape[0]
    if (g === null) return [null, null, null]
    if (time === 0) return [zeros(a.shape, { dtype: a.dtype }), zeros(a.shape, { dtype: a.dtype }), zeros(h0.shape, { dtype: h0.dtype })]
    const step = (x: Tensor, from: number, to: number): Tensor => slice(x, [[from, to]])
    // λ_t = g_t + a̅_{t+1} ⊙ λ_{t+1} is the same recurrence run from the last step, with the
    // coefficients shifted by one step (0 where the sequence ends, as λ_T = 0).
    const end = zeros([1, ...a.shape.slice(1)], { dtype: a.dtype })
    const next = time === 1 ? end : concat([step(a, 1, time), end], 0)
    const coefficients = complex ? conj(next) : next
    const lambda = flipTime(linearRecurrence(flipTime(coefficients), flipTime(broadcastTo(g, hs.shape)), zeros(h0.shape, { dtype: h0.dtype }), { complex }))
    const before = statesBefore(hs, h0)
    const da = times(lambda, complex ? conj(before) : before, complex)
    const a0 = complex ? conj(step(a, 0, 1)) : step(a, 0, 1)
    const dh0 = times(a0, step(lambda, 0, 1), complex)
    return [da, lambda, reshape(dh0, h0.shape)]
  },
  // ḣ_t = a_t ⊙ ḣ_{t−1} + (ȧ_t ⊙ h_{t−1} + ḃ_t): the tangents obey the same recurrence, so the
  // same kernel computes them.
  jvp: ([ta, tb, th0], { inputs: [a, , h0], outs: [hs], params: { complex } }) => {
    if (a.shape[0] === 0) return [null]
    const fromA = ta === null ? null : times(ta, statesBefore(hs, h0), complex)
    const drive = fromA === null ? tb ?? zeros(a.shape, { dtype: a.dtype }) : tb === null ? fromA : add(fromA, tb)
    return [linearRecurrence(a, drive, th0 ?? zeros(h0.shape, { dtype: h0.dtype }), { complex })]
  },
  // Every element is a recurrence of its own, so vmap's examples are one more axis after time.
  batch: (inputs, axes, params) => {
    const n = batchSize(inputs, axes)
    const [a, b] = inputs.slice(0, 2).map((x, i) => moveAxis(batchedFirst(x, axes[i], n), 0, 1))
    return { outs: linearRecurrencePrimitive([a, b, batchedFirst(inputs[2], axes[2], n)], params), axes: [1] }
  },
})

/**
 * Every state of the first-order linear recurrence `h_t = a_t ⊙ h_{t−1} + b_t` from `h0`, as one
 * kernel: O(T·n) work in one pass over the arrays, forwards and backwards. Its VJP is the reverse
 * recurrence `λ_t = g_t + a_{t+1} ⊙ λ_{t+1}`, `da_t = λ_t ⊙ h_{t−1}`, `db_t = λ_t`,
 * `dh0 = a_0 ⊙ λ_0` (a kernel too), written for higher orders as this same primitive run backwards,
 * so `grad(grad(f))` works through it.
 * @param a `[time, ...]` coefficients
 * @param b `[time, ...]` inputs, a's shape and dtype
 * @param h0 `[...]` the initial state, a's trailing shape
 * @param options `complex`: the trailing axis holds (re, im) pairs
 * @returns `[time, ...]` every h_t
 * @example linearRecurrence(tensor([[0.5], [0.5]]), tensor([[1], [1]]), tensor([0])) // [[1], [1.5]]
 * @category transforms
 */
export const linearRecurrence = (a: Tensor, b: Tensor, h0: Tensor, options: LinearRecurrenceOptions = {}): Tensor => {
  expectTensor('linearRecurrence', 'a', a)
  expectTensor('linearRecurrence', 'b', b)
  expectTensor('linearRecurrence', 'h0', h0)
  const complex = options.complex ?? false
  if (a.rank === 0) throw new ShapeError('linearRecurrence: a must be time-major [time, ...], got a scalar (shape []).')
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(`linearRecurrence: a and b must have the same shape [time, ...]; a is ${showShape(a.shape)}, b is ${showShape(b.shape)}.`)
  }
  if (!shapesEqual(h0.shape, a.shape.slice(1))) {
    throw new ShapeError(
      `linearRecurrence: h0 must have a's shape without its time axis, ${showShape(a.shape.slice(1))}; got ${showShape(h0.shape)} (a is ${showShape(a.shape)}).`,
    )
  }
  if (a.dtype !== b.dtype || a.dtype !== h0.dtype) {
    throw new ValueError(`linearRecurrence: a, b and h0 must share a dtype; got ${a.dtype}, ${b.dtype} and ${h0.dtype}. Cast them first.`)
  }
  if (complex && (a.rank < 2 || a.shape[a.rank - 1] !== 2)) {
    throw new ShapeError(
      `linearRecurrence: with { complex: true } the trailing axis holds (re, im) pairs and must have length 2; a is ${showShape(a.shape)}.`,
    )
  }
  return linearRecurrencePrimitive([a, b, h0], { complex })[0]
}

// ---- in log space ----

/**
 * log 0 as a finite number: padded steps and an absent h0 contribute e^LOG_ZERO = 0 exactly, and
 * two such terms combine to another without ∞ − ∞ (the odd–even scan pairs neighbouring steps).
 */
export const LOG_ZERO = -1e30

/** log(eˣ + eʸ): the larger plus softplus of minus the gap, finite for finite x and y. */
export const logAddExp = (x: Tensor, y: Tensor): Tensor => add(maximum(x, y), softplus(neg(abs(sub(x, y)))))

/** Two affine maps h ↦ a·h + b in log space, the first applied first: (log a₁a₂, log(a₂b₁ + b₂)). */
const composeLogAffine = ([a1, b1]: readonly Tensor[], [a2, b2]: readonly Tensor[]): Tensor[] => [add(a1, a2), logAddExp(add(a2, b1), b2)]

/**
 * `log h_t` of the linear recurrence `h_t = a_t ⊙ h_{t−1} + b_t` over positive numbers, from their
 * logs: Feng et al.'s (2024) log-space form for long sequences, where products of many gates would
 * underflow. They write it `log h_t = a*_t + logcumsumexp_{s ≤ t}(log b_s − a*_s)` with
 * `a*_t = Σ_{s ≤ t} log a_s`; this composes the steps' affine maps in log space by `associativeScan`
 * instead (the same values), so no `a*_t` of magnitude ~T is subtracted and added back, which keeps
 * the relative error independent of the sequence's length. Every order of `grad` goes through it.
 * @param logA `[time, ...]` log a_t (a_t > 0)
 * @param logB `[time, ...]` log b_t, logA's shape and dtype (`LOG_ZERO` for b_t = 0)
 * @param logH0 `[...]` log h0 (h0 > 0), or omitted for h0 = 0
 * @returns `[time, ...]` every log h_t
 * @example logLinearRecurrence(log(tensor([[0.5], [0.5]])), log(tensor([[1], [1]]))) // log [[1], [1.5]]
 * @category transforms
 */
export const logLinearRecurrence = (logA: Tensor, logB: Tensor, logH0?: Tensor): Tensor => {
  expectTensor('logLinearRecurrence', 'logA', logA)
  expectTensor('logLinearRecurrence', 'logB', logB)
  if (logA.rank === 0 || !shapesEqual(logA.shape, logB.shape)) {
    throw new ShapeError(`logLinearRecurrence: logA and logB must have one shape [time, ...]; logA is ${showShape(logA.shape)}, logB is ${showShape(logB.shape)}.`)
  }
  if (logH0 !== undefined && !shapesEqual(expectTensor('logLinearRecurrence', 'logH0', logH0).shape, logA.shape.slice(1))) {
    throw new ShapeError(`logLinearRecurrence: logH0 must have logA's shape without its time axis, ${showShape(logA.shape.slice(1))}; got ${showShape(logH0.shape)}.`)
  }
  const [prefixA, fromZero] = associativeScan(composeLogAffine, [logA, logB])
  return logH0 === undefined ? fromZero : logAddExp(add(prefixA, logH0), fromZero)
}
