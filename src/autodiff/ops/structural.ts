/**
 * @file Structural primitives: reshape, broadcastTo, transpose, slice/pad, concat, stack, take,
 * oneHot, stopGradient. They move values without arithmetic; each VJP moves the cotangent back,
 * and each tangent rule, the operation being linear, moves the tangent forward the same way.
 */
import { ShapeError, ValueError, showShape } from '../../errors.js'
import { K } from '../../tensor/backend.js'
import { type DType, Tensor, allocate, expectTensor } from '../../tensor/Tensor.js'
import {
  type Shape, broadcastShapes, broadcastStrides, normalizeAxis, shapesEqual, sizeOf, stridesOf,
} from '../../tensor/shape.js'
import { type Primitive, defineMultiPrimitive, definePrimitive } from '../primitive.js'
import { concrete, topTrace } from '../trace.js'

/** `gather` through a strided view, without materialising the index map where the backend can. */
const stridedGather = (x: Tensor, shape: Shape, strides: readonly number[], offset = 0): Tensor =>
  new Tensor(K.gatherStrided(x.data, shape, strides, offset), shape)

// ---- batch axes (for the batching rules of vmap) ----

/** x with axis `from` moved to position `to`, the other axes in order (NumPy's moveaxis). Internal. */
export const moveAxis = (x: Tensor, from: number, to: number): Tensor => {
  if (from === to) return x
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from)
  perm.splice(to, 0, from)
  return transpose(x, perm)
}

/** A batched input with its examples along axis 0 (as it is when not batched). Internal: for batching rules. */
export const batchFirst = (x: Tensor, axis: number | null): Tensor => (axis === null ? x : moveAxis(x, axis, 0))

/** An input with `size` examples along axis 0: its own, or itself repeated when every example shares it. Internal. */
export const batchedFirst = (x: Tensor, axis: number | null, size: number): Tensor =>
  axis === null ? broadcastTo(expandDims(x, 0), [size, ...x.shape]) : moveAxis(x, axis, 0)

/** The number of examples of a batching rule's inputs (some input is batched, or the rule would not run). Internal. */
export const batchSize = (inputs: readonly Tensor[], axes: readonly (number | null)[]): number => {
  const i = axes.findIndex((a) => a !== null)
  return inputs[i].shape[axes[i]!]
}

// ---- reshape ----

const reshapePrimitive = definePrimitive<Shape>({
  name: 'reshape',
  forward: ([x], shape) => new Tensor(x.data, shape), // shares the buffer: tensors are immutable
  vjp: (g, { inputs: [x] }) => [reshape(g, x.shape)],
  jvp: ([t], { params: shape }) => (t === null ? null : reshape(t, shape)),
  batch: ([x], [axis], shape) => ({ out: reshape(batchFirst(x, axis), [x.shape[axis!], ...shape]), axis: 0 }),
})

/**
 * The same values in a new shape with the same number of elements; one entry may be −1 (inferred).
 * @example
 * ```ts
 * reshape(arange(6), [2, -1]).toArray() // [[0, 1, 2], [3, 4, 5]]
 * ```
 * @category tensors
 */
export const reshape = (x: Tensor, shape: Shape): Tensor => {
  expectTensor('reshape', 'x', x)
  const unknown = Array.isArray(shape) ? shape.indexOf(-1) : -1
  if (!Array.isArray(shape) || !shape.every((d, i) => i === unknown || (Number.isInteger(d) && d >= 0))) {
    throw new ShapeError(`reshape: the new shape must be non-negative integers with at most one -1, got ${JSON.stringify(shape)}.`)
  }
  const inferred = [...shape]
  if (unknown !== -1) {
    const known = sizeOf(inferred.filter((_, i) => i !== unknown))
    inferred[unknown] = known === 0 ? 0 : x.size / known
  }
  if (!Number.isInteger(inferred[unknown] ?? 0) || sizeOf(inferred) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${showShape(x.shape)} (${x.size} elements) into ${showShape(shape)}.`)
  }
  return shapesEqual(inferred, x.shape) ? x : reshapePrimitive([x], inferred)
}

/**
 * Inserts an axis of length 1 at `axis`.
 * @example
 * ```ts
 * expandDims(tensor([1, 2]), 0).shape  // [1, 2]
 * expandDims(tensor([1, 2]), -1).shape // [2, 1]
 * ```
 * @category tensors
 */
export const expandDims = (x: Tensor, axis: number): Tensor => {
  expectTensor('expandDims', 'x', x)
  const a = normalizeAxis('expandDims', axis, x.rank + 1)
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])
}

/**
 * Removes axes of length 1 (all of them, or those named).
 * @example
 * ```ts
 * squeeze(zeros([1, 3, 1])).shape    // [3]
 * squeeze(zeros([1, 3, 1]), 2).shape // [1, 3]
 * ```
 * @category tensors
 */
export const squeeze = (x: Tensor, axis?: number | readonly number[]): Tensor => {
  expectTensor('squeeze', 'x', x)
  const axes = axis === undefined
    ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
    : (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis('squeeze', a, x.rank))
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${showShape(x.shape)} has length ${x.shape[a]}, not 1.`)
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)))
}

