/**
 * @file The seed's first experiment as data: a damped harmonic oscillator integrated by
 * semi-implicit (symplectic) Euler, and the "predict the next position" task built from it.
 * Pure and browser-safe; imports only the tensor layer and errors.
 */
import { ValueError } from '../errors.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'

/** Physical constants, step and initial state of the oscillator (the seed's values by default). */
export interface OscillatorOptions {
  /** Mass m (default 1). */
  readonly m?: number
  /** Damping coefficient c (default 0.1). */
  readonly c?: number
  /** Spring constant k (default 1). */
  readonly k?: number
  /** Time step dt (default 0.1). */
  readonly dt?: number
  /** End of the time interval [0, tEnd), exclusive (default 30). */
  readonly tEnd?: number
  /** Initial position x(0) (default 1). */
  readonly x0?: number
  /** Initial velocity v(0) (default 0). */
  readonly v0?: number
}

/** A sampled trajectory: `t[i] = i·dt`, position `x[i]` and velocity `v[i]` at that time. */
export interface OscillatorSeries {
  readonly t: Float64Array
  readonly x: Float64Array
  readonly v: Float64Array
}

const checkFinite = (who: string, name: string, value: number, positive = false): void => {
  if (!Number.isFinite(value) || (positive && value <= 0)) {
    throw new ValueError(`${who}: ${name} must be a finite${positive ? ' positive' : ''} number, got ${value}.`)
  }
}

/**
 * Integrates `m·x″ + c·x′ + k·x = 0` on `t ∈ [0, tEnd)` by semi-implicit Euler, as the seed does:
 *
 *   a_i = −(c·v_i + k·x_i) / m,   v_{i+1} = v_i + a_i·dt,   x_{i+1} = x_i + v_{i+1}·dt
 *
 * (the position update uses the *new* velocity, which keeps the scheme stable for an undamped
 * spring, unlike explicit Euler). The number of samples is `round(tEnd / dt)`, so the seed's
 * `dt = 0.1, tEnd = 30` gives 300 samples, t = 0, 0.1, …, 29.9 (NumPy's `arange(0, 30, 0.1)`).
 *
 * @param options constants and initial state; every field defaults to the seed's value.
 * @returns `{ t, x, v }`, each a Float64Array of length `round(tEnd / dt)`.
 * @example
 * ```ts
 * const { t, x, v } = data.oscillator()
 * console.log(t.length, x[1], v[1]) // 300 0.99 -0.1, since a₀ = −1, v₁ = −0.1, x₁ = 1 − 0.01
 * const stiff = data.oscillator({ k: 4, c: 0, tEnd: 1 }) // 10 samples of an undamped, stiffer spring
 * ```
 * @category datasets
 */
export const oscillator = (options: OscillatorOptions = {}): OscillatorSeries => {
  const { m = 1, c = 0.1, k = 1, dt = 0.1, tEnd = 30, x0 = 1, v0 = 0 } = options
  checkFinite('data.oscillator', 'm', m, true)
  checkFinite('data.oscillator', 'dt', dt, true)
  checkFinite('data.oscillator', 'tEnd', tEnd, true)
  for (const [name, value] of [['c', c], ['k', k], ['x0', x0], ['v0', v0]] as const) checkFinite('data.oscillator', name, value)
  // Rounding, not ceil: 30 / 0.1 is 299.99999999999994 in floating point.
  const n = Math.round(tEnd / dt)
  if (n < 2) throw new ValueError(`data.oscillator: tEnd / dt must give at least 2 samples, got tEnd ${tEnd}, dt ${dt}.`)
  const t = new Float64Array(n)
  const x = new Float64Array(n)
  const v = new Float64Array(n)
  x[0] = x0
  v[0] = v0
  for (let i = 0; i + 1 < n; i++) {
    const a = -(c * v[i] + k * x[i]) / m
    v[i + 1] = v[i] + a * dt
    x[i + 1] = x[i] + v[i + 1] * dt
    t[i + 1] = (i + 1) * dt
  }
  return { t, x, v }
}

/** Inputs and targets of a one-sequence regression task, `[batch, time, features]`. */
export interface SequenceTask {
  /** Inputs, `[1, T − 1, 1]`. */
  readonly xs: Tensor
  /** Targets, `[1, T − 1, 1]`. */
  readonly ys: Tensor
}

/**
 * The seed's oscillator task: from a series `s` of length T, predict `s[i + 1]` from `s[i]` at
 * every step, as one sequence (batch 1, one feature).
 *
 *   xs[0, i, 0] = s[i],   ys[0, i, 0] = s[i + 1],   i = 0 … T − 2
 *
 * @param series the values `s`, length T ≥ 2 (e.g. `oscillator().x`).
 * @param options `dtype` of the tensors (default float64).
 * @returns `{ xs, ys }`, both `[1, T − 1, 1]`.
 * @example
 * ```ts
 * const { xs, ys } = data.nextStepTask(data.oscillator().x)
 * console.log(xs.shape, ys.shape) // [1, 299, 1] [1, 299, 1]
 * console.log(data.nextStepTask([1, 2, 4]).ys.toArray()) // [[[2], [4]]]
 * ```
 * @category datasets
 */
export const nextStepTask = (series: ArrayLike<number>, options: { dtype?: DType } = {}): SequenceTask => {
  const n = series.length
  if (n < 2) throw new ValueError(`data.nextStepTask: the series needs at least 2 values to pair each with the next, got ${n}.`)
  const dtype = options.dtype ?? 'float64'
  const xs = allocate(dtype, n - 1)
  const ys = allocate(dtype, n - 1)
  for (let i = 0; i + 1 < n; i++) {
    xs[i] = series[i]
    ys[i] = series[i + 1]
  }
  return { xs: new Tensor(xs, [1, n - 1, 1]), ys: new Tensor(ys, [1, n - 1, 1]) }
}
