/**
 * @file Forecasting baselines that a recurrent model of a series must beat: persistence ("tomorrow
 * = today") and a least-squares linear model of the last few rows of the inputs, plus the season
 * as the sine and cosine of the day of the year. Plain float64 loops over arrays, no tensors, no
 * gradients: these are yardsticks, computed exactly. Pure and browser-safe.
 */
import { ValueError } from '../errors.js'
import type { IndexRange } from './series.js'

/** A dense row-major matrix of float64: entry (i, j) at `data[i · columns + j]`. */
export interface Matrix {
  readonly rows: number
  readonly columns: number
  readonly data: Float64Array
}

const checkRows = (who: string, range: IndexRange, length: number, first = 0): void => {
  const [start, end] = range
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < first || end <= start || end > length) {
    throw new ValueError(`${who}: rows [${start}, ${end}) must be a non-empty range within [${first}, ${length}) (the series has ${length} rows).`)
  }
}

/**
 * The mean absolute error `Σ |predicted_i − actual_i| / n`.
 * @param predicted n values.
 * @param actual n values.
 * @example meanAbsoluteError([1, 2, 4], [2, 2, 1]) // (1 + 0 + 3) / 3 = 1.333…
 * @category baselines
 */
export const meanAbsoluteError = (predicted: ArrayLike<number>, actual: ArrayLike<number>): number => {
  if (predicted.length !== actual.length || predicted.length === 0) {
    throw new ValueError(`data.meanAbsoluteError: predicted and actual must have the same non-zero length, got ${predicted.length} and ${actual.length}.`)
  }
  let sum = 0
  for (let i = 0; i < predicted.length; i++) sum += Math.abs(predicted[i] - actual[i])
  return sum / predicted.length
}

/**
 * The persistence forecast: row i's target is forecast by `today[i]`, the last value known on
 * that row (for tomorrow's maximum temperature: today's maximum).
 * @param today the column that persists (e.g. `tmax`).
 * @param rows `[start, end)`, the rows to forecast.
 * @returns `end − start` forecasts.
 * @example persistence([10, 12, 11], [1, 3]) // Float64Array [12, 11]
 * @category baselines
 */
export const persistence = (today: ArrayLike<number>, rows: IndexRange): Float64Array => {
  checkRows('data.persistence', rows, today.length)
  return Float64Array.from({ length: rows[1] - rows[0] }, (_, i) => today[rows[0] + i])
}

/**
 * The day of the year (1 … 366) of a date written `YYYY-MM-DD`.
 * @example dayOfYear('2021-02-01') // 32
 * @category baselines
 */
export const dayOfYear = (date: string): number => {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date.trim())
  const time = m === null ? Number.NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  if (!Number.isFinite(time) || new Date(time).getUTCDate() !== Number(m![3])) {
    throw new ValueError(`data.dayOfYear: expected a date written YYYY-MM-DD, got ${JSON.stringify(date.slice(0, 40))}.`)
  }
  return Math.round((time - Date.UTC(Number(m![1]), 0, 1)) / 86_400_000) + 1
}

/**
 * The season as two smooth columns: `sin(2π·d/365.25)` and `cos(2π·d/365.25)` of each date's day
 * of the year d, so that 31 December and 1 January lie close together.
 * @param dates `YYYY-MM-DD` strings.
 * @returns `[sine, cosine]`, one value per date each.
 * @category baselines
 */
export const seasonColumns = (dates: readonly string[]): readonly [Float64Array, Float64Array] => {
  const angle = dates.map((d) => (2 * Math.PI * dayOfYear(d)) / 365.25)
  return [Float64Array.from(angle, Math.sin), Float64Array.from(angle, Math.cos)]
}

/**
 * The design matrix of a linear forecaster: for each row i of `rows`, the last `lags` values of
 * every input column, then the `extra` columns at row i, then 1 (the intercept):
 *
 *   [x₁[i], x₁[i−1], …, x₁[i−lags+1], x₂[i], …, e₁[i], …, 1]
 *
 * @param inputs the input columns, all of the series' length.
 * @param rows `[start, end)` with start ≥ lags − 1 (every row needs its full history).
 * @param options `lags` (≥ 1) and `extra` columns (default none).
 * @returns a `[end − start, inputs·lags + extra + 1]` matrix.
 * @example lagFeatures([[1, 2, 3]], [1, 3], { lags: 2 }) // rows [2, 1, 1] and [3, 2, 1]
 * @category baselines
 */
export const lagFeatures = (
  inputs: readonly ArrayLike<number>[],
  rows: IndexRange,
  options: { readonly lags: number; readonly extra?: readonly ArrayLike<number>[] },
): Matrix => {
  const who = 'data.lagFeatures'
  const { lags, extra = [] } = options
  if (!Number.isInteger(lags) || lags < 1) throw new ValueError(`${who}: lags must be a whole number ≥ 1, got ${lags}.`)
  if (inputs.length === 0) throw new ValueError(`${who}: give at least one input column.`)
  const length = inputs[0].length
  const uneven = [...inputs, ...extra].findIndex((c) => c.length !== length)
  if (uneven >= 0) throw new ValueError(`${who}: every column must have the series' ${length} rows; column ${uneven} has ${[...inputs, ...extra][uneven].length}.`)
  checkRows(who, rows, length, lags - 1)
  const count = rows[1] - rows[0]
  const columns = inputs.length * lags + extra.length + 1
  const data = new Float64Array(count * columns)
  for (let r = 0; r < count; r++) {
    const i = rows[0] + r
    let j = r * columns
    for (const input of inputs) for (let k = 0; k < lags; k++) data[j++] = input[i - k]
    for (const e of extra) data[j++] = e[i]
    data[j] = 1
  }
  return { rows: count, columns, data }
}

