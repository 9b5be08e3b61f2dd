/**
 * @file Min–max scaling as plain data plus pure functions: `fit` returns the statistics, and
 * `transform` / `inverse` apply them. The statistics are a small JSON-friendly record, so a
 * checkpoint can store them next to the parameters. Browser-safe.
 */
import { ValueError } from '../errors.js'
import { add, div, mul, sub } from '../autodiff/ops/elementwise.js'
import { Tensor } from '../tensor/Tensor.js'

/** Fitted min–max statistics: the data range `[min, max]` and the target range `[low, high]`. */
export interface MinMaxScaler {
  readonly min: number
  readonly max: number
  readonly low: number
  readonly high: number
}

/** Values accepted by `transform` and `inverse`: a tensor (any shape) or plain numbers. */
export type Scalable = Tensor | ArrayLike<number>

type Scaled<V extends Scalable> = V extends Tensor ? Tensor : Float64Array

/** The factor `(high − low) / (max − min)`. */
const factor = (s: MinMaxScaler): number => {
  const scale = (s.high - s.low) / (s.max - s.min)
  // A constant training window has no spread; using 1 instead maps it to `low` and keeps the map
  // invertible (scikit-learn's choice). A spread so small that the factor overflows counts as none.
  return Number.isFinite(scale) ? scale : 1
}

// Written as shift-then-scale (not a·x + b) so values near `min` keep their precision when the
// factor is large.
const forward = <V extends Scalable>(s: MinMaxScaler, values: V): Scaled<V> => {
  const k = factor(s)
  if (values instanceof Tensor) return add(mul(sub(values, s.min), k), s.low) as Scaled<V>
  const out = new Float64Array(values.length)
  for (let i = 0; i < out.length; i++) out[i] = (values[i] - s.min) * k + s.low
  return out as Scaled<V>
}

const backward = <V extends Scalable>(s: MinMaxScaler, values: V): Scaled<V> => {
  const k = factor(s)
  if (values instanceof Tensor) return add(div(sub(values, s.low), k), s.min) as Scaled<V>
  const out = new Float64Array(values.length)
  for (let i = 0; i < out.length; i++) out[i] = (values[i] - s.low) / k + s.min
  return out as Scaled<V>
}

/**
 * Fits the range of `values` (finite numbers; at least one).
 *
 *   transform(x) = low + (x − min) · (high − low) / (max − min)
 *
 * The seed fits on the training inputs only, so validation and extrapolation data may fall
 * outside `[low, high]`; that is expected, not clipped.
 *
 * @param values the training values.
 * @param options `range: [low, high]` of the scaled values (default `[0, 1]`).
 * @returns the statistics `{ min, max, low, high }`.
 * @example
 * const s = minMaxScaler.fit([50, 60, 70])
 * minMaxScaler.transform(s, [55, 70]) // Float64Array [0.25, 1]
 */
const fit = (values: ArrayLike<number> | Tensor, options: { range?: readonly [number, number] } = {}): MinMaxScaler => {
  const data = values instanceof Tensor ? values.data : values
  const [low, high] = options.range ?? [0, 1]
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) {
    throw new ValueError(`data.minMaxScaler.fit: range must be [low, high] with low < high, got [${low}, ${high}].`)
  }
  if (data.length === 0) throw new ValueError('data.minMaxScaler.fit: no values to fit; pass the training inputs.')
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (!Number.isFinite(v)) {
      throw new ValueError(`data.minMaxScaler.fit: value ${i} is ${v}; drop or fill missing values before fitting.`)
    }
    if (v < min) min = v
    if (v > max) max = v
  }
  return { min, max, low, high }
}

/**
 * Maps values into the fitted range: `low + (x − min)·(high − low)/(max − min)`. A tensor gives a
 * tensor of the same shape and dtype (differentiable); plain numbers give a Float64Array.
 * @example minMaxScaler.transform(minMaxScaler.fit([0, 10]), [5]) // Float64Array [0.5]
 */
const transform = <V extends Scalable>(scaler: MinMaxScaler, values: V): Scaled<V> => forward(scaler, values)

/**
 * Undoes `transform`: `min + (y − low)·(max − min)/(high − low)`.
 * @example minMaxScaler.inverse(minMaxScaler.fit([0, 10]), [0.5]) // Float64Array [5]
 */
const inverse = <V extends Scalable>(scaler: MinMaxScaler, values: V): Scaled<V> => backward(scaler, values)

/**
 * Min–max scaling: `fit(values)` → statistics, `transform(stats, x)`, `inverse(stats, y)`.
 * @example
 * ```ts
 * const scaler = data.minMaxScaler.fit([50, 60, 70]) // { min: 50, max: 70, low: 0, high: 1 }
 * console.log(data.minMaxScaler.transform(scaler, [55, 80])) // Float64Array [0.25, 1.5], outside the fitted range is not clipped
 * const scaled = data.minMaxScaler.transform(scaler, tensor([[60]])) // a tensor stays a tensor
 * console.log(data.minMaxScaler.inverse(scaler, scaled).toArray()) // [[60]]
 * ```
 * @category preprocessing
 */
export const minMaxScaler = { fit, transform, inverse } as const
