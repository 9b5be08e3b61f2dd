/**
 * @file vmap: vectorising a function over a batch axis, with JAX's semantics over pytrees. A call
 * opens a batching trace (autodiff/batching.ts), hands the function one example's view of each
 * batched leaf, and moves the batch of each output leaf to where `outAxes` asks. Imports
 * autodiff/ and tree/ only.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { BatchTrace, Batched, batchAxisAt } from '../autodiff/batching.js'
import { broadcastTo, expandDims, moveAxis } from '../autodiff/ops/structural.js'
import { lower } from '../autodiff/trace.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type TreeDef, treeFlatten, treePaths, treeUnflatten } from '../tree/tree.js'

/**
 * Where a tree's batch runs: an axis (negative counts from the end; null: not batched, the same for
 * every example) for the whole tree, or a tree of them that is a prefix of the tree (an array for
 * an array, an object with the same keys for an object), each entry applying to its whole subtree.
 * @category transforms
 */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec }

/** Options of `vmap`. @category transforms */
export interface VmapOptions {
  /**
   * The batch axis of the arguments: one `AxisSpec` for all of them, or an array with one per
   * argument. Default 0.
   */
  readonly inAxes?: AxisSpec
  /** Where the batch goes in the output: an `AxisSpec` prefix of the output's tree. Default 0. */
  readonly outAxes?: AxisSpec
}

const isPlainObject = (x: unknown): x is Record<string, AxisSpec> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype

const leafCount = (def: TreeDef): number =>
  def.kind === 'leaf' ? 1 : def.kind === 'empty' ? 0 : def.children.reduce((n, c) => n + leafCount(c), 0)

/** One axis per leaf of the tree `def`, in `treeFlatten` order, from a prefix spec; `where` names the spec in errors. */
const axesPerLeaf = (spec: AxisSpec, def: TreeDef, where: string): (number | null)[] => {
  if (spec === null || typeof spec === 'number') {
    if (spec !== null && !Number.isInteger(spec)) throw new ValueError(`vmap: ${where} must be an integer axis or null, got ${spec}.`)
    return new Array<number | null>(leafCount(def)).fill(spec)
  }
  if (Array.isArray(spec)) {
    if (def.kind !== 'array' || def.children.length !== spec.length) {
      const seen = def.kind === 'array' ? `an array of ${def.children.length}` : def.kind === 'object' ? 'an object' : def.kind === 'leaf' ? 'a tensor' : 'empty'
      throw new TreeError(`vmap: ${where} is an array of ${spec.length} axes, so it must be a prefix of an array of ${spec.length}, but the value there is ${seen}.`)
    }
    return def.children.flatMap((c, i) => axesPerLeaf(spec[i], c, `${where}[${i}]`))
  }
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec)
    if (def.kind !== 'object' || keys.length !== def.keys.length || !def.keys.every((k) => k in spec)) {
      const seen = def.kind === 'object' ? `an object with keys [${def.keys.join(', ')}]` : def.kind === 'leaf' ? 'a tensor' : def.kind
      throw new TreeError(`vmap: ${where} is an object with keys [${keys.join(', ')}], so the value there must have the same keys, but it is ${seen}.`)
    }
    return def.keys.flatMap((k, i) => axesPerLeaf(spec[k], def.children[i], `${where}.${k}`))
  }
  throw new ValueError(`vmap: ${where} must be an axis, null, or an array or object of them, got ${typeof spec}.`)
}

/** `axis` as a non-negative axis of a rank-`rank` tensor, or an error naming the leaf. */
const resolveAxis = (axis: number, rank: number, what: string): number => {
  if (axis < -rank || axis >= rank) {
    throw new ShapeError(`vmap: ${what}: axis ${axis} is out of range for a tensor of rank ${rank - 1} batched to rank ${rank}; it must be in [${-rank}, ${rank - 1}].`)
  }
  return axis < 0 ? axis + rank : axis
}

