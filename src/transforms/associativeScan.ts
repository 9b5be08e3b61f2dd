/**
 * @file associativeScan: every prefix of a sequence combined by an associative operator, as
 * `jax.lax.associative_scan`. Built only from slices, reshapes, concatenations and calls of the
 * operator, so differentiating it needs nothing of its own: its VJP is the tape's walk back through
 * the same levels, itself a scan of the transposed structure. Imports autodiff/ and tree/ only.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { concat, expandDims, reshape, slice, take } from '../autodiff/ops/structural.js'
import { normalizeAxis, shapesEqual } from '../tensor/shape.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type TreeDef, treeDefDifference, treeFlatten, treePaths, treeUnflatten } from '../tree/tree.js'

/** Options of `associativeScan`. @category transforms */
export interface AssociativeScanOptions {
  /** Combine from the last element: element t combines elements T−1 down to t. Default false. */
  readonly reverse?: boolean
  /** The axis of the elements in every leaf (negative counts from the first leaf's last axis). Default 0. */
  readonly axis?: number
}

/** The leaves' elements `[from, to)` along `axis`. */
const range = (x: Tensor, axis: number, from: number, to: number): Tensor =>
  slice(x, x.shape.slice(0, axis + 1).map((d, i) => (i === axis ? [from, to] as const : [0, d] as const)))

/**
 * Elements `start + 2j + which` for j < count along `axis`: a strided slice, as a slice of `2·count`
 * elements viewed as `count` pairs, of which one side is kept.
 */
const everyOther = (x: Tensor, axis: number, start: number, count: number, which: 0 | 1): Tensor => {
  const rest = x.shape.slice(axis + 1)
  const pairs = reshape(range(x, axis, start, start + 2 * count), [...x.shape.slice(0, axis), count, 2, ...rest])
  const side = slice(pairs, pairs.shape.slice(0, axis + 2).map((d, i) => (i === axis + 1 ? [which, which + 1] as const : [0, d] as const)))
  return reshape(side, [...x.shape.slice(0, axis), count, ...rest])
}

/** even₀ odd₀ even₁ odd₁ … along `axis`, where even has as many elements as odd or one more. */
const interleave = (even: Tensor, odd: Tensor, axis: number): Tensor => {
  const n = odd.shape[axis]
  const head = even.shape[axis] === n ? even : range(even, axis, 0, n)
  const paired = concat([expandDims(head, axis + 1), expandDims(odd, axis + 1)], axis + 1)
  const joined = reshape(paired, [...odd.shape.slice(0, axis), 2 * n, ...odd.shape.slice(axis + 1)])
  return even.shape[axis] === n ? joined : concat([joined, range(even, axis, n, n + 1)], axis)
}

/** x with its elements along `axis` in the opposite order. */
const flip = (x: Tensor, axis: number): Tensor => take(x, Array.from({ length: x.shape[axis] }, (_, t) => x.shape[axis] - 1 - t), axis)

type FlatCombine = (x: readonly Tensor[], y: readonly Tensor[]) => Tensor[]

/**
 * The odd–even recursion: combining neighbouring pairs halves the sequence, whose scan gives the
 * prefixes ending at odd positions; one more combine of those with the following even elements
 * gives the rest. Each level calls `combine` twice, on about n/2 and n/2 − 1 elements at once.
 */
const scanLevels = (xs: readonly Tensor[], axis: number, combine: FlatCombine): Tensor[] => {
  const n = xs[0].shape[axis]
  if (n < 2) return [...xs]
  const pairs = Math.floor(n / 2)
  const odd = scanLevels(combine(xs.map((x) => everyOther(x, axis, 0, pairs, 0)), xs.map((x) => everyOther(x, axis, 0, pairs, 1))), axis, combine)
  // The elements at 2, 4, … each follow the prefix that ends just before them.
  const later = Math.floor((n - 1) / 2)
  const rest = later === 0 ? null : combine(odd.map((o) => range(o, axis, 0, later)), xs.map((x) => everyOther(x, axis, 1, later, 1)))
  return xs.map((x, i) => {
    const first = range(x, axis, 0, 1)
    return interleave(rest === null ? first : concat([first, rest[i]], axis), odd[i], axis)
  })
}

