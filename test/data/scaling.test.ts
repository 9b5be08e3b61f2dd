import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { minMaxScaler } from '../../src/data/index.js'
import { tensor } from '../../src/index.js'

describe('data.minMaxScaler', () => {
  it('maps the fitted range onto [0, 1] (JSDoc example)', () => {
    const s = minMaxScaler.fit([50, 60, 70])
    expect(s).toEqual({ min: 50, max: 70, low: 0, high: 1 })
    expect(Array.from(minMaxScaler.transform(s, [55, 70]))).toEqual([0.25, 1])
    expect(Array.from(minMaxScaler.inverse(minMaxScaler.fit([0, 10]), [0.5]))).toEqual([5])
  })

  it('round-trips: inverse(transform(x)) = x, for numbers and tensors', () => {
    fc.assert(
      fc.property(
        // Data-like values (three decimals); subnormal spreads would overflow any (max − min)⁻¹.
        fc.array(fc.integer({ min: -1e6, max: 1e6 }).map((i) => i / 1000), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: -1e7, max: 1e7 }).map((i) => i / 1000), { minLength: 1, maxLength: 20 }),
        (train, other) => {
          const s = minMaxScaler.fit(train)
          const back = minMaxScaler.inverse(s, minMaxScaler.transform(s, other))
          other.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 6))
          const t = tensor(other)
          const tBack = minMaxScaler.inverse(s, minMaxScaler.transform(s, t))
          expect(tBack.shape).toEqual(t.shape)
          other.forEach((v, i) => expect(tBack.data[i]).toBeCloseTo(v, 6))
          const scaled = minMaxScaler.transform(s, train)
          scaled.forEach((v) => {
            expect(v).toBeGreaterThanOrEqual(-1e-12)
            expect(v).toBeLessThanOrEqual(1 + 1e-12)
          })
        },
      ),
      { numRuns: 40, seed: 20240601 },
    )
  })

  it('honours a custom range and keeps tensor dtype', () => {
    const s = minMaxScaler.fit(tensor([2, 4]), { range: [-1, 1] })
    const y = minMaxScaler.transform(s, tensor([2, 3, 4], { dtype: 'float32' }))
    expect(y.dtype).toBe('float32')
    expect(Array.from(y.data)).toEqual([-1, 0, 1])
  })

  it('maps a constant training window to low and stays invertible', () => {
    const s = minMaxScaler.fit([3, 3, 3])
    expect(Array.from(minMaxScaler.transform(s, [3, 4]))).toEqual([0, 1])
    expect(Array.from(minMaxScaler.inverse(s, [0, 1]))).toEqual([3, 4])
  })

  it('treats a spread too small to invert as none instead of producing Infinity', () => {
    const s = minMaxScaler.fit([0, 5e-324])
    expect(Array.from(minMaxScaler.inverse(s, minMaxScaler.transform(s, [0, 2])))).toEqual([0, 2])
  })

  it('refuses empty or non-finite training data', () => {
    expect(() => minMaxScaler.fit([])).toThrow(/no values to fit/)
    expect(() => minMaxScaler.fit([1, NaN])).toThrow(/value 1 is NaN/)
    expect(() => minMaxScaler.fit([1, 2], { range: [1, 1] })).toThrow(/low < high/)
  })
})
