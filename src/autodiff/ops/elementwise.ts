/**
 * @file Elementwise primitives with NumPy broadcasting: forward kernel and VJP side by side.
 * Binary functions accept a JavaScript number in place of either tensor; it takes the other
 * operand's dtype. Mixed float32/float64 operands are promoted to float64.
 */
import { ShapeError, ValueError, showShape } from '../../errors.js'
import { K } from '../../tensor/backend.js'
import { type DType, type Data, Tensor, expectTensor, repeatRows } from '../../tensor/Tensor.js'
import { full } from '../../tensor/creation.js'
import { stridedIndex } from '../../tensor/indexing.js'
import type { BinaryOp, IndexMap } from '../../tensor/kernels.js'
import { broadcastShapes, broadcastStrides, shapesEqual, sizeOf } from '../../tensor/shape.js'
import { type JvpContext, type Primitive, type VjpContext, definePrimitive } from '../primitive.js'
import { concrete, topTrace } from '../trace.js'
import { batchFirst, reshape } from './structural.js'

/** A tensor, or a number standing for a scalar of the other operand's dtype. @category tensors */
export type Operand = Tensor | number

// ---- helpers ----

const indexFor = (shape: readonly number[], outShape: readonly number[]) =>
  shapesEqual(shape, outShape) ? null : stridedIndex(outShape, broadcastStrides(shape, outShape))

/**
 * True when `shape`, leading 1s dropped, is a suffix of `out`: the operand repeats as whole rows
 * (a scalar, or a bias added to a batch).
 */
const repeatsAsRows = (shape: readonly number[], out: readonly number[]): boolean => {
  let k = 0
  while (k < shape.length && shape[k] === 1) k++
  const n = shape.length - k
  if (n > out.length) return false
  for (let i = 0; i < n; i++) if (shape[k + i] !== out[out.length - n + i]) return false
  return true
}

/**
 * The repeat count when `shape`, trailing 1s dropped, is a prefix of `out` of the same rank: each
 * element repeats over a block of trailing axes (a per-step 0/1 mask times features). 0 otherwise.
 */
const repeatsAsColumns = (shape: readonly number[], out: readonly number[]): number => {
  if (shape.length !== out.length) return 0
  let end = shape.length
  while (end > 0 && shape[end - 1] === 1) end--
  let inner = 1
  for (let i = 0; i < out.length; i++) {
    if (i < end) {
      if (shape[i] !== out[i]) return 0
    } else inner *= out[i]
  }
  return inner
}

/** Each element of `x` repeated `inner` times in a row. */
const repeatColumns = (x: Data, inner: number): Data => {
  const out = x instanceof Float32Array ? new Float32Array(x.length * inner) : new Float64Array(x.length * inner)
  for (let i = 0, o = 0; i < x.length; i++, o += inner) out.fill(x[i], o, o + inner)
  return out
}

/** An operand of a binary operation as a plain array of `size` elements, or with its index map. */
const spreadOperand = (x: Tensor, shape: readonly number[], size: number): [Data, IndexMap] => {
  if (x.size === size && shapesEqual(x.shape, shape)) return [x.data, null]
  if (repeatsAsRows(x.shape, shape)) return [repeatRows(x.data, size), null]
  const inner = repeatsAsColumns(x.shape, shape)
  if (inner > 1 && x.size * inner === size) return [repeatColumns(x.data, inner), null]
  return [x.data, indexFor(x.shape, shape)]
}

const broadcastBinary = (op: BinaryOp, a: Tensor, b: Tensor): Tensor => {
  const shape = shapesEqual(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape)
  const size = sizeOf(shape)
  // Same shape, scalars, repeated rows and repeated columns need no index map: the common cases.
  const [ad, ai] = spreadOperand(a, shape, size)
  const [bd, bi] = spreadOperand(b, shape, size)
  return new Tensor(K.binary(op, ad, ai, bd, bi, size), shape)
}

/** Converts numbers and unifies dtypes so that a kernel sees two arrays of one dtype. */
const operands = (op: string, a: Operand, b: Operand): [Tensor, Tensor] => {
  if (typeof a === 'number' && typeof b === 'number') return [full([], a), full([], b)]
  if (typeof a === 'number') return [full([], a, { dtype: expectTensor(op, 'b', b).dtype }), b as Tensor]
  if (typeof b === 'number') return [a, full([], b, { dtype: expectTensor(op, 'a', a).dtype })]
  expectTensor(op, 'a', a)
  expectTensor(op, 'b', b)
  if (a.dtype === b.dtype) return [a, b]
  return [cast(a, 'float64'), cast(b, 'float64')]
}

