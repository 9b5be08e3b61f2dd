import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batches, takeRows, trainTestSplit } from '../../src/data/index.js'
import { grad, randomKey, sum, tensor, type Tensor } from '../../src/index.js'

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('data.batches', () => {
  it('covers every index exactly once per epoch, for both specs, with or without a key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.nat(1000), fc.boolean(), (n, b, seed, keyed) => {
        const key = keyed ? randomKey(seed) : undefined
        const bySize = batches(n, { batchSize: b }, key)
        expect(sorted(bySize.flat())).toEqual(range(n))
        expect(bySize.length).toBe(Math.ceil(n / b))
        const count = Math.min(b, n)
        const byCount = batches(n, { batchCount: count }, key)
        expect(sorted(byCount.flat())).toEqual(range(n))
        expect(byCount.length).toBe(count)
      }),
      { numRuns: 40, seed: 7 },
    )
  })

  it("follows the remainder rules: batchSize leaves a short last batch, count (the seed's) a long one", () => {
    expect(batches(10, { batchSize: 4 }).map((b) => b.length)).toEqual([4, 4, 2])
    expect(batches(10, { batchCount: 3 }).map((b) => b.length)).toEqual([3, 3, 4])
    expect(batches(5, { batchCount: 2 })).toEqual([[0, 1], [2, 3, 4]])
    // The seed's MNIST run: 1% of MNIST (700 images) in 60 batches: 59 of 11 and one of 51.
    const seed = batches(700, { batchCount: 60 }).map((b) => b.length)
    expect(seed.slice(0, 59).every((l) => l === 11)).toBe(true)
    expect(seed[59]).toBe(11 + 700 % 60)
  })

  it('same key → same order; different keys → different orders', () => {
    const a = batches(100, { batchSize: 10 }, randomKey(1))
    expect(batches(100, { batchSize: 10 }, randomKey(1))).toEqual(a)
    expect(batches(100, { batchSize: 10 }, randomKey(2))).not.toEqual(a)
    expect(a.flat()).not.toEqual(range(100))
  })

  it('rejects impossible specs', () => {
    expect(() => batches(0, { batchSize: 2 })).toThrow(/positive whole number of rows/)
    expect(() => batches(5, { batchCount: 6 })).toThrow(/batchCount must be an integer in \[1, 5\]/)
    expect(() => batches(5, { batchSize: 1.5 })).toThrow(/batchSize/)
  })
})

describe('data.takeRows', () => {
  it('gathers rows along axis 0 and passes gradients back to them', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]])
    expect(takeRows(x, [2, 0]).toArray()).toEqual([[5, 6], [1, 2]])
    const g = grad((t: Tensor) => sum(takeRows(t, [2, 2, 0])))(x)
    expect(g.toArray()).toEqual([[1, 1], [0, 0], [2, 2]])
  })
})

describe('data.trainTestSplit', () => {
  it('is reproducible, disjoint and complete', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 500 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.nat(1000), (n, f, seed) => {
        const count = Math.round(f * n)
        fc.pre(count >= 1 && count <= n - 1)
        const a = trainTestSplit(n, { test: f }, randomKey(seed))
        expect(trainTestSplit(n, { test: f }, randomKey(seed))).toEqual(a)
        expect(a.test.length).toBe(count)
        expect(sorted([...a.train, ...a.test])).toEqual(range(n))
        expect(a.train).toEqual(sorted(a.train))
      }),
      { numRuns: 40, seed: 11 },
    )
  })

  it('takes a fraction or a count, and differs between keys', () => {
    const a = trainTestSplit(10000, { test: 0.2 }, randomKey(0))
    expect(a.test.length).toBe(2000)
    expect(a.train.length).toBe(8000)
    expect(trainTestSplit(10000, { test: 0.2 }, randomKey(1)).test).not.toEqual(a.test)
    expect(trainTestSplit(10, { test: 3 }, randomKey(0)).test.length).toBe(3)
  })

  it('refuses splits with an empty part', () => {
    expect(() => trainTestSplit(10, { test: 0.01 }, randomKey(0))).toThrow(/gives 0 test rows of 10/)
    expect(() => trainTestSplit(10, { test: 10 }, randomKey(0))).toThrow(/both parts non-empty/)
    expect(() => trainTestSplit(10, { test: 2.5 }, randomKey(0))).toThrow(/fraction in \(0, 1\) or a whole count/)
  })
})