/** `combine` on flat leaves, its result checked against the operands' structure and shapes. */
const flatCombine = <T>(combine: (a: T, b: T) => T, def: TreeDef): FlatCombine => (x, y) => {
  const result = treeFlatten(combine(treeUnflatten<T>(def, x), treeUnflatten<T>(def, y)), 'associativeScan: the result of combine')
  const diff = treeDefDifference(def, result.def)
  if (diff !== null) throw new TreeError(`associativeScan: combine must return a tree like its operands; the structure differs ${diff} (operands vs result).`)
  const bad = result.leaves.findIndex((r, i) => !shapesEqual(r.shape, x[i].shape))
  if (bad !== -1) {
    throw new ShapeError(
      `associativeScan: combine must return leaves of its operands' shapes; ${treePaths(def, 'elems')[bad]}: expected ${showShape(x[bad].shape)}, got ${showShape(result.leaves[bad].shape)}. ` +
        'It is called on many elements at once (along the scanned axis), so it must work elementwise along that axis.',
    )
  }
  return result.leaves
}

/**
 * Every prefix of `elems` along `axis` combined by an associative `combine`, with
 * `jax.lax.associative_scan`'s semantics: element t of the result is
 * `combine(…combine(combine(e_0, e_1), e_2)…, e_t)` (with `reverse`, of e_{T−1}, e_{T−2}, …, e_t, in
 * that order: the elements flipped, scanned and flipped back). `combine` takes two trees like
 * `elems` whose leaves hold a batch of elements along `axis`, and must work elementwise along it.
 *
 * Work and depth: the odd–even (Blelloch-style) recursion makes about 2T element combinations in
 * 2·⌈log₂T⌉ vectorised `combine` calls (a sequential fold makes T − 1 in T − 1 calls), plus O(T)
 * copies for the strided slices and interleaving at each level. Gradients go through the same
 * levels backwards, with the same work.
 * @param combine an associative function of two trees like `elems`
 * @param elems a tree of tensors sharing the length of `axis`
 * @param options `reverse`, `axis`
 * @returns a tree like `elems`, same shapes
 * @example associativeScan(add, tensor([1, 2, 3, 4])) // [1, 3, 6, 10]
 * @category transforms
 */
export const associativeScan = <T>(combine: (a: T, b: T) => T, elems: T, options: AssociativeScanOptions = {}): T => {
  if (typeof combine !== 'function') throw new ValueError(`associativeScan: combine must be a function of two trees, got ${typeof combine}.`)
  const { leaves, def } = treeFlatten(elems, 'associativeScan: elems')
  if (leaves.length === 0) throw new ValueError('associativeScan: elems holds no tensors; it needs at least one leaf to scan along.')
  const axis = normalizeAxis('associativeScan', options.axis ?? 0, leaves[0].rank)
  const paths = treePaths(def, 'elems')
  leaves.forEach((x, i) => {
    if (x.rank <= axis || x.shape[axis] !== leaves[0].shape[axis]) {
      throw new ShapeError(
        `associativeScan: every leaf needs axis ${axis} of one length; ${paths[0]} is ${showShape(leaves[0].shape)}, ${paths[i]} is ${showShape(x.shape)}.`,
      )
    }
  })
  const reverse = options.reverse ?? false
  const ordered = reverse ? leaves.map((x) => flip(x, axis)) : leaves
  const scanned = scanLevels(ordered, axis, flatCombine(combine, def))
  return treeUnflatten<T>(def, reverse ? scanned.map((x) => flip(x, axis)) : scanned)
}
