/**
 * @file Completing a backend: every optional kernel a backend lacks is filled once, when the backend
 * is installed, by its composition over the backend's other kernels. Call sites then call one
 * kernel and never choose between a kernel and a fallback. Each composition makes the kernel calls
 * the call sites made before kernels were completed, so a backend gives the same bits with or
 * without its own optional kernels. Imports tensor/ only.
 */
import { composedAffine } from './affine.js'
import { stridedIndex } from './indexing.js'
import { jsKernels } from './jsKernels.js'
import type { AdamConstants, AdamStepData, Kernels } from './kernels.js'
import { composedRecurrence } from './recurrence.js'
import { type Data, allocate, dtypeOf } from './Tensor.js'

/** The members of `Kernels` a backend may leave out. */
export type OptionalKernelName = { readonly [P in keyof Kernels]-?: object extends Pick<Kernels, P> ? P : never }[keyof Kernels]

/** The kernels every backend must provide itself. */
export type RequiredKernelName = Exclude<keyof Kernels, OptionalKernelName | 'name'>

/** A backend with every optional kernel filled in: what `K` always is. @category kernels */
export type CompleteKernels = Required<Kernels>

/** `value` in `like`'s dtype, `n` times: a scalar operand spread as the elementwise ops spread it. */
const constant = (like: Data, value: number, n: number): Data => allocate(dtypeOf(like), n).fill(value)

/**
 * Adam on one leaf as the elementwise kernels compute `adamStepComposed` (src/optim/transforms.ts):
 * the same operations in the same order, each constant rounded to the dtype first.
 */
const composedAdam = (k: Kernels, g: Data, m: Data, v: Data, c: AdamConstants): AdamStepData => {
  const n = g.length
  const times = (x: Data, value: number): Data => k.binary('mul', x, null, constant(x, value, n), null, n)
  const mNext = k.binary('add', times(m, c.b1), null, times(g, 1 - c.b1), null, n)
  const vNext = k.binary('add', times(v, c.b2), null, times(k.square(g), 1 - c.b2), null, n)
  const root = k.sqrt(times(vNext, c.correct2))
  const denominator = k.binary('add', root, null, constant(root, c.eps, n), null, n)
  return { update: k.binary('div', times(mNext, c.correct1), null, denominator, null, n), m: mNext, v: vNext }
}

/**
 * Each optional kernel as a composition over a backend `k`: exhaustive by type, so a new optional
 * kernel cannot be added to `Kernels` without saying how a backend that lacks it computes it.
 * Reductions and strided moves go through `k`'s index-map kernels with the maps the call sites
 * built; `concatRows` and `scatterRows` are the JavaScript kernels, which the call sites used.
 */
const COMPOSITIONS: { readonly [P in OptionalKernelName]-?: (k: Kernels) => NonNullable<Kernels[P]> } = {
  affine: (k) => (x, w, bias, m, inner, n) => composedAffine(k, x, w, bias, m, inner, n),
  gatherStrided: (k) => (x, shape, strides, offset) => k.gather(x, stridedIndex(shape, strides, offset)),
  scatterStrided: (k) => (x, shape, strides, offset, outSize) => k.scatterAdd(x, stridedIndex(shape, strides, offset), outSize),
  concatRows: () => jsKernels.concatRows!,
  // Column j of [rows, cols] sums into j, row r into r: the maps reduce.ts builds for these axes.
  sumRows: (k) => (x, rows, cols) => k.sumInto(x, stridedIndex([rows, cols], [0, 1]), cols),
  sumColumns: (k) => (x, rows, cols) => k.sumInto(x, stridedIndex([rows, cols], [1, 0]), rows),
  maxColumns: (k) => (x, rows, cols) => k.maxInto(x, stridedIndex([rows, cols], [1, 0]), rows),
  scatterRows: () => jsKernels.scatterRows!,
  // mul(g, sub(1, square(t))) and mul(g, mul(s, sub(1, s))), as the ops computed them.
  tanhBackward: (k) => (g, t) => {
    const n = g.length
    const oneMinus = k.binary('sub', constant(t, 1, n), null, k.square(t), null, n)
    return k.binary('mul', g, null, oneMinus, null, n)
  },
  sigmoidBackward: (k) => (g, s) => {
    const n = g.length
    const slope = k.binary('mul', s, null, k.binary('sub', constant(s, 1, n), null, s, null, n), null, n)
    return k.binary('mul', g, null, slope, null, n)
  },
  adam: (k) => (g, m, v, c) => composedAdam(k, g, m, v, c),
  // No composition over other kernels is as fast or as exact as the loop: the JavaScript kernels.
  linearRecurrence: () => jsKernels.linearRecurrence!,
  linearRecurrenceBackward: () => jsKernels.linearRecurrenceBackward!,
  fused: () => jsKernels.fused!,
  // The recurrences compose the backend as given.
  recurrentForward: (k) => composedRecurrence(k).recurrentForward,
  recurrentBackward: (k) => composedRecurrence(k).recurrentBackward,
  projectedRecurrentForward: (k) => composedRecurrence(k).projectedRecurrentForward,
  projectedRecurrentFinal: (k) => composedRecurrence(k).projectedRecurrentFinal,
  projectedRecurrentBackward: (k) => composedRecurrence(k).projectedRecurrentBackward,
  lstmForward: (k) => composedRecurrence(k).lstmForward,
  lstmBackward: (k) => composedRecurrence(k).lstmBackward,
  gruForward: (k) => composedRecurrence(k).gruForward,
  gruBackward: (k) => composedRecurrence(k).gruBackward,
}

