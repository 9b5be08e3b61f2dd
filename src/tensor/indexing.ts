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

/** A strided view: element `position` of `shape` sits at `Σ_d position[d] · strides[d]` (plus an offset). */
export interface StridedView {
  readonly shape: readonly number[]
  readonly strides: readonly number[]
}

/**
 * The same view with as few axes as possible: axes of length 1 dropped, and each axis merged into
 * the one before it when the two walk memory as one (`strides[d] = strides[d + 1] · shape[d + 1]`,
 * e.g. the trailing axes of a transpose that keeps them in order). Every element keeps its flat
 * index; there are fewer and longer rows to walk. A view of one element collapses to rank 0.
 */
export const collapseAxes = (shape: Shape, strides: readonly number[]): StridedView => {
  const outShape: number[] = []
  const outStrides: number[] = []
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue
    const last = outShape.length - 1
    if (last >= 0 && outStrides[last] === strides[d] * shape[d]) {
      outShape[last] *= shape[d]
      outStrides[last] = strides[d]
    } else {
      outShape.push(shape[d])
      outStrides.push(strides[d])
    }
  }
  return { shape: outShape, strides: outStrides }
}

/**
 * One step of an odometer over the first `axes` axes of a view: advances `counter` to the next
 * row-major position (back to all zeros after the last) and returns the change of
 * `Σ_d counter[d] · strides[d]`. Walking rows this way costs no division per element; the strided
 * walks of this module and of the kernels (jsKernels.gatherStrided) all step with it, once per row.
 */
export const nextPosition = (counter: Int32Array, view: StridedView, axes: number): number => {
  let change = 0
  for (let d = axes - 1; d >= 0; d--) {
    change += view.strides[d]
    if (++counter[d] < view.shape[d]) return change
    change -= view.strides[d] * view.shape[d]
    counter[d] = 0
  }
  return change
}

/** Rows along the last axis of the collapsed view, an odometer over the others. */
const buildIndex = (shape: Shape, strides: readonly number[], offset: number): Int32Array => {
  let size = 1
  for (const d of shape) size *= d
  const out = new Int32Array(size)
  if (size === 0) return out
  const view = collapseAxes(shape, strides)
  const rank = view.shape.length
  if (rank === 0) {
    out[0] = offset
    return out
  }
  const n = view.shape[rank - 1]
  const step = view.strides[rank - 1]
  const counter = new Int32Array(rank - 1)
  for (let i = 0, base = offset; i < size; base += nextPosition(counter, view, rank - 1)) {
    for (let j = 0, index = base; j < n; j++, index += step) out[i++] = index
  }
  return out
}
