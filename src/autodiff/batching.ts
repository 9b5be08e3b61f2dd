/**
 * @file Batching (vmap): the trace kind whose values hold a whole batch of examples. A `Batched`
 * value is, one level down, an array with one more axis than the example it stands for; user code
 * sees the example's shape. Applying a primitive at a batching trace calls its batching rule
 * (`batch` in its spec), which moves the batch axis into the primitive's own parameters; a
 * primitive without one is applied to one example at a time and the results stacked. Imports the
 * tape (trace.ts) and the structural ops the fallback needs.
 */
import { ValueError } from '../errors.js'
import { type DType, Tensor } from '../tensor/Tensor.js'
import { sizeOf } from '../tensor/shape.js'
import { moveAxis, stack, unstack } from './ops/structural.js'
import { type Batch, type BatchRule, type PrimitiveRules, Trace, type TraceKind, Traced, concrete, lower, lowerAll } from './trace.js'

/**
 * Where the values of a batched tensor as seen by one example would be: a batched value has no
 * values of its own at its level, only a shape, so its `data` is NaN, which makes code that reads
 * it (instead of applying operations) show up rather than silently use one example's numbers.
 * One buffer per dtype, grown as needed and shared: tensors are read-only.
 */
const nanBuffers: { float32: Float32Array; float64: Float64Array } = { float32: new Float32Array(0), float64: new Float64Array(0) }

const placeholder = (values: Tensor, axis: number): Tensor => {
  const shape = values.shape.filter((_, i) => i !== axis)
  const size = sizeOf(shape)
  const dtype: DType = values.dtype
  if (nanBuffers[dtype].length < size) {
    const grown = Math.max(size, 2 * nanBuffers[dtype].length)
    nanBuffers[dtype] = (dtype === 'float32' ? new Float32Array(grown) : new Float64Array(grown)).fill(NaN) as never
  }
  return new Tensor(nanBuffers[dtype].subarray(0, size), shape)
}

/** A vmap in progress: its trace and the number of examples every batched value holds. */
export class BatchTrace extends Trace {
  constructor(readonly size: number) {
    super(batching)
  }
}

/**
 * A tensor under vmap: one example's shape, standing for `values` (one level down, possibly
 * traced by outer levels), which hold every example along `axis`.
 */
export class Batched extends Traced {
  declare readonly trace: BatchTrace
  constructor(
    values: Tensor,
    trace: BatchTrace,
    readonly axis: number,
  ) {
    super(values, trace, placeholder(values, axis))
  }

  /**
   * A batched tensor has one value per example, so inside vmap there is no single number or array to
   * read: the examples' values exist only once vmap returns them.
   */
  override item(): number {
    throw this.unreadable('item()')
  }

  override toArray(): never {
    throw this.unreadable('toArray()')
  }

  private unreadable(method: string): ValueError {
    return new ValueError(
      `vmap: ${method} read a tensor that holds one value per example (${this.trace.size} examples, each of shape ` +
        `[${this.shape.join(', ')}]) inside the vmapped function. Compute with scangrad operations there, and read the ` +
        'values from what vmap returns.',
    )
  }

  /** The examples are the value, not a derivative: the batch stays, only the levels below lose theirs. */
  override withoutDerivatives(): Tensor {
    const inner = concrete(this.primal)
    return inner === this.primal ? this : new Batched(inner, this.trace, this.axis)
  }
}

/** The batch axis of `x` at `trace`, or null when x is the same for every example there. */
export const batchAxisAt = (x: Tensor, trace: Trace): number | null => (x instanceof Batched && x.trace === trace ? x.axis : null)

/**
 * The fallback for a primitive without a batching rule: the primitive applied to each example in
 * turn, the outputs stacked along a new leading axis. Correct for any primitive, at the cost of
 * one application per example; the built-in primitives all have rules.
 */
const oneAtATime = <P>(rules: PrimitiveRules<P>, size: number): BatchRule<P> => (inputs, axes, params) => {
  if (size === 0) {
    throw new ValueError(`vmap: ${rules.name} has no batching rule, so it runs once per example, and the batch has none. Give it a batch rule or at least one example.`)
  }
  const examples = inputs.map((x, i) => (axes[i] === null ? null : unstack(moveAxis(x, axes[i]!, 0))))
  const apply = rules.apply ?? ((xs: readonly Tensor[], p: P) => rules.evaluate(xs, p).outs)
  const outs = Array.from({ length: size }, (_, k) => apply(inputs.map((x, i) => examples[i]?.[k] ?? x), params))
  return { outs: outs[0].map((_, j) => stack(outs.map((o) => o[j]), 0)), axes: outs[0].map(() => 0) }
}

/** Batching: the primitive's rule maps the batched inputs (one level down, with their axes) to batched outputs. */
const batching: TraceKind = {
  name: 'batch',
  process: (trace, inputs, params, rules) => {
    const { size } = trace as BatchTrace
    const axes = inputs.map((x) => batchAxisAt(x, trace))
    const { outs, axes: outAxes } = (rules.batch ?? oneAtATime(rules, size))(lowerAll(inputs, trace), axes, params)
    return outs.map((y, i) => (outAxes[i] === null ? y : new Batched(y, trace as BatchTrace, outAxes[i]!)))
  },
}

/**
 * A batching rule from a composition: `f` (written with primitives) applied to the examples of
 * `inputs`, each batched along `axes[i]` (null: shared), under a batching trace of its own. What a
 * primitive that stands for a composition (a kernel over a scan) falls back to when its own
 * layout cannot hold the batch.
 */
export const batchComposition = (f: (inputs: Tensor[]) => readonly Tensor[], inputs: readonly Tensor[], axes: readonly (number | null)[]): Batch => {
  const at = axes.findIndex((a) => a !== null)
  const trace = new BatchTrace(inputs[at].shape[axes[at]!])
  const outs = f(inputs.map((x, i) => (axes[i] === null ? x : new Batched(x, trace, axes[i]!))))
  return { outs: outs.map((y) => lower(y, trace)), axes: outs.map((y) => batchAxisAt(y, trace)) }
}