/**
 * Least squares: the w minimising ‖Xw − y‖², by Householder QR of X (never the normal equations,
 * which square X's condition number). A column (nearly) in the span of the columns before it, such
 * as a constant column beside the intercept's, adds nothing to the fit: it gets weight 0 and the
 * others are fitted without it, as R's `lm` drops aliased coefficients.
 * @param x a `[n, p]` matrix with n ≥ p.
 * @param y n values.
 * @returns the p weights.
 * @example leastSquares({ rows: 3, columns: 2, data: Float64Array.of(0, 1, 1, 1, 2, 1) }, [1, 3, 5]) // [2, 1]: y = 2x + 1
 * @category baselines
 */
export const leastSquares = (x: Matrix, y: ArrayLike<number>): Float64Array => {
  const who = 'data.leastSquares'
  const { rows: n, columns: p } = x
  if (y.length !== n) throw new ValueError(`${who}: y must have one value per row of x (${n}), got ${y.length}.`)
  if (n < p) throw new ValueError(`${who}: x [${n}, ${p}] has fewer rows than columns; the fit is underdetermined.`)
  // Column-major copies: each reflection then runs down contiguous columns.
  const a = Array.from({ length: p }, (_, j) => Float64Array.from({ length: n }, (_, i) => x.data[i * p + j]))
  const b = Float64Array.from(y)
  const normFrom = (c: Float64Array, k: number): number => {
    let s = 0
    for (let i = k; i < n; i++) s += c[i] * c[i]
    return Math.sqrt(s)
  }
  // Column j's entry of R lies in row pivotRow[j] of a[j]; dependent columns get none.
  const pivotRow: (number | null)[] = []
  let r = 0
  for (let k = 0; k < p; k++) {
    const col = a[k]
    const norm = normFrom(col, r)
    if (r === n || norm <= 1e-10 * normFrom(col, 0) || norm === 0) {
      pivotRow.push(null)
      continue
    }
    const alpha = col[r] > 0 ? -norm : norm
    // v = col[r…] − α e₁, kept in col[r…]; H = I − 2vvᵀ/(vᵀv) maps col[r…] to α e₁.
    col[r] -= alpha
    let vv = 0
    for (let i = r; i < n; i++) vv += col[i] * col[i]
    const reflect = (c: Float64Array): void => {
      let dot = 0
      for (let i = r; i < n; i++) dot += col[i] * c[i]
      const f = (2 * dot) / vv
      for (let i = r; i < n; i++) c[i] -= f * col[i]
    }
    for (let j = k + 1; j < p; j++) reflect(a[j])
    reflect(b)
    col[r] = alpha
    pivotRow.push(r++)
  }
  // R w = (Qᵀ y) over the kept columns, by back substitution; R's row of column k is pivotRow[k].
  const w = new Float64Array(p)
  for (let k = p - 1; k >= 0; k--) {
    const row = pivotRow[k]
    if (row === null) continue
    let s = b[row]
    for (let j = k + 1; j < p; j++) s -= a[j][row] * w[j]
    w[k] = s / a[k][row]
  }
  return w
}

/** `X w` for each row of X. */
export const predictLinear = (x: Matrix, w: ArrayLike<number>): Float64Array => {
  if (w.length !== x.columns) throw new ValueError(`data.predictLinear: x has ${x.columns} columns but w has ${w.length} weights.`)
  return Float64Array.from({ length: x.rows }, (_, i) => {
    let s = 0
    for (let j = 0; j < x.columns; j++) s += x.data[i * x.columns + j] * w[j]
    return s
  })
}

/** A fitted linear forecaster and its forecasts for the test rows. */
export interface LinearForecast {
  /** Weights in {@link lagFeatures}' column order. */
  readonly weights: Float64Array
  /** The training rows the fit used: `[max(train start, lags − 1), train end)`. */
  readonly fitted: IndexRange
  readonly forecasts: Float64Array
}

/**
 * The linear baseline: least squares of `target` on the last `lags` rows of the inputs (and the
 * `extra` columns, e.g. {@link seasonColumns}), fitted on the training rows only, then applied to
 * the test rows (whose lags may reach back into earlier rows: the past is known when forecasting).
 * @param inputs the input columns; `target[i]` is what row i forecasts (e.g. tomorrow's maximum).
 * @param split `train` and `test` row ranges; the fit reads `target` at training rows only.
 * @example linearForecast([[1, 2, 3, 4, 5]], [2, 3, 4, 5, 6], { train: [0, 3], test: [3, 5] }, { lags: 1 }).forecasts // [5, 6]
 * @category baselines
 */
export const linearForecast = (
  inputs: readonly ArrayLike<number>[],
  target: ArrayLike<number>,
  split: { readonly train: IndexRange; readonly test: IndexRange },
  options: { readonly lags: number; readonly extra?: readonly ArrayLike<number>[] },
): LinearForecast => {
  const fitted: IndexRange = [Math.max(split.train[0], options.lags - 1), split.train[1]]
  const targets = Float64Array.from({ length: fitted[1] - fitted[0] }, (_, i) => target[fitted[0] + i])
  const weights = leastSquares(lagFeatures(inputs, fitted, options), targets)
  return { weights, fitted, forecasts: predictLinear(lagFeatures(inputs, split.test, options), weights) }
}
