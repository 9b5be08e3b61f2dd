/**
 * @file Time series as sequences: cut a window out of a column, cut many windows, and assemble the
 * seed's weather task (train window, validation window, the real values after the training window
 * for judging an extrapolation), scaled by a min–max scaler fitted on the training inputs only.
 * Pure and browser-safe.
 */
import { ValueError } from '../errors.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'
import { type MinMaxScaler, minMaxScaler } from './scaling.js'

/** A half-open range of row (day) indices `[start, end)`. */
export type IndexRange = readonly [start: number, end: number]

const checkRange = (who: string, what: string, range: IndexRange, n: number): void => {
  const [start, end] = range
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > n) {
    throw new ValueError(
      `${who}: ${what} [${start}, ${end}) must be a non-empty range of whole indices within the series of ${n} values ` +
        `([0, ${n})). Shorten the range or use a longer series.`,
    )
  }
}

const copyWindow = (who: string, what: string, values: ArrayLike<number>, [start, end]: IndexRange, out: Float64Array | Float32Array, at: number): void => {
  for (let i = start; i < end; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) {
      throw new ValueError(
        `${who}: ${what} holds ${v} at index ${i}. Missing values must be handled when reading ` +
          `(readCsv's missing: 'drop' or 'ffill') or the window moved.`,
      )
    }
    out[at + i - start] = v
  }
}

/**
 * One window of a series as a batch of one sequence with one feature:
 * `out[0, i, 0] = values[start + i]` for `i < end − start`.
 *
 * @param values the series.
 * @param range `[start, end)`, within the series.
 * @param options `dtype` (default float64).
 * @returns a tensor `[1, end − start, 1]`.
 * @example
 * ```ts
 * console.log(data.sequence([5, 6, 7, 8], [1, 3]).toArray()) // [[[6], [7]]]
 * ```
 * @category series
 */
export const sequence = (values: ArrayLike<number>, range: IndexRange, options: { dtype?: DType } = {}): Tensor => {
  checkRange('data.sequence', 'the range', range, values.length)
  const out = allocate(options.dtype ?? 'float64', range[1] - range[0])
  copyWindow('data.sequence', 'the window', values, range, out, 0)
  return new Tensor(out, [1, out.length, 1])
}

/**
 * Cuts a series into windows of `length` steps starting every `stride` steps (default: `length`,
 * i.e. non-overlapping); a tail shorter than `length` is left out.
 *
 *   out[w, i, 0] = values[w·stride + i],   w = 0 … ⌊(n − length)/stride⌋
 *
 * @param values the series, length n ≥ `length`.
 * @param options `length` (steps per window), `stride` (default `length`), `dtype`.
 * @returns a tensor `[windows, length, 1]`, ready for minibatching along axis 0.
 * @example
 * ```ts
 * console.log(data.slidingWindows([1, 2, 3, 4, 5], { length: 2, stride: 1 }).shape) // [4, 2, 1]
 * console.log(data.slidingWindows([1, 2, 3, 4, 5], { length: 2 }).toArray()) // [[[1], [2]], [[3], [4]]], the tail left out
 * ```
 * @category series
 */
export const slidingWindows = (values: ArrayLike<number>, options: { length: number; stride?: number; dtype?: DType }): Tensor => {
  const { length, stride = length } = options
  const n = values.length
  if (!Number.isInteger(length) || length < 1 || length > n) {
    throw new ValueError(`data.slidingWindows: length must be a whole number in [1, ${n}] (the series length), got ${length}.`)
  }
  if (!Number.isInteger(stride) || stride < 1) throw new ValueError(`data.slidingWindows: stride must be a positive whole number, got ${stride}.`)
  const count = Math.floor((n - length) / stride) + 1
  const out = allocate(options.dtype ?? 'float64', count * length)
  for (let w = 0; w < count; w++) copyWindow('data.slidingWindows', `window ${w}`, values, [w * stride, w * stride + length], out, w * length)
  return new Tensor(out, [count, length, 1])
}

