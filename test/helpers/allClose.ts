/**
 * @file Elementwise closeness for tests: `expectAllClose(actual, expected, { rtol, atol })` fails
 * with the worst index and both values instead of a whole-array diff.
 */
import { expect } from 'vitest'
import { type NestedArray, Tensor } from '../../src/index.js'

export interface Tolerance {
  readonly rtol?: number
  readonly atol?: number
}

const flat = (x: Tensor | NestedArray): { values: number[]; shape: number[] } => {
  if (x instanceof Tensor) return { values: Array.from(x.data), shape: [...x.shape] }
  const shape: number[] = []
  for (let level: NestedArray = x; Array.isArray(level); level = level[0]) {
    shape.push(level.length)
    if (level.length === 0) break
  }
  const values: number[] = []
  const walk = (v: NestedArray): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else values.push(v)
  }
  walk(x)
  return { values, shape }
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (shapes must match; NaN matches
 * only NaN, ±∞ only itself). Defaults: rtol 1e-12, atol 1e-12, i.e. float64 round-off.
 */
export const expectAllClose = (actual: Tensor | NestedArray, expected: Tensor | NestedArray, tol: Tolerance = {}): void => {
  const { rtol = 1e-12, atol = 1e-12 } = tol
  const a = flat(actual)
  const e = flat(expected)
  expect(a.shape, 'shape').toEqual(e.shape)
  let worst = -1
  let worstExcess = 0
  a.values.forEach((v, i) => {
    const w = e.values[i]
    const same = Number.isNaN(v) ? Number.isNaN(w) : v === w
    const excess = same ? 0 : Math.abs(v - w) - (atol + rtol * Math.abs(w))
    if (!(excess <= worstExcess)) {
      worst = i
      worstExcess = Number.isNaN(excess) ? Infinity : excess
    }
  })
  if (worst !== -1) {
    expect.fail(
      `not close (rtol ${rtol}, atol ${atol}): at flat index ${worst} of shape [${a.shape.join(', ')}], ` +
        `actual ${a.values[worst]}, expected ${e.values[worst]} (|diff| ${Math.abs(a.values[worst] - e.values[worst])})`,
    )
  }
}
