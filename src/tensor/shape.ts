/**
 * @file Shapes: sizes, strides, broadcasting and axis normalisation. Imports only errors.
 */
import { ShapeError, showShape } from '../errors.js'

/** A tensor's length along each axis; `[]` for a scalar. @category tensors */
export type Shape = readonly number[]

/** Number of elements of a shape (1 for a scalar). */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides, in elements. */
export const stridesOf = (shape: Shape): number[] => {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

export const shapesEqual = (a: Shape, b: Shape): boolean => {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Throws unless `shape` is a list of non-negative integers. */
export const checkShape = (op: string, shape: Shape): void => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`${op}: a shape must be a list of non-negative integers, got ${JSON.stringify(shape)}.`)
  }
}

/** NumPy broadcasting of two shapes; names the operation and both shapes when they do not broadcast. */
export const broadcastShapes = (op: string, a: Shape, b: Shape): number[] => {
  const rank = Math.max(a.length, b.length)
  const out = new Array<number>(rank)
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1
    const db = b[b.length - rank + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${showShape(a)} and ${showShape(b)} do not broadcast (axis ${i - rank}: ${da} vs ${db}). ` +
          'Dimensions must be equal or 1, aligned from the right.',
      )
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/**
 * Strides that read an array of shape `from` as if it had the (broadcast) shape `to`: a stretched
 * axis gets stride 0, so one index walk serves every broadcast pattern.
 */
export const broadcastStrides = (from: Shape, to: Shape): number[] => {
  const strides = stridesOf(from)
  const offset = to.length - from.length
  return to.map((d, i) => (i < offset || from[i - offset] === 1 ? 0 : strides[i - offset]))
}

/** Resolves a possibly negative axis against a rank. */
export const normalizeAxis = (op: string, axis: number, rank: number): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} to ${rank - 1}).`)
  }
  return axis < 0 ? axis + rank : axis
}

/** Resolves `undefined` (every axis), one axis or a list of axes into sorted, distinct axes. */
export const normalizeAxes = (op: string, axis: number | readonly number[] | undefined, rank: number): number[] => {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i)
  const list = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis(op, a, rank))
  const sorted = [...new Set(list)].sort((x, y) => x - y)
  if (sorted.length !== list.length) throw new ShapeError(`${op}: repeated axis in ${JSON.stringify(axis)}.`)
  return sorted
}
