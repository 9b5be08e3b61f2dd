/**
 * @file Index maps over strided views: the one place where multi-dimensional index arithmetic
 * lives. A transpose, a slice, a broadcast or a reduction pattern is a list of strides; these
 * walk the output in row-major order and emit the flat input index of each element.
 */
import type { Shape } from './shape.js'

/**
 * Recently built index maps. A recurrent network asks for the same few maps (a bias broadcast, a
 * transpose) at every time step, so building each once saves an allocation and a pass per call.
 * Maps are read-only by contract, so sharing them is safe; large ones are not kept.
 */
const cache = new Map<string, Int32Array>()
const CACHE_ENTRIES = 256
const CACHE_MAX_SIZE = 1 << 20

/**
 * For every row-major position of `shape`, the flat index `offset + Σ position[d] · strides[d]`.
 * The result is shared between callers: never write to it.
 */
export const stridedIndex = (shape: Shape, strides: readonly number[], offset = 0): Int32Array => {
  const key = `${shape.join(',')}|${strides.join(',')}|${offset}`
  const hit = cache.get(key)
  if (hit !== undefined) {
    cache.delete(key) // re-insert: Map order is then least recently used first
    cache.set(key, hit)
    return hit
  }
  const index = buildIndex(shape, strides, offset)
  if (index.length <= CACHE_MAX_SIZE) {
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string)
    cache.set(key, index)
  }
  return index
}

/** An odometer over `shape`, so there is no division per element. */
const buildIndex = (shape: Shape, strides: readonly number[], offset: number): Int32Array => {
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
