import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomKey } from '../../src/index.js'
import { epochKey, splitBatches } from '../../src/train/index.js'

describe('train.splitBatches', () => {
  it('partitions the order into consecutive batches, the last taking the remainder', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 70 }), fc.boolean(), (n, k, bySize) => {
        fc.pre(bySize || k <= n)
        const order = Array.from({ length: n }, (_, i) => n - 1 - i)
        const batches = splitBatches(order, bySize ? { batchSize: k } : { batchCount: k })
        expect(batches.flat()).toEqual(order)
        const sizes = batches.map((b) => b.length)
        if (bySize) {
          expect(sizes.length).toBe(Math.ceil(n / k))
          expect(sizes.slice(0, -1).every((s) => s === k)).toBe(true)
          expect(sizes[sizes.length - 1]).toBe(n - k * (sizes.length - 1))
        } else {
          expect(sizes.length).toBe(k)
          expect(sizes.slice(0, -1).every((s) => s === Math.floor(n / k))).toBe(true)
          expect(sizes[k - 1]).toBe(Math.floor(n / k) + (n % k))
        }
      }),
      { numRuns: 50, seed: 20240601 },
    )
  })

  it('refuses a batch count above the number of samples', () => {
    expect(() => splitBatches([0, 1, 2], { batchCount: 4 })).toThrow(/batchCount must be an integer in \[1, 3\]/)
  })
})

describe('train.epochKey', () => {
  it("is a pure function of (key, epoch), distinct for each epoch", () => {
    const key = randomKey(12)
    const keys = Array.from({ length: 6 }, (_, e) => epochKey(key, e))
    expect(new Set(keys.map((k) => k.words.join(','))).size).toBe(6)
    expect(epochKey(key, 5)).toEqual(keys[5])
  })
})