// ---- broadcastTo ----

const broadcastToPrimitive = definePrimitive<Shape>({
  name: 'broadcastTo',
  forward: ([x], shape) => stridedGather(x, shape, broadcastStrides(x.shape, shape)),
  // The cotangent stays in the output shape; the backward pass sums it down to x's shape.
  vjp: (g) => [g],
  // Likewise the tangent stays in x's shape; forward mode broadcasts it to the output's.
  jvp: ([t]) => t,
  // The example's axes are aligned from the right, as broadcasting aligns them, behind the batch.
  batch: ([x], [axis], shape) => {
    const first = batchFirst(x, axis)
    const n = first.shape[0]
    const aligned = reshape(first, [n, ...new Array<number>(shape.length - x.rank + 1).fill(1), ...first.shape.slice(1)])
    return { out: broadcastTo(aligned, [n, ...shape]), axis: 0 }
  },
})

/**
 * Repeats x along broadcast axes to reach `shape` (NumPy rules).
 * @example
 * ```ts
 * broadcastTo(tensor([1, 2]), [2, 2]).toArray() // [[1, 2], [1, 2]]
 * ```
 * @category tensors
 */
export const broadcastTo = (x: Tensor, shape: Shape): Tensor => {
  expectTensor('broadcastTo', 'x', x)
  const target = broadcastShapes('broadcastTo', x.shape, shape)
  if (!shapesEqual(target, shape)) {
    throw new ShapeError(`broadcastTo: ${showShape(x.shape)} cannot be broadcast to ${showShape(shape)}.`)
  }
  return shapesEqual(x.shape, shape) ? x : broadcastToPrimitive([x], shape)
}

// ---- transpose ----

const transposePrimitive = definePrimitive<readonly number[]>({
  name: 'transpose',
  forward: ([x], perm) => {
    const strides = stridesOf(x.shape)
    return stridedGather(x, perm.map((p) => x.shape[p]), perm.map((p) => strides[p]))
  },
  vjp: (g, { params: perm }) => {
    const inverse = new Array<number>(perm.length)
    perm.forEach((p, i) => { inverse[p] = i })
    return [transpose(g, inverse)]
  },
  jvp: ([t], { params: perm }) => (t === null ? null : transpose(t, perm)),
  batch: ([x], [axis], perm) => ({ out: transpose(batchFirst(x, axis), [0, ...perm.map((p) => p + 1)]), axis: 0 }),
})

/**
 * Permutes axes: output axis i is input axis `perm[i]`. Without `perm`, reverses the axes.
 * @example
 * ```ts
 * transpose(tensor([[1, 2, 3], [4, 5, 6]])).toArray() // [[1, 4], [2, 5], [3, 6]]
 * transpose(zeros([2, 3, 4]), [1, 0, 2]).shape       // [3, 2, 4]: [batch, time, …] ↔ [time, batch, …]
 * ```
 * @category tensors
 */
export const transpose = (x: Tensor, perm?: readonly number[]): Tensor => {
  expectTensor('transpose', 'x', x)
  const p = perm === undefined ? x.shape.map((_, i) => x.rank - 1 - i) : perm.map((a) => normalizeAxis('transpose', a, x.rank))
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new ShapeError(`transpose: perm ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${showShape(x.shape)}.`)
  }
  return p.every((a, i) => a === i) ? x : transposePrimitive([x], p)
}

