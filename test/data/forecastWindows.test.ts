/**
 * data.chronologicalSplit and data.windowedForecastTask: the test rows come last, no training
 * target is a value of the test period, and each window holds exactly the rows that end at its row.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chronologicalSplit, windowedForecastTask } from '../../src/data/series.js'

describe('data.chronologicalSplit', () => {
  it('the last fifth tests; training stops a gap before it (its JSDoc example: clean_weather.csv)', () => {
    expect(chronologicalSplit(13509)).toEqual({ train: [0, 10806], test: [10807, 13509] })
    expect(chronologicalSplit(100, { testFraction: 0.5, gap: 0 })).toEqual({ train: [0, 50], test: [50, 100] })
  })

  it('never lets a training row, or the row its target belongs to, reach the test rows', () => {
    fc.assert(fc.property(
      fc.integer({ min: 20, max: 100_000 }), fc.double({ min: 0.05, max: 0.5, noNaN: true }), fc.integer({ min: 0, max: 5 }),
      (rows, testFraction, gap) => {
        const { train, test } = chronologicalSplit(rows, { testFraction, gap })
        expect(train[0]).toBe(0)
        expect(test[1]).toBe(rows)
        // The last training row's target lies `gap` rows ahead of it: still before the test rows.
        expect(train[1] - 1 + gap).toBeLessThan(test[0])
        expect(test[1] - test[0]).toBeGreaterThanOrEqual(Math.floor(testFraction * rows))
      },
    ), { numRuns: 200, seed: 21 })
  })

  it('refuses a series too short to split', () => {
    expect(() => chronologicalSplit(2)).toThrow(/2 rows leave no training or no test rows/)
    expect(() => chronologicalSplit(10, { testFraction: 1 })).toThrow(/testFraction must lie in \(0, 1\), got 1/)
  })
})

describe('data.windowedForecastTask', () => {
  // Column a counts rows, b = 10·a; the target of row i is a[i + 1] (tomorrow's value).
  const n = 40
  const a = Float64Array.from({ length: n }, (_, i) => i)
  const b = a.map((v) => 10 * v)
  const target = Float64Array.from({ length: n }, (_, i) => i + 1)

  it('each window ends at its row; targets and inputs are scaled by the training rows', () => {
    const task = windowedForecastTask([a, b], target, { train: [0, 30], test: [32, 40] }, { length: 4 })
    expect(task.train.xs.shape).toEqual([27, 4, 2])
    expect(task.train.range).toEqual([3, 30])
    expect(task.test?.xs.shape).toEqual([8, 4, 2])
    // Scalers from rows 0–29 only: a in [0, 29], b in [0, 290].
    expect(task.scalers.map((s) => [s.min, s.max])).toEqual([[0, 29], [0, 290]])
    const unscaled = (x: number) => x * 29
    const xs = task.train.xs.toArray() as number[][][]
    expect(xs[0].map(([v]) => unscaled(v))).toEqual([0, 1, 2, 3])
    // The first test window reaches back into the rows before the test rows (known inputs).
    const test = task.test!.xs.toArray() as number[][][]
    expect(test[0].map(([v]) => Math.round(unscaled(v)))).toEqual([29, 30, 31, 32])
    expect(Math.round(unscaled(task.train.ys.data[0]))).toBe(4)
  })

  it('no training input or target comes from the test rows', () => {
    // Test-period values are huge: any that leaked into training would show there.
    const poisoned = (c: Float64Array) => c.map((v, i) => (i >= 31 ? 1e9 : v))
    const task = windowedForecastTask([poisoned(a)], poisoned(target), { train: [0, 30], test: [31, 40] }, { length: 5 })
    expect(Math.max(...task.train.xs.data, ...task.train.ys.data)).toBeLessThan(2)
    expect(Math.max(...task.test!.ys.data)).toBeGreaterThan(1e6)
  })

  it('explains what is wrong with the rows', () => {
    expect(() => windowedForecastTask([a], target, { train: [0, 3] }, { length: 5 })).toThrow(/training rows with a full window of 5 rows/)
    expect(() => windowedForecastTask([a], target, { train: [0, 30], test: [2, 10] }, { length: 5 })).toThrow(/the test rows start at 2, but each needs the 4 rows before it/)
    expect(() => windowedForecastTask([a.subarray(1)], target, { train: [0, 30] }, { length: 5 })).toThrow(/input 0 has 39 rows, the target 40/)
  })
})
