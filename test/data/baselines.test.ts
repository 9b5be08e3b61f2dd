/**
 * The weather baselines against answers known in closed form: persistence and mean absolute error
 * by hand, least squares against the simple-regression formulas and exact recoveries, the lagged
 * design matrix entry by entry, and the linear forecaster on series it can fit exactly.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  dayOfYear, lagFeatures, leastSquares, linearForecast, meanAbsoluteError, persistence, predictLinear, seasonColumns,
} from '../../src/data/baselines.js'

const matrix = (rows: readonly (readonly number[])[]) => ({ rows: rows.length, columns: rows[0].length, data: Float64Array.from(rows.flat()) })

describe('data.persistence and data.meanAbsoluteError', () => {
  it("forecast each row by today's value; the error is the mean of |forecast − actual|", () => {
    const today = [60, 52, 52, 53, 50]
    const tomorrow = [52, 52, 53, 50, 55]
    const forecasts = persistence(today, [1, 5])
    expect(Array.from(forecasts)).toEqual([52, 52, 53, 50])
    // |52−52| + |52−53| + |53−50| + |50−55| = 0 + 1 + 3 + 5
    expect(meanAbsoluteError(forecasts, tomorrow.slice(1))).toBe(9 / 4)
  })

  it('reject rows outside the series and arrays of different lengths', () => {
    expect(() => persistence([1, 2], [1, 3])).toThrow(/rows \[1, 3\) must be a non-empty range within \[0, 2\)/)
    expect(() => meanAbsoluteError([1], [1, 2])).toThrow(/same non-zero length, got 1 and 2/)
  })
})

describe('data.leastSquares', () => {
  it('a straight line through noisy points: the simple-regression formulas', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true })), { minLength: 3, maxLength: 40 }),
      (points) => {
        const xs = points.map(([x]) => x)
        const ys = points.map(([, y]) => y)
        const n = xs.length
        const mx = xs.reduce((s, v) => s + v, 0) / n
        const my = ys.reduce((s, v) => s + v, 0) / n
        const sxx = xs.reduce((s, v) => s + (v - mx) ** 2, 0)
        fc.pre(sxx > 1e-3 * n)
        const slope = xs.reduce((s, v, i) => s + (v - mx) * (ys[i] - my), 0) / sxx
        const w = leastSquares(matrix(xs.map((x) => [x, 1])), ys)
        expect(w[0]).toBeCloseTo(slope, 9)
        expect(w[1]).toBeCloseTo(my - slope * mx, 9)
      },
    ), { numRuns: 100, seed: 21 })
  })

  it('recovers exact weights of a consistent system to 1e-12, and its JSDoc example', () => {
    const x = matrix([[1, 0, 2, 1], [0, 1, 1, 1], [3, 1, 0, 1], [2, 2, 2, 1], [1, 5, 1, 1], [4, 0, 3, 1]])
    const truth = [0.5, -2, 3, 7]
    const y = predictLinear(x, truth)
    const w = leastSquares(x, y)
    w.forEach((v, i) => expect(Math.abs(v - truth[i])).toBeLessThan(1e-12))
    const example = leastSquares(matrix([[0, 1], [1, 1], [2, 1]]), [1, 3, 5])
    expect(example[0]).toBeCloseTo(2, 12)
    expect(example[1]).toBeCloseTo(1, 12)
  })

  it('the residual is orthogonal to every column (the normal equations hold)', () => {
    const x = matrix([[1, 2, 1], [2, 1, 1], [3, 5, 1], [4, 3, 1], [5, 8, 1]])
    const y = [1, 4, 2, 8, 5]
    const residual = predictLinear(x, leastSquares(x, y)).map((p, i) => y[i] - p)
    for (let j = 0; j < x.columns; j++) {
      expect(Math.abs(residual.reduce((s, r, i) => s + r * x.data[i * x.columns + j], 0))).toBeLessThan(1e-12)
    }
  })

  it('gives a column in the span of the ones before it weight 0, and fits the rest as without it', () => {
    // Column 1 = 2 · column 0; column 3 is constant, like the intercept column 2.
    const rows = [[1, 2, 1, 5], [2, 4, 1, 5], [3, 6, 1, 5], [5, 10, 1, 5]]
    const y = [2, 3, 5, 6]
    const w = leastSquares(matrix(rows), y)
    const without = leastSquares(matrix(rows.map(([a, , one]) => [a, one])), y)
    expect([w[1], w[3]]).toEqual([0, 0])
    expect(w[0]).toBeCloseTo(without[0], 12)
    expect(w[2]).toBeCloseTo(without[1], 12)
  })

  it('refuses an underdetermined system', () => {
    expect(() => leastSquares(matrix([[1, 2, 3]]), [1])).toThrow(/x \[1, 3\] has fewer rows than columns/)
  })
})

describe('data.lagFeatures', () => {
  it('lays out lags newest first per column, then the extra columns, then 1', () => {
    const m = lagFeatures([[1, 2, 3, 4], [10, 20, 30, 40]], [2, 4], { lags: 2, extra: [[-1, -2, -3, -4]] })
    expect(m.columns).toBe(2 * 2 + 1 + 1)
    expect(Array.from(m.data)).toEqual([3, 2, 30, 20, -3, 1, 4, 3, 40, 30, -4, 1])
  })

  it('needs the full history of every row', () => {
    expect(() => lagFeatures([[1, 2, 3]], [1, 3], { lags: 3 })).toThrow(/rows \[1, 3\) must be a non-empty range within \[2, 3\)/)
  })
})

describe('data.dayOfYear and data.seasonColumns', () => {
  it('counts days from 1 January, leap years included', () => {
    expect(dayOfYear('2021-01-01')).toBe(1)
    expect(dayOfYear('2021-02-01')).toBe(32)
    expect(dayOfYear('2020-12-31')).toBe(366)
    expect(dayOfYear('2021-12-31')).toBe(365)
    expect(() => dayOfYear('2021-02-30')).toThrow(/expected a date written YYYY-MM-DD, got "2021-02-30"/)
  })

  it('puts 31 December next to 1 January on the circle', () => {
    const [sin, cos] = seasonColumns(['2021-12-31', '2022-01-01', '2022-07-02'])
    // Days 365 and 1 lie 1.25 days of a 365.25-day circle apart: a chord of 2 sin(π · 1.25 / 365.25).
    expect(Math.hypot(sin[0] - sin[1], cos[0] - cos[1])).toBeCloseTo(2 * Math.sin((Math.PI * 1.25) / 365.25), 12)
    expect(cos[2]).toBeLessThan(-0.99)
  })
})

describe('data.linearForecast', () => {
  it("fits the training rows only and forecasts the test rows (its JSDoc example)", () => {
    const result = linearForecast([[1, 2, 3, 4, 5]], [2, 3, 4, 5, 6], { train: [0, 3], test: [3, 5] }, { lags: 1 })
    expect(Array.from(result.forecasts).map((v) => Number(v.toFixed(12)))).toEqual([5, 6])
    expect(result.fitted).toEqual([0, 3])
  })

  it('an autoregressive series of order 2 is forecast exactly; test targets are never read', () => {
    // x[t+1] = 0.6 x[t] − 0.3 x[t−1] + 2, target[t] = x[t+1].
    const x = [1, 4]
    for (let t = 1; t < 60; t++) x.push(0.6 * x[t] - 0.3 * x[t - 1] + 2)
    const target = x.slice(1).concat([Number.NaN])
    const inputs = [x.slice(0, target.length)]
    // Poison the test targets: a fit that read them would turn NaN.
    const poisoned = target.map((v, i) => (i >= 40 ? Number.NaN : v))
    const { weights, forecasts, fitted } = linearForecast(inputs, poisoned, { train: [0, 40], test: [40, 59] }, { lags: 2 })
    expect(fitted).toEqual([1, 40])
    ;[0.6, -0.3, 2].forEach((w, i) => expect(weights[i]).toBeCloseTo(w, 10))
    forecasts.forEach((f, i) => expect(f).toBeCloseTo(target[40 + i], 9))
  })
})
