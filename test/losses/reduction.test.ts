import { describe, expect, it } from 'vitest'
import { ShapeError, ValueError, grad, slice, tensor, type Tensor } from '../../src/index.js'
import * as losses from '../../src/losses/index.js'

// Predictions [2, 3, 1] (batch 2, time 3, one feature) with zero targets: the per-step losses are
// the squares 1, 4, 9 / 16, 25, 36.
const p = tensor([[[1], [2], [3]], [[4], [5], [6]]])
const y = tensor([[[0], [0], [0]], [[0], [0], [0]]])

describe('losses: masks and reductions', () => {
  it('a [batch, time] mask averages over the unmasked steps only', () => {
    const mask = tensor([[1, 1, 0], [1, 0, 0]])
    // kept: 1, 4 and 16 → mean 7, sum 21
    expect(losses.mse(p, y, { mask }).item()).toBe(7)
    expect(losses.mse(p, y, { mask, reduction: 'sum' }).item()).toBe(21)
  })

  it('a mask may broadcast with ones ([batch, 1]) or carry a trailing feature axis of 1 ([batch, time, 1])', () => {
    // [[1], [0]] keeps the whole first sequence: (1 + 4 + 9) / 3
    expect(losses.mse(p, y, { mask: tensor([[1], [0]]) }).item()).toBeCloseTo(14 / 3, 15)
    expect(losses.mse(p, y, { mask: tensor([[[1], [1], [0]], [[1], [0], [0]]]) }).item()).toBe(7)
  })

  it('non-binary masks act as weights: Σ w ℓ / Σ w', () => {
    expect(losses.mse(p, y, { mask: tensor([[0.5, 0.5, 0], [0, 0, 0]]) }).item()).toBe(2.5)
  })

  it('without a mask, mean is over batch and time', () => {
    expect(losses.mse(p, y).item()).toBeCloseTo(91 / 6, 14)
  })

  it('a fully masked batch has loss 0 and gradient 0, not NaN', () => {
    const mask = tensor([[0, 0, 0], [0, 0, 0]])
    expect(losses.mse(p, y, { mask }).item()).toBe(0)
    expect(Array.from(grad((q: Tensor) => losses.mse(q, y, { mask }))(p).data)).toEqual([0, 0, 0, 0, 0, 0])
  })

  it('masked steps get no gradient and do not affect the value even when they hold NaN', () => {
    const mask = tensor([[1, 1, 0], [1, 0, 0]])
    const g = grad((q: Tensor) => losses.mse(q, y, { mask }))(p)
    // 2 ŷ / 3 at the kept steps, 0 elsewhere
    expect(g.toArray()).toEqual([[[2 / 3], [4 / 3], [0]], [[8 / 3], [0], [0]]])
    const padded = tensor([[[1], [2], [NaN]], [[4], [Infinity], [NaN]]])
    expect(losses.mse(padded, y, { mask }).item()).toBe(7)
  })

  it('a masked sequence loss equals the loss on the kept steps alone', () => {
    const z = tensor([[[0.1, 2, -1], [0, 0, 3]], [[1, 1, 1], [-2, 0.5, 0]]])
    const labels = tensor([[1, 2], [0, 1]])
    const masked = losses.softmaxCrossEntropy(z, labels, { mask: tensor([[1, 0], [1, 0]]) })
    const firstSteps = losses.softmaxCrossEntropy(slice(z, [[0, 2], [0, 1], [0, 3]]), tensor([[1], [0]]))
    expect(masked.item()).toBeCloseTo(firstSteps.item(), 15)
  })

  it('rejects masks that do not fit the positions, naming the expected shape', () => {
    expect(() => losses.mse(p, y, { mask: tensor([1, 0, 1]) })).toThrow(ShapeError)
    expect(() => losses.mse(p, y, { mask: tensor([1, 0, 1]) })).toThrow(
      /losses\.mse: mask must have shape \[2, 3\] \(the positions.*e\.g\. \[2, 1\]\); got \[3\]/,
    )
    expect(() => losses.mse(p, y, { mask: tensor([[1, 0, 1], [1, 0, 1]]).toArray() as never })).toThrow(/mask must be a Tensor/)
  })

  it('rejects negative mask weights and unknown reductions', () => {
    expect(() => losses.mse(p, y, { mask: tensor([[1, -1, 0], [1, 0, 0]]) })).toThrow(ValueError)
    expect(() => losses.mse(p, y, { reduction: 'none' as never })).toThrow(/losses\.mse: reduction must be 'mean' or 'sum', got "none"/)
  })
})