/**
 * The sum of the terms that are not null (zero tangents), or null when all of them are.
 * Internal: tangent rules add their inputs' contributions with it.
 */
export const tangentSum = (...terms: readonly (Tensor | null)[]): Tensor | null =>
  terms.reduce<Tensor | null>((total, t) => (t === null ? total : total === null ? t : add(total, t)), null)

type Vjp<P> = (g: Tensor, context: VjpContext<P>) => readonly (Tensor | null)[]

/**
 * The tangent rule of an elementwise primitive, from its VJP. Each output element depends only on
 * the same (broadcast) element of each input, so each input's Jacobian is diagonal, hence its own
 * transpose: J_i·t_i is the VJP's cotangent for input i with t_i in place of g (in the output's
 * shape, since VJPs leave the reduction of broadcast axes to the backward pass).
 */
const elementwiseJvp = <P>(vjp: Vjp<P>) => (tangents: readonly (Tensor | null)[], context: JvpContext<P>): Tensor | null =>
  tangentSum(...tangents.map((t, i) => (t === null ? null : vjp(t, { ...context, needed: tangents.map((_, j) => j === i) })[i] ?? null)))

/**
 * The batching rule of an elementwise primitive, applied by `apply`: one operand keeps its batch
 * axis where it is; otherwise each batched operand gets its batch in front and, after it, axes of
 * length 1 up to the widest example's rank, so that the examples broadcast against each other
 * (and against unbatched operands) as they would one at a time.
 */
const elementwiseBatch = (inputs: readonly Tensor[], axes: readonly (number | null)[], apply: (xs: Tensor[]) => Tensor) => {
  if (inputs.length === 1) return { out: apply([inputs[0]]), axis: axes[0] }
  const rank = Math.max(...inputs.map((x, i) => x.rank - (axes[i] === null ? 0 : 1)))
  const aligned = inputs.map((x, i) => {
    if (axes[i] === null) return x
    const first = batchFirst(x, axes[i])
    return x.rank - 1 === rank ? first : reshape(first, [first.shape[0], ...new Array<number>(rank - x.rank + 1).fill(1), ...first.shape.slice(1)])
  })
  return { out: apply(aligned), axis: 0 }
}

/**
 * A primitive whose tangent rule is its VJP's (see `elementwiseJvp`). Under vmap its batched
 * inputs are aligned (`elementwiseBatch`) and `batched` applies it to them: the primitive itself
 * unless it needs operands of one shape.
 */
const elementwise = <P>(
  name: string, forward: (inputs: readonly Tensor[], params: P) => Tensor, vjp: Vjp<P>, batched?: (inputs: Tensor[], params: P) => Tensor,
): Primitive<P> => {
  const prim: Primitive<P> = definePrimitive<P>({
    name, forward, vjp, jvp: elementwiseJvp(vjp),
    batch: (inputs, axes, params) => elementwiseBatch(inputs, axes, (xs) => (batched ?? prim)(xs, params)),
  })
  return prim
}

const unaryPrimitive = (
  name: string,
  forward: (x: Tensor) => Tensor,
  vjp: (g: Tensor, x: Tensor, out: Tensor) => Tensor,
) => {
  const prim = elementwise<undefined>(name, ([x]) => forward(x), (g, { inputs: [x], out }) => [vjp(g, x, out)])
  return (x: Tensor): Tensor => prim([expectTensor(name, 'x', x)], undefined)
}

type UnaryKernelName = 'neg' | 'exp' | 'log' | 'sqrt' | 'square' | 'abs' | 'tanh' | 'sigmoid' | 'softplus' | 'relu'

/** Looks the kernel up on every call, so that a backend switched later is used. */
const kernelOf = (name: UnaryKernelName) => (x: Tensor) => new Tensor(K[name](x.data), x.shape)

/** The two cotangents of a binary operation, each computed only when asked for. */
type LazyPair = [() => Tensor, () => Tensor]

