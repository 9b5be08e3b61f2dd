/**
 * @file jacfwd, jacrev and hessian over pytrees, with JAX's semantics: the Jacobian of an output
 * leaf of shape S with respect to an input leaf of shape T has shape `[...S, ...T]`, and the
 * result nests as the output tree of (per argnum) input trees. jacfwd builds it a column at a
 * time from `jvp`, jacrev a row at a time from `vjp`. Imports autodiff/, tree/ and the other transforms.
 */
import { TreeError, ValueError } from '../errors.js'
import { reshape, stack } from '../autodiff/ops/structural.js'
import { Tensor } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { type TreeDef, treeFlatten, treeLeaves, treeUnflatten } from '../tree/tree.js'
import { jvp } from './jvp.js'
import { linearize, zerosLike } from './linearize.js'

/** Options of `jacfwd`, `jacrev` and `hessian`. @category transforms */
export interface JacobianOptions {
  /** The argument(s) to differentiate: an index (default 0) or a non-empty array of indices. */
  readonly argnums?: number | readonly number[]
}

/** The argnums as a list, checked against the call's arguments; their leaves must be tensors. */
const argnumsOf = (who: string, argnums: number | readonly number[] | undefined, args: readonly unknown[]): readonly number[] => {
  const list = argnums === undefined ? [0] : typeof argnums === 'number' ? [argnums] : argnums
  if (!Array.isArray(list) || list.length === 0 || !list.every((i) => Number.isInteger(i))) {
    throw new ValueError(`${who}: argnums must be an argument index or a non-empty array of them, got ${JSON.stringify(argnums)}.`)
  }
  list.forEach((i) => {
    if (i < 0 || i >= args.length) {
      throw new TreeError(`${who}: argnums names argument ${i}, but the function was called with ${args.length} argument(s).`)
    }
    if (typeof args[i] === 'number') {
      throw new ValueError(
        `${who}: argument ${i} is the number ${String(args[i])}; Jacobians are taken with respect to float tensors, so pass tensor(${String(args[i])}).`,
      )
    }
  })
  return list
}

/** x's shape and dtype, 1 at flat index `at` and 0 elsewhere: a basis direction. */
const basis = (x: Tensor, at: number): Tensor => {
  const e = full(x.shape, 0, { dtype: x.dtype })
  e.data[at] = 1
  return e
}

/** Slices of a Jacobian block (one per element of the input or of the output) stacked into `[...S, ...T]` at `axis` 0 (rows) or −1 (columns). */
const block = (slices: readonly Tensor[], outShape: readonly number[], inShape: readonly number[], dtype: Tensor['dtype'], axis: 0 | -1): Tensor => {
  const shape = [...outShape, ...inShape]
  if (slices.length === 0 || shape.includes(0)) return full(shape, 0, { dtype })
  return reshape(stack(slices, axis === 0 ? 0 : slices[0].rank), shape)
}

interface Argument {
  readonly def: TreeDef
  readonly leaves: readonly Tensor[]
}

/**
 * The Jacobian tree: per output leaf j, per argnum p (an index alone when `argnums` is a number),
 * the tree of argument p with `entry(j, p, l)` at its leaf l.
 */
const nest = (
  outDef: TreeDef, outCount: number, argnums: number | readonly number[] | undefined, inputs: readonly Argument[],
  entry: (j: number, p: number, l: number) => Tensor,
): unknown => {
  const perArgument = (j: number, p: number): unknown => treeUnflatten(inputs[p].def, inputs[p].leaves.map((_, l) => entry(j, p, l)))
  return treeUnflatten(outDef, Array.from({ length: outCount }, (_, j) =>
    typeof argnums === 'object' ? inputs.map((_, p) => perArgument(j, p)) : perArgument(j, 0)))
}

/**
 * The Jacobian of `f` by forward mode: one `jvp` per element of the differentiated arguments, so
 * it suits functions with fewer inputs than outputs. For an output leaf of shape S and an input
 * leaf of shape T the block has shape `[...S, ...T]`; the result nests as the output tree of the
 * argument's tree (or of an array of trees when `argnums` is an array).
 * @example
 * ```ts
 * jacfwd((x: Tensor) => mul(x, x))(tensor([1, 2])).toArray() // [[2, 0], [0, 4]]
 * jacfwd((x: Tensor) => sum(x))(zeros([2, 3])).shape         // [2, 3]: [...out.shape, ...in.shape]
 * const j = jacfwd((p: { w: Tensor }, x: Tensor) => mul(p.w, x), { argnums: [0, 1] })({ w: tensor([2, 3]) }, tensor([5, 7]))
 * j[0].w.toArray() // [[5, 0], [0, 7]]: one block per argument, nested as the argument
 * j[1].toArray()   // [[2, 0], [0, 3]]
 * ```
 * @category transforms
 */