// ---- slice and its adjoint, pad ----

type Ranges = readonly (readonly [number, number])[]

const sliceView = (shape: Shape, ranges: Ranges): { outShape: number[]; strides: number[]; offset: number } => {
  const strides = stridesOf(shape)
  const outShape = shape.map((d, i) => (i < ranges.length ? ranges[i][1] - ranges[i][0] : d))
  const offset = ranges.reduce((o, [start], i) => o + start * strides[i], 0)
  return { outShape, strides, offset }
}

const slicePrimitive = definePrimitive<Ranges>({
  name: 'slice',
  forward: ([x], ranges) => {
    const { outShape, strides, offset } = sliceView(x.shape, ranges)
    return stridedGather(x, outShape, strides, offset)
  },
  vjp: (g, { inputs: [x], params: ranges }) => [padTo(g, x.shape, ranges)],
  jvp: ([t], { params: ranges }) => (t === null ? null : slice(t, ranges)),
  batch: ([x], [axis], ranges) => ({ out: slice(batchFirst(x, axis), [[0, x.shape[axis!]], ...ranges]), axis: 0 }),
})

const padPrimitive = definePrimitive<{ shape: Shape; ranges: Ranges }>({
  name: 'pad',
  forward: ([x], { shape, ranges }) => {
    const { outShape, strides, offset } = sliceView(shape, ranges)
    return new Tensor(K.scatterStrided(x.data, outShape, strides, offset, sizeOf(shape)), shape)
  },
  vjp: (g, { params: { ranges } }) => [slicePrimitive([g], ranges)],
  jvp: ([t], { params: { shape, ranges } }) => (t === null ? null : padTo(t, shape, ranges)),
  batch: ([x], [axis], { shape, ranges }) => {
    const n = x.shape[axis!]
    return { out: padTo(batchFirst(x, axis), [n, ...shape], [[0, n], ...ranges]), axis: 0 }
  },
})

/** Places x at `ranges` inside zeros of `shape`: the adjoint of slice. */
const padTo = (x: Tensor, shape: Shape, ranges: Ranges): Tensor => padPrimitive([x], { shape, ranges })

/**
 * Takes `[start, end)` along each leading axis (one pair per axis; later axes are kept whole).
 * Negative bounds count from the end, as in Python.
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
 * slice(x, [[0, 2], [1, 3]]).toArray() // [[2, 3], [5, 6]]: rows 0–1, columns 1–2
 * slice(x, [[-1, 3]]).toArray()        // [[7, 8, 9]]: the last row, every column
 * ```
 * @category tensors
 */
export const slice = (x: Tensor, ranges: readonly (readonly [number, number])[]): Tensor => {
  expectTensor('slice', 'x', x)
  if (ranges.length > x.rank) {
    throw new ShapeError(`slice: ${ranges.length} ranges given for a tensor of rank ${x.rank} (${showShape(x.shape)}).`)
  }
  const resolved = ranges.map(([start, end], axis) => {
    const d = x.shape[axis]
    const s = start < 0 ? start + d : start
    const e = end < 0 ? end + d : end
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > d || s > e) {
      throw new ShapeError(`slice: range [${start}, ${end}) is out of bounds for axis ${axis} of length ${d} (shape ${showShape(x.shape)}).`)
    }
    return [s, e] as const
  })
  if (resolved.every(([s, e], axis) => s === 0 && e === x.shape[axis])) return x
  return slicePrimitive([x], resolved)
}

// ---- concat and stack ----

const concatPrimitive = definePrimitive<number>({
  name: 'concat',
  forward: (xs, axis) => {
    const shape = [...xs[0].shape]
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0)
    // Viewed as [outer, axis, inner], each input is `outer` contiguous blocks of its own length.
    const inner = sizeOf(shape.slice(axis + 1))
    const outer = sizeOf(shape.slice(0, axis))
    const widths = xs.map((x) => x.shape[axis] * inner)
    return new Tensor(K.concatRows(xs.map((x) => x.data), widths, outer), shape)
  },
  vjp: (g, { inputs, params: axis }) => {
    let start = 0
    return inputs.map((x) => {
      const ranges = g.shape.slice(0, axis + 1).map((d, i) => (i === axis ? [start, start + x.shape[axis]] as const : [0, d] as const))
      start += x.shape[axis]
      return slice(g, ranges)
    })
  },
  jvp: (tangents, { inputs, params: axis }) => concat(tangents.map((t, i) => t ?? zerosLike(inputs[i])), axis),
  batch: (xs, axes, axis) => {
    const n = batchSize(xs, axes)
    return { out: concat(xs.map((x, i) => batchedFirst(x, axes[i], n)), axis + 1), axis: 0 }
  },
})

