import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ShapeError, ValueError, arbitraries, checkGrads, grad, sigmoid, softmax, tensor, type Tensor,
} from '../../src/index.js'
import * as losses from '../../src/losses/index.js'
import { expectGradsOk, layout, maskFor, oneHotFor, runs } from './arbitraries.js'

const LN2 = 0.6931471805599453
const LN3 = 1.0986122886681098
const LN10 = 2.302585092994046

const finite = (x: Tensor): boolean => x.data.every(Number.isFinite)

describe('losses: golden values', () => {
  it('binaryCrossEntropy: −[y log p + (1 − y) log(1 − p)], summed over features, mean over the batch', () => {
    // row 1: y = 1, p = 0.5 → ln 2; row 2: y = 0, p = 0.9 → −ln 0.1 = ln 10
    expect(losses.binaryCrossEntropy(tensor([[0.5], [0.9]]), tensor([[1], [0]]), { eps: 0 }).item()).toBeCloseTo((LN2 + LN10) / 2, 15)
    // two features of one example add up: ln 2 + ln 2
    expect(losses.binaryCrossEntropy(tensor([[0.5, 0.5]]), tensor([[1, 0]]), { eps: 0 }).item()).toBeCloseTo(2 * LN2, 15)
  })

  it('binaryCrossEntropy: the default ε = 1e-9 keeps saturated probabilities finite', () => {
    // p = 0 with y = 1 (and p = 1 with y = 0): −log(0 + 1e-9) = 9 ln 10 instead of ∞
    const p = tensor([[0], [1]])
    const y = tensor([[1], [0]])
    expect(losses.binaryCrossEntropy(p, y).item()).toBeCloseTo(9 * LN10, 6)
    expect(finite(grad((q: Tensor) => losses.binaryCrossEntropy(q, y))(p))).toBe(true)
    expect(losses.binaryCrossEntropy(p, y, { eps: 0 }).item()).toBe(Infinity)
  })

  it('categoricalCrossEntropy: −Σ_c y_c log p_c, with one-hot rows or class indices', () => {
    // −ln 0.8 and −ln 0.5, averaged
    const p = tensor([[0.2, 0.8], [0.5, 0.5]])
    const expected = (-Math.log(0.8) + LN2) / 2
    expect(losses.categoricalCrossEntropy(p, [1, 0], { eps: 0 }).item()).toBeCloseTo(expected, 15)
    expect(losses.categoricalCrossEntropy(p, tensor([[0, 1], [1, 0]]), { eps: 0 }).item()).toBeCloseTo(expected, 15)
    expect(losses.categoricalCrossEntropy(tensor([[0.2, 0.8]]), [1], { eps: 0 }).item()).toBeCloseTo(-Math.log(0.8), 15)
  })

  it('softmaxCrossEntropy: logSumExp(z) − z_label', () => {
    // softmax([0, ln 3]) = [1/4, 3/4] → −ln(3/4) = ln(4/3);  uniform over 3 classes → ln 3
    expect(losses.softmaxCrossEntropy(tensor([[0, Math.log(3)]]), [1]).item()).toBeCloseTo(Math.log(4 / 3), 15)
    expect(losses.softmaxCrossEntropy(tensor([[1, 1, 1]]), tensor([2])).item()).toBeCloseTo(LN3, 15)
    expect(losses.softmaxCrossEntropy(tensor([[1, 1, 1]]), tensor([[0, 0, 1]])).item()).toBeCloseTo(LN3, 15)
  })

  it('sigmoidBinaryCrossEntropy: softplus(z) − y z, ln 2 at z = 0 whatever the target', () => {
    expect(losses.sigmoidBinaryCrossEntropy(tensor([[0, 0, 0]]), tensor([[0, 1, 0.3]])).item()).toBeCloseTo(3 * LN2, 15)
  })
})

