/**
 * @file Golden forward values for every op: against Math.* and against arrays computed by hand.
 * The property tests prove each VJP matches its forward; these prove the forward is the right
 * function.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, abs, add, arange, argmax, broadcastTo, cast, clip, concat, div, equal, exp, expandDims, grad, greater,
  greaterEqual, leakyRelu, less, lessEqual, log, logSoftmax, logSumExp, matmul, max, maximum, mean, minimum, mul, neg,
  oneHot, pow, relu, reshape, sigmoid, sign, slice, softmax, softplus, sqrt, square, squeeze, stack, sub, sum, take,
  tanh, tensor, transpose, unstack, where,
} from '../../src/index.js'
import { expectAllClose } from '../helpers/allClose.js'

const xs = [-3, -1.5, -0.25, 0, 0.25, 1, 2.5]
const positive = [0.01, 0.5, 1, 2, 10]

describe('ops forward: elementwise', () => {
  it.each([
    ['neg', neg, (v: number) => -v, xs],
    ['exp', exp, Math.exp, xs],
    ['log', log, Math.log, positive],
    ['sqrt', sqrt, Math.sqrt, positive],
    ['abs', abs, Math.abs, xs],
    ['tanh', tanh, Math.tanh, xs],
    ['square', square, (v: number) => v * v, xs],
    ['sigmoid', sigmoid, (v: number) => 1 / (1 + Math.exp(-v)), xs],
    ['softplus', softplus, (v: number) => Math.log1p(Math.exp(v)), xs],
    ['relu', relu, (v: number) => Math.max(v, 0), xs],
    ['sign', sign, Math.sign, xs],
  ] as const)('%s matches Math', (_, op, reference, points) => {
    expectAllClose(op(tensor(points)), points.map(reference), { rtol: 1e-15, atol: 1e-16 })
  })

  it('leakyRelu and pow take their parameter', () => {
    expect(leakyRelu(tensor([-2, 0, 3]), 0.1).toArray()).toEqual([-0.2, 0, 3])
    expect(leakyRelu(tensor([-2])).toArray()).toEqual([-0.02]) // default slope 0.01
    expectAllClose(pow(tensor(positive), 1.5), positive.map((v) => v ** 1.5), { rtol: 1e-15 })
    expect(pow(tensor([-2, 3]), 3).toArray()).toEqual([-8, 27])
    expect(pow(tensor([4, 9]), -0.5).toArray()).toEqual([0.5, 1 / 3])
  })

  it('binary ops broadcast [2, 1] with [3] to [2, 3]', () => {
    const a = tensor([[1], [2]])
    const b = tensor([10, 20, 30])
    expect(add(a, b).toArray()).toEqual([[11, 21, 31], [12, 22, 32]])
    expect(sub(a, b).toArray()).toEqual([[-9, -19, -29], [-8, -18, -28]])
    expect(mul(a, b).toArray()).toEqual([[10, 20, 30], [20, 40, 60]])
    expect(div(b, a).toArray()).toEqual([[10, 20, 30], [5, 10, 15]])
  })

  it('broadcasts against size-1 axes on both sides and a scalar', () => {
    const a = tensor([[[1, 2]]]) // [1, 1, 2]
    const b = tensor([[10], [20], [30]]) // [3, 1]
    expect(add(a, b).shape).toEqual([1, 3, 2])
    expect(add(a, b).toArray()).toEqual([[[11, 12], [21, 22], [31, 32]]])
    expect(mul(tensor(3), b).toArray()).toEqual([[30], [60], [90]])
  })

  it('accepts a JavaScript number on either side, in the tensor dtype', () => {
    const x = tensor([1, 2, 4], { dtype: 'float32' })
    expect(sub(1, x).toArray()).toEqual([0, -1, -3])
    expect(div(x, 2).toArray()).toEqual([0.5, 1, 2])
    expect(div(8, x).toArray()).toEqual([8, 4, 2])
    expect(sub(1, x).dtype).toBe('float32')
    expect(add(1, 2).item()).toBe(3)
  })

  it('maximum, minimum and clip', () => {
    const a = tensor([1, 5, 3])
    const b = tensor([4, 2, 3])
    expect(maximum(a, b).toArray()).toEqual([4, 5, 3])
    expect(minimum(a, b).toArray()).toEqual([1, 2, 3])
    expect(maximum(tensor([[-1, 2]]), 0).toArray()).toEqual([[0, 2]])
    expect(clip(tensor([-2, -0.5, 0.5, 2]), -1, 1).toArray()).toEqual([-1, -0.5, 0.5, 1])
  })

  it('maximum and minimum split a tie\'s gradient evenly, as PyTorch and JAX do', () => {
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(maximum(a, b)), { argnums: [0, 1] })(tensor([3, 1, 5]), tensor([3, 2, 4]))
    expect(ga.toArray()).toEqual([0.5, 0, 1])
    expect(gb.toArray()).toEqual([0.5, 1, 0])
    const [ha, hb] = grad((a: Tensor, b: Tensor) => sum(minimum(a, b)), { argnums: [0, 1] })(tensor([3, 1, 5]), tensor([3, 2, 4]))
    expect(ha.toArray()).toEqual([0.5, 1, 0])
    expect(hb.toArray()).toEqual([0.5, 0, 1])
    // maximum(x, x) = x: the two halves add up to the derivative 1.
    expect(grad((x: Tensor) => sum(maximum(x, x)))(tensor([2, -1])).toArray()).toEqual([1, 1])
    // A broadcast scalar at a tie gets half of each tied entry's gradient.
    const [gx, gs] = grad((x: Tensor, s: Tensor) => sum(maximum(x, s)), { argnums: [0, 1] })(tensor([0, 1, -1]), tensor(0))
    expect(gx.toArray()).toEqual([0.5, 1, 0])
    expect(gs.item()).toBe(1.5)
  })

  it('where selects with a broadcast condition', () => {
    expect(where(tensor([1, 0, 1]), tensor([[1, 2, 3], [4, 5, 6]]), -1).toArray()).toEqual([[1, -1, 3], [4, -1, 6]])
    expect(where(tensor([[1], [0]]), 7, tensor([1, 2])).toArray()).toEqual([[7, 7], [1, 2]])
  })

  it('comparisons give 0/1 in the operands\' dtype', () => {
    const a = tensor([1, 2, 3])
    expect(greater(a, 2).toArray()).toEqual([0, 0, 1])
    expect(greaterEqual(a, 2).toArray()).toEqual([0, 1, 1])
    expect(less(a, 2).toArray()).toEqual([1, 0, 0])
    expect(lessEqual(a, 2).toArray()).toEqual([1, 1, 0])
    expect(equal(a, tensor([[2], [3]])).toArray()).toEqual([[0, 1, 0], [0, 0, 1]])
    expect(greater(tensor([1], { dtype: 'float32' }), 0).dtype).toBe('float32')
  })

  it('cast rounds to float32 and back', () => {
    const x = tensor([0.1, 1 / 3])
    const y = cast(x, 'float32')
    expect(y.dtype).toBe('float32')
    expect(Array.from(y.data)).toEqual([Math.fround(0.1), Math.fround(1 / 3)])
    expect(cast(y, 'float64').toArray()).toEqual([Math.fround(0.1), Math.fround(1 / 3)])
    expect(cast(x, 'float64')).toBe(x)
  })
})

describe('ops forward: reductions', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]])

  it('sum over all, one, negative and several axes, with keepDims', () => {
    expect(sum(x).item()).toBe(21)
    expect(sum(x, 0).toArray()).toEqual([5, 7, 9])
    expect(sum(x, -1).toArray()).toEqual([6, 15])
    expect(sum(x, [0, 1]).shape).toEqual([])
    expect(sum(x, 1, { keepDims: true }).toArray()).toEqual([[6], [15]])
    expect(sum(x, [], {}).toArray()).toEqual(x.toArray())
    expect(sum(tensor(4)).item()).toBe(4)
  })

  it('mean and max', () => {
    expect(mean(x).item()).toBe(3.5)
    expect(mean(x, 0).toArray()).toEqual([2.5, 3.5, 4.5])
    expect(mean(x, [0, 1], { keepDims: true }).toArray()).toEqual([[3.5]])
    expect(max(x).item()).toBe(6)
    expect(max(x, 1).toArray()).toEqual([3, 6])
    expect(max(tensor([[-1, -5], [-3, -2]]), 0, { keepDims: true }).toArray()).toEqual([[-1, -2]])
  })

  it('max shares a tied gradient equally', () => {
    expect(grad((v: Tensor) => max(v))(tensor([1, 3, 3])).toArray()).toEqual([0, 0.5, 0.5])
  })

  it('logSumExp, softmax and logSoftmax match their definitions', () => {
    const rows = [[0.5, -1, 2], [3, 3, 3]]
    const lse = rows.map((r) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0)))
    expectAllClose(logSumExp(tensor(rows), 1), lse, { rtol: 1e-15 })
    expectAllClose(logSumExp(tensor(rows)), Math.log(rows.flat().reduce((s, v) => s + Math.exp(v), 0)), { rtol: 1e-15 })
    expectAllClose(logSumExp(tensor(rows), 0, { keepDims: true }), [[0, 1, 2].map((j) => Math.log(Math.exp(rows[0][j]) + Math.exp(rows[1][j])))], { rtol: 1e-15 })
    expectAllClose(softmax(tensor(rows)), rows.map((r, i) => r.map((v) => Math.exp(v - lse[i]))), { rtol: 1e-14 })
    expectAllClose(logSoftmax(tensor(rows)), rows.map((r, i) => r.map((v) => v - lse[i])), { rtol: 1e-15 })
    expectAllClose(softmax(tensor(rows), 0), [[0, 1, 2].map((j) => 1 / (1 + Math.exp(rows[1][j] - rows[0][j]))), [0, 1, 2].map((j) => 1 / (1 + Math.exp(rows[0][j] - rows[1][j])))], { rtol: 1e-14 })
  })

  it('argmax takes the first maximum along an axis', () => {
    const y = tensor([[1, 3, 3], [5, 0, 5]])
    expect(argmax(y).toArray()).toEqual([1, 0])
    expect(argmax(y, 0).toArray()).toEqual([1, 0, 1])
    expect(argmax(tensor([[2, 2], [2, 2]]), 0).toArray()).toEqual([0, 0])
    expect(argmax(tensor([2, 7, 1])).shape).toEqual([])
  })
})

describe('ops forward: stability at |x| = 1000', () => {
  const big = tensor([-1000, -1, 0, 1, 1000])

  it('sigmoid and softplus are finite and exact', () => {
    expect(sigmoid(big).toArray()).toEqual([0, 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-1)), 1])
    expectAllClose(softplus(big), [0, Math.log1p(Math.exp(-1)), Math.log(2), 1 + Math.log1p(Math.exp(-1)), 1000], { rtol: 1e-15 })
    expect(grad((v: Tensor) => sum(softplus(v)))(big).toArray()).toEqual(sigmoid(big).toArray())
    expect(grad((v: Tensor) => sum(sigmoid(v)))(big).data.every(Number.isFinite)).toBe(true)
  })

  it('logSumExp, logSoftmax and softmax are finite and correct', () => {
    const x = tensor([[1000, 1000, -1000], [-1000, -1000, -999]])
    // logSumExp is rounded to ulp(1000) ≈ 1.1e-13, so x − logSumExp(x) carries an absolute error of
    // that size, which exp turns into a relative one: 1e-12 is float64 precision at this magnitude.
    const atMagnitude1000 = { rtol: 1e-12, atol: 1e-12 }
    expectAllClose(logSumExp(x, 1), [1000 + Math.log(2), -999 + Math.log1p(2 * Math.exp(-1))], { rtol: 1e-15 })
    expectAllClose(logSoftmax(x), [[-Math.log(2), -Math.log(2), -2000 - Math.log(2)], [-1 - Math.log1p(2 * Math.exp(-1)), -1 - Math.log1p(2 * Math.exp(-1)), -Math.log1p(2 * Math.exp(-1))]], atMagnitude1000)
    expectAllClose(softmax(x), [[0.5, 0.5, 0], [1, 1, Math.E].map((v) => v / (2 + Math.E))], atMagnitude1000)
    const g = grad((v: Tensor) => sum(logSumExp(v, 1)))(x)
    expectAllClose(g, softmax(x), atMagnitude1000)
    expect(grad((v: Tensor) => sum(mul(logSoftmax(v), tensor([1, 0, 0]))))(x).data.every(Number.isFinite)).toBe(true)
  })

  it('logSumExp of an all −∞ slice is −∞, not NaN', () => {
    expect(logSumExp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity)
  })
})

describe('ops forward: linear algebra', () => {
  it('matmul of matrices', () => {
    expect(matmul(tensor([[1, 2], [3, 4], [5, 6]]), tensor([[1, 0, 2], [0, 1, 3]])).toArray()).toEqual([[1, 2, 8], [3, 4, 18], [5, 6, 28]])
  })

  it('matmul with vectors drops their axis', () => {
    const m = tensor([[1, 2], [3, 4]])
    expect(matmul(tensor([1, 1]), m).toArray()).toEqual([4, 6])
    expect(matmul(m, tensor([1, 1])).toArray()).toEqual([3, 7])
    const dot = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]))
    expect(dot.shape).toEqual([])
    expect(dot.item()).toBe(32)
  })

  it('matmul batched, with broadcast batch axes, equals matrix by matrix', () => {
    const a = reshape(arange(12), [2, 1, 2, 3]) // [2, 1, 2, 3]
    const b = reshape(sub(arange(18), 9), [3, 3, 2]) // [3, 3, 2]
    const c = matmul(a, b)
    expect(c.shape).toEqual([2, 3, 2, 2])
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const ai = slice(a, [[i, i + 1], [0, 1]])
        const bj = slice(b, [[j, j + 1]])
        const expected = matmul(reshape(ai, [2, 3]), reshape(bj, [3, 2]))
        expect(reshape(slice(c, [[i, i + 1], [j, j + 1]]), [2, 2]).toArray()).toEqual(expected.toArray())
      }
    }
    expect(matmul(a, reshape(b, [3, 3, 2])).toArray()).toEqual(c.toArray())
  })

  it('transpose permutes axes: y[i₀, i₁, i₂] = x[i_{perm⁻¹}]', () => {
    const x = reshape(arange(24), [2, 3, 4])
    const at = (t: Tensor, i: number[]) => t.data[i.reduce((o, v, d) => o * t.shape[d] + v, 0)]
    for (const perm of [[0, 1, 2], [1, 0, 2], [2, 0, 1], [0, 2, 1], [1, 2, 0], [2, 1, 0]]) {
      const y = transpose(x, perm)
      expect(y.shape).toEqual(perm.map((p) => x.shape[p]))
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
        const index = [i, j, k]
        expect(at(y, perm.map((p) => index[p]))).toBe(at(x, index))
      }
    }
    expect(transpose(tensor([[1, 2, 3], [4, 5, 6]])).toArray()).toEqual([[1, 4], [2, 5], [3, 6]])
    expect(transpose(x, [-1, 0, 1]).shape).toEqual([4, 2, 3])
  })
})

describe('ops forward: structural', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]])

  it('reshape, expandDims, squeeze, broadcastTo', () => {
    expect(reshape(x, [3, -1]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]])
    expect(reshape(x, [6]).toArray()).toEqual([1, 2, 3, 4, 5, 6])
    expect(expandDims(x, 1).shape).toEqual([2, 1, 3])
    expect(expandDims(x, -1).shape).toEqual([2, 3, 1])
    expect(squeeze(tensor([[[7]], [[8]]])).toArray()).toEqual([7, 8])
    expect(squeeze(tensor([[[7]], [[8]]]), -1).shape).toEqual([2, 1])
    expect(broadcastTo(tensor([1, 2, 3]), [2, 3]).toArray()).toEqual([[1, 2, 3], [1, 2, 3]])
    expect(broadcastTo(tensor([[1], [2]]), [2, 2, 2]).toArray()).toEqual([[[1, 1], [2, 2]], [[1, 1], [2, 2]]])
  })

  it('slice takes [start, end) per leading axis, counting negatives from the end', () => {
    expect(slice(x, [[0, 1]]).toArray()).toEqual([[1, 2, 3]])
    expect(slice(x, [[0, 2], [1, 3]]).toArray()).toEqual([[2, 3], [5, 6]])
    expect(slice(x, [[-1, 2], [-3, -1]]).toArray()).toEqual([[4, 5]])
    expect(slice(x, [[1, 1]]).shape).toEqual([0, 3])
  })

  it('concat, stack and unstack', () => {
    expect(concat([x, tensor([[7, 8, 9]])], 0).toArray()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    expect(concat([x, tensor([[0], [0]])], -1).toArray()).toEqual([[1, 2, 3, 0], [4, 5, 6, 0]])
    expect(stack([tensor([1, 2]), tensor([3, 4])]).toArray()).toEqual([[1, 2], [3, 4]])
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]])
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2])
    expect(unstack(x).map((t) => t.toArray())).toEqual([[1, 2, 3], [4, 5, 6]])
  })

  it('take gathers along an axis, with repeated and negative indices of any shape', () => {
    expect(take(x, [1, 1, 0], 0).toArray()).toEqual([[4, 5, 6], [4, 5, 6], [1, 2, 3]])
    expect(take(x, [2, -3, 2], 1).toArray()).toEqual([[3, 1, 3], [6, 4, 6]])
    expect(take(x, tensor([[0, 2], [2, 2]]), 1).shape).toEqual([2, 2, 2])
    expect(take(x, tensor([[0, 2], [2, 2]]), 1).toArray()).toEqual([[[1, 3], [3, 3]], [[4, 6], [6, 6]]])
    expect(take(x, tensor(1), 0).toArray()).toEqual([4, 5, 6])
  })

  it('take adds up repeated indices in the gradient', () => {
    expect(grad((v: Tensor) => sum(take(v, [0, 0, 2, 0], 0)))(tensor([1, 2, 3])).toArray()).toEqual([3, 0, 1])
  })

  it('oneHot', () => {
    expect(oneHot([0, 2, 1], 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    expect(oneHot(tensor([[1], [0]]), 2).toArray()).toEqual([[[0, 1]], [[1, 0]]])
    expect(oneHot([1], 2, { dtype: 'float32' }).dtype).toBe('float32')
  })
})
