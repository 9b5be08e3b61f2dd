/**
 * @file vjp, grad, valueAndGrad and hvp, with JAX's semantics over pytrees of tensors.
 * Each call opens its own trace, so nested calls never confuse each other's tapes.
 */
import { ShapeError, showShape } from '../errors.js'
import { add, mul } from '../autodiff/ops/elementwise.js'
import { sum } from '../autodiff/ops/reduce.js'
import { Tensor, expectTensor } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { treeLeaves } from '../tree/tree.js'
import { jvp } from './jvp.js'
import { cotangentLeaves, linearize } from './linearize.js'

/** The gradients of the arguments named by a tuple of argnums. @category transforms */
export type GradsOf<A extends readonly unknown[], I extends readonly number[]> = { -readonly [K in keyof I]: A[I[K]] }

/** Options of `grad` (and `valueAndGrad`, which adds `hasAux`). @category transforms */
export interface GradOptions<I> {
  /**
   * Which argument(s) to differentiate: an index (default 0) or an array of indices. An index may
   * repeat (`[1, 0, 1]`): each occurrence gets that argument's gradient, as in JAX.
   */
  readonly argnums?: I
}

const argnumList = (argnums: number | readonly number[] | undefined): readonly number[] =>
  argnums === undefined ? [0] : typeof argnums === 'number' ? [argnums] : argnums

const expectScalar = (who: string, out: unknown): Tensor => {
  const y = expectTensor(who, 'the function output', out)
  if (y.rank !== 0) {
    throw new ShapeError(
      `${who}: the function must return a scalar (shape []), but returned shape ${showShape(y.shape)}. ` +
        'Reduce it first (for example with sum or mean), or use vjp for non-scalar outputs.',
    )
  }
  return y
}

const ones = (y: Tensor): Tensor => full([], 1, { dtype: y.dtype })

/**
 * The vector-Jacobian product: evaluates `f(...primals)` and returns its output with a pullback
 * that maps a cotangent (same structure and shapes as the output) to one gradient per primal.
 * @example
 * ```ts
 * const [y, pullback] = vjp((x: Tensor) => mul(x, x), tensor([1, 2, 3]))
 * y.toArray()                              // [1, 4, 9]
 * pullback(tensor([1, 1, 1]))[0].toArray() // [2, 4, 6]: one cotangent per argument
 * ```
 * @category transforms
 */
export const vjp = <A extends readonly unknown[], R>(
  f: (...args: A) => R,
  ...primals: A
): [R, (cotangent: R) => { -readonly [K in keyof A]: A[K] }] => {
  const lin = linearize('vjp', f as (...args: any[]) => unknown, primals, primals.map((_, i) => i))
  const pullback = (cotangent: R) => lin.pullbackLeaves(cotangentLeaves('vjp', cotangent, lin)) as { -readonly [K in keyof A]: A[K] }
  return [lin.out as R, pullback]
}

type ValueAndGradOptions<I> = GradOptions<I> & { readonly hasAux?: boolean }

/**
 * `f`'s value and its gradient with respect to the argument(s) in `argnums`. `f` must return a
 * scalar, or `[scalar, aux]` with `hasAux: true` (then the value is `[scalar, aux]`).
 * @example
 * ```ts
 * const [value, g] = valueAndGrad((x: Tensor) => sum(square(x)))(tensor([1, 2]))
 * value.item() // 5
 * g.toArray()  // [2, 4]
 * // hasAux: the function returns [loss, anything]; the extra value comes back beside the loss
 * const [[loss, predictions], gw] = valueAndGrad((w: Tensor) => {
 *   const p = mul(w, 2)
 *   return [sum(p), p] as const
 * }, { hasAux: true })(tensor([1, 2]))
 * predictions.toArray() // [2, 4]
 * gw.toArray()          // [2, 2]
 * ```
 * @category transforms
 */
export function valueAndGrad<A extends readonly unknown[]>(
  f: (...args: A) => Tensor, options?: { argnums?: 0; hasAux?: false },
): (...args: A) => [Tensor, A[0]]
export function valueAndGrad<A extends readonly unknown[], const I extends number>(
  f: (...args: A) => Tensor, options: { argnums: I; hasAux?: false },
): (...args: A) => [Tensor, A[I]]
export function valueAndGrad<A extends readonly unknown[], const I extends readonly number[]>(
  f: (...args: A) => Tensor, options: { argnums: I; hasAux?: false },
): (...args: A) => [Tensor, GradsOf<A, I>]
export function valueAndGrad<A extends readonly unknown[], Aux>(
  f: (...args: A) => readonly [Tensor, Aux], options: { argnums?: 0; hasAux: true },
): (...args: A) => [[Tensor, Aux], A[0]]
export function valueAndGrad<A extends readonly unknown[], Aux, const I extends number | readonly number[]>(
  f: (...args: A) => readonly [Tensor, Aux], options: { argnums: I; hasAux: true },
): (...args: A) => [[Tensor, Aux], I extends readonly number[] ? GradsOf<A, I> : A[I & number]]
export function valueAndGrad(
  f: (...args: any[]) => unknown,
  options: ValueAndGradOptions<number | readonly number[]> = {},
): (...args: unknown[]) => [unknown, unknown] {
  return valueAndGradAs('valueAndGrad', f, options)
}

