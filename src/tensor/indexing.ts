/**
 * @file Index maps over strided views: the one place where multi-dimensional index arithmetic
 * lives. A transpose, a slice, a broadcast or a reduction pattern is a list of strides; these
 * walk the output in row-major order and emit the flat input index of each element.
 */
import type { Shape } from './shape.js'

/**
 * For every row-major position of `shape`, the flat index `offset + Σ position[d] · strides[d]`.
 * An odometer, so there is no division per element.
 */
export const stridedIndex = (shape: Shape, strides: readonly number[], offset = 0): Int32Array => {
  let size = 1
  for (const d of shape) size *= d
  const out = new Int32Array(size)
  if (size === 0) return out
  const rank = shape.length
  const counter = new Array<number>(rank).fill(0)
  let index = offset
  for (let i = 0; i < size; i++) {
    out[i] = index
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]++
      index += strides[d]
      if (counter[d] < shape[d]) break
      index -= strides[d] * shape[d]
      counter[d] = 0
    }
  }
  return out
}