describe('losses: stability at |logits| = 1000', () => {
  it('softmaxCrossEntropy is exact and its gradient is softmax − y', () => {
    const z = tensor([[1000, -1000, 0]])
    expect(losses.softmaxCrossEntropy(z, [0]).item()).toBe(0)
    expect(losses.softmaxCrossEntropy(z, [1]).item()).toBe(2000)
    expect(grad((x: Tensor) => losses.softmaxCrossEntropy(x, [1]))(z).toArray()).toEqual([[1, -1, 0]])
    const z32 = tensor([[1000, -1000]], { dtype: 'float32' })
    expect(losses.softmaxCrossEntropy(z32, [1]).item()).toBe(2000)
  })

  it('sigmoidBinaryCrossEntropy is exact and its gradient is σ(z) − y', () => {
    const z = tensor([[1000], [-1000]])
    expect(losses.sigmoidBinaryCrossEntropy(z, tensor([[1], [0]])).item()).toBe(0)
    expect(losses.sigmoidBinaryCrossEntropy(z, tensor([[0], [1]])).item()).toBe(1000)
    // mean over 2 positions: (σ(z) − y) / 2
    expect(grad((x: Tensor) => losses.sigmoidBinaryCrossEntropy(x, tensor([[0], [1]])))(z).toArray()).toEqual([[0.5], [-0.5]])
    const z32 = tensor([[1000], [-1000]], { dtype: 'float32' })
    expect(losses.sigmoidBinaryCrossEntropy(z32, tensor([[0], [1]])).item()).toBe(1000)
  })
})

describe('losses: fused forms equal the unfused compositions where both are finite', () => {
  const logitsAndLabels = layout().chain((s) => fc.tuple(arbitraries.tensorOfShape(s, { min: -6, max: 6 }), oneHotFor(s), arbitraries.tensorOfShape(s, { min: 0, max: 1 })))

  it('softmaxCrossEntropy(z, y) = categoricalCrossEntropy(softmax(z), y) with ε = 0, values and gradients', () => {
    fc.assert(
      fc.property(logitsAndLabels, ([z, y]) => {
        const fused = (x: Tensor) => losses.softmaxCrossEntropy(x, y)
        const unfused = (x: Tensor) => losses.categoricalCrossEntropy(softmax(x, -1), y, { eps: 0 })
        expect(fused(z).item()).toBeCloseTo(unfused(z).item(), 10)
        const [a, b] = [grad(fused)(z), grad(unfused)(z)]
        a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i], 10))
      }),
      runs,
    )
  })

  it('sigmoidBinaryCrossEntropy(z, y) = binaryCrossEntropy(sigmoid(z), y) with ε = 0, values and gradients', () => {
    fc.assert(
      fc.property(logitsAndLabels, ([z, , y]) => {
        const fused = (x: Tensor) => losses.sigmoidBinaryCrossEntropy(x, y)
        const unfused = (x: Tensor) => losses.binaryCrossEntropy(sigmoid(x), y, { eps: 0 })
        expect(fused(z).item()).toBeCloseTo(unfused(z).item(), 10)
        const [a, b] = [grad(fused)(z), grad(unfused)(z)]
        a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i], 10))
      }),
      runs,
    )
  })

  it('class indices and one-hot rows give the same loss', () => {
    const z = tensor([[[0.1, 2, -1], [0, 0, 3]], [[1, 1, 1], [-2, 0.5, 0]]])
    const indices = tensor([[1, 2], [0, 1]])
    const rows = tensor([[[0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0]]])
    expect(losses.softmaxCrossEntropy(z, indices).item()).toBe(losses.softmaxCrossEntropy(z, rows).item())
  })
})

