import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShapeError, arbitraries, checkGrads, grad, tensor, type Tensor } from '../../src/index.js'
import * as losses from '../../src/losses/index.js'
import { expectGradsOk, layout, maskFor, runs } from './arbitraries.js'

describe('losses.mse', () => {
  it('sums squared errors over features and averages over the batch (the seed’s OLS)', () => {
    // rows: (1 − 0)² + (2 − 2)² = 1 and (3 − 1)² + (4 − 1)² = 13 → mean 7, sum 14
    const p = tensor([[1, 2], [3, 4]])
    const y = tensor([[0, 2], [1, 1]])
    expect(losses.mse(p, y).item()).toBe(7)
    expect(losses.mse(p, y, { reduction: 'sum' }).item()).toBe(14)
  })

  it('averages a sequence over batch and time: [batch, time, features]', () => {
    // 2 × 3 positions with one feature: errors 1..6 → squares 1, 4, 9, 16, 25, 36, mean 91/6
    const p = tensor([[[1], [2], [3]], [[4], [5], [6]]])
    const y = tensor([[[0], [0], [0]], [[0], [0], [0]]])
    expect(losses.mse(p, y).item()).toBeCloseTo(91 / 6, 14)
  })

  it('has gradient 2 (ŷ − y) / positions', () => {
    const p = tensor([[1, 2], [3, 4]])
    const y = tensor([[0, 2], [1, 1]])
    expect(grad((q: Tensor) => losses.mse(q, y))(p).toArray()).toEqual([[1, 0], [2, 3]])
  })

  it('passes checkGrads (orders 1 and 2) in both arguments, any layout, with and without a mask', () => {
    const args = layout().chain((s) =>
      fc.tuple(arbitraries.tensorOfShape(s), arbitraries.tensorOfShape(s), maskFor(s), fc.constantFrom<'mean' | 'sum'>('mean', 'sum')),
    )
    fc.assert(
      fc.property(args, ([p, y, mask, reduction]) => {
        expectGradsOk(checkGrads((a: Tensor, b: Tensor) => losses.mse(a, b, { reduction }), [p, y], { order: 2 }))
        expectGradsOk(checkGrads((a: Tensor) => losses.mse(a, y, { mask, reduction }), [p], { order: 2 }))
      }),
      runs,
    )
  })

  it('names itself and both shapes on a mismatch', () => {
    expect(() => losses.mse(tensor([[1, 2, 3], [4, 5, 6]]), tensor([[1, 2, 3, 4], [5, 6, 7, 8]]))).toThrow(ShapeError)
    expect(() => losses.mse(tensor([[1, 2, 3], [4, 5, 6]]), tensor([[1, 2, 3, 4], [5, 6, 7, 8]]))).toThrow(
      'losses.mse: predictions and targets must have the same shape, got predictions [2, 3] and targets [2, 4].',
    )
  })

  it('asks for a feature axis, suggesting the reshape', () => {
    expect(() => losses.mse(tensor([1, 2, 3, 4]), tensor([1, 2, 3, 4]))).toThrow(/losses\.mse: predictions must have a batch axis and a feature axis.*got shape \[4\]\. For one output per example, reshape to \[4, 1\]/)
  })
})
