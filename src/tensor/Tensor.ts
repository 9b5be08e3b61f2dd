/**
 * @file The Tensor type: an immutable n-dimensional array stored contiguously, row-major, in a
 * typed array. Knows nothing about gradients: the autodiff layer subclasses it for traced values.
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type Shape, sizeOf } from './shape.js'

/** A tensor's element type. @category tensors */
export type DType = 'float32' | 'float64'
/** A tensor's storage, row-major: its dtype is the array's. @category tensors */
export type Data = Float32Array | Float64Array

/** A nested JavaScript array of numbers, as returned by `toArray()`. @category tensors */
export type NestedArray = number | NestedArray[]

export const dtypeOf = (data: Data): DType => (data instanceof Float32Array ? 'float32' : 'float64')

/** Allocates a zero-filled typed array of the dtype. */
export const allocate = (dtype: DType, size: number): Data =>
  dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)

/**
 * `x` repeated to `size` elements (a multiple of its length): a broadcast row as a plain array, which
 * kernels read without an index map.
 */
export const repeatRows = (x: Data, size: number): Data => {
  const out = x instanceof Float32Array ? new Float32Array(size) : new Float64Array(size)
  const n = x.length
  if (n === 1) out.fill(x[0])
  else if (n >= 32) for (let offset = 0; offset < size; offset += n) out.set(x, offset)
  else for (let offset = 0; offset < size; offset += n) for (let j = 0; j < n; j++) out[offset + j] = x[j]
  return out
}

/**
 * True when every element is finite. x·0 is ±0 for finite x and NaN for ±∞ or NaN, so the four
 * running sums stay 0 exactly when the data is finite: a branch-free pass about 20× faster on V8
 * than `data.every(Number.isFinite)`, which pays a callback per element.
 */
export const allFinite = (data: Data): boolean => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const end = data.length - (data.length % 4)
  let i = 0
  for (; i < end; i += 4) {
    s0 += data[i] * 0
    s1 += data[i + 1] * 0
    s2 += data[i + 2] * 0
    s3 += data[i + 3] * 0
  }
  for (; i < data.length; i++) s0 += data[i] * 0
  return s0 + s1 + s2 + s3 === 0
}

/**
 * An immutable n-dimensional array.
 *
 * Its `data` must never be written to after construction: every operation allocates its result.
 * (`Object.freeze` cannot freeze a non-empty typed array, so immutability is a contract of the
 * kernels, which never write to their inputs.)
 *
 * @example
 * ```ts
 * const x = new Tensor(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]) // tensor(...) builds one from nested arrays
 * x.shape      // [2, 3]
 * x.dtype      // 'float64'
 * x.toArray()  // [[1, 2, 3], [4, 5, 6]]
 * sum(x).item() // 21
 * ```
 * @category tensors
 */
export class Tensor {
  readonly shape: readonly number[]
  readonly size: number

  constructor(
    readonly data: Data,
    shape: Shape,
  ) {
    const size = sizeOf(shape)
    if (size !== data.length) {
      throw new ShapeError(`Tensor: shape ${showShape(shape)} holds ${size} elements but the data has ${data.length}.`)
    }
    // A frozen shape (every tensor's own) is shared as is; anything else is copied and frozen.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape])
    this.size = size
  }

  get dtype(): DType {
    return dtypeOf(this.data)
  }

  get rank(): number {
    return this.shape.length
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    if (this.size !== 1) {
      throw new ShapeError(`item: the tensor must have exactly one element, but has shape ${showShape(this.shape)}.`)
    }
    return this.data[0]
  }

  /** The values as nested JavaScript arrays (a number for a scalar). */
  toArray(): NestedArray {
    const { data, shape } = this
    if (shape.length === 0) return data[0]
    let offset = 0
    const build = (axis: number): NestedArray[] => {
      const n = shape[axis]
      const row: NestedArray[] = new Array(n)
      if (axis === shape.length - 1) {
        for (let i = 0; i < n; i++) row[i] = data[offset++]
      } else {
        for (let i = 0; i < n; i++) row[i] = build(axis + 1)
      }
      return row
    }
    return build(0)
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${showShape(this.shape)})`
  }
}

/**
 * Whether a value is a Tensor (a tree's leaves are the values for which this holds).
 * @example
 * ```ts
 * isTensor(tensor([1, 2])) // true
 * isTensor([1, 2])         // false
 * ```
 * @category tensors
 */
export const isTensor = (x: unknown): x is Tensor => x instanceof Tensor

/** Throws a message naming the operation and argument unless `x` is a Tensor. */
export const expectTensor = (op: string, arg: string, x: unknown): Tensor => {
  if (x instanceof Tensor) return x
  const seen = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x
  throw new ValueError(`${op}: argument ${arg} must be a Tensor, got ${seen}. Wrap values with tensor(...).`)
}