const binaryPrimitive = (op: BinaryOp, vjp: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => LazyPair) => {
  // An untraced operand (a constant such as a mask) gets no cotangent: none is computed for it.
  const prim = elementwise<undefined>(op, ([a, b]) => broadcastBinary(op, a, b), (g, { inputs: [a, b], out, needed }) => {
    const [ga, gb] = vjp(g, a, b, out)
    return [needed === undefined || needed[0] ? ga() : null, needed === undefined || needed[1] ? gb() : null]
  })
  return (a: Operand, b: Operand): Tensor => prim(operands(op, a, b), undefined)
}

/**
 * Comparisons have no gradient: they act on the values and return a 0/1 tensor with no trace, or
 * one batched by vmap when an operand is (the only level `concrete` keeps), through their batching rule.
 */
const comparison = (op: BinaryOp) => {
  const batched = elementwise<undefined>(op, ([a, b]) => broadcastBinary(op, a, b), () => [null, null])
  return (a: Operand, b: Operand): Tensor => {
    const [x, y] = operands(op, a, b).map(concrete)
    return topTrace([x, y]) === null ? broadcastBinary(op, x, y) : batched([x, y], undefined)
  }
}

// ---- arithmetic ----

/**
 * a + b, broadcast. VJP: (g, g).
 * @example
 * ```ts
 * add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray() // [[11, 22], [13, 24]]
 * add(tensor([1, 2]), 0.5).toArray()                       // [1.5, 2.5]
 * ```
 * @category tensors
 */
export const add = binaryPrimitive('add', (g) => [() => g, () => g])

/**
 * a − b, broadcast. VJP: (g, −g).
 * @example
 * ```ts
 * sub(1, tensor([0.25, 0.5])).toArray() // [0.75, 0.5]
 * ```
 * @category tensors
 */
export const sub = binaryPrimitive('sub', (g) => [() => g, () => neg(g)])

/**
 * a · b elementwise, broadcast. VJP: (g·b, g·a).
 * @example
 * ```ts
 * mul(tensor([[1, 2], [3, 4]]), tensor([[10], [100]])).toArray() // [[10, 20], [300, 400]]: the column is broadcast
 * ```
 * @category tensors
 */
export const mul = binaryPrimitive('mul', (g, a, b) => [() => mul(g, b), () => mul(g, a)])

/**
 * a / b, broadcast. VJP: (g/b, −g·out/b).
 * @example
 * ```ts
 * div(tensor([1, 2, 3]), 2).toArray() // [0.5, 1, 1.5]
 * ```
 * @category tensors
 */
export const div = binaryPrimitive('div', (g, _a, b, out) => [() => div(g, b), () => neg(mul(g, div(out, b)))])

/**
 * The share of the gradient that goes to the side that wins: 1 where it is strictly ahead, ½ at an
 * exact tie, 0 behind. Splitting ties evenly is what PyTorch and JAX do, and keeps
 * `maximum(x, x)`'s derivative 1 and symmetric in its two arguments.
 */
const winnerShare = (winner: Tensor, other: Tensor): Tensor => mul(add(greater(winner, other), greaterEqual(winner, other)), 0.5)

/**
 * Elementwise maximum. VJP: g to the larger side; at a tie each side gets g/2.
 * @example
 * ```ts
 * maximum(tensor([1, 5, 3]), tensor([4, 2, 3])).toArray() // [4, 5, 3]
 * grad((x: Tensor) => sum(maximum(x, 3)))(tensor([1, 3, 5])).toArray() // [0, 0.5, 1]
 * ```
 * @category tensors
 */
export const maximum = binaryPrimitive('maximum', (g, a, b) => {
  const share = winnerShare(a, b)
  return [() => mul(g, share), () => mul(g, sub(1, share))]
})

/**
 * Elementwise minimum. VJP: g to the smaller side; at a tie each side gets g/2.
 * @example
 * ```ts
 * minimum(tensor([1, 5, 3]), 2).toArray() // [1, 2, 2]
 * ```
 * @category tensors
 */
export const minimum = binaryPrimitive('minimum', (g, a, b) => {
  const share = winnerShare(b, a)
  return [() => mul(g, share), () => mul(g, sub(1, share))]
})