const checkSameDType = (op: string, xs: readonly Tensor[]): void => {
  const first = xs[0].dtype
  const other = xs.findIndex((x) => x.dtype !== first)
  if (other !== -1) throw new ValueError(`${op}: all tensors must share a dtype; xs[0] is ${first}, xs[${other}] is ${xs[other].dtype}.`)
}

/**
 * Joins tensors along an existing axis; other axes must match.
 * @example
 * ```ts
 * concat([tensor([[1], [2]]), tensor([[3], [4]])], 1).toArray() // [[1, 3], [2, 4]]
 * concat([zeros([2, 3]), zeros([1, 3])]).shape                  // [3, 3]
 * ```
 * @category tensors
 */
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new ValueError('concat: needs a non-empty array of tensors.')
  xs.forEach((x, i) => expectTensor('concat', `xs[${i}]`, x))
  const a = normalizeAxis('concat', axis, xs[0].rank)
  xs.forEach((x, i) => {
    if (x.rank !== xs[0].rank || x.shape.some((d, j) => j !== a && d !== xs[0].shape[j])) {
      throw new ShapeError(
        `concat: xs[${i}] has shape ${showShape(x.shape)} but xs[0] has ${showShape(xs[0].shape)}; only axis ${a} may differ.`,
      )
    }
  })
  checkSameDType('concat', xs)
  return xs.length === 1 ? xs[0] : concatPrimitive(xs, a)
}

/**
 * Joins same-shaped tensors along a new axis.
 * @example
 * ```ts
 * stack([tensor([1, 2]), tensor([3, 4])]).toArray()    // [[1, 2], [3, 4]]
 * stack([tensor([1, 2]), tensor([3, 4])], 1).toArray() // [[1, 3], [2, 4]]
 * ```
 * @category tensors
 */
export const stack = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new ValueError('stack: needs a non-empty array of tensors.')
  xs.forEach((x, i) => {
    expectTensor('stack', `xs[${i}]`, x)
    if (!shapesEqual(x.shape, xs[0].shape)) {
      throw new ShapeError(`stack: xs[${i}] has shape ${showShape(x.shape)} but xs[0] has ${showShape(xs[0].shape)}; all must match.`)
    }
  })
  const a = normalizeAxis('stack', axis, xs[0].rank + 1)
  checkSameDType('stack', xs)
  // Along axis 0 (time steps) one node suffices, its VJP one unstack: no reshape per input.
  if (a === 0 && xs.length > 1) return stackPrimitive(xs, undefined)
  return concat(xs.map((x) => expandDims(x, a)), a)
}

const stackPrimitive = definePrimitive<undefined>({
  name: 'stack',
  forward: (xs) => {
    const n = xs[0].size
    const data = allocate(xs[0].dtype, n * xs.length)
    for (let t = 0; t < xs.length; t++) data.set(xs[t].data, t * n)
    return new Tensor(data, [xs.length, ...xs[0].shape])
  },
  vjp: (g) => unstack(g),
  jvp: (tangents, { inputs }) => stack(tangents.map((t, i) => t ?? zerosLike(inputs[i])), 0),
  // Stacked in front of the batch, which then is axis 1: no copy moves it.
  batch: (xs, axes) => {
    const n = batchSize(xs, axes)
    return { out: stack(xs.map((x, i) => batchedFirst(x, axes[i], n)), 0), axis: 1 }
  },
})

// ---- take (gather) and its adjoint ----

interface TakeParams {
  readonly indices: Int32Array
  readonly indexShape: Shape
  readonly axis: number
  readonly axisLength: number
}

