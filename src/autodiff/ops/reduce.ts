/**
 * @file Reductions: sum and max are primitives; mean, logSumExp, softmax and logSoftmax are
 * composites of them (so they need no VJP of their own), written in their numerically stable forms.
 */
import { ValueError } from '../../errors.js'
import { K } from '../../tensor/backend.js'
import { Tensor, expectTensor } from '../../tensor/Tensor.js'
import { stridedIndex } from '../../tensor/indexing.js'
import { type Shape, normalizeAxes, normalizeAxis, sizeOf, stridesOf } from '../../tensor/shape.js'
import { type Primitive, definePrimitive } from '../primitive.js'
import { concrete, topTrace } from '../trace.js'
import { add, div, equal, exp, log, mul, sub, where } from './elementwise.js'
import { batchFirst, broadcastTo, reshape } from './structural.js'

/** Options of the reductions. @category tensors */
export interface ReduceOptions {
  /** Keep reduced axes with length 1 (default false). */
  readonly keepDims?: boolean
}

/** The axis or axes to reduce; negative ones count from the end. @category tensors */
export type Axis = number | readonly number[]

interface ReduceParams {
  readonly axes: readonly number[]
  readonly keepDims: boolean
}

/** The batching rule of a reduction over `axes`: the batch in front, the axes shifted behind it. */
const reductionBatch = (prim: Primitive<ReduceParams>) => ([x]: readonly Tensor[], [axis]: readonly (number | null)[], p: ReduceParams) =>
  ({ out: prim([batchFirst(x, axis)], { axes: p.axes.map((a) => a + 1), keepDims: p.keepDims }), axis: 0 })

const keptShape = (shape: Shape, axes: readonly number[]): number[] => shape.map((d, i) => (axes.includes(i) ? 1 : d))

const outShape = (shape: Shape, { axes, keepDims }: ReduceParams): number[] =>
  keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i))

/** For every input element, the flat index of the output element it reduces into. */
const reduceIndex = (shape: Shape, axes: readonly number[]): Int32Array => {
  const strides = stridesOf(keptShape(shape, axes))
  return stridedIndex(shape, strides.map((s, i) => (axes.includes(i) ? 0 : s)))
}

/** The output cotangent, spread back over the input's shape. */
const spread = (g: Tensor, x: Tensor, axes: readonly number[]): Tensor => broadcastTo(reshape(g, keptShape(x.shape, axes)), x.shape)

/** The number of leading axes when `axes` is exactly 0, 1, …, r − 1 (r ≥ 1); else 0. */
const leadingAxes = (axes: readonly number[]): number => {
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return 0
  return axes.length
}

/** Whether `axes` (sorted) are the last axes.length axes of a rank-`rank` tensor, at least one. */
const trailingAxes = (axes: readonly number[], rank: number): boolean =>
  axes.length > 0 && axes.every((a, i) => a === rank - axes.length + i)

const sumPrimitive: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: 'sum',
  forward: ([x], p) => {
    const shape = outShape(x.shape, p)
    const outSize = sizeOf(shape)
    // Summing leading axes away (a bias gradient) is a column sum: no index map needed.
    if (outSize > 1 && leadingAxes(p.axes) > 0) {
      return new Tensor(K.sumRows(x.data, x.size / outSize, outSize), shape)
    }
    // Summing trailing axes away (over classes, say) is a row sum: no index map either.
    if (outSize > 1 && x.size > 0 && trailingAxes(p.axes, x.rank)) {
      return new Tensor(K.sumColumns(x.data, outSize, x.size / outSize), shape)
    }
    return new Tensor(K.sumInto(x.data, reduceIndex(x.shape, p.axes), outSize), shape)
  },
  vjp: (g, { inputs: [x], params: { axes } }) => [spread(g, x, axes)],
  jvp: ([t], { params }) => (t === null ? null : sumPrimitive([t], params)),
  batch: (inputs, axes, p) => reductionBatch(sumPrimitive)(inputs, axes, p),
})

/**
 * Each element's share of the maximum of its slice: 1/k at the k tied maxima, 0 elsewhere. Ties
 * share equally, so the derivative is the same whichever tied element is "the" max.
 */
const maxShare = (x: Tensor, out: Tensor, axes: readonly number[]): Tensor => {
  const mask = equal(x, spread(concrete(out), x, axes))
  return div(mask, spread(sumPrimitive([mask], { axes, keepDims: true }), x, axes))
}

const maxPrimitive: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: 'max',
  forward: ([x], p) => {
    const shape = outShape(x.shape, p)
    const outSize = sizeOf(shape)
    if (outSize > 1 && x.size > 0 && trailingAxes(p.axes, x.rank)) {
      return new Tensor(K.maxColumns(x.data, outSize, x.size / outSize), shape)
    }
    return new Tensor(K.maxInto(x.data, reduceIndex(x.shape, p.axes), outSize), shape)
  },
  vjp: (g, { inputs: [x], out, params: { axes } }) => [mul(spread(g, x, axes), maxShare(x, out, axes))],
  jvp: ([t], { inputs: [x], out, params }) => (t === null ? null : sumPrimitive([mul(t, maxShare(x, out, params.axes))], params)),
  batch: (inputs, axes, p) => reductionBatch(maxPrimitive)(inputs, axes, p),
})

const reduction = (name: string, prim: typeof sumPrimitive) =>
  (x: Tensor, axis?: Axis, options: ReduceOptions = {}): Tensor => {
    expectTensor(name, 'x', x)
    return prim([x], { axes: normalizeAxes(name, axis, x.rank), keepDims: options.keepDims ?? false })
  }

