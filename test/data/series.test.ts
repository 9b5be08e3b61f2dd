import { describe, expect, it } from 'vitest'
import { minMaxScaler, seedWeatherSplit, sequence, seriesTask, slidingWindows } from '../../src/data/index.js'

const ramp = (n: number, from = 0) => Float64Array.from({ length: n }, (_, i) => from + i)

describe('data.sequence', () => {
  it('cuts [start, end) as a [1, T, 1] batch (JSDoc example)', () => {
    expect(sequence([5, 6, 7, 8], [1, 3]).toArray()).toEqual([[[6], [7]]])
  })

  it('rejects ranges outside the series and missing values inside', () => {
    expect(() => sequence([1, 2, 3], [2, 5])).toThrow(/within the series of 3 values/)
    expect(() => sequence([1, NaN, 3], [0, 3])).toThrow(/NaN at index 1.*missing: 'drop' or 'ffill'/s)
  })
})

describe('data.slidingWindows', () => {
  it('cuts overlapping windows with a stride', () => {
    const w = slidingWindows([1, 2, 3, 4, 5], { length: 2, stride: 1 })
    expect(w.shape).toEqual([4, 2, 1])
    expect(w.toArray()).toEqual([[[1], [2]], [[2], [3]], [[3], [4]], [[4], [5]]])
  })

  it('drops a short tail when the stride defaults to the length', () => {
    expect(slidingWindows(ramp(7), { length: 3 }).toArray()).toEqual([[[0], [1], [2]], [[3], [4], [5]]])
  })
})

describe('data.seriesTask', () => {
  // A synthetic "weather": input[i] = i, target[i] = input[i + 1], like tmax → tmax_tomorrow.
  const n = 1200
  const input = ramp(n, 40)
  const target = ramp(n, 41)

  it("uses the seed's split: days 0–99 train, 1000–1069 validate, the 50 days after training", () => {
    const task = seriesTask(input, target)
    expect(seedWeatherSplit).toEqual({ train: [0, 100], validation: [1000, 1070], extrapolate: 50 })
    expect(task.train.xs.shape).toEqual([1, 100, 1])
    expect(task.train.ys.shape).toEqual([1, 100, 1])
    expect(task.validation?.xs.shape).toEqual([1, 70, 1])
    expect(task.extrapolation?.range).toEqual([100, 150])
    expect(task.extrapolation?.ys.shape).toEqual([1, 50, 1])
    expect(Array.from(task.extrapolation?.values ?? [])).toEqual(Array.from(target.subarray(100, 150)))
  })

  it('fits the scaler on the training inputs only and applies it to targets too', () => {
    const task = seriesTask(input, target)
    expect(task.scaler).toEqual({ min: 40, max: 139, low: 0, high: 1 })
    expect(task.train.xs.data[0]).toBe(0)
    expect(task.train.xs.data[99]).toBe(1)
    expect(task.train.ys.data[99]).toBeCloseTo(100 / 99, 12) // a target beyond the training inputs
    expect(task.validation?.xs.data[0]).toBeCloseTo(1000 / 99, 12) // validation lies far outside [0, 1]
    const back = minMaxScaler.inverse(task.scaler, task.validation!.ys)
    expect(Array.from(back.data, Math.round)).toEqual(Array.from(target.subarray(1000, 1070)))
  })

  it('works without validation and extrapolation', () => {
    const task = seriesTask(input, target, { train: [10, 20] }, { dtype: 'float32' })
    expect(task.validation).toBeNull()
    expect(task.extrapolation).toBeNull()
    expect(task.train.xs.dtype).toBe('float32')
  })

  it('explains windows that do not fit the data', () => {
    expect(() => seriesTask(ramp(500), ramp(500))).toThrow(/validation window \[1000, 1070\).*500 values/)
    expect(() => seriesTask(ramp(120), ramp(120), { train: [0, 100], extrapolate: 50 })).toThrow(/50 extrapolated days/)
    expect(() => seriesTask(ramp(10), ramp(9), { train: [0, 5] })).toThrow(/same length, got 10 and 9/)
  })
})
