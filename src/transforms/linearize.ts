/**
 * @file The shared machinery of vjp, grad and valueAndGrad: box the chosen arguments as leaves of a
 * new trace, run the function, and return its (lowered) output with a pullback.
 */
import { ShapeError, TreeError, showShape } from '../errors.js'
import { backward } from '../autodiff/backward.js'
import { Trace, Traced, leaf, lower } from '../autodiff/trace.js'
import { Tensor, allocate } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type TreeDef, treeFlatten, treeLeavesAs, treeUnflatten } from '../tree/tree.js'

export interface Linearized {
  /** The function's output with this differentiation's level removed. */
  readonly out: unknown
  readonly outLeaves: readonly Tensor[]
  readonly outDef: TreeDef
  /** Cotangent leaves (one per output leaf) → one gradient tree per differentiated argument. */
  readonly pullbackLeaves: (cotangents: readonly Tensor[]) => unknown[]
}

export const zerosLike = (x: Tensor): Tensor => new Tensor(allocate(x.dtype, x.size), x.shape)

/** Lowers every tensor of `trace` found in an arbitrary value (used for outputs and aux data). */
export const lowerTree = (value: unknown, trace: Trace): unknown => {
  if (value instanceof Traced) return lower(value, trace)
  if (Array.isArray(value)) return value.map((v) => lowerTree(v, trace))
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lowerTree(v, trace)]))
  }
  return value
}

/**
 * Runs `f(...args)` with the arguments at `argnums` traced. `pick` selects the differentiable output
 * from what f returns (all of it, or the first element when f has auxiliary data).
 */
export const linearize = (
  who: string,
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  argnums: readonly number[],
  pick: (result: unknown) => { out: unknown; aux?: unknown } = (out) => ({ out }),
): Linearized & { aux: unknown } => {
  const trace = new Trace()
  const boxed = [...args]
  argnums.forEach((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= args.length) {
      throw new TreeError(`${who}: argnums names argument ${i}, but the function was called with ${args.length} argument(s).`)
    }
  })
  // A position named twice (argnums [1, 0, 1]) is boxed once: boxing it again would hand f the
  // second leaves and leave the first ones, whose gradients are returned, off the tape (zeros).
  // Every occurrence gets the gradient of that one argument, as in JAX.
  const distinct = [...new Set(argnums)]
  const inputs = distinct.map((i) => {
    const { leaves, def } = treeFlatten(args[i], `${who}: argument ${i}`)
    const traced = leaves.map((x) => leaf(x, trace))
    boxed[i] = treeUnflatten(def, traced)
    return { def, traced }
  })
  const { out, aux } = pick(f(...boxed))
  const { leaves: outLeaves, def: outDef } = treeFlatten(out, `${who}: the function's output`)
  const allLeaves = inputs.flatMap((input) => input.traced)
  return {
    out: lowerTree(out, trace),
    aux: lowerTree(aux, trace),
    outLeaves: outLeaves.map((y) => lower(y, trace)),
    outDef,
    pullbackLeaves: (cotangents) => {
      const grads = backward(trace, outLeaves, cotangents, allLeaves)
      let next = 0
      const byArgument = inputs.map(({ def, traced }) =>
        treeUnflatten(def, traced.map((x) => grads[next++] ?? zerosLike(x.primal))),
      )
      return argnums.map((i) => byArgument[distinct.indexOf(i)])
    },
  }
}

/** Checks a user's cotangent tree against the output it is for, and returns its leaves. */
export const cotangentLeaves = (who: string, cotangent: unknown, lin: Linearized): Tensor[] => {
  const leaves = treeLeavesAs(lin.outDef, cotangent, `${who}: the cotangent`)
  leaves.forEach((g, i) => {
    const y = lin.outLeaves[i]
    if (!shapesEqual(g.shape, y.shape)) {
      throw new ShapeError(`${who}: cotangent leaf ${i} has shape ${showShape(g.shape)} but the output leaf has ${showShape(y.shape)}.`)
    }
  })
  return leaves
}