/**
 * 1 where a > b, else 0 (no gradient).
 * @example
 * ```ts
 * greater(tensor([1, 2, 3]), 2).toArray() // [0, 0, 1]
 * ```
 * @category tensors
 */
export const greater = comparison('greater')
/**
 * 1 where a ≥ b, else 0 (no gradient).
 * @example
 * ```ts
 * greaterEqual(tensor([1, 2, 3]), 2).toArray() // [0, 1, 1]
 * ```
 * @category tensors
 */
export const greaterEqual = comparison('greaterEqual')
/**
 * 1 where a < b, else 0 (no gradient).
 * @example
 * ```ts
 * less(tensor([1, 2, 3]), 2).toArray() // [1, 0, 0]
 * ```
 * @category tensors
 */
export const less = (a: Operand, b: Operand): Tensor => greater(b, a)
/**
 * 1 where a ≤ b, else 0 (no gradient).
 * @example
 * ```ts
 * lessEqual(tensor([1, 2, 3]), 2).toArray() // [1, 1, 0]
 * ```
 * @category tensors
 */
export const lessEqual = (a: Operand, b: Operand): Tensor => greaterEqual(b, a)
/**
 * 1 where a = b, else 0 (no gradient).
 * @example
 * ```ts
 * equal(tensor([1, 2, 3]), tensor([1, 0, 3])).toArray() // [1, 0, 1]
 * ```
 * @category tensors
 */
export const equal = comparison('equal')

// ---- unary ----

/**
 * −x.
 * @example
 * ```ts
 * neg(tensor([1, -2])).toArray() // [-1, 2]
 * ```
 * @category tensors
 */
export const neg = unaryPrimitive('neg', kernelOf('neg'), (g) => neg(g))

/**
 * eˣ. VJP reuses the output: g·out.
 * @example
 * ```ts
 * exp(tensor([0, 1])).toArray() // [1, 2.718281828459045]
 * ```
 * @category tensors
 */
export const exp = unaryPrimitive('exp', kernelOf('exp'), (g, _x, out) => mul(g, out))

/**
 * Natural logarithm.
 * @example
 * ```ts
 * log(tensor([1, Math.E])).toArray() // [0, 1]
 * ```
 * @category tensors
 */
export const log = unaryPrimitive('log', kernelOf('log'), (g, x) => div(g, x))

/**
 * Square root. VJP: g / (2·out).
 * @example
 * ```ts
 * sqrt(tensor([4, 9])).toArray() // [2, 3]
 * ```
 * @category tensors
 */
export const sqrt = unaryPrimitive('sqrt', kernelOf('sqrt'), (g, _x, out) => div(g, mul(out, 2)))

/**
 * x². A primitive rather than mul(x, x) to halve the tape.
 * @example
 * ```ts
 * square(tensor([-2, 3])).toArray() // [4, 9]
 * ```
 * @category tensors
 */
export const square = unaryPrimitive('square', kernelOf('square'), (g, x) => mul(g, mul(x, 2)))

/**
 * |x|. The gradient at 0 is 0 (sign(0)).
 * @example
 * ```ts
 * abs(tensor([-1.5, 2])).toArray() // [1.5, 2]
 * grad((x: Tensor) => sum(abs(x)))(tensor([-1, 0, 2])).toArray() // [-1, 0, 1]
 * ```
 * @category tensors
 */
export const abs = unaryPrimitive('abs', kernelOf('abs'), (g, x) => mul(g, sign(x)))

/**
 * Hyperbolic tangent. VJP: g·(1 − out²), no tanh recomputed.
 * @example
 * ```ts
 * tanh(tensor([0, 1000])).toArray() // [0, 1]
 * ```
 * @category tensors
 */
export const tanh = unaryPrimitive('tanh', kernelOf('tanh'), (g, _x, out) => tanhBackward(g, out))

/**
 * Logistic sigmoid 1 / (1 + e⁻ˣ). A primitive for stability: the kernel never exponentiates a
 * positive number, so it does not overflow at |x| = 1000. VJP: g·out·(1 − out).
 * @example
 * ```ts
 * sigmoid(tensor([0, -1000, 1000])).toArray() // [0.5, 0, 1]
 * ```
 * @category tensors
 */
export const sigmoid = unaryPrimitive('sigmoid', kernelOf('sigmoid'), (g, _x, out) => sigmoidBackward(g, out))

