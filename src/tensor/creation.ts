/**
 * @file Constructors: tensors from numbers, nested arrays and typed arrays; zeros, ones, full, eye,
 * arange. Imports only the tensor layer.
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type DType, type Data, type NestedArray, Tensor, allocate, dtypeOf } from './Tensor.js'
import { type Shape, checkShape, sizeOf } from './shape.js'

/** Options of `tensor`. @category tensors */
export interface TensorOptions {
  readonly dtype?: DType
  readonly shape?: Shape
}

const checkDType = (op: string, dtype: unknown): DType => {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new ValueError(`${op}: dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}.`)
  }
  return dtype
}

/** Infers the shape of a nested array, checking that it is rectangular. */
const nestedShape = (values: NestedArray): number[] => {
  const shape: number[] = []
  let level: NestedArray = values
  while (Array.isArray(level)) {
    shape.push(level.length)
    if (level.length === 0) break
    level = level[0]
  }
  return shape
}

const flatten = (values: NestedArray, shape: number[], out: Data): void => {
  let offset = 0
  const walk = (v: NestedArray, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number') {
        throw new ValueError(`tensor: expected a number at ${path || 'the root'}, got ${Array.isArray(v) ? 'an array' : typeof v}.`)
      }
      out[offset++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      throw new ShapeError(
        `tensor: nested arrays are ragged: expected ${shape[axis]} entries at ${path || 'the root'} (shape ${showShape(shape)}), ` +
          `got ${Array.isArray(v) ? v.length : typeof v}.`,
      )
    }
    for (let i = 0; i < v.length; i++) walk(v[i], axis + 1, `${path}[${i}]`)
  }
  walk(values, 0, '')
}

/**
 * Creates a tensor from a number, nested arrays or a typed array (copied).
 *
 * @param values a number, a rectangular nested array of numbers, or a Float32Array/Float64Array.
 * @param options `dtype` (default: float64, or the typed array's own) and `shape` (required to give
 *   a flat typed array or array more than one axis).
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]).shape                    // [2, 2]
 * tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).shape // [3, 2]
 * tensor(new Float32Array([0.5, 1.5])).dtype        // 'float32'
 * ```
 * @category tensors
 */
export const tensor = (values: NestedArray | Data | readonly number[], options: TensorOptions = {}): Tensor => {
  if (values instanceof Float32Array || values instanceof Float64Array) {
    const dtype = checkDType('tensor', options.dtype ?? dtypeOf(values))
    const shape = options.shape ?? [values.length]
    checkShape('tensor', shape)
    const data = allocate(dtype, values.length)
    data.set(values)
    return new Tensor(data, shape)
  }
  const dtype = checkDType('tensor', options.dtype ?? 'float64')
  if (typeof values !== 'number' && !Array.isArray(values)) {
    throw new ValueError(`tensor: values must be a number, nested arrays or a typed array, got ${values === null ? 'null' : typeof values}.`)
  }
  const inferred = nestedShape(values as NestedArray)
  const data = allocate(dtype, sizeOf(inferred))
  flatten(values as NestedArray, inferred, data)
  if (options.shape === undefined) return new Tensor(data, inferred)
  checkShape('tensor', options.shape)
  if (sizeOf(options.shape) !== data.length) {
    throw new ShapeError(`tensor: ${data.length} values cannot take shape ${showShape(options.shape)}.`)
  }
  return new Tensor(data, options.shape)
}

/**
 * A tensor of the shape filled with one value.
 * @example
 * ```ts
 * full([2, 2], 0.5).toArray() // [[0.5, 0.5], [0.5, 0.5]]
 * ```
 * @category tensors
 */
export const full = (shape: Shape, value: number, options: { dtype?: DType } = {}): Tensor => {
  checkShape('full', shape)
  const data = allocate(checkDType('full', options.dtype ?? 'float64'), sizeOf(shape))
  if (value !== 0) data.fill(value)
  return new Tensor(data, shape)
}

/**
 * A tensor of zeros (float64 unless `dtype` says otherwise).
 * @example
 * ```ts
 * zeros([2, 3]).toArray() // [[0, 0, 0], [0, 0, 0]]
 * ```
 * @category tensors
 */
export const zeros = (shape: Shape, options: { dtype?: DType } = {}): Tensor => full(shape, 0, options)

/**
 * A tensor of ones (float64 unless `dtype` says otherwise).
 * @example
 * ```ts
 * ones([2], { dtype: 'float32' }).dtype // 'float32'
 * ```
 * @category tensors
 */
export const ones = (shape: Shape, options: { dtype?: DType } = {}): Tensor => full(shape, 1, options)

/**
 * A scalar (shape `[]`) tensor.
 * @example
 * ```ts
 * const s = scalar(3)
 * s.shape  // []
 * s.item() // 3
 * ```
 * @category tensors
 */
export const scalar = (value: number, dtype: DType = 'float64'): Tensor => full([], value, { dtype })

/**
 * The n × m identity matrix (m defaults to n).
 * @example
 * ```ts
 * eye(2, 3).toArray() // [[1, 0, 0], [0, 1, 0]]
 * ```
 * @category tensors
 */
export const eye = (n: number, m: number = n, options: { dtype?: DType } = {}): Tensor => {
  const data = allocate(checkDType('eye', options.dtype ?? 'float64'), n * m)
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1
  return new Tensor(data, [n, m])
}

/**
 * Evenly spaced values in `[start, stop)`; `arange(n)` is `0, 1, …, n − 1`.
 * @example
 * ```ts
 * arange(4).toArray()          // [0, 1, 2, 3]
 * arange(1, 2, 0.25).toArray() // [1, 1.25, 1.5, 1.75]
 * ```
 * @category tensors
 */
export const arange = (start: number, stop?: number, step = 1, options: { dtype?: DType } = {}): Tensor => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop]
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a finite non-zero number, got ${step}.`)
  const n = Math.max(0, Math.ceil((hi - lo) / step))
  const data = allocate(checkDType('arange', options.dtype ?? 'float64'), n)
  for (let i = 0; i < n; i++) data[i] = lo + i * step
  return new Tensor(data, [n])
}
