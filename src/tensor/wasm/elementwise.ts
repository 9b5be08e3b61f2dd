/**
 * @file Elementwise kernels on the WebAssembly module: same-shape binary operations, neg, abs,
 * square, sqrt, relu, exp, tanh, sigmoid and full sums. Each copies its operands into WebAssembly
 * memory and the result out, so it pays only above a size threshold (see `Thresholds`); below it,
 * and for broadcasts other than scalars and repeated rows, the JavaScript kernel runs.
 */
import type { Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type { IndexMap, Kernels, UnaryKernel } from '../kernels.js'
import { type Arena, alignRegion } from './arena.js'
import { type KernelExports, type MapOp, suffixOf } from './exports.js'

/** Smallest element count sent to WebAssembly, per kind of kernel (below it, copying costs more). */
export interface Thresholds {
  /** Same-shape binary operations and exact unary ones (neg, abs, square, sqrt, relu). */
  readonly binary: number
  /** exp, tanh, sigmoid. */
  readonly math: number
  /** Full sums (`sumInto` with one output). */
  readonly sum: number
}

const allocateLike = (x: Data, size: number): Data => (x instanceof Float32Array ? new Float32Array(size) : new Float64Array(size))

/** How an operand of `binary` covers the output: as is, one value everywhere, or repeated rows. */
type Spread = 'identity' | 'scalar' | 'rows'

/**
 * The spread of operand `x` under its index map, or undefined for any other map. A scalar needs no
 * scan (its only valid index is 0); rows (`index[i] = i mod x.length`, e.g. a bias added to a batch)
 * are verified in one pass over the index map, cheaper than the JavaScript loop that reads it and
 * the operand for every element.
 */
const spreadOf = (x: Data, index: IndexMap, size: number): Spread | undefined => {
  if (index === null) return 'identity'
  if (x.length === 1) return 'scalar'
  const period = x.length
  if (period === 0 || size % period !== 0) return undefined
  for (let i = 0, j = 0; i < size; i++) {
    if (index[i] !== j) return undefined
    j = j + 1 === period ? 0 : j + 1
  }
  return 'rows'
}

/** Writes operand `x`, spread over `size` elements, into the arena at `ptr`. */
const writeSpread = (arena: Arena, x: Data, spread: Spread, ptr: number, size: number): void => {
  const view = arena.view(dtypeOf(x), ptr, size)
  if (spread === 'identity') view.set(x)
  else if (spread === 'scalar') view.fill(x[0])
  else for (let offset = 0; offset < size; offset += x.length) view.set(x, offset)
}

/**
 * `Kernels.binary` for operands of one dtype that are same-shape, scalars or repeated rows; other
 * index maps and mixed dtypes go to `fallback`.
 */
export const createBinary = (
  exports: KernelExports, arena: Arena, fallback: Kernels['binary'], minSize: number,
): Kernels['binary'] =>
  (op, a, ai, b, bi, size) => {
    const dtype = dtypeOf(a)
    if (size < minSize || dtypeOf(b) !== dtype) return fallback(op, a, ai, b, bi, size)
    const aSpread = spreadOf(a, ai, size)
    const bSpread = aSpread === undefined ? undefined : spreadOf(b, bi, size)
    const region = alignRegion(size * a.BYTES_PER_ELEMENT)
    if (aSpread === undefined || bSpread === undefined || !arena.reserve(3 * region)) return fallback(op, a, ai, b, bi, size)
    writeSpread(arena, a, aSpread, 0, size)
    writeSpread(arena, b, bSpread, region, size)
    exports[`${op}_${suffixOf(dtype)}`](0, region, 2 * region, size)
    const out = allocateLike(a, size)
    out.set(arena.view(dtype, 2 * region, size))
    return out
  }

/** A unary kernel computed by the module's `op` above `minSize` elements, by `fallback` below. */
export const createUnary = (
  exports: KernelExports, arena: Arena, op: MapOp, fallback: UnaryKernel, minSize: number,
): UnaryKernel =>
  (x) => {
    if (x.length < minSize) return fallback(x)
    const dtype = dtypeOf(x)
    const region = alignRegion(x.length * x.BYTES_PER_ELEMENT)
    if (!arena.reserve(2 * region)) return fallback(x)
    arena.view(dtype, 0, x.length).set(x)
    exports[`${op}_${suffixOf(dtype)}`](0, region, x.length)
    const out = allocateLike(x, x.length)
    out.set(arena.view(dtype, region, x.length))
    return out
  }

/**
 * `Kernels.sumInto`: a full reduction (`outSize` = 1, so every index is 0) runs in the module;
 * partial reductions go to `fallback`.
 */
export const createSumInto = (
  exports: KernelExports, arena: Arena, fallback: Kernels['sumInto'], minSize: number,
): Kernels['sumInto'] =>
  (x, index, outSize) => {
    if (outSize !== 1 || x.length < minSize) return fallback(x, index, outSize)
    const dtype = dtypeOf(x)
    const padded = alignRegion(x.length * x.BYTES_PER_ELEMENT) / x.BYTES_PER_ELEMENT
    if (!arena.reserve(padded * x.BYTES_PER_ELEMENT)) return fallback(x, index, outSize)
    const view = arena.view(dtype, 0, padded)
    view.set(x)
    view.fill(0, x.length) // the module reads whole vectors: the padding must add nothing
    const out = allocateLike(x, 1)
    out[0] = exports[`sum_${suffixOf(dtype)}`](0, x.length)
    return out
  }
