/**
 * @file The `affine` primitive (`affineRows` in src/autodiff/ops/linalg.ts, what dense layers and
 * input projections call): on whichever backend the test project selects, its value and its three
 * cotangents equal those of `add(matmul(x, w), b)` bit for bit, dense and one-hot x, both dtypes;
 * it passes checkGrads at orders 1 and 2; operands it does not fuse take the composition.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Tensor, add, arbitraries, grad, matmul, oneHot, sum, tanh, tensor } from '../../src/index.js'
import { affineRows } from '../../src/autodiff/ops/linalg.js'
import { selectAffine } from '../../src/tensor/selection.js'
import { expectGradsOk } from '../nn/support.js'

const runs = { numRuns: 40, seed: 20261126 }
const dims = fc.integer({ min: 1, max: 70 })

/** A loss that weighs every output differently, so each cotangent entry is distinct. */
const lossOf = (affine: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => (x: Tensor, w: Tensor, b: Tensor): Tensor =>
  sum(tanh(affine(x, w, b)))

const composed = (x: Tensor, w: Tensor, b: Tensor): Tensor => add(matmul(x, w), b)

const expectBitEqual = (actual: Tensor, expected: Tensor, what: string): void => {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape)
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype)
  expect(Array.from(actual.data), what).toEqual(Array.from(expected.data))
}

const compare = (x: Tensor, w: Tensor, b: Tensor): void => {
  expectBitEqual(affineRows(x, w, b), composed(x, w, b), 'value')
  const fused = grad(lossOf(affineRows), { argnums: [0, 1, 2] })(x, w, b) as Tensor[]
  const reference = grad(lossOf(composed), { argnums: [0, 1, 2] })(x, w, b) as Tensor[]
  ;['dx', 'dw', 'db'].forEach((name, i) => expectBitEqual(fused[i], reference[i], name))
}

describe.each<DType>(['float32', 'float64'])('affine, %s', (dtype) => {
  const matrix = (rows: number, columns: number) => arbitraries.tensor({ shape: [rows, columns], dtype, min: -2, max: 2 })
  const vector = (n: number) => arbitraries.tensor({ shape: [n], dtype, min: -2, max: 2 })

  it('equals add(matmul(x, w), b) bit for bit, value and gradients', () => {
    fc.assert(fc.property(
      fc.tuple(dims, dims, dims).chain(([m, k, n]) => fc.tuple(matrix(m, k), matrix(k, n), vector(n))),
      ([x, w, b]) => compare(x, w, b),
    ), runs)
  })

  // The bias goes onto w's rows before the selection (fewer classes than rows) or onto the selected rows.
  it.each([[128, 16, 20], [16, 64, 40]])('equals the composition with one-hot inputs (a row selection): %i rows of %i classes', (rows, classes, n) => {
    const x = oneHot(tensor(Array.from({ length: rows }, (_, i) => (i * 7) % classes)), classes, { dtype })
    const w = tensor(Array.from({ length: classes * n }, (_, i) => Math.sin(i)), { shape: [classes, n], dtype })
    const b = tensor(Array.from({ length: n }, (_, i) => Math.cos(i)), { dtype })
    expect(selectAffine(x.data, w.data, b.data, rows, classes, n), 'the product is a selection').not.toBeNull()
    compare(x, w, b)
  })
})

describe('affine', () => {
  it('passes checkGrads at orders 1 and 2', () => {
    const x = tensor([[0.3, -1.2, 2], [0.7, 0.1, -0.4]])
    const w = tensor([[0.5, -0.25], [0.9, 0.2], [-0.6, 1.1]])
    const b = tensor([0.1, -0.3])
    expectGradsOk(lossOf(affineRows), [x, w, b], { order: 1 })
    expectGradsOk(lossOf(affineRows), [x, w, b], { order: 2 })
  })

  it('keeps add(matmul(x, w), b)\'s broadcasting and dtype promotion for operands it does not fuse', () => {
    const x = tensor([[0.3, -1.2, 2], [0.7, 0.1, -0.4]])
    const w = tensor([[0.5, -0.25], [0.9, 0.2], [-0.6, 1.1]], { dtype: 'float32' })
    for (const b of [tensor([[0.1, -0.3]]), tensor([0.1, -0.3], { dtype: 'float32' })]) {
      const y = affineRows(x, w, b)
      expect(y.dtype, 'mixed dtypes promote to float64').toBe('float64')
      expect(y.shape).toEqual([2, 2])
      expectBitEqual(y, composed(x, w, b), `b ${b.shape} ${b.dtype}`)
    }
  })
})