/** Flat map for x[..., indices[j], ...] along `axis`, as [outer, indices, inner] blocks. */
const takeIndex = (shape: Shape, { indices, axis }: TakeParams): Int32Array => {
  const outer = sizeOf(shape.slice(0, axis))
  const inner = sizeOf(shape.slice(axis + 1))
  const n = indices.length
  const index = new Int32Array(outer * n * inner)
  let o = 0
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < n; j++) {
      const base = (b * shape[axis] + indices[j]) * inner
      for (let i = 0; i < inner; i++) index[o++] = base + i
    }
  }
  return index
}

const takeShape = (shape: Shape, p: TakeParams): number[] => [...shape.slice(0, p.axis), ...p.indexShape, ...shape.slice(p.axis + 1)]

const takePrimitive: Primitive<TakeParams> = definePrimitive<TakeParams>({
  name: 'take',
  forward: ([x], p) => new Tensor(K.gather(x.data, takeIndex(x.shape, p)), takeShape(x.shape, p)),
  vjp: (g, { inputs: [x], params }) => [takeAdjoint([g], { ...params, shape: x.shape })],
  jvp: ([t], { params }) => (t === null ? null : takePrimitive([t], params)),
  batch: ([x], [axis], p) => ({ out: takePrimitive([batchFirst(x, axis)], { ...p, axis: p.axis + 1 }), axis: 0 }),
})

const takeAdjoint: Primitive<TakeParams & { shape: Shape }> = definePrimitive<TakeParams & { shape: Shape }>({
  name: 'takeAdjoint',
  forward: ([g], p) => new Tensor(K.scatterAdd(g.data, takeIndex(p.shape, p), sizeOf(p.shape)), p.shape),
  vjp: (g, { params }) => [takePrimitive([g], params)],
  jvp: ([t], { params }) => (t === null ? null : takeAdjoint([t], params)),
  batch: ([g], [axis], p) => {
    const first = batchFirst(g, axis)
    return { out: takeAdjoint([first], { ...p, axis: p.axis + 1, shape: [first.shape[0], ...p.shape] }), axis: 0 }
  },
})

/**
 * Gathers slices along `axis` at integer `indices` (a tensor or array of any shape, values in
 * `[−n, n)`); the output shape replaces that axis by the indices' shape. Repeated indices add up
 * in the gradient.
 * @example
 * ```ts
 * const embeddings = tensor([[0, 0], [1, 1], [2, 2]])       // [vocab, dim] = [3, 2]
 * take(embeddings, [2, 0]).toArray()                        // [[2, 2], [0, 0]]
 * take(embeddings, tensor([[1, 2, 0], [0, 0, 1]])).shape    // [2, 3, 2]: [batch, time] tokens → [batch, time, dim]
 * ```
 * @category tensors
 */
export const take = (x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor => {
  expectTensor('take', 'x', x)
  const a = normalizeAxis('take', axis, x.rank)
  const values = indices instanceof Tensor ? concrete(indices) : indices
  // Indices that differ between the examples of a vmap are known one level down only: an input.
  if (values instanceof Tensor && topTrace([values]) !== null) return takeAt([x, values], a)
  return takePrimitive([x], takeParams(x.shape, values, a))
}

/** The checked, non-negative indices of `take` along `axis` of a tensor of `shape`. */
const takeParams = (shape: Shape, indices: Tensor | readonly number[], axis: number): TakeParams => {
  const n = shape[axis]
  const raw = indices instanceof Tensor ? indices.data : indices
  const flat = new Int32Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]
    if (!Number.isInteger(v) || v < -n || v >= n) {
      throw new ValueError(`take: indices must be integers in [${-n}, ${n}) for axis ${axis} of ${showShape(shape)}; found ${v} at position ${i}.`)
    }
    flat[i] = v < 0 ? v + n : v
  }
  return { indices: flat, indexShape: indices instanceof Tensor ? indices.shape : [indices.length], axis, axisLength: n }
}

// ---- take with indices that differ between the examples of a vmap ----

/**
 * take along `axis` with the indices an input instead of a parameter: for indices batched by vmap.
 * When the tables differ too, example i's rows are found in the tables stacked, at i·size + index.
 */