/**
 * Sum over `axis` (one axis, several, or all when omitted).
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]])
 * sum(x).item()                            // 21
 * sum(x, 0).toArray()                      // [5, 7, 9]
 * sum(x, 1, { keepDims: true }).toArray()  // [[6], [15]]: [2, 3] → [2, 1], ready to broadcast against x
 * ```
 * @category tensors
 */
export const sum = reduction('sum', sumPrimitive)

/**
 * Maximum over `axis`; tied maxima share the gradient.
 * @example
 * ```ts
 * max(tensor([[1, 5], [4, 2]]), 0).toArray() // [4, 5]
 * grad((x: Tensor) => max(x))(tensor([3, 1, 3])).toArray() // [0.5, 0, 0.5]
 * ```
 * @category tensors
 */
export const max = reduction('max', maxPrimitive)

/**
 * Mean over `axis` (all axes when omitted).
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]])
 * mean(x).item()          // 3.5
 * mean(x, -1).toArray()   // [2, 5]
 * ```
 * @category tensors
 */
export const mean = (x: Tensor, axis?: Axis, options: ReduceOptions = {}): Tensor => {
  expectTensor('mean', 'x', x)
  const count = normalizeAxes('mean', axis, x.rank).reduce((n, a) => n * x.shape[a], 1)
  return div(sum(x, axis, options), count)
}

/**
 * log Σ exp(x) over `axis`, shifted by the (gradient-free) maximum so that it neither overflows
 * nor underflows at |x| = 1000. The shift cancels exactly, so the gradient is softmax(x).
 * @example
 * ```ts
 * logSumExp(tensor([0, 0])).item()       // 0.6931471805599453 (log 2)
 * logSumExp(tensor([1000, 1000])).item() // 1000.6931471805599, where exp alone would overflow
 * ```
 * @category tensors
 */
export const logSumExp = (x: Tensor, axis?: Axis, options: ReduceOptions = {}): Tensor => {
  expectTensor('logSumExp', 'x', x)
  const axes = normalizeAxes('logSumExp', axis, x.rank)
  const peak = concrete(max(x, axes, { keepDims: true }))
  // An all −∞ slice would give −∞ − (−∞) = NaN; shifting it by 0 instead yields the correct −∞.
  const shift = where(isFinite(peak), peak, 0)
  const lse = add(log(sum(exp(sub(x, shift)), axes, { keepDims: true })), shift)
  return options.keepDims ? lse : reshape(lse, outShape(x.shape, { axes, keepDims: false }))
}

/** 1 where x is finite, else 0 (no gradient; batched when x is, by vmap). */
const isFinite = (x: Tensor): Tensor => {
  const c = concrete(x)
  return topTrace([c]) === null ? finiteOf(c) : batchedIsFinite([c], undefined)
}

const finiteOf = (x: Tensor): Tensor => new Tensor(x.data.map((v) => (Number.isFinite(v) ? 1 : 0)), x.shape)
const batchedIsFinite: Primitive<undefined> = definePrimitive<undefined>({
  name: 'isFinite',
  forward: ([x]) => finiteOf(x),
  vjp: () => [null],
  // No derivative: the output is made of indices or flags, so its tangent is zero.
  jvp: () => null,
  batch: ([x], [axis]) => ({ out: batchedIsFinite([x], undefined), axis }),
})

/**
 * exp(x) / Σ exp(x) along `axis` (default −1), via logSoftmax for stability.
 * @example
 * ```ts
 * softmax(tensor([[0, Math.log(3)], [5, 5]])).toArray() // [[0.25, 0.75], [0.5, 0.5]] up to rounding
 * ```
 * @category tensors
 */
export const softmax = (x: Tensor, axis = -1): Tensor => exp(logSoftmax(x, axis))

/**
 * x − logSumExp(x) along `axis` (default −1).
 * @example
 * ```ts
 * logSoftmax(tensor([0, 0])).toArray() // [-0.6931471805599453, -0.6931471805599453]
 * ```
 * @category tensors
 */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => {
  expectTensor('logSoftmax', 'x', x)
  return sub(x, logSumExp(x, normalizeAxis('logSoftmax', axis, x.rank), { keepDims: true }))
}

/**
 * Index of the (first) maximum along `axis` (default −1), as a float tensor of integers; no gradient.
 * @example
 * ```ts
 * argmax(tensor([[1, 9, 3], [7, 2, 7]])).toArray() // [1, 0]: the first of tied maxima
 * ```
 * @category tensors
 */
export const argmax = (x: Tensor, axis = -1): Tensor => {
  const c = concrete(expectTensor('argmax', 'x', x))
  const a = normalizeAxis('argmax', axis, c.rank)
  if (c.shape[a] === 0) throw new ValueError(`argmax: axis ${a} of the input is empty.`)
  return topTrace([c]) === null ? argmaxOf(c, a) : batchedArgmax([c], a)
}

const argmaxOf = (x: Tensor, axis: number): Tensor => {
  const outer = sizeOf(x.shape.slice(0, axis))
  const inner = sizeOf(x.shape.slice(axis + 1))
  return new Tensor(K.argmax(x.data, outer, x.shape[axis], inner), x.shape.filter((_, i) => i !== axis))
}

/** argmax of a value batched by vmap: no gradient, the batch in front and the axis behind it. */
const batchedArgmax: Primitive<number> = definePrimitive<number>({
  name: 'argmax',
  forward: ([x], axis) => argmaxOf(x, axis),
  vjp: () => [null],
  // No derivative: the output is made of indices or flags, so its tangent is zero.
  jvp: () => null,
  batch: ([x], [batch], axis) => ({ out: argmax(batchFirst(x, batch), axis + 1), axis: 0 }),
})