/** Where the windows of a series task lie. */
export interface SeriesSplit {
  /** Training window `[start, end)`; the scaler is fitted on the inputs here. */
  readonly train: IndexRange
  /** Validation window `[start, end)`, or absent. */
  readonly validation?: IndexRange
  /** How many target values after the training window to keep for judging an extrapolation. */
  readonly extrapolate?: number
}

/**
 * The seed's weather split: train on days 0–99, validate on days 1000–1069 (one sequence each),
 * and compare a 50-day extrapolation with the real values after the training window.
 * @example
 * ```ts
 * const tmax = Array.from({ length: 1200 }, (_, day) => 60 + 20 * Math.sin((2 * Math.PI * day) / 365))
 * const tomorrow = [...tmax.slice(1), tmax[1199]]
 * const task = data.seriesTask(tmax, tomorrow, data.seedWeatherSplit)
 * console.log(task.train.range, task.validation?.range, task.extrapolation?.range) // [0, 100] [1000, 1070] [100, 150]
 * ```
 * @category series
 */
export const seedWeatherSplit: SeriesSplit = Object.freeze({ train: [0, 100] as const, validation: [1000, 1070] as const, extrapolate: 50 })

/** Scaled inputs and targets of one window, `[1, T, 1]` each, and where the window lies. */
export interface SeriesWindow {
  readonly xs: Tensor
  readonly ys: Tensor
  readonly range: IndexRange
}

/** The real targets after the training window, to compare an autoregressive continuation with. */
export interface SeriesExtrapolation {
  /** `[trainEnd, trainEnd + extrapolate)`. */
  readonly range: IndexRange
  /** The targets in those rows, scaled: `[1, extrapolate, 1]`. */
  readonly ys: Tensor
  /** The same targets unscaled (in the data's own units, e.g. °F). */
  readonly values: Float64Array
}

/** A one-feature sequence regression task with its scaler. */
export interface SeriesTask {
  readonly scaler: MinMaxScaler
  readonly train: SeriesWindow
  readonly validation: SeriesWindow | null
  readonly extrapolation: SeriesExtrapolation | null
}

/**
 * Builds a sequence regression task from an input column and a target column of equal length
 * (the seed: `tmax` → `tmax_tomorrow`). A min–max scaler is fitted on the training *inputs* and
 * applied to inputs and targets alike (they share units), as the seed does; validation and
 * extrapolation values may fall outside [0, 1].
 *
 * Extrapolation: a forward pass over the training window ends with ŷ for `target[trainEnd − 1]`;
 * feeding each output back in as the next input (the seed's `extrapolate(n)`) predicts
 * `target[trainEnd]`, …, `target[trainEnd + n − 1]`, which `extrapolation.ys` holds.
 *
 * @param input the input column (length n).
 * @param target the target column (length n), row i aligned with `input[i]`.
 * @param split window positions (default {@link seedWeatherSplit}).
 * @param options `dtype` of the tensors (default float64).
 * @returns `{ scaler, train, validation, extrapolation }`; windows are `[1, T, 1]` tensors.
 * @example
 * ```ts
 * const temperature = [50, 52, 55, 60, 58, 54, 51, 49, 50, 53]
 * const tomorrow = [...temperature.slice(1), 55]
 * const task = data.seriesTask(temperature, tomorrow, { train: [0, 6], validation: [6, 9], extrapolate: 2 })
 * console.log(task.train.xs.shape, task.scaler) // [1, 6, 1] { min: 50, max: 60, low: 0, high: 1 }
 * console.log(task.train.xs.data) // Float64Array [0, 0.2, 0.5, 1, 0.8, 0.4]
 * console.log(task.extrapolation?.values) // Float64Array [49, 50], the real targets of rows 6 and 7
 * ```
 * @category series
 */