/**
 * log(1 + eˣ), computed without overflow. VJP: g·sigmoid(x).
 * @example
 * ```ts
 * softplus(tensor([0, 1000])).toArray() // [0.6931471805599453, 1000]
 * ```
 * @category tensors
 */
export const softplus = unaryPrimitive('softplus', kernelOf('softplus'), (g, x) => mul(g, sigmoid(x)))

/**
 * max(x, 0). The gradient uses x > 0, so it is 0 at the kink.
 * @example
 * ```ts
 * relu(tensor([-1, 0, 2])).toArray() // [0, 0, 2]
 * grad((x: Tensor) => sum(relu(x)))(tensor([-1, 0, 2])).toArray() // [0, 0, 1]
 * ```
 * @category tensors
 */
export const relu = unaryPrimitive('relu', kernelOf('relu'), (g, x) => mul(g, greater(x, 0)))

// The activation VJPs as one node and one pass each (the kernels round as the composition does),
// with their own VJPs for second order:
//   y = g·(1 − t²):   ∂y/∂g = 1 − t²,      ∂y/∂t = −2·g·t
//   y = g·s·(1 − s):  ∂y/∂g = s·(1 − s),   ∂y/∂s = g·(1 − 2s)
// Their kernels read operands of one shape, so batched operands, which may not share one, go
// through the public function (one node when they do, the composition when not).
const tanhGradPrimitive = elementwise<undefined>(
  'tanhBackward',
  ([g, t]) => new Tensor(K.tanhBackward(g.data, t.data), g.shape),
  (c, { inputs: [g, t], needed }) => [
    needed === undefined || needed[0] ? tanhBackward(c, t) : null,
    needed === undefined || needed[1] ? mul(c, mul(g, mul(t, -2))) : null,
  ],
  ([g, t]) => tanhBackward(g, t),
)

const sigmoidGradPrimitive = elementwise<undefined>(
  'sigmoidBackward',
  ([g, s]) => new Tensor(K.sigmoidBackward(g.data, s.data), g.shape),
  (c, { inputs: [g, s], needed }) => [
    needed === undefined || needed[0] ? sigmoidBackward(c, s) : null,
    needed === undefined || needed[1] ? mul(c, mul(g, sub(1, mul(s, 2)))) : null,
  ],
  ([g, s]) => sigmoidBackward(g, s),
)

const oneKernel = (g: Tensor, t: Tensor): boolean => g.dtype === t.dtype && shapesEqual(g.shape, t.shape)

/**
 * `g·(1 − t²)` for t = tanh(·): the tanh VJP from its output, one node and one pass (the kernel
 * `tanhBackward`) when g and t share shape and dtype, else the composition (same values either way).
 * Internal: used by `tanh` and by the fused recurrent steps.
 */
export const tanhBackward = (g: Tensor, t: Tensor): Tensor =>
  oneKernel(g, t) ? tanhGradPrimitive([g, t], undefined) : mul(g, sub(1, square(t)))
/** `g·s·(1 − s)` for s = σ(·): the sigmoid VJP from its output, like `tanhBackward`. Internal. */
export const sigmoidBackward = (g: Tensor, s: Tensor): Tensor =>
  oneKernel(g, s) ? sigmoidGradPrimitive([g, s], undefined) : mul(g, mul(s, sub(1, s)))

/**
 * Sign of x, −1, 0 or 1 (no gradient).
 * @example
 * ```ts
 * sign(tensor([-3, 0, 2])).toArray() // [-1, 0, 1]
 * ```
 * @category tensors
 */
export const sign = (x: Tensor): Tensor => {
  const c = concrete(expectTensor('sign', 'x', x))
  return topTrace([c]) === null ? signOf(c) : batchedSign([c], undefined)
}

const signOf = (x: Tensor): Tensor => new Tensor(K.sign(x.data), x.shape)
/** sign of a value batched by vmap (see `comparison`). */
const batchedSign = elementwise<undefined>('sign', ([x]) => signOf(x), () => [null])

const leakyReluPrimitive = elementwise<number>(
  'leakyRelu',
  ([x], slope) => new Tensor(K.leakyRelu(x.data, slope), x.shape),
  (g, { inputs: [x], params: slope }) => [mul(g, where(greater(x, 0), 1, slope))],
)