/** valueAndGrad, with errors prefixed by the public name the user called (`grad` or `valueAndGrad`). */
const valueAndGradAs = (
  who: string,
  f: (...args: any[]) => unknown,
  options: ValueAndGradOptions<number | readonly number[]>,
): ((...args: unknown[]) => [unknown, unknown]) => {
  const argnums = argnumList(options.argnums)
  return (...args) => {
    const lin = linearize(who, f, args, argnums, (result) => {
      if (!options.hasAux) return { out: expectScalar(who, result) }
      if (!Array.isArray(result) || result.length !== 2) {
        throw new ShapeError(`${who}: with hasAux the function must return [value, aux], got ${Array.isArray(result) ? `an array of length ${result.length}` : typeof result}.`)
      }
      return { out: expectScalar(who, result[0]), aux: result[1] }
    })
    const value = lin.out as Tensor
    const grads = lin.pullbackLeaves([ones(value)])
    const gradient = typeof options.argnums === 'object' ? grads : grads[0]
    return [options.hasAux ? [value, lin.aux] : value, gradient]
  }
}

/**
 * The gradient of a scalar function with respect to argument 0, or the argument(s) in `argnums`;
 * it has the structure (and type) of that argument.
 * @example
 * ```ts
 * const params = { w: tensor([1, -2]), b: scalar(0.5) }
 * const loss = (p: typeof params) => sum(square(add(p.w, p.b)))
 * const g = grad(loss)(params) // the structure (and type) of params
 * g.w.toArray() // [3, -3]
 * g.b.item()    // 0
 * grad((x: Tensor, y: Tensor) => sum(mul(x, y)), { argnums: 1 })(tensor([2]), tensor([3])).toArray() // [2]
 * ```
 * @category transforms
 */
export function grad<A extends readonly unknown[]>(f: (...args: A) => Tensor, options?: { argnums?: 0 }): (...args: A) => A[0]
export function grad<A extends readonly unknown[], const I extends number>(f: (...args: A) => Tensor, options: { argnums: I }): (...args: A) => A[I]
export function grad<A extends readonly unknown[], const I extends readonly number[]>(
  f: (...args: A) => Tensor, options: { argnums: I },
): (...args: A) => GradsOf<A, I>
export function grad(f: (...args: any[]) => Tensor, options: GradOptions<number | readonly number[]> = {}) {
  const withValue = valueAndGradAs('grad', f, options)
  return (...args: unknown[]) => withValue(...args)[1]
}

/**
 * Σ over leaves of ⟨a, b⟩: the inner product of two trees of the same structure.
 * @example
 * ```ts
 * treeVdot({ w: tensor([1, 2]), b: scalar(3) }, { w: tensor([3, 4]), b: scalar(0.5) }).item() // 12.5
 * ```
 * @category trees
 */
export const treeVdot = (a: unknown, b: unknown): Tensor => {
  const xs = treeLeaves(a, 'treeVdot')
  const ys = treeLeaves(b, 'treeVdot')
  return xs.map((x, i) => sum(mul(x, ys[i]))).reduce((s, t) => add(s, t))
}

/**
 * Hessian-vector product H(x)·v of a scalar function, by forward over reverse: the derivative of
 * ∇f at x in the direction v, `jvp(grad(f), [x], [v])`, one gradient's cost with tangents (reverse
 * over reverse, ∇ₓ ⟨∇f(x), v⟩, gives the same numbers). `v` and the result have the structure of `x`.
 * @example
 * ```ts
 * // f = Σx³ has H = diag(6x): at x = [1, 2] along v = [1, 0.5], H·v = [6, 6]
 * hvp((x: Tensor) => sum(mul(mul(x, x), x)))(tensor([1, 2]), tensor([1, 0.5])).toArray() // [6, 6]
 * ```
 * @category transforms
 */
export const hvp = <X>(f: (x: X) => Tensor) => (x: X, v: X): X => jvp(grad(f), [x] as [X], [v] as [X])[1]
