/**
 * @file Bad input: every programmer error throws a typed error whose message names the function,
 * the rule, what was seen (shapes in brackets, paths in trees) and, where useful, the fix.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, TreeError, ValueError, add, argmax, broadcastTo, checkpoint, clip, concat, customVjp,
  expandDims, grad, leakyRelu, logSoftmax, matmul, maximum, mul, oneHot, pow, reshape, slice, softmax, squeeze, stack,
  sum, take, tensor, transpose, treeMap, unstack, valueAndGrad, vjp, where, zeros,
} from '../src/index.js'

const x = zeros([2, 3])

describe('errors: shapes', () => {
  it('a broadcast mismatch names the primitive and both shapes', () => {
    expect(() => add(x, zeros([4]))).toThrow(ShapeError)
    expect(() => add(x, zeros([4]))).toThrow('add: shapes [2, 3] and [4] do not broadcast (axis -1: 3 vs 4)')
    expect(() => mul(zeros([5, 1]), zeros([3, 2]))).toThrow('mul: shapes [5, 1] and [3, 2] do not broadcast (axis -2: 5 vs 3)')
    expect(() => maximum(x, zeros([3, 3]))).toThrow(/^maximum: shapes \[2, 3\] and \[3, 3\]/)
    expect(() => where(zeros([4]), x, 0)).toThrow(/^where: shapes \[4\] and \[2, 3\]/)
  })

  it('matmul: inner dimensions, batch axes, scalars', () => {
    expect(() => matmul(zeros([32, 8]), zeros([16, 4]))).toThrow('matmul: inner dimensions differ: a is [32, 8], b is [16, 4] (8 ≠ 16).')
    expect(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 4]))).toThrow(/^matmul: batch axes do not broadcast: a is \[2, 2, 3\], b is \[3, 3, 4\]/)
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow(/inner dimensions differ/)
    expect(() => matmul(tensor(2), x)).toThrow(/at least one axis, got \[\] and \[2, 3\]\. Use mul for scalars/)
  })

  it('structural ops say which shapes they could not use', () => {
    expect(() => reshape(x, [4, 2])).toThrow('reshape: cannot reshape [2, 3] (6 elements) into [4, 2].')
    expect(() => reshape(x, [4, -1])).toThrow('reshape: cannot reshape [2, 3] (6 elements) into [4, -1].')
    expect(() => reshape(x, [-1, -1])).toThrow(/at most one -1, got \[-1,-1\]/)
    expect(() => broadcastTo(x, [3, 3])).toThrow(/^broadcastTo: shapes \[2, 3\] and \[3, 3\] do not broadcast/)
    expect(() => broadcastTo(zeros([2, 3]), [3])).toThrow('broadcastTo: [2, 3] cannot be broadcast to [3].')
    expect(() => squeeze(x, 1)).toThrow('squeeze: axis 1 of [2, 3] has length 3, not 1.')
    expect(() => concat([x, zeros([3, 2])], 0)).toThrow('concat: xs[1] has shape [3, 2] but xs[0] has [2, 3]; only axis 0 may differ.')
    expect(() => stack([x, zeros([3, 2])])).toThrow('stack: xs[1] has shape [3, 2] but xs[0] has [2, 3]; all must match.')
    expect(() => concat([])).toThrow(ValueError)
    expect(() => concat([x, zeros([2, 3], { dtype: 'float32' })])).toThrow(/share a dtype; xs\[0\] is float64, xs\[1\] is float32/)
    expect(() => unstack(tensor(1))).toThrow(/needs at least one axis, got a scalar \(shape \[\]\)/)
  })
})

describe('errors: axes, ranges and indices', () => {
  it('a bad axis gives the valid range', () => {
    expect(() => sum(x, 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2 (valid: -2 to 1).')
    expect(() => sum(x, [0, -2])).toThrow(/sum: repeated axis in \[0,-2\]/)
    expect(() => sum(x, 0.5)).toThrow(/axis 0.5 is out of range/)
    expect(() => softmax(x, 2)).toThrow(/^logSoftmax: axis 2 is out of range for a tensor of rank 2/)
    expect(() => logSoftmax(tensor(1))).toThrow(/rank 0/)
    expect(() => expandDims(x, 3)).toThrow(/^expandDims: axis 3 is out of range for a tensor of rank 3/)
    expect(() => argmax(x, -3)).toThrow(/^argmax: axis -3/)
    expect(() => argmax(zeros([2, 0]))).toThrow(/axis 1 of the input is empty/)
    expect(() => transpose(x, [0, 0])).toThrow('transpose: perm [0,0] is not a permutation of the 2 axes of [2, 3].')
    expect(() => transpose(x, [1])).toThrow(/not a permutation/)
    expect(() => take(x, [0], 2)).toThrow(/^take: axis 2 is out of range/)
  })

  it('a bad slice range names the axis, its length and the shape', () => {
    expect(() => slice(x, [[0, 5]])).toThrow('slice: range [0, 5) is out of bounds for axis 0 of length 2 (shape [2, 3]).')
    expect(() => slice(x, [[0, 2], [2, 1]])).toThrow('slice: range [2, 1) is out of bounds for axis 1 of length 3 (shape [2, 3]).')
    expect(() => slice(x, [[0, 1], [0, 1], [0, 1]])).toThrow('slice: 3 ranges given for a tensor of rank 2 ([2, 3]).')
    expect(() => slice(x, [[0.5, 1]])).toThrow(ShapeError)
  })

  it('take rejects an index out of range or not an integer, with its position', () => {
    expect(() => take(x, [0, 2], 0)).toThrow('take: indices must be integers in [-2, 2) for axis 0 of [2, 3]; found 2 at position 1.')
    expect(() => take(x, tensor([[0, -4]]), 1)).toThrow(/found -4 at position 1/)
    expect(() => take(x, [0.5], 1)).toThrow(/found 0.5 at position 0/)
    expect(() => oneHot([0, 3], 3)).toThrow('oneHot: indices must be integers in [0, 3); found 3 at position 1.')
    expect(() => oneHot([0], 0)).toThrow(/n must be a positive integer/)
  })

  it('bad parameters', () => {
    expect(() => leakyRelu(x, Number.NaN)).toThrow(/slope must be a finite number/)
    expect(() => pow(x, Number.POSITIVE_INFINITY)).toThrow(/exponent must be a finite number, got Infinity/)
    expect(() => clip(x, 1, -1)).toThrow('clip: min must not exceed max, got min 1, max -1.')
    expect(() => add(x, 'a' as unknown as Tensor)).toThrow('add: argument b must be a Tensor, got string. Wrap values with tensor(...).')
    expect(() => sum([1, 2] as unknown as Tensor)).toThrow('sum: argument x must be a Tensor, got an array. Wrap values with tensor(...).')
    expect(() => expandDims(3 as unknown as Tensor, 0)).toThrow(/expandDims: argument x must be a Tensor, got number/)
  })
})

describe('errors: transforms and trees', () => {
  it('grad of a non-scalar output gives the shape', () => {
    expect(() => grad((v: Tensor) => mul(v, 2))(zeros([32, 1]))).toThrow(
      'grad: the function must return a scalar (shape []), but returned shape [32, 1]. Reduce it first (for example with sum or mean), or use vjp for non-scalar outputs.',
    )
    expect(() => valueAndGrad((v: Tensor) => v)(x)).toThrow(/^valueAndGrad: the function must return a scalar \(shape \[\]\), but returned shape \[2, 3\]/)
    expect(() => grad((() => 3) as unknown as (v: Tensor) => Tensor)(x)).toThrow(/must be a Tensor, got number/)
  })

  it('a non-tensor leaf says where it is in the tree', () => {
    const params = { w: tensor([1]), layers: [{ b: tensor(0) }, { b: 3 }] }
    expect(() => grad((p: typeof params) => sum(p.w))(params)).toThrow(TreeError)
    expect(() => grad((p: typeof params) => sum(p.w))(params)).toThrow(
      /^grad: argument 0: the leaf at \.layers\[1\]\.b is a number, expected a Tensor\. Trees may hold only tensors, plain objects, arrays and null; wrap numbers with tensor\(\.\.\.\)\./,
    )
    expect(() => grad((_a: Tensor, b: { 'odd key': unknown }) => sum(x), { argnums: 1 })(x, { 'odd key': new Date(0) })).toThrow(
      /argument 1: the leaf at \["odd key"\] is an object \(Date\)/,
    )
    expect(() => treeMap((a: Tensor, b: Tensor) => add(a, b), { a: x }, { b: x })).toThrow(/treeMap: tree 1 does not have the expected structure: at \(root\): keys differ/)
  })

  it('argnums, cotangents, aux and customVjp misuse', () => {
    expect(() => grad((v: Tensor) => sum(v), { argnums: 1 })(x)).toThrow('grad: argnums names argument 1, but the function was called with 1 argument(s).')
    const [, pullback] = vjp((v: Tensor) => mul(v, 2), x)
    expect(() => pullback(zeros([3, 2]))).toThrow('vjp: cotangent leaf 0 has shape [3, 2] but the output leaf has [2, 3].')
    expect(() => valueAndGrad((v: Tensor) => sum(v) as unknown as readonly [Tensor, null], { hasAux: true })(x)).toThrow(/with hasAux the function must return \[value, aux\]/)
    const badBwd = customVjp((v: Tensor) => [v, null] as const, (_r: null, g: Tensor) => [g, g])
    expect(() => grad((v: Tensor) => sum(badBwd(v)))(x)).toThrow(/backward function must return an array with one cotangent per argument \(1\)/)
    const closes = (w: Tensor) => customVjp((v: Tensor) => [mul(v, w), null] as const, (_r: null, g: Tensor) => [g])
    expect(() => grad((w: Tensor) => sum(closes(w)(x)))(x)).toThrow(/fwd uses a value that is being differentiated but is not one of its arguments/)
    expect(() => checkpoint(() => 3)()).toThrow(/checkpoint: the output: the leaf at \(root\) is a number/)
  })
})
