/** @file Deterministic test data for the kernel tests. */
import type { DType, Data } from '../../src/index.js'

/** Deterministic values in [−scale, scale] from a seed (a linear congruential sequence; no Math.random). */
export const values = (dtype: DType, n: number, seed: number, scale = 1): Data => {
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale
  }
  return out
}
