/**
 * @file The Jacobians of a recurrence's steps along a trajectory, `J_t = ∂c_t/∂c_{t−1}` for a step
 * `(carry, x) → [carry, y]` with a carry `[1, n]`, built row by row with reverse mode (`jacrev`),
 * and their singular values. Imports ops, pytrees and `jacrev`.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { transpose, unstack } from '../autodiff/ops/structural.js'
import { type Tensor, isTensor } from '../tensor/Tensor.js'
import { type TreeDef, treeFlatten, treeUnflatten } from '../tree/tree.js'
import { jacrev } from '../transforms/jacobian.js'
import type { ScanStep } from '../transforms/scan.js'
import { singularValues } from './svd.js'

/** How xs are laid out and run: `scan`'s options of the same names. */
export interface TrajectoryOptions {
  /** Run from the last step of xs to the first. Default false. */
  readonly reverse?: boolean
  /** The axis of time in every leaf of xs: 0 (default, `[time, 1, …]`) or 1 (`[1, time, …]`). */
  readonly timeAxis?: 0 | 1
  /** The number of steps when xs is null (a recurrence without inputs). */
  readonly length?: number
}

/** A step Jacobian: `n × n`, row-major, `entries[i·n + j] = ∂c_t[i]/∂c_{t−1}[j]`. */
export interface StepJacobian {
  readonly n: number
  readonly entries: Float64Array
}

/** The steps' inputs in the order the recurrence runs them. */
const stepInputs = (who: string, xs: unknown, options: TrajectoryOptions): unknown[] => {
  const timeAxis = options.timeAxis ?? 0
  if (timeAxis !== 0 && timeAxis !== 1) throw new ValueError(`${who}: timeAxis must be 0 or 1, got ${String(options.timeAxis)}.`)
  const { leaves, def } = treeFlatten(xs, `${who}: xs`)
  const timeMajor = leaves.map((x) => {
    if (x.rank <= timeAxis) throw new ShapeError(`${who}: every leaf of xs needs a time axis ${timeAxis}; got a leaf of shape ${showShape(x.shape)}.`)
    return timeAxis === 0 ? x : transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)])
  })
  const length = timeMajor[0]?.shape[0] ?? options.length
  if (length === undefined) throw new ValueError(`${who}: xs has no tensors; pass options.length for a recurrence without inputs.`)
  timeMajor.forEach((x) => {
    if (x.shape[0] !== length) throw new ShapeError(`${who}: every leaf of xs needs the same number of steps, ${length}; got a leaf with ${x.shape[0]}.`)
  })
  const perStep = timeMajor.map((x) => unstack(x))
  const order = Array.from({ length }, (_, i) => (options.reverse ? length - 1 - i : i))
  return order.map((t) => treeUnflatten(def as TreeDef, perStep.map((steps) => steps[t])))
}

/** The carry checked to be one tensor `[1, n]` (of a given n, when not null). */
const checkCarry = (who: string, what: string, carry: unknown, n: number | null): Tensor => {
  if (!isTensor(carry)) throw new TreeError(`${who}: ${what} must be one tensor [1, n], got ${Array.isArray(carry) ? 'an array' : typeof carry}. Pack a pytree carry into one row first.`)
  if (carry.rank !== 2 || carry.shape[0] !== 1 || (n !== null && carry.shape[1] !== n)) {
    throw new ShapeError(`${who}: ${what} must have shape [1, ${n ?? 'n'}], got ${showShape(carry.shape)}.`)
  }
  return carry
}

/** n, the size of an initial carry `[1, n]`. */
export const carrySize = (who: string, carry0: unknown): number => checkCarry(who, 'carry0', carry0, null).shape[1]

/**
 * Runs `step` from `carry0` over xs and hands each step's Jacobian to `visit`, in the order the
 * steps run; returns the number of steps.
 */
export const forEachStepJacobian = (
  who: string, step: ScanStep<Tensor, any, unknown>, carry0: Tensor, xs: unknown, options: TrajectoryOptions, visit: (jacobian: StepJacobian) => void,
): number => {
  const n = carrySize(who, carry0)
  const inputs = stepInputs(who, xs, options)
  let carry = carry0
  inputs.forEach((x, t) => {
    const next = (c: Tensor): Tensor => {
      const result = step(c, x)
      if (!Array.isArray(result) || result.length !== 2) throw new TreeError(`${who}: the step function must return [carry, y] (y may be null).`)
      return checkCarry(who, `the carry returned by step ${t}`, result[0], n)
    }
    // [1, n, 1, n]: row-major, entry (i, j) is ∂c_t[i]/∂c_{t−1}[j].
    const jacobian = jacrev(next)(carry) as Tensor
    visit({ n, entries: Float64Array.from(jacobian.data) })
    carry = next(carry)
  })
  return inputs.length
}

/**
 * The singular values of each step's Jacobian `∂c_t/∂c_{t−1}` along the trajectory of `step` from
 * `carry0` over xs (the carry `[1, n]`, xs as `scan` takes them). Singular values above 1 stretch
 * a perturbation of the carry in some direction, below 1 shrink it.
 * @param step `(carry [1, n], x_t) → [carry [1, n], y]`
 * @param carry0 `[1, n]`
 * @param xs a pytree of `[time, 1, …]` leaves (or as `options.timeAxis` says), or null with `options.length`
 * @returns one array per step, in the order the steps run: n singular values, largest first
 * @example
 * ```ts
 * // c_t = c_{t−1}·A + x_t: every step's Jacobian is Aᵀ, with A's singular values
 * const a = tensor([[3, 0], [0, -2]])
 * const step = (c: Tensor, x: Tensor) => [add(matmul(c, a), x), null] as const
 * diagnostics.stepJacobians(step, zeros([1, 2]), ones([2, 1, 2])) // [[3, 2], [3, 2]]
 * ```
 * @category diagnostics
 */
export const stepJacobians = (step: ScanStep<Tensor, any, unknown>, carry0: Tensor, xs: unknown, options: TrajectoryOptions = {}): number[][] => {
  const values: number[][] = []
  forEachStepJacobian('diagnostics.stepJacobians', step, carry0, xs, options, ({ n, entries }) => values.push(singularValues(entries, n, n)))
  return values
}
