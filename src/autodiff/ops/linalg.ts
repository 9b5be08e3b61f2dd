/**
 * @file Matrix products. One primitive with transpose flags serves the forward pass and both VJPs,
 * so no VJP materialises a transposed copy of a weight matrix.
 */
import { ShapeError, showShape } from '../../errors.js'
import { K } from '../../tensor/backend.js'
import { Tensor, expectTensor } from '../../tensor/Tensor.js'
import { stridedIndex } from '../../tensor/indexing.js'
import { selectAffine, selectProduct } from '../../tensor/selection.js'
import { broadcastShapes, broadcastStrides } from '../../tensor/shape.js'
import { type Primitive, definePrimitive } from '../primitive.js'
import { add, cast, tangentSum } from './elementwise.js'
import { batchFirst, expandDims, reshape, squeeze } from './structural.js'

interface MatmulParams {
  readonly transposeA: boolean
  readonly transposeB: boolean
}

/** Where each batch's matrix starts, for the broadcast batch shape. */
const batchOffsets = (batch: readonly number[], outBatch: readonly number[], matrixSize: number): Int32Array =>
  stridedIndex(outBatch, broadcastStrides(batch, outBatch).map((s) => s * matrixSize))

/** The batch offsets of a single matrix (read-only by contract, like every index map). */
const SINGLE = new Int32Array(1)

const matmulPrimitive: Primitive<MatmulParams> = definePrimitive<MatmulParams>({
  name: 'matmul',
  forward: ([a, b], { transposeA, transposeB }) => {
    if (a.rank === 2 && b.rank === 2) {
      // Two plain matrices (every recurrent step): no batch axes to broadcast.
      const m = transposeA ? a.shape[1] : a.shape[0]
      const k = transposeA ? a.shape[0] : a.shape[1]
      const n = transposeB ? b.shape[0] : b.shape[1]
      // One-hot inputs (and their weight gradient, Aᵀ·G) are row selections, not products.
      const selected = transposeB ? null : selectProduct(a.data, b.data, m, k, n, transposeA)
      return new Tensor(selected ?? K.matmul(a.data, SINGLE, b.data, SINGLE, m, k, n, transposeA, transposeB), [m, n])
    }
    const [ar, ac] = a.shape.slice(-2)
    const [br, bc] = b.shape.slice(-2)
    const [m, k] = transposeA ? [ac, ar] : [ar, ac]
    const n = transposeB ? br : bc
    const aBatch = a.shape.slice(0, -2)
    const bBatch = b.shape.slice(0, -2)
    const batch = broadcastShapes('matmul', aBatch, bBatch)
    const data = K.matmul(
      a.data, batchOffsets(aBatch, batch, ar * ac), b.data, batchOffsets(bBatch, batch, br * bc), m, k, n, transposeA, transposeB,
    )
    return new Tensor(data, [...batch, m, n])
  },
  // C = op(A)·op(B). Each case below is that identity rearranged so the product reads A and B as stored.
  // A constant operand (input data, a fixed initial state) gets no cotangent: its product is skipped.
  vjp: (g, { inputs: [a, b], params: { transposeA: tA, transposeB: tB }, needed }) => [
    needed !== undefined && !needed[0] ? null : tA ? product(b, g, tB, true) : product(g, b, false, !tB),
    needed !== undefined && !needed[1] ? null : tB ? product(g, a, true, tA) : product(a, g, !tA, false),
  ],
  // Bilinear: the product rule, each term the same product with one factor replaced by its tangent.
  jvp: ([ta, tb], { inputs: [a, b], params: { transposeA, transposeB } }) =>
    tangentSum(ta === null ? null : product(ta, b, transposeA, transposeB), tb === null ? null : product(a, tb, transposeA, transposeB)),
  batch: ([a, b], [aAxis, bAxis], { transposeA, transposeB }) => ({ out: batchedProduct(a, aAxis, b, bAxis, transposeA, transposeB), axis: 0 }),
})

/**
 * `op(a)·op(b)` for every example, the examples along axis 0 of the result. Examples of a against
 * one shared matrix b are the rows of one product (one large product instead of many small ones);
 * otherwise the batch becomes the leading batch axis of a batched product, each batched operand
 * given axes of length 1 behind it so that the operands' own batch axes still line up from the right.
 */
const batchedProduct = (a: Tensor, aAxis: number | null, b: Tensor, bAxis: number | null, transposeA: boolean, transposeB: boolean): Tensor => {
  if (bAxis === null && b.rank === 2 && !transposeA) {
    const first = batchFirst(a, aAxis)
    const out = product(reshape(first, [-1, first.shape[first.rank - 1]]), b, false, transposeB)
    return reshape(out, [...first.shape.slice(0, -1), out.shape[1]])
  }
  const rank = Math.max(a.rank - (aAxis === null ? 0 : 1), b.rank - (bAxis === null ? 0 : 1))
  const aligned = (x: Tensor, axis: number | null): Tensor => {
    if (axis === null) return x
    const first = batchFirst(x, axis)
    return reshape(first, [first.shape[0], ...new Array<number>(rank - x.rank + 1).fill(1), ...first.shape.slice(1)])
  }
  return product(aligned(a, aAxis), aligned(b, bAxis), transposeA, transposeB)
}

const product = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor =>
  matmulPrimitive([a, b], { transposeA, transposeB })

/**
 * `op(a)·op(b)` with op = transpose on the last two axes where a flag is set, batch axes broadcast
 * as in `matmul`; differentiable. Internal: for hand-written VJPs (fused recurrent steps) that need
 * `g·wᵀ` or `hᵀ·g` without materialising a transposed copy. Operands must have rank ≥ 2 and one dtype.
 */