export const seriesTask = (
  input: ArrayLike<number>,
  target: ArrayLike<number>,
  split: SeriesSplit = seedWeatherSplit,
  options: { dtype?: DType } = {},
): SeriesTask => {
  const who = 'data.seriesTask'
  const n = input.length
  if (target.length !== n) throw new ValueError(`${who}: input and target columns must have the same length, got ${n} and ${target.length}.`)
  checkRange(who, 'the training window', split.train, n)
  if (split.validation !== undefined) checkRange(who, 'the validation window', split.validation, n)
  const extra = split.extrapolate ?? 0
  if (!Number.isInteger(extra) || extra < 0) throw new ValueError(`${who}: extrapolate must be a whole number ≥ 0, got ${extra}.`)
  const dtype = options.dtype ?? 'float64'
  const raw = (values: ArrayLike<number>, range: IndexRange, what: string): Float64Array => {
    const out = new Float64Array(range[1] - range[0])
    copyWindow(who, what, values, range, out, 0)
    return out
  }
  const scaler = minMaxScaler.fit(raw(input, split.train, 'the training inputs'))
  const scaled = (values: ArrayLike<number>, range: IndexRange, what: string): Tensor => {
    const s = minMaxScaler.transform(scaler, raw(values, range, what))
    const out = allocate(dtype, s.length)
    out.set(s)
    return new Tensor(out, [1, s.length, 1])
  }
  const window = (range: IndexRange, what: string): SeriesWindow => ({
    xs: scaled(input, range, `the ${what} inputs`),
    ys: scaled(target, range, `the ${what} targets`),
    range,
  })
  let extrapolation: SeriesExtrapolation | null = null
  if (extra > 0) {
    const range: IndexRange = [split.train[1], split.train[1] + extra]
    checkRange(who, `the ${extra} extrapolated days after the training window`, range, n)
    extrapolation = { range, ys: scaled(target, range, 'the extrapolation targets'), values: raw(target, range, 'the extrapolation targets') }
  }
  return {
    scaler,
    train: window(split.train, 'training'),
    validation: split.validation === undefined ? null : window(split.validation, 'validation'),
    extrapolation,
  }
}

// ---- forecasting from windows of the past ----

/**
 * A chronological split of `rows` rows: the last `testFraction` of them for testing, the rows
 * before for training, less the `gap` rows just before the test rows. With a target `gap` rows
 * ahead (tomorrow's maximum: gap 1), the last training row's target would be a value observed on
 * the first test day; the gap keeps every value of the test period out of training.
 *
 *   test = [⌊(1 − testFraction)·rows⌋, rows),   train = [0, test start − gap)
 *
 * @param rows the series length.
 * @param options `testFraction` in (0, 1) (default 0.2), `gap` ≥ 0 (default 1).
 * @returns `{ train, test }` row ranges.
 * @example chronologicalSplit(13509) // { train: [0, 10806], test: [10807, 13509] }
 * @category series
 */
export const chronologicalSplit = (rows: number, options: { readonly testFraction?: number; readonly gap?: number } = {}): { readonly train: IndexRange; readonly test: IndexRange } => {
  const who = 'data.chronologicalSplit'
  const { testFraction = 0.2, gap = 1 } = options
  if (!(testFraction > 0 && testFraction < 1)) throw new ValueError(`${who}: testFraction must lie in (0, 1), got ${testFraction}.`)
  if (!Number.isInteger(gap) || gap < 0) throw new ValueError(`${who}: gap must be a whole number ≥ 0, got ${gap}.`)
  const start = Math.floor((1 - testFraction) * rows)
  if (!Number.isInteger(rows) || start - gap < 1 || start >= rows) {
    throw new ValueError(`${who}: ${rows} rows leave no training or no test rows with testFraction ${testFraction} and gap ${gap}; use a longer series.`)
  }
  return { train: [0, start - gap], test: [start, rows] }
}

/** Inputs and targets of forecasts from windows: one window of the past per forecast row. */
export interface WindowSet {
  /** Scaled inputs `[rows, length, features]`: row r's window ends at series row `range[0] + r`. */
  readonly xs: Tensor
  /** Scaled targets `[rows, 1]`. */
  readonly ys: Tensor
  /** The series rows forecast. */
  readonly range: IndexRange
}

/** A sequence-to-one forecasting task with its scalers. */
export interface WindowedForecastTask {
  /** One scaler per input column, fitted on the training rows; the target shares the first's. */
  readonly scalers: readonly MinMaxScaler[]
  readonly train: WindowSet
  readonly test: WindowSet | null
}