describe('losses: gradients pass checkGrads (orders 1 and 2) over generated shapes', () => {
  const reduction = fc.constantFrom<'mean' | 'sum'>('mean', 'sum')

  it('binaryCrossEntropy (in probs and in soft targets)', () => {
    const args = layout().chain((s) => fc.tuple(arbitraries.tensorOfShape(s, { min: 0.05, max: 0.95 }), arbitraries.tensorOfShape(s, { min: 0, max: 1 }), maskFor(s), reduction))
    fc.assert(
      fc.property(args, ([p, y, mask, r]) => {
        expectGradsOk(checkGrads((a: Tensor, b: Tensor) => losses.binaryCrossEntropy(a, b, { reduction: r, mask }), [p, y], { order: 2 }))
      }),
      runs,
    )
  })

  it('categoricalCrossEntropy', () => {
    const args = layout().chain((s) => fc.tuple(arbitraries.tensorOfShape(s, { min: 0.05, max: 0.95 }), oneHotFor(s), maskFor(s), reduction))
    fc.assert(
      fc.property(args, ([p, y, mask, r]) => {
        expectGradsOk(checkGrads((a: Tensor) => losses.categoricalCrossEntropy(a, y, { reduction: r, mask }), [p], { order: 2 }))
      }),
      runs,
    )
  })

  it('softmaxCrossEntropy (in logits, and in soft labels)', () => {
    const args = layout().chain((s) => fc.tuple(arbitraries.tensorOfShape(s, { min: -3, max: 3 }), arbitraries.tensorOfShape(s, { min: 0, max: 1 }), maskFor(s), reduction))
    fc.assert(
      fc.property(args, ([z, y, mask, r]) => {
        expectGradsOk(checkGrads((a: Tensor, b: Tensor) => losses.softmaxCrossEntropy(a, b, { reduction: r, mask }), [z, y], { order: 2 }))
      }),
      runs,
    )
  })

  it('sigmoidBinaryCrossEntropy (in logits and in targets)', () => {
    const args = layout().chain((s) => fc.tuple(arbitraries.tensorOfShape(s, { min: -4, max: 4 }), arbitraries.tensorOfShape(s, { min: 0, max: 1 }), maskFor(s), reduction))
    fc.assert(
      fc.property(args, ([z, y, mask, r]) => {
        expectGradsOk(checkGrads((a: Tensor, b: Tensor) => losses.sigmoidBinaryCrossEntropy(a, b, { reduction: r, mask }), [z, y], { order: 2 }))
      }),
      runs,
    )
  })
})

describe('losses: bad inputs', () => {
  it('shape mismatches name the loss and both shapes', () => {
    expect(() => losses.binaryCrossEntropy(tensor([[0.5, 0.5]]), tensor([[1], [0]]))).toThrow(
      'losses.binaryCrossEntropy: probs and targets must have the same shape, got probs [1, 2] and targets [2, 1].',
    )
    expect(() => losses.sigmoidBinaryCrossEntropy(tensor([[0, 0]]), tensor([[1, 0, 1]]))).toThrow(
      'losses.sigmoidBinaryCrossEntropy: logits and targets must have the same shape, got logits [1, 2] and targets [1, 3].',
    )
    expect(() => losses.softmaxCrossEntropy(tensor([[0, 1, 2], [3, 4, 5]]), [0, 1, 2])).toThrow(ShapeError)
    expect(() => losses.softmaxCrossEntropy(tensor([[0, 1, 2], [3, 4, 5]]), [0, 1, 2])).toThrow(
      /losses\.softmaxCrossEntropy: labels must be one-hot rows shaped like the logits \[2, 3\], or class indices shaped like its positions \[2\]; got \[3\]/,
    )
    expect(() => losses.categoricalCrossEntropy(tensor([[0.5, 0.5]]), tensor([[0, 1, 0]]))).toThrow(/losses\.categoricalCrossEntropy: targets .*\[1, 2\].*got \[1, 3\]/)
  })

  it('class indices must be integers within the classes', () => {
    expect(() => losses.softmaxCrossEntropy(tensor([[0, 1]]), [2])).toThrow(ValueError)
    expect(() => losses.softmaxCrossEntropy(tensor([[0, 1]]), [2])).toThrow(/losses\.softmaxCrossEntropy: class indices in labels must be integers in \[0, 2\)/)
    expect(() => losses.softmaxCrossEntropy(tensor([[0, 1]]), [0.5])).toThrow(/class indices/)
  })

  it('probabilities must lie in [0, 1], pointing to the fused loss for logits', () => {
    expect(() => losses.binaryCrossEntropy(tensor([[1.5]]), tensor([[1]]))).toThrow(/found 1\.5 .*losses\.sigmoidBinaryCrossEntropy/)
    expect(() => losses.categoricalCrossEntropy(tensor([[-2, 3]]), [1])).toThrow(/found -2 .*losses\.softmaxCrossEntropy/)
  })

  it('rejects a negative ε', () => {
    expect(() => losses.binaryCrossEntropy(tensor([[0.5]]), tensor([[1]]), { eps: -1 })).toThrow(/eps must be a finite number ≥ 0/)
  })
})
