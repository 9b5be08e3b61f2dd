/**
 * @file Forward mode: the trace kind whose values carry a tangent beside their primal. Applying a
 * primitive at a forward trace computes the primal one level down and the output's tangent by the
 * primitive's tangent rule, written with primitives so that outer levels transform it too; a
 * primitive without a rule gets one by transposing its VJP. Imports the tape (trace.ts,
 * backward.ts) and the ops that fit a tangent to its output.
 */
import { ValueError } from '../errors.js'
import { Tensor } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { shapesEqual } from '../tensor/shape.js'
import { backward, fitCotangent } from './backward.js'
import { add, cast, mul } from './ops/elementwise.js'
import { sum } from './ops/reduce.js'
import { broadcastTo } from './ops/structural.js'
import { type Evaluated, Recorded, Trace, type TraceKind, Traced, concrete, leaf, lowerAll } from './trace.js'

/**
 * A tensor under forward-mode differentiation: its value (`primal`, possibly traced by outer
 * levels) and its tangent, of the same shape and dtype, made at the levels below `trace`. A zero
 * tangent is never stored: a value whose tangent is zero is simply not a `Dual` of that trace.
 */
export class Dual extends Traced {
  constructor(
    primal: Tensor,
    trace: Trace,
    readonly tangent: Tensor,
  ) {
    super(primal, trace)
  }
}

/** The tangent of `x` at `trace`, or null when it is zero there (x is not a `Dual` of that trace). */
export const tangentAt = (x: Tensor, trace: Trace): Tensor | null => (x instanceof Dual && x.trace === trace ? x.tangent : null)

/**
 * A tangent in its output's shape and dtype. Tangent rules may return any shape that broadcasts
 * to the output's (`t_a + t_b` for a broadcast sum); this is the only place it is broadcast, as
 * `fitCotangent` is the only place cotangents are reduced.
 */
const fitTangent = (t: Tensor, out: Tensor): Tensor => {
  const shaped = shapesEqual(t.shape, out.shape) ? t : broadcastTo(t, out.shape)
  return shaped.dtype === out.dtype ? shaped : cast(shaped, out.dtype)
}

const untransposable = (name: string, input: number): ValueError =>
  new ValueError(
    `${name}: forward mode has no tangent rule for this operation and cannot derive one: its VJP computed the ` +
      `cotangent of input ${input} without going through differentiable operations (it read .data or called a kernel). ` +
      'Give it a tangent rule (the jvp field of its spec, or customVjp\'s jvp option), or write its VJP with scangrad operations.',
  )

/**
 * The tangent rule of a primitive that has none, from its VJP. The VJP is linear in the
 * cotangent g, so J·t = ∂/∂g ⟨vjpᵀ(g), t⟩: a reverse sweep, on a trace of its own, of the inner
 * product of the VJP's result with the tangents. It costs about two VJPs and needs the
 * pullback to be written with primitives, as higher orders already require.
 */
const transposedVjp = (
  name: string, { outs, pullback }: Evaluated, inputs: readonly Tensor[], tangents: readonly (Tensor | null)[],
): (Tensor | null)[] => {
  const trace = new Trace()
  // Any g will do, the VJP being linear in it; ones make a cotangent that bypassed g show up non-zero.
  const gs = outs.map((y) => leaf(full(y.shape, 1, { dtype: y.dtype }), trace))
  const cotangents = pullback(gs, new Map(), tangents.map((t) => t !== null))
  let inner: Tensor | null = null
  for (let i = 0; i < tangents.length; i++) {
    const [t, g] = [tangents[i], cotangents[i]]
    if (t === null || g === null || g === undefined) continue
    // A cotangent that does not depend on g (through primitives) is zero, unless the VJP left the tape.
    if (!(g instanceof Recorded && g.trace === trace)) {
      if (concrete(g).data.some((v) => v !== 0)) throw untransposable(name, i)
      continue
    }
    const term = sum(mul(fitCotangent(g, inputs[i]), t))
    inner = inner === null ? term : add(inner, term)
  }
  if (inner === null) return outs.map(() => null)
  return backward(trace, [inner], [full([], 1, { dtype: inner.dtype })], gs)
}

/**
 * Forward mode: the primal runs one level down; the tangents of the inputs traced here (the
 * others are zero) go through the primitive's tangent rule.
 */
export const forward: TraceKind = {
  name: 'forward',
  process: (trace, inputs, params, rules) => {
    const lowered = lowerAll(inputs, trace)
    const evaluated = rules.evaluate(lowered, params)
    const tangents = inputs.map((x) => tangentAt(x, trace))
    const out = rules.jvp !== undefined
      ? rules.jvp(tangents, { inputs: lowered, outs: evaluated.outs, params })
      : transposedVjp(rules.name, evaluated, lowered, tangents)
    return evaluated.outs.map((y, i) => {
      const t = out[i]
      return t === null || t === undefined ? y : new Dual(y, trace, fitTangent(t, y))
    })
  },
}