/** The names of the optional kernels, in `Kernels`' order. */
export const OPTIONAL_KERNELS = Object.keys(COMPOSITIONS) as readonly OptionalKernelName[]

/** Every required kernel, exhaustive by type like `COMPOSITIONS`. */
const REQUIRED: { readonly [P in RequiredKernelName]-?: true } = {
  neg: true, exp: true, log: true, sqrt: true, abs: true, sign: true, square: true, tanh: true, sigmoid: true, softplus: true,
  relu: true, leakyRelu: true, pow: true, cast: true, binary: true, where: true, sumInto: true, maxInto: true, argmax: true,
  gather: true, scatterAdd: true, matmul: true,
}

/** The names of the required kernels, in `Kernels`' order. */
export const REQUIRED_KERNELS = Object.keys(REQUIRED) as readonly RequiredKernelName[]

/**
 * `k`'s kernel `name` as a function that keeps working on the completed copy: a class-based
 * backend keeps its kernels on the prototype, which the copy's spread does not reach, and they
 * may read their instance through `this`.
 */
const own = (k: Kernels, name: keyof Kernels): unknown => {
  const kernel = k[name] as unknown
  return Object.hasOwn(k, name) || typeof kernel !== 'function' ? kernel : kernel.bind(k)
}

/**
 * The backend with every optional kernel it lacks filled by its composition over its other
 * kernels. A backend that already has them all is returned as it is; otherwise the result is a new
 * object with `k`'s own members (its name, and extras such as a threaded backend's `close`) and
 * the completions. Expects a backend that `checkKernels` accepts.
 * @param k a backend, possibly without some optional kernels
 * @returns a backend with every kernel of `Kernels`
 * @example
 * ```ts
 * // jsKernels has no affine kernel of its own: the completion composes it from matmul and binary
 * const complete = completeKernels(jsKernels)
 * const x = new Float64Array([1, 2])       // [1, 2]
 * const w = new Float64Array([1, 0, 0, 1]) // [2, 2], the identity
 * const bias = new Float64Array([10, 20])  // [2]
 * Array.from(complete.affine(x, w, bias, 1, 2, 2)) // [11, 22]
 * ```
 * @category kernels
 */
export const completeKernels = (k: Kernels): CompleteKernels => {
  if (OPTIONAL_KERNELS.every((name) => k[name] !== undefined)) return k as CompleteKernels
  const complete: Record<string, unknown> = { ...k, name: k.name }
  for (const name of REQUIRED_KERNELS) complete[name] = own(k, name)
  for (const name of OPTIONAL_KERNELS) complete[name] = k[name] === undefined ? COMPOSITIONS[name](k) : own(k, name)
  return complete as unknown as CompleteKernels
}
