/**
 * @file The reference kernels against naive loops, and the backend switch.
 */
import { describe, expect, it } from 'vitest'
import { type Kernels, add, jsKernels, max, normal, randomKey, tensor, useKernels } from '../../src/index.js'

/** op(A)·op(B) by the textbook triple loop, on row-major storage. */
const naive = (a: Float64Array, b: Float64Array, m: number, k: number, n: number, tA: boolean, tB: boolean): number[] => {
  const out: number[] = []
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j])
      out.push(s)
    }
  }
  return out
}

describe('jsKernels', () => {
  it('matmul handles every transpose combination and batch offsets', () => {
    const [m, k, n] = [3, 4, 2]
    const a = normal(randomKey(1), [2 * m * k]).data as Float64Array
    const b = normal(randomKey(2), [m * k * n]).data as Float64Array
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        // Two batches of a against one b repeated (a broadcast batch has offset 0 twice).
        const out = jsKernels.matmul(a, new Int32Array([0, m * k]), b, new Int32Array([0, 0]), m, k, n, tA, tB)
        const expected = [...naive(a.subarray(0, m * k), b, m, k, n, tA, tB), ...naive(a.subarray(m * k), b, m, k, n, tA, tB)]
        Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12))
      }
    }
  })

  it('reductions: sums accumulate in float64 for float32 data; max propagates NaN', () => {
    const x = new Float32Array([1e8, 1, -1e8, 1])
    expect(Array.from(jsKernels.sumInto(x, new Int32Array([0, 0, 0, 0]), 1))).toEqual([2])
    expect(max(tensor([1, Number.NaN, 3])).item()).toBeNaN()
  })

  it('useKernels switches the backend for every op and returns the previous one', () => {
    let calls = 0
    const counting: Kernels = { ...jsKernels, name: 'counting', binary: (...args) => { calls++; return jsKernels.binary(...args) } }
    const previous = useKernels(counting)
    try {
      expect(add(tensor([1]), tensor([2])).item()).toBe(3)
      expect(calls).toBe(1)
    } finally {
      expect(useKernels(previous).name).toBe('counting')
    }
    add(tensor([1]), tensor([2]))
    expect(calls).toBe(1)
  })
})
