/**
 * @file Strided views (src/tensor/indexing.ts): the collapsed view and the row odometer walk the
 * flat indices of naive index arithmetic, and so does stridedIndex.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { collapseAxes, nextPosition, stridedIndex } from '../../src/tensor/indexing.js'
import { naiveIndex, viewArb } from './stridedViews.js'

const runs = { numRuns: 150, seed: 5150 }

describe('collapseAxes and nextPosition', () => {
  it('walk the same flat indices as naive index arithmetic', () => {
    fc.assert(fc.property(viewArb(), ({ shape, strides, offset }) => {
      const size = shape.reduce((a, b) => a * b, 1)
      const expected = naiveIndex(shape, strides, offset)
      const view = collapseAxes(shape, strides)
      expect(view.shape.every((d) => d !== 1), 'no axis of length 1 is left').toBe(true)
      if (size === 0) return
      expect(view.shape.reduce((a, b) => a * b, 1)).toBe(size)
      const rank = view.shape.length
      const walked: number[] = []
      const counter = new Int32Array(Math.max(rank - 1, 0))
      const n = rank === 0 ? 1 : view.shape[rank - 1]
      const step = rank === 0 ? 0 : view.strides[rank - 1]
      for (let base = offset; walked.length < size; base += nextPosition(counter, view, rank - 1)) {
        for (let j = 0; j < n; j++) walked.push(base + j * step)
      }
      expect(walked).toEqual(expected)
      expect(Array.from(counter).every((c) => c === 0), 'the odometer wraps back to zeros').toBe(true)
    }), runs)
  })

  it('merge axes that walk memory as one and drop axes of length 1', () => {
    expect(collapseAxes([2, 3, 4], [12, 4, 1])).toEqual({ shape: [24], strides: [1] })
    expect(collapseAxes([28, 64, 128], [128, 3584, 1])).toEqual({ shape: [28, 64, 128], strides: [128, 3584, 1] })
    expect(collapseAxes([4, 1, 5], [5, 99, 1])).toEqual({ shape: [20], strides: [1] })
    expect(collapseAxes([3, 4], [0, 1])).toEqual({ shape: [3, 4], strides: [0, 1] })
    expect(collapseAxes([1, 1], [7, 3])).toEqual({ shape: [], strides: [] })
  })

  it('stridedIndex equals naive index arithmetic', () => {
    fc.assert(fc.property(viewArb(), ({ shape, strides, offset }) => {
      expect(Array.from(stridedIndex(shape, strides, offset))).toEqual(naiveIndex(shape, strides, offset))
    }), runs)
  })
})