export const matmulTransposed = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor =>
  product(a, b, transposeA, transposeB)

/**
 * `x·w + b` for a matrix x `[m, k]`, w `[k, n]` and b `[n]`, all of one dtype: a dense layer or an
 * input projection as one node, whose forward kernel (`Kernels.affine`) adds the bias while the
 * product is still in the backend's memory (a backend without its own composes it). Values and gradients equal those of
 * `add(matmul(x, w), b)` bit for bit: the VJP is matmul's, and b's cotangent is g, summed over the
 * rows by the backward pass as it is for a broadcast add. One-hot x stays a row selection.
 */
const affinePrimitive: Primitive<undefined> = definePrimitive<undefined>({
  name: 'affine',
  forward: ([x, w, b]) => {
    const [m, k] = x.shape
    const n = w.shape[1]
    const data = selectAffine(x.data, w.data, b.data, m, k, n) ?? K.affine(x.data, w.data, b.data, m, k, n)
    return new Tensor(data, [m, n])
  },
  vjp: (g, { inputs: [x, w], needed }) => [
    needed !== undefined && !needed[0] ? null : product(g, w, false, true),
    needed !== undefined && !needed[1] ? null : product(x, g, true, false),
    needed !== undefined && !needed[2] ? null : g,
  ],
  // ẋ·w + x·ẇ + ḃ; ḃ is `[n]`, broadcast over the rows by forward mode.
  jvp: ([tx, tw, tb], { inputs: [x, w] }) =>
    tangentSum(tx === null ? null : product(tx, w, false, false), tw === null ? null : product(x, tw, false, false), tb),
  // Examples of x against shared w and b: their rows are one affine map's rows.
  batch: ([x, w, b], [xAxis, wAxis, bAxis]) => {
    if (wAxis === null && bAxis === null) {
      const first = batchFirst(x, xAxis)
      return { out: reshape(affinePrimitive([reshape(first, [-1, x.shape[x.rank - 1]]), w, b], undefined), [...first.shape.slice(0, -1), w.shape[1]]), axis: 0 }
    }
    const bias = bAxis === null ? b : expandDims(batchFirst(b, bAxis), 1)
    return { out: add(batchedProduct(x, xAxis, w, wAxis, false, false), bias), axis: 0 }
  },
})

/**
 * `x·w + b` as one node for a matrix x `[m, k]`, w `[k, n]` and b `[n]` of one dtype (see
 * `affinePrimitive`); other shapes and mixed dtypes take `add(matmul(x, w), b)`. Internal: the
 * dense layers and input projections call it (src/nn/project.ts), which check the shapes first.
 */
export const affineRows = (x: Tensor, w: Tensor, b: Tensor): Tensor =>
  x.rank === 2 && w.rank === 2 && b.rank === 1 && x.shape[1] === w.shape[0] && b.shape[0] === w.shape[1] &&
  x.dtype === w.dtype && b.dtype === w.dtype
    ? affinePrimitive([x, w, b], undefined)
    : add(matmul(x, w), b)

/**
 * Matrix product with NumPy semantics: `[..., m, k] · [..., k, n] → [..., m, n]`, leading (batch)
 * axes broadcast; a 1-D argument is treated as a row (left) or column (right) vector and its axis
 * removed from the result.
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]])           // [batch, in] = [2, 3]
 * matmul(x, tensor([[1], [0], [-1]])).toArray()      // [[-2], [-2]]: [2, 3] · [3, 1] → [2, 1]
 * matmul(zeros([4, 2, 3]), zeros([3, 5])).shape      // [4, 2, 5]: the batch axis broadcasts
 * matmul(tensor([1, 2]), tensor([3, 4])).item()      // 11: vector · vector
 * ```
 * @category tensors
 */
export const matmul = (a: Tensor, b: Tensor): Tensor => {
  expectTensor('matmul', 'a', a)
  expectTensor('matmul', 'b', b)
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(`matmul: both arguments need at least one axis, got ${showShape(a.shape)} and ${showShape(b.shape)}. Use mul for scalars.`)
  }
  // b first: for vector · vector the inner call is then [k] · [k, 1] → [1], squeezed to [].
  if (b.rank === 1) return squeeze(matmul(a, expandDims(b, -1)), -1)
  if (a.rank === 1) return squeeze(matmul(expandDims(a, 0), b), -2)
  const k = a.shape[a.rank - 1]
  if (k !== b.shape[b.rank - 2]) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a is ${showShape(a.shape)}, b is ${showShape(b.shape)} (${k} ≠ ${b.shape[b.rank - 2]}).`,
    )
  }
  const aBatch = a.shape.slice(0, -2)
  const bBatch = b.shape.slice(0, -2)
  const clash = aBatch.some((d, i) => {
    const e = bBatch[bBatch.length - aBatch.length + i] ?? 1
    return d !== e && d !== 1 && e !== 1
  })
  if (clash) {
    throw new ShapeError(
      `matmul: batch axes do not broadcast: a is ${showShape(a.shape)}, b is ${showShape(b.shape)} ` +
        `(batch ${showShape(aBatch)} vs ${showShape(bBatch)}; each must be equal or 1, aligned from the right).`,
    )
  }
  const [x, y] = a.dtype === b.dtype ? [a, b] : [cast(a, 'float64'), cast(b, 'float64')]
  return product(x, y, false, false)
}