const takeAt: Primitive<number> = definePrimitive<number>({
  name: 'takeAt',
  forward: ([x, indices], axis) => takePrimitive([x], takeParams(x.shape, indices, axis)),
  vjp: (g, { inputs: [x, indices], params: axis }) => [takeAtAdjoint([g, indices], { axis, shape: x.shape }), null],
  jvp: ([t], { inputs: [, indices], params: axis }) => (t === null ? null : takeAt([t, indices], axis)),
  batch: ([x, indices], [xAxis, indexAxis], axis) => {
    if (indexAxis === null) return { out: take(batchFirst(x, xAxis), indices, axis + 1), axis: 0 }
    // One table: the indices' batch axis lands where theirs go, at `axis`.
    if (xAxis === null) return { out: take(x, indices, axis), axis: axis + indexAxis }
    const tables = moveAxis(batchFirst(x, xAxis), axis + 1, 1)
    const [n, size] = tables.shape
    const rows = stackedRows([batchFirst(indices, indexAxis)], size)
    const picked = take(reshape(tables, [n * size, ...tables.shape.slice(2)]), rows, 0)
    return { out: transpose(picked, indexAxesAt(indices.rank - 1, axis, picked.rank)), axis: 0 }
  },
})

const takeAtAdjoint: Primitive<{ axis: number; shape: Shape }> = definePrimitive<{ axis: number; shape: Shape }>({
  name: 'takeAtAdjoint',
  forward: ([g, indices], { axis, shape }) => takeAdjoint([g], { ...takeParams(shape, indices, axis), shape }),
  vjp: (c, { inputs: [, indices], params: { axis } }) => [takeAt([c, indices], axis), null],
  jvp: ([t], { inputs: [, indices], params }) => (t === null ? null : takeAtAdjoint([t, indices], params)),
  batch: ([g, indices], [gAxis, indexAxis], { axis, shape }) => {
    if (indexAxis === null) {
      const first = batchFirst(g, gAxis)
      return { out: takeAtAdjoint([first, indices], { axis: axis + 1, shape: [first.shape[0], ...shape] }), axis: 0 }
    }
    // Each example adds into its own table: the tables stacked, the rows as in takeAt.
    const n = batchSize([g, indices], [gAxis, indexAxis])
    const first = batchedFirst(g, gAxis, n)
    const grouped = transpose(first, inversePermutation(indexAxesAt(indices.rank - 1, axis, first.rank)))
    const size = shape[axis]
    const rest = [...shape.slice(0, axis), ...shape.slice(axis + 1)]
    const summed = takeAtAdjoint([grouped, stackedRows([batchFirst(indices, indexAxis)], size)], { axis: 0, shape: [n * size, ...rest] })
    return { out: moveAxis(reshape(summed, [n, size, ...rest]), 1, axis + 1), axis: 0 }
  },
})

/**
 * The permutation of `[batch, ...index axes (count), ...table axes]` that puts the index axes
 * after the first `axis` table axes, where `take` puts them.
 */
const indexAxesAt = (count: number, axis: number, rank: number): number[] => {
  const table = Array.from({ length: rank - 1 - count }, (_, i) => i + 1 + count)
  const index = Array.from({ length: count }, (_, i) => i + 1)
  return [0, ...table.slice(0, axis), ...index, ...table.slice(axis)]
}

const inversePermutation = (perm: readonly number[]): number[] => {
  const inverse = new Array<number>(perm.length)
  perm.forEach((p, i) => { inverse[p] = i })
  return inverse
}

/**
 * Example i's indices into a table of `size` rows (axis 0 runs over the examples), as rows of the
 * examples' tables stacked: i·size + index, a negative index counting from the end. In float64,
 * so rows stay exact past float32's 2²⁴; checked here, as a stray index would read another example's row.
 */
const stackedRows: Primitive<number> = definePrimitive<number>({
  name: 'stackedRows',
  forward: ([indices], size) => {
    const perExample = indices.size / Math.max(indices.shape[0], 1)
    const rows = new Float64Array(indices.size)
    indices.data.forEach((v, j) => {
      if (!Number.isInteger(v) || v < -size || v >= size) throw new ValueError(`take: indices must be integers in [${-size}, ${size}); found ${v}.`)
      rows[j] = Math.floor(j / perExample) * size + (v < 0 ? v + size : v)
    })
    return new Tensor(rows, indices.shape)
  },
  vjp: () => [null],
  // No derivative: the output is made of indices or flags, so its tangent is zero.
  jvp: () => null,
  // Under an outer vmap, this one's examples must stay on axis 0.
  batch: ([indices], [axis], size) =>
    axis === 0 ? { out: stackedRows([moveAxis(indices, 0, 1)], size), axis: 1 } : { out: stackedRows([indices], size), axis },
})