/**
 * x for x > 0, slope·x otherwise (the seed uses slope 1e-3).
 * @example
 * ```ts
 * leakyRelu(tensor([-100, 3])).toArray()       // [-1, 3]: the default slope is 0.01
 * leakyRelu(tensor([-100, 3]), 1e-3).toArray() // [-0.1, 3]
 * ```
 * @category tensors
 */
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => {
  if (!Number.isFinite(slope)) throw new ValueError(`leakyRelu: slope must be a finite number, got ${slope}.`)
  return leakyReluPrimitive([expectTensor('leakyRelu', 'x', x)], slope)
}

const powPrimitive = elementwise<number>(
  'pow',
  ([x], exponent) => new Tensor(K.pow(x.data, exponent), x.shape),
  (g, { inputs: [x], params: p }) => [p === 0 ? mul(g, 0) : mul(g, mul(pow(x, p - 1), p))],
)

/**
 * xᵖ for a constant number p. VJP: g·p·xᵖ⁻¹.
 * @example
 * ```ts
 * pow(tensor([1, 2, 3]), 3).toArray() // [1, 8, 27]
 * grad((x: Tensor) => sum(pow(x, 3)))(tensor([2])).toArray() // [12]
 * ```
 * @category tensors
 */
export const pow = (x: Tensor, exponent: number): Tensor => {
  if (typeof exponent !== 'number' || !Number.isFinite(exponent)) {
    throw new ValueError(`pow: the exponent must be a finite number, got ${String(exponent)}.`)
  }
  return powPrimitive([expectTensor('pow', 'x', x)], exponent)
}

const castPrimitive = elementwise<DType>(
  'cast',
  ([x], dtype) => new Tensor(K.cast(x.data, dtype), x.shape),
  // The backward pass casts each cotangent to its input's dtype (forward mode each tangent to its
  // output's), so g passes through.
  (g) => [g],
)

/**
 * The same values in another dtype; differentiable.
 * @example
 * ```ts
 * const x = cast(tensor([0.1]), 'float32')
 * x.dtype     // 'float32'
 * x.toArray() // [0.10000000149011612]: 0.1 rounded to float32
 * ```
 * @category tensors
 */
export const cast = (x: Tensor, dtype: DType): Tensor => {
  expectTensor('cast', 'x', x)
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new ValueError(`cast: dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}.`)
  }
  return x.dtype === dtype ? x : castPrimitive([x], dtype)
}

// ---- selection ----

const wherePrimitive = elementwise<undefined>(
  'where',
  ([cond, a, b]) => {
    const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape)
    const data = K.where(
      cond.data, indexFor(cond.shape, shape), a.data, indexFor(a.shape, shape), b.data, indexFor(b.shape, shape), sizeOf(shape),
    )
    return new Tensor(data, shape)
  },
  (g, { inputs: [cond], needed }) => [
    null,
    needed === undefined || needed[1] ? where(cond, g, 0) : null,
    needed === undefined || needed[2] ? where(cond, 0, g) : null,
  ],
)

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere, with broadcasting. `cond` carries no gradient.
 * @example
 * ```ts
 * const x = tensor([-1, 2, -3])
 * where(greater(x, 0), x, 0).toArray() // [0, 2, 0]
 * ```
 * @category tensors
 */
export const where = (cond: Tensor, a: Operand, b: Operand): Tensor => {
  const [x, y] = operands('where', a, b)
  return wherePrimitive([concrete(expectTensor('where', 'cond', cond)), x, y], undefined)
}

/**
 * Clamps x to [min, max]; the gradient is zero outside.
 * @example
 * ```ts
 * clip(tensor([-2, 0.5, 7]), 0, 1).toArray() // [0, 0.5, 1]
 * ```
 * @category tensors
 */
export const clip = (x: Tensor, min: number, max: number): Tensor => {
  if (!(min <= max)) throw new ValueError(`clip: min must not exceed max, got min ${min}, max ${max}.`)
  return minimum(maximum(x, min), max)
}

/** Throws a ShapeError unless two tensors have the same shape (for ops that do not broadcast). */
export const expectSameShape = (op: string, a: Tensor, b: Tensor): void => {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(`${op}: shapes must match, got ${showShape(a.shape)} and ${showShape(b.shape)}.`)
  }
}
