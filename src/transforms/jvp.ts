/**
 * @file jvp: forward-mode differentiation over pytrees, with JAX's semantics. A call opens a
 * forward trace (autodiff/forwardMode.ts), pairs each primal leaf with its tangent, and reads the
 * tangents of the output back. Imports autodiff/ and tree/ only.
 */
import { ShapeError, TreeError, showShape } from '../errors.js'
import { Dual, forward, tangentAt } from '../autodiff/forwardMode.js'
import { Trace, lower } from '../autodiff/trace.js'
import { shapesEqual } from '../tensor/shape.js'
import type { Tensor } from '../tensor/Tensor.js'
import { treeFlatten, treeLeavesAs, treePaths, treeUnflatten } from '../tree/tree.js'
import { lowerTree, zerosLike } from './linearize.js'

/** Opens a forward trace, pairs each leaf with its tangent there (a null tangent leaves it constant), and calls `call` on them. */
const withTangents = <R>(
  leaves: readonly Tensor[], tangents: readonly (Tensor | null)[], call: (paired: Tensor[]) => R,
): { trace: Trace; out: R } => {
  const trace = new Trace(forward)
  const paired = leaves.map((x, i) => {
    const t = tangents[i]
    return t === null ? x : new Dual(x, trace, t)
  })
  return { trace, out: call(paired) }
}

/**
 * Forward mode on flat leaves: the tangents (null: zero) of `f`'s outputs for the tangents of its
 * inputs (null: zero). Internal: the tangent rules of kernel primitives run their composition through it.
 */
export const jvpLeaves = (
  f: (inputs: Tensor[]) => Tensor[], primals: readonly Tensor[], tangents: readonly (Tensor | null)[],
): (Tensor | null)[] => {
  const { trace, out } = withTangents(primals, tangents, f)
  return out.map((y) => tangentAt(y, trace))
}

/**
 * The Jacobian-vector product: evaluates `f(...primals)` and, in the same pass, the derivative of
 * its output in the direction `tangents` (forward mode). `primals` and `tangents` are arrays with
 * one entry per argument of `f`, each tangent a tree of the structure, shapes and dtypes of its
 * primal. Returns `[out, tangentOut]`, the tangent with the structure of the output (zeros where
 * the output does not depend on the arguments). Composes with itself and with `grad` in either order.
 * @example
 * ```ts
 * const [y, dy] = jvp((x: Tensor) => sum(square(x)), [tensor([1, 2])], [tensor([1, 0])])
 * y.item()  // 5
 * dy.item() // 2: d/dx₀ of x₀² + x₁² at x₀ = 1
 * // pytrees, several arguments: the tangent has the output's structure
 * const [, t] = jvp((p: { w: Tensor }, x: Tensor) => ({ y: mul(p.w, x) }), [{ w: tensor([2]) }, tensor([3])], [{ w: tensor([1]) }, tensor([0])])
 * t.y.toArray() // [3]
 * ```
 * @category transforms
 */
export const jvp = <A extends readonly unknown[], R>(f: (...args: A) => R, primals: Readonly<A>, tangents: Readonly<A>): [R, R] => {
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    throw new TreeError(
      `jvp: primals and tangents must be arrays with one entry per argument of the function, got ${Array.isArray(primals) ? 'an array' : typeof primals} ` +
        `and ${Array.isArray(tangents) ? 'an array' : typeof tangents}. Write jvp(f, [x], [v]) for one argument.`,
    )
  }
  if (primals.length !== tangents.length) {
    throw new TreeError(`jvp: primals has ${primals.length} argument(s) but tangents has ${tangents.length}; give one tangent per primal.`)
  }
  const args = primals.map((p, i) => {
    const { leaves, def } = treeFlatten(p, `jvp: primals[${i}]`)
    const ts = treeLeavesAs(def, tangents[i], `jvp: tangents[${i}]`)
    const paths = treePaths(def, `primals[${i}]`)
    ts.forEach((t, j) => {
      const x = leaves[j]
      if (!shapesEqual(t.shape, x.shape)) {
        throw new ShapeError(`jvp: the tangent of ${paths[j]} must have its primal's shape ${showShape(x.shape)}, got ${showShape(t.shape)}.`)
      }
      if (t.dtype !== x.dtype) {
        throw new ShapeError(`jvp: the tangent of ${paths[j]} must have its primal's dtype ${x.dtype}, got ${t.dtype}. Cast it first.`)
      }
    })
    return { leaves, def, tangents: ts }
  })
  const { trace, out } = withTangents(args.flatMap((a) => a.leaves), args.flatMap((a) => a.tangents), (paired) => {
    let next = 0
    const boxed = args.map(({ leaves, def }) => treeUnflatten(def, paired.slice(next, (next += leaves.length))))
    return f(...(boxed as unknown as A))
  })
  const { leaves: outLeaves, def: outDef } = treeFlatten(out, "jvp: the function's output")
  const tangentOut = treeUnflatten<R>(outDef, outLeaves.map((y) => tangentAt(y, trace) ?? zerosLike(lower(y, trace))))
  return [lowerTree(out, trace) as R, tangentOut]
}
