/**
 * @file The exported fast-check arbitraries produce what they promise: shapes in bounds, tensors in
 * their value domain and away from the listed points, shape pairs that broadcast, usable keys.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, arbitraries, normal, zeros } from '../../src/index.js'

const settings = { numRuns: 50, seed: 3 }

describe('arbitraries', () => {
  it('shape and tensor respect their constraints', () => {
    fc.assert(fc.property(arbitraries.shape({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 3 }), (s) => {
      expect(s.length >= 1 && s.length <= 2 && s.every((d) => d >= 2 && d <= 3)).toBe(true)
    }), settings)
    fc.assert(fc.property(arbitraries.tensor({ min: -1, max: 1, awayFrom: [0], margin: 0.1, dtype: 'float32' }), (x) => {
      expect(x.dtype).toBe('float32')
      expect(x.data.every((v) => v >= -1 && v <= 1 && Math.abs(v) >= 0.1 - 1e-7)).toBe(true)
    }), settings)
    fc.assert(fc.property(arbitraries.tensorOfShape([2, 3]), (x) => {
      expect(x.shape).toEqual([2, 3])
    }), settings)
  })

  it('broadcastShapes gives pairs that broadcast', () => {
    fc.assert(fc.property(arbitraries.broadcastShapes(), ([a, b]) => {
      expect(() => add(zeros(a), zeros(b))).not.toThrow()
    }), settings)
  })

  it('key gives keys that sample', () => {
    fc.assert(fc.property(arbitraries.key(), (key) => {
      expect(normal(key, [2]).data.every(Number.isFinite)).toBe(true)
    }), settings)
  })
})