/**
 * One-hot encoding: integer class indices of any shape → `[...shape, n]` of 0/1 (no gradient).
 * @example
 * ```ts
 * oneHot([2, 0], 3).toArray() // [[0, 0, 1], [1, 0, 0]]
 * ```
 * @category tensors
 */
export const oneHot = (indices: Tensor | readonly number[], n: number, options: { dtype?: 'float32' | 'float64' } = {}): Tensor => {
  if (!Number.isInteger(n) || n <= 0) throw new ValueError(`oneHot: n must be a positive integer, got ${n}.`)
  const values = indices instanceof Tensor ? concrete(indices) : indices
  if (values instanceof Tensor && topTrace([values]) !== null) return oneHotPrimitive([values], { n, dtype: options.dtype ?? values.dtype })
  const raw = values instanceof Tensor ? values.data : values
  const shape = indices instanceof Tensor ? indices.shape : [indices.length]
  const data = allocate(options.dtype ?? (indices instanceof Tensor ? indices.dtype : 'float64'), raw.length * n)
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new ValueError(`oneHot: indices must be integers in [0, ${n}); found ${v} at position ${i}.`)
    }
    data[i * n + v] = 1
  }
  return new Tensor(data, [...shape, n])
}

/** oneHot of indices batched by vmap (their values are known one level down): the classes axis goes last, the batch stays. */
const oneHotPrimitive: Primitive<{ n: number; dtype: DType }> = definePrimitive<{ n: number; dtype: DType }>({
  name: 'oneHot',
  forward: ([indices], { n, dtype }) => oneHot(indices, n, { dtype }),
  vjp: () => [null],
  // No derivative: the output is made of indices or flags, so its tangent is zero.
  jvp: () => null,
  batch: ([indices], [axis], { n, dtype }) => ({ out: oneHot(indices, n, { dtype }), axis }),
})

/**
 * The same values with no gradient through any differentiation level (JAX's stop_gradient).
 * @example
 * ```ts
 * // d/dx (x · stop(x)) is stop(x): the second factor counts as a constant
 * grad((x: Tensor) => sum(mul(x, stopGradient(x))))(tensor([3])).toArray() // [3]
 * ```
 * @category transforms
 */
export const stopGradient = (x: Tensor): Tensor => concrete(expectTensor('stopGradient', 'x', x))

// ---- unstack ----

const unstackPrimitive = defineMultiPrimitive<undefined>({
  name: 'unstack',
  forward: ([x]) => {
    const inner = x.shape.slice(1)
    const n = sizeOf(inner)
    return Array.from({ length: x.shape[0] }, (_, t) => new Tensor(x.data.slice(t * n, (t + 1) * n), inner))
  },
  // Steps that received no cotangent contribute zeros, so one stack rebuilds the whole gradient.
  vjp: (cts, { outs }) => [stack(cts.map((g, t) => g ?? zerosLike(outs[t])), 0)],
  jvp: ([t]) => (t === null ? [] : unstack(t)),
  // The example's axis 0 is the batched array's axis 1 when the batch is in front.
  batch: ([x], [axis]) => {
    const outs = unstack(axis === 0 ? moveAxis(x, 0, 1) : x)
    return { outs, axes: outs.map(() => (axis === 0 ? 0 : axis! - 1)) }
  },
})

const zerosLike = (x: Tensor): Tensor => new Tensor(allocate(x.dtype, x.size), x.shape)

/**
 * Splits x along axis 0 into `x.shape[0]` tensors: one tape node for all of them, so taking every
 * time step of a sequence costs O(length) in the backward pass rather than O(length²).
 * @example
 * ```ts
 * const [first, second] = unstack(tensor([[1, 2, 3], [4, 5, 6]]))
 * first.toArray()  // [1, 2, 3]
 * second.toArray() // [4, 5, 6]
 * ```
 * @category tensors
 */
export const unstack = (x: Tensor): Tensor[] => {
  expectTensor('unstack', 'x', x)
  if (x.rank === 0) throw new ShapeError('unstack: needs at least one axis, got a scalar (shape []).')
  return unstackPrimitive([x], undefined)
}
