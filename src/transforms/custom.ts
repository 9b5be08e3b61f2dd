/**
 * @file customVjp and checkpoint: functions that place one node on the innermost trace and decide
 * themselves what its pullback does (a user's formula, or a recomputation). Under forward mode a
 * customVjp is one application with the user's tangent rule, or its VJP's transpose.
 */
import { TreeError } from '../errors.js'
import { backward, segmentInputs } from '../autodiff/backward.js'
import { type PrimitiveRules, type Pullback, type Trace, Traced, isReverse, lower, nextNodeIdNow, record, topTrace } from '../autodiff/trace.js'
import { Tensor } from '../tensor/Tensor.js'
import { type TreeDef, treeFlatten, treeLeavesAs, treeUnflatten } from '../tree/tree.js'
import { zerosLike } from './linearize.js'

interface FlatArgs {
  readonly leaves: Tensor[]
  readonly defs: TreeDef[]
  readonly counts: number[]
}

const flattenArgs = (who: string, args: readonly unknown[]): FlatArgs => {
  const flats = args.map((a, i) => treeFlatten(a, `${who}: argument ${i}`))
  return { leaves: flats.flatMap((f) => f.leaves), defs: flats.map((f) => f.def), counts: flats.map((f) => f.leaves.length) }
}

const unflattenArgs = ({ defs, counts }: FlatArgs, leaves: readonly unknown[]): unknown[] => {
  let start = 0
  return defs.map((def, i) => {
    const part = leaves.slice(start, start + counts[i])
    start += counts[i]
    return treeUnflatten(def, part)
  })
}

/**
 * The node pullback of a function with a hand-written VJP: gives `pullback` the cotangent tree of
 * the output (zeros where none arrived) and flattens the cotangent tree it returns per argument.
 */
const treePullback = (
  who: string,
  flat: FlatArgs,
  def: TreeDef,
  outs: readonly Tensor[],
  pullback: (cotangent: unknown) => readonly unknown[],
): Pullback => (cts) => {
  const cotangent = treeUnflatten(def, cts.map((g, i) => g ?? zerosLike(outs[i])))
  const grads = pullback(cotangent)
  if (!Array.isArray(grads) || grads.length !== flat.defs.length) {
    throw new TreeError(`${who}: the backward function must return an array with one cotangent per argument (${flat.defs.length}).`)
  }
  return grads.flatMap((g, i) =>
    g === null || g === undefined
      ? new Array<null>(flat.counts[i]).fill(null)
      : treeLeavesAs(flat.defs[i], g, `${who}: the cotangent for argument ${i}`),
  )
}

/** Options of `customVjp`. @category transforms */
export interface CustomVjpOptions<A extends readonly unknown[], R> {
  /**
   * The tangent rule, for forward mode (`jvp`, `jacfwd`): `(primals, tangents) → tangent` of the
   * output, where `tangents` has the structure of `primals` (zeros for arguments not differentiated).
   * Without it, forward mode transposes `bwd`, which needs `bwd` linear in `g`, as a true VJP is
   * (one that clips or normalises g is not: give it this rule), and written with scangrad operations.
   */
  readonly jvp?: (primals: A, tangents: A) => R
}

/**
 * A function with a hand-written VJP, like `jax.custom_vjp`. `fwd(...args)` returns
 * `[out, residuals]`; `bwd(residuals, g)` returns one cotangent per argument (`null` for none).
 * The innermost differentiation uses `bwd`; outer ones differentiate through `fwd` and `bwd`
 * themselves, so `bwd` should be written with differentiable operations. Forward mode uses
 * `options.jvp` when given, and otherwise the transpose of `bwd`, which is linear in `g`:
 * J·t = ∂/∂g ⟨bwd(residuals, g), t⟩.
 * @example
 * ```ts
 * // the identity forwards; backwards the cotangent is clipped to [−1, 1]
 * const clipGradient = customVjp((x: Tensor) => [x, null] as const, (_, g: Tensor) => [clip(g, -1, 1)])
 * clipGradient(tensor([5])).toArray()                                           // [5]
 * grad((x: Tensor) => sum(mul(clipGradient(x), 10)))(tensor([1, 2])).toArray() // [1, 1]: 10 clipped to 1
 * // forward mode uses the jvp option (clipping is not linear in g, so bwd cannot be transposed)
 * const clipped = customVjp((x: Tensor) => [x, null] as const, (_, g: Tensor) => [clip(g, -1, 1)], { jvp: (_, [t]) => t })
 * jvp(clipped, [tensor([1])], [tensor([5])])[1].toArray() // [5]
 * // or, without one, transposes bwd
 * const cube = customVjp((x: Tensor) => [mul(mul(x, x), x), x] as const, (x: Tensor, g: Tensor) => [mul(g, mul(mul(x, x), 3))])
 * jvp(cube, [tensor([2])], [tensor([1])])[1].toArray()    // [12]
 * ```
 * @category transforms
 */