/**
 * Builds a forecasting task in which each row's target is predicted from the `length` rows of the
 * inputs ending at that row (a recurrent model reads the window and its last step forecasts). The
 * training rows start at the first with a full window; a test row's window may reach back into
 * earlier rows, whose inputs were known when forecasting. Each input column gets a min–max scaler
 * fitted on the training rows; the target is scaled like the first input (list first the input
 * that shares the target's units, e.g. tmax for tmax_tomorrow).
 *
 * @param inputs input columns, each of the series' length.
 * @param target the target column: row i's value is what row i forecasts.
 * @param split `train` and optional `test` row ranges.
 * @param options `length` (rows per window, ≥ 1), `dtype` (default float64).
 * @returns `{ scalers, train, test }`; `xs` `[rows, length, inputs]`, `ys` `[rows, 1]`.
 * @example windowedForecastTask([tmax, tmin, rain], tmaxTomorrow, chronologicalSplit(tmax.length), { length: 30 }).train.xs.shape // [10776, 30, 3]
 * @category series
 */
export const windowedForecastTask = (
  inputs: readonly ArrayLike<number>[],
  target: ArrayLike<number>,
  split: { readonly train: IndexRange; readonly test?: IndexRange },
  options: { readonly length: number; readonly dtype?: DType },
): WindowedForecastTask => {
  const who = 'data.windowedForecastTask'
  const { length } = options
  if (inputs.length === 0) throw new ValueError(`${who}: give at least one input column.`)
  const n = target.length
  const uneven = inputs.findIndex((c) => c.length !== n)
  if (uneven >= 0) throw new ValueError(`${who}: input ${uneven} has ${inputs[uneven].length} rows, the target ${n}; every column must be as long.`)
  if (!Number.isInteger(length) || length < 1) throw new ValueError(`${who}: length must be a whole number ≥ 1, got ${length}.`)
  const trainRows: IndexRange = [Math.max(split.train[0], length - 1), split.train[1]]
  checkRange(who, `the training rows with a full window of ${length} rows`, trainRows, n)
  if (split.test !== undefined) checkRange(who, `the test rows (each needs the ${length - 1} rows before it)`, split.test, n)
  if (split.test !== undefined && split.test[0] < length - 1) {
    throw new ValueError(`${who}: the test rows start at ${split.test[0]}, but each needs the ${length - 1} rows before it; start them at ${length - 1} or later.`)
  }
  const raw = (values: ArrayLike<number>, range: IndexRange, what: string): Float64Array => {
    const out = new Float64Array(range[1] - range[0])
    copyWindow(who, what, values, range, out, 0)
    return out
  }
  const scalers = inputs.map((c, j) => minMaxScaler.fit(raw(c, split.train, `input ${j} in the training rows`)))
  // The rows some window reads: they must hold numbers, the others may not.
  const span: IndexRange = [Math.min(trainRows[0], split.test?.[0] ?? n) - length + 1, Math.max(trainRows[1], split.test?.[1] ?? 0)]
  const scaledInputs = inputs.map((c, j) => {
    const values = new Float64Array(n)
    values.set(minMaxScaler.transform(scalers[j], raw(c, span, `input ${j}`)), span[0])
    return values
  })
  const windows = (range: IndexRange, what: string): WindowSet => {
    const rows = range[1] - range[0]
    const features = inputs.length
    const xs = allocate(options.dtype ?? 'float64', rows * length * features)
    for (let r = 0; r < rows; r++) {
      const end = range[0] + r
      for (let t = 0; t < length; t++) for (let f = 0; f < features; f++) xs[(r * length + t) * features + f] = scaledInputs[f][end - length + 1 + t]
    }
    const ys = allocate(options.dtype ?? 'float64', rows)
    ys.set(minMaxScaler.transform(scalers[0], raw(target, range, `the ${what} targets`)))
    return { xs: new Tensor(xs, [rows, length, features]), ys: new Tensor(ys, [rows, 1]), range }
  }
  return { scalers, train: windows(trainRows, 'training'), test: split.test === undefined ? null : windows(split.test, 'test') }
}