export const jacfwd = (f: (...args: any[]) => unknown, options: JacobianOptions = {}) => (...args: unknown[]): any => {
  const argnums = argnumsOf('jacfwd', options.argnums, args)
  const distinct = [...new Set(argnums)]
  const inputs = distinct.map((i) => treeFlatten(args[i], `jacfwd: argument ${i}`))
  let output: { def: TreeDef; leaves: Tensor[] } | null = null
  // columns[k][l][e]: the output leaves' tangents along element e of leaf l of argument distinct[k].
  const columns = inputs.map(({ def, leaves }, k) => {
    const along = (x: unknown): unknown => f(...args.map((a, i) => (i === distinct[k] ? x : a)))
    return leaves.map((x, l) => Array.from({ length: x.size }, (_, e) => {
      const direction = treeUnflatten(def, leaves.map((y, m) => (m === l ? basis(y, e) : zerosLike(y))))
      const [out, tangent] = jvp(along, [args[distinct[k]]], [direction])
      output ??= treeFlatten(out, "jacfwd: the function's output")
      return treeLeaves(tangent)
    }))
  })
  // Without a single input element f still runs once, for the output's structure and shapes.
  const { def: outDef, leaves: outLeaves } = output ?? treeFlatten(f(...args), "jacfwd: the function's output")
  const ordered = argnums.map((i) => inputs[distinct.indexOf(i)])
  return nest(outDef, outLeaves.length, options.argnums, ordered, (j, p, l) => {
    const cols = columns[distinct.indexOf(argnums[p])][l].map((tangents) => tangents[j])
    return block(cols, outLeaves[j].shape, ordered[p].leaves[l].shape, outLeaves[j].dtype, -1)
  })
}

/**
 * The Jacobian of `f` by reverse mode: one pullback of a single `vjp` per element of the output,
 * so it suits functions with fewer outputs than inputs. Same shapes and nesting as `jacfwd`.
 * @example
 * ```ts
 * jacrev((x: Tensor) => mul(x, x))(tensor([1, 2])).toArray() // [[2, 0], [0, 4]]
 * const j = jacrev((x: Tensor) => ({ total: sum(x), scaled: mul(x, 3) }))(tensor([1, 2]))
 * j.total.toArray()  // [1, 1]: output tree of input blocks
 * j.scaled.toArray() // [[3, 0], [0, 3]]
 * ```
 * @category transforms
 */
export const jacrev = (f: (...args: any[]) => unknown, options: JacobianOptions = {}) => (...args: unknown[]): any => {
  const argnums = argnumsOf('jacrev', options.argnums, args)
  const lin = linearize('jacrev', f, args, argnums)
  const zeros = lin.outLeaves.map(zerosLike)
  // rows[j][e][p]: the leaves of argument p's gradient of element e of output leaf j.
  const rows = lin.outLeaves.map((y, j) => Array.from({ length: y.size }, (_, e) =>
    lin.pullbackLeaves(zeros.map((z, m) => (m === j ? basis(y, e) : z))).map((tree) => treeLeaves(tree))))
  const inputs = argnums.map((i) => treeFlatten(args[i], `jacrev: argument ${i}`))
  return nest(lin.outDef, lin.outLeaves.length, options.argnums, inputs, (j, p, l) => {
    const x = inputs[p].leaves[l]
    return block(rows[j].map((row) => row[p][l]), lin.outLeaves[j].shape, x.shape, x.dtype, 0)
  })
}

/**
 * The Hessian of `f`, `jacfwd(jacrev(f))` (forward over reverse): for a scalar f of one tensor x,
 * shape `[...x.shape, ...x.shape]`; over pytrees, the argument's tree of its own tree.
 * @example
 * ```ts
 * hessian((x: Tensor) => sum(mul(mul(x, x), x)))(tensor([1, 2])).toArray() // [[6, 0], [0, 12]]: diag(6x)
 * ```
 * @category transforms
 */
export const hessian = (f: (...args: any[]) => unknown, options: JacobianOptions = {}) => jacfwd(jacrev(f, options), options)