export const customVjp = <A extends readonly unknown[], R, Res>(
  fwd: (...args: A) => readonly [R, Res],
  bwd: (residuals: Res, g: R) => readonly unknown[],
  options: CustomVjpOptions<A, R> = {},
): ((...args: A) => R) => {
  const custom = (...args: A): R => {
    const flat = flattenArgs('customVjp', args)
    const trace = topTrace(flat.leaves)
    if (trace === null) return closedOver(fwd(...args)[0], null)
    const tangentRule = options.jvp
    let outDef: TreeDef | null = null
    // An application of an ad-hoc primitive: the trace's kind decides what it means, as for any other.
    const rules: PrimitiveRules<undefined> = {
      name: 'customVjp',
      evaluate: (lowered) => {
        const [out, residuals] = fwd(...(unflattenArgs(flat, lowered) as unknown as A))
        const { leaves: outs, def } = treeFlatten(closedOver(out, trace), 'customVjp: the output of fwd')
        outDef = def
        return { outs, pullback: treePullback('customVjp', flat, def, outs, (g) => bwd(residuals, g as R)) }
      },
      jvp: tangentRule === undefined ? undefined : (tangents, { inputs }) => {
        const primals = unflattenArgs(flat, inputs) as unknown as A
        const zeroFilled = unflattenArgs(flat, tangents.map((t, i) => t ?? zerosLike(inputs[i]))) as unknown as A
        return treeLeavesAs(outDef!, tangentRule(primals, zeroFilled), 'customVjp: the tangent returned by jvp')
      },
      // Under vmap, one example at a time through the custom function itself, so that outer
      // differentiations still see its VJP.
      apply: (leaves) => {
        const { leaves: outs, def } = treeFlatten(custom(...(unflattenArgs(flat, leaves) as unknown as A)), 'customVjp: the output of fwd')
        outDef = def
        return outs
      },
    }
    const outs = trace.kind.process(trace, flat.leaves, undefined, rules)
    return treeUnflatten(outDef!, outs)
  }
  return custom
}

/** Throws if fwd's output is traced at or above `trace`: fwd closed over a value being differentiated. */
const closedOver = <R>(out: R, trace: Trace | null): R => {
  const inner = topTrace(treeFlatten(out, 'customVjp: the output of fwd').leaves)
  if (inner !== null && (trace === null || inner.level >= trace.level)) {
    throw new TreeError(
      'customVjp: fwd uses a value that is being differentiated but is not one of its arguments. ' +
        'bwd could not return its cotangent; pass that value to the function as an argument.',
    )
  }
  return out
}

/**
 * Rematerialisation (`jax.checkpoint`): the function's intermediate values are not kept for the
 * backward pass of the innermost differentiation; its pullback recomputes them. Gradients are
 * unchanged; memory falls to what the function reads and returns.
 *
 * The function runs on the tape as usual, then the segment it recorded is replaced by one node
 * whose inputs are the segment's inputs, found on the tape. Values the function closes over
 * (a cell's parameters) are therefore differentiated like its arguments.
 * @example
 * ```ts
 * const w = tensor([[0.5, -1], [2, 0.25]])
 * const layer = (x: Tensor) => tanh(matmul(tanh(matmul(x, w)), w))
 * const x = tensor([[1, 2]])
 * const plain = grad((x: Tensor) => sum(layer(x)))(x)
 * // the backward pass keeps x and recomputes the inner tanh instead of storing it
 * const remat = grad((x: Tensor) => sum(checkpoint(layer)(x)))(x)
 * equal(remat, plain).toArray() // [[1, 1]]: the same gradient
 * grad((w: Tensor) => sum(checkpoint((x: Tensor) => tanh(matmul(x, w)))(x)))(w).shape // [2, 2]: closed-over w is differentiated
 * ```
 * @category transforms
 */
export const checkpoint = <A extends readonly unknown[], R>(f: (...args: A) => R): ((...args: A) => R) => (...args: A): R => {
  const run = (): { start: number; outs: Tensor[]; def: TreeDef } => {
    const start = nextNodeIdNow()
    const { leaves: outs, def } = treeFlatten(f(...args), 'checkpoint: the output')
    return { start, outs, def }
  }
  const { start, outs, def } = run()
  const trace = topTrace(outs)
  // Only a tape has intermediates to drop; under forward mode the segment stays as it ran.
  if (trace === null || !isReverse(trace)) return treeUnflatten(def, outs)
  const inputs = segmentInputs(trace, outs, start)
  const recorded = record(trace, 'checkpoint', inputs, outs.map((y) => lower(y, trace)), (cts, sums) => {
    const again = run()
    const reached = again.outs.flatMap((y, i) => (cts[i] === null || cts[i] === undefined ? [] : [{ y, g: cts[i] }]))
    // Continue the caller's sweep instead of returning per-input totals: each input then receives
    // the same additions in the same order as without checkpointing. Floating-point addition is
    // not associative, so summing a segment's contributions first would change the last bits.
    backward(trace, reached.map((r) => r.y), reached.map((r) => r.g), [], (node) => node.id >= again.start, sums)
    return []
  })
  return treeUnflatten(def, outs.map((y, i) => (y instanceof Traced && y.trace === trace ? recorded[i] : y)))
}
