import { describe, expect, it } from 'vitest'
import { ShapeError, tensor } from '../../src/index.js'
import * as losses from '../../src/losses/index.js'

describe('losses.accuracy', () => {
  const predictions = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])

  it('is the share of rows whose argmax equals the class index', () => {
    expect(losses.accuracy(predictions, [1, 1, 1])).toBeCloseTo(2 / 3, 15)
    expect(losses.accuracy(predictions, tensor([1, 0, 1]))).toBe(1)
  })

  it('compares with the argmax of one-hot targets', () => {
    expect(losses.accuracy(predictions, tensor([[0, 1], [0, 1], [1, 0]]))).toBeCloseTo(1 / 3, 15)
  })

  it('takes the first maximum on ties (the seed’s one-hot argmax)', () => {
    expect(losses.accuracy(tensor([[0.5, 0.5]]), [0])).toBe(1)
    expect(losses.accuracy(tensor([[0.5, 0.5]]), [1])).toBe(0)
  })

  it('counts every step of a sequence, and only unmasked steps under a mask', () => {
    // [batch 2, time 2, classes 2]: predicted classes [[1, 0], [0, 0]] vs targets [[1, 1], [0, 1]] → 2 of 4
    const p = tensor([[[0, 1], [1, 0]], [[1, 0], [1, 0]]])
    const targets = tensor([[1, 1], [0, 1]])
    expect(losses.accuracy(p, targets)).toBe(0.5)
    // keep the first step of each sequence only: both right
    expect(losses.accuracy(p, targets, { mask: tensor([[1, 0], [1, 0]]) })).toBe(1)
    expect(losses.accuracy(p, targets, { mask: tensor([[0, 0], [0, 0]]) })).toBeNaN()
  })

  it('thresholds a single output: 0.5 for probabilities, or a given threshold for logits', () => {
    expect(losses.accuracy(tensor([[0.7], [0.2], [0.5]]), tensor([[1], [1], [1]]))).toBeCloseTo(2 / 3, 15)
    expect(losses.accuracy(tensor([[2], [-1]]), [1, 0], { threshold: 0 })).toBe(1)
  })

  it('rejects targets of the wrong shape, naming both', () => {
    expect(() => losses.accuracy(predictions, [1, 0])).toThrow(ShapeError)
    expect(() => losses.accuracy(predictions, [1, 0])).toThrow(/losses\.accuracy: targets must be one-hot rows shaped like the predictions \[3, 2\], or class indices shaped like its positions \[3\]; got \[2\]/)
  })
})
