/**
 * @file Lyapunov exponents of a recurrence along a trajectory, by the QR method (Benettin et al.
 * 1980; Shimada & Nagashima 1979): k orthonormal tangent directions are carried through the step
 * Jacobians and re-orthonormalised after every step (modified Gram–Schmidt, twice, in float64);
 * the logarithms of the stretch factors (R's diagonal) averaged over the steps are the exponents.
 * Imports the step Jacobians.
 */
import { ValueError } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { ScanStep } from '../transforms/scan.js'
import { type TrajectoryOptions, carrySize, forEachStepJacobian } from './stepJacobians.js'
import { norm } from './svd.js'

/** Options of `lyapunovExponents`: how many exponents, and the trajectory's layout as `scan` takes it. */
export interface LyapunovOptions extends TrajectoryOptions {
  /** The number of exponents, the largest ones: 1 … n (the carry's size). Default n. */
  readonly count?: number
}

/**
 * Orthonormalises the columns of `q` (n × k, column j at `q[j]`) in place and returns their norms
 * after projection, R's diagonal. Gram–Schmidt is run twice ("twice is enough", Giraud et al. 2005),
 * which keeps the columns orthonormal to working precision even when the Jacobians' products are
 * badly conditioned. A column that vanishes (a singular Jacobian) gives 0, and is replaced by a unit
 * direction orthogonal to the others so that the remaining columns stay meaningful.
 */
const orthonormalize = (q: Float64Array[]): number[] =>
  q.map((column, j) => {
    const project = (v: Float64Array): void => {
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          let r = 0
          for (let m = 0; m < v.length; m++) r += q[i][m] * v[m]
          for (let m = 0; m < v.length; m++) v[m] -= r * q[i][m]
        }
      }
    }
    project(column)
    const length = norm(column)
    if (length > 0) {
      for (let m = 0; m < column.length; m++) column[m] /= length
      return length
    }
    // Some unit vector e_m has a part outside the span of the j earlier columns (j < n).
    for (let m = 0; m < column.length; m++) {
      column.fill(0)
      column[m] = 1
      project(column)
      const rest = norm(column)
      if (rest > 1e-8) {
        for (let i = 0; i < column.length; i++) column[i] /= rest
        break
      }
    }
    return 0
  })

/**
 * The `count` largest Lyapunov exponents of the trajectory of `step` from `carry0` over xs, in
 * nats per step: `λ_i = (1/T) Σ_t log R_t[i, i]`, where `J_t·Q_{t−1} = Q_t·R_t` (QR) and `Q_0` is
 * the first `count` columns of the identity. Positive: nearby trajectories separate (chaos);
 * negative: they converge (the network forgets its initial state). On a finite trajectory they
 * are estimates; a singular Jacobian gives −Infinity.
 * @param step `(carry [1, n], x_t) → [carry [1, n], y]`
 * @param carry0 `[1, n]`
 * @param xs a pytree of `[time, 1, …]` leaves (or as `options.timeAxis` says), or null with `options.length`
 * @param options `count` (1 … n, default n), and `reverse`, `timeAxis`, `length` as `scan` takes them
 * @returns `count` exponents, largest first
 * @example
 * ```ts
 * // c_t = c_{t−1}·A without inputs: the logarithms of |eigenvalues of A|
 * const a = tensor([[0.5, 0], [0, -0.25]])
 * diagnostics.lyapunovExponents((c: Tensor) => [matmul(c, a), null] as const, ones([1, 2]), null, { length: 10 }) // [−0.693, −1.386]
 * ```
 * @category diagnostics
 */
export const lyapunovExponents = (step: ScanStep<Tensor, any, unknown>, carry0: Tensor, xs: unknown, options: LyapunovOptions = {}): number[] => {
  const who = 'diagnostics.lyapunovExponents'
  const n = carrySize(who, carry0)
  const count = options.count ?? n
  if (!(Number.isInteger(count) && count >= 1 && count <= n)) {
    throw new ValueError(`${who}: count must be an integer from 1 to ${n} (the size of the carry [1, ${n}]), got ${String(count)}.`)
  }
  let q = Array.from({ length: count }, (_, j) => Float64Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)))
  const sums = new Array<number>(count).fill(0)
  const steps = forEachStepJacobian(who, step, carry0, xs, options, ({ entries }) => {
    q = q.map((column) => Float64Array.from({ length: n }, (_, i) => {
      let s = 0
      for (let m = 0; m < n; m++) s += entries[i * n + m] * column[m]
      return s
    }))
    orthonormalize(q).forEach((r, j) => { sums[j] += Math.log(r) })
  })
  if (steps === 0) throw new ValueError(`${who}: the trajectory has no steps; xs must hold at least one.`)
  return sums.map((s) => s / steps).sort((a, b) => b - a)
}