/**
 * Vectorises `f` over a batch axis: `vmap(f)(xs)` stacks `f(x)` over the examples `x` of `xs`
 * along axis 0, in one pass instead of a loop, by batching rules that fold the batch into each
 * primitive's own axes. `inAxes` says along which axis each argument holds its examples (null: an
 * argument shared by every example), `outAxes` where the batch goes in the output; both are
 * pytree prefixes. Inside `f` every tensor has one example's shape. It composes with `grad`,
 * `vjp`, `jvp`, `hvp`, `jacfwd`/`jacrev`, `scan` and itself; `vmap(grad(loss), { inAxes: [null, 0, 0] })`
 * gives per-example gradients.
 *
 * Inside `f`, the values of a batched tensor cannot be read — only operations apply: `item()` and
 * `toArray()` throw, and its raw `data` holds NaN. A primitive without a batching rule (one defined with
 * `definePrimitive` and no `batch`) runs once per example. Masks and lengths given to the
 * recurrent layers are read as values, so they must be shared by the batch (closed over, or
 * passed with in axis null); the layers refuse one that differs per example.
 * @param f a function of pytrees of tensors, returning a pytree of tensors
 * @param options `inAxes` (default 0) and `outAxes` (default 0)
 * @returns the batched function; every batched argument must have the same number of examples
 * @example
 * ```ts
 * const w = tensor([[1, 0], [0, 2]])
 * const f = (x: Tensor) => sum(matmul(x, w)) // one example x: [2]
 * vmap(f)(tensor([[1, 1], [2, 3]])).toArray() // [3, 8]
 * // per-example gradients: the parameters shared (in axis null), the data batched
 * const loss = (w: Tensor, x: Tensor, y: Tensor) => sum(square(sub(matmul(x, w), y)))
 * const xs = tensor([[1, 0], [0, 1], [1, 1]])
 * const ys = tensor([[1, 0], [0, 1], [0, 0]])
 * const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })(w, xs, ys)
 * perExample.shape     // [3, 2, 2]: one gradient of w per example
 * perExample.toArray() // [[[0, 0], [0, 0]], [[0, 0], [0, 2]], [[2, 4], [2, 4]]]
 * vmap((x: Tensor) => mul(x, 2), { inAxes: 1, outAxes: -1 })(tensor([[1, 2, 3]])).shape // [1, 3]
 * ```
 * @category transforms
 */
export const vmap = <A extends readonly unknown[], R>(f: (...args: A) => R, options: VmapOptions = {}) => (...args: A): R => {
  const inAxes = options.inAxes === undefined ? 0 : options.inAxes
  if (Array.isArray(inAxes) && inAxes.length !== args.length) {
    throw new TreeError(
      `vmap: inAxes has ${inAxes.length} entries but the function was called with ${args.length} argument(s); give one axis (or null) per argument, or a single axis for all.`,
    )
  }
  const flats = args.map((a, i) => treeFlatten(a, `vmap: argument ${i}`))
  const leaves = flats.flatMap((fl) => fl.leaves)
  const paths = flats.flatMap((fl, i) => treePaths(fl.def, `argument ${i}`))
  const axes = flats.flatMap((fl, i) => axesPerLeaf(Array.isArray(inAxes) ? (inAxes as readonly AxisSpec[])[i] : inAxes, fl.def, Array.isArray(inAxes) ? `inAxes[${i}]` : 'inAxes'))
    .map((axis, j) => (axis === null ? null : resolveAxis(axis, leaves[j].rank, `in axis of ${paths[j]} ${showShape(leaves[j].shape)}`)))
  const batched = axes.flatMap((axis, j) => (axis === null ? [] : [j]))
  if (batched.length === 0) {
    throw new ValueError('vmap: no argument is batched (every in axis is null), so the batch size is unknown; batch at least one argument.')
  }
  const size = leaves[batched[0]].shape[axes[batched[0]]!]
  if (batched.some((j) => leaves[j].shape[axes[j]!] !== size)) {
    const sizes = batched.map((j) => `  ${paths[j]}: ${leaves[j].shape[axes[j]!]} along axis ${axes[j]} of ${showShape(leaves[j].shape)}`)
    throw new ShapeError(`vmap: the batched arguments must all hold the same number of examples; got\n${sizes.join('\n')}`)
  }
  const trace = new BatchTrace(size)
  let next = 0
  const boxed = flats.map(({ leaves: own, def }) => treeUnflatten(def, own.map((x) => {
    const axis = axes[next++]
    return axis === null ? x : new Batched(x, trace, axis)
  })))
  const out = f(...(boxed as unknown as A))
  const { leaves: outLeaves, def: outDef } = treeFlatten(out, "vmap: the function's output")
  const outPaths = treePaths(outDef, 'output')
  const outAxes = axesPerLeaf(options.outAxes === undefined ? 0 : options.outAxes, outDef, 'outAxes')
  return treeUnflatten<R>(outDef, outLeaves.map((y, j) => {
    const from = batchAxisAt(y, trace)
    const want = outAxes[j]
    if (want === null) {
      if (from !== null) {
        throw new ValueError(`vmap: outAxes gives ${outPaths[j]} no batch axis (null), but it differs between examples; give it an axis, or return a value that does not depend on the batched arguments.`)
      }
      return y
    }
    const to = resolveAxis(want, y.rank + 1, `out axis of ${outPaths[j]} ${showShape(y.shape)}`)
    // An output that does not depend on the batch is the same for every example: repeated.
    if (from === null) return broadcastTo(expandDims(y, to), [...y.shape.slice(0, to), size, ...y.shape.slice(to)])
    return moveAxis(lower(y, trace), from, to)
  }))
}
