import { describe, expect, it } from 'vitest'
import { nextStepTask, oscillator } from '../../src/data/index.js'

describe('data.oscillator', () => {
  it("samples t ∈ [0, 30) at dt = 0.1 with the seed's constants: 300 points", () => {
    const { t, x, v } = oscillator()
    expect(t.length).toBe(300)
    expect(x.length).toBe(300)
    expect(v.length).toBe(300)
    expect(t[0]).toBe(0)
    expect(t[299]).toBeCloseTo(29.9, 12)
  })

  it('takes semi-implicit Euler steps (hand-computed)', () => {
    // a₀ = −(0.1·0 + 1·1)/1 = −1;       v₁ = 0 − 0.1 = −0.1;       x₁ = 1 + (−0.1)(0.1) = 0.99
    // a₁ = −(0.1·(−0.1) + 0.99) = −0.98; v₂ = −0.1 − 0.098 = −0.198; x₂ = 0.99 − 0.0198 = 0.9702
    // a₂ = −(−0.0198 + 0.9702) = −0.9504; v₃ = −0.198 − 0.09504 = −0.29304; x₃ = 0.9702 − 0.029304 = 0.940896
    const { x, v } = oscillator()
    expect(x[0]).toBe(1)
    expect(v[0]).toBe(0)
    expect(v[1]).toBeCloseTo(-0.1, 14)
    expect(x[1]).toBeCloseTo(0.99, 14)
    expect(v[2]).toBeCloseTo(-0.198, 14)
    expect(x[2]).toBeCloseTo(0.9702, 14)
    expect(v[3]).toBeCloseTo(-0.29304, 14)
    expect(x[3]).toBeCloseTo(0.940896, 14)
  })

  it('loses energy E = ½mv² + ½kx²: successive peaks of x shrink, about by e^(−c·T/2m) per period', () => {
    const { x, v } = oscillator()
    const energy = (i: number) => 0.5 * v[i] ** 2 + 0.5 * x[i] ** 2
    const peaks: number[] = []
    for (let i = 1; i + 1 < x.length; i++) if (x[i] > x[i - 1] && x[i] >= x[i + 1]) peaks.push(i)
    expect(peaks.length).toBeGreaterThanOrEqual(3)
    for (let p = 1; p < peaks.length; p++) {
      expect(x[peaks[p]]).toBeLessThan(x[peaks[p - 1]])
      expect(energy(peaks[p])).toBeLessThan(energy(peaks[p - 1]))
    }
    // Period 2π/√(k/m − (c/2m)²) ≈ 6.29 s; amplitude falls by e^(−0.05·6.29) ≈ 0.73 per period.
    const ratio = x[peaks[1]] / x[peaks[0]]
    expect(ratio).toBeGreaterThan(0.69)
    expect(ratio).toBeLessThan(0.77)
    // Energy ∝ e^(−c t/m): at t ≈ 30 about e^(−3) ≈ 0.05 of the start.
    expect(energy(299) / energy(0)).toBeLessThan(0.1)
  })

  it('keeps energy without damping (symplectic scheme: bounded, no drift)', () => {
    const { x, v } = oscillator({ c: 0, tEnd: 100 })
    let worst = 0
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(0.5 * v[i] ** 2 + 0.5 * x[i] ** 2 - 0.5))
    expect(worst).toBeLessThan(0.03)
  })

  it('rejects a non-positive step or mass', () => {
    expect(() => oscillator({ dt: 0 })).toThrow(/dt must be a finite positive number/)
    expect(() => oscillator({ m: -1 })).toThrow(/m must be/)
  })
})

describe('data.nextStepTask', () => {
  it('pairs x[i] with x[i + 1] as [1, T − 1, 1] tensors', () => {
    const { xs, ys } = nextStepTask([1, 2, 3, 4])
    expect(xs.shape).toEqual([1, 3, 1])
    expect(ys.shape).toEqual([1, 3, 1])
    expect(xs.toArray()).toEqual([[[1], [2], [3]]])
    expect(ys.toArray()).toEqual([[[2], [3], [4]]])
  })

  it("gives the seed's oscillator task shape", () => {
    const { xs, ys } = nextStepTask(oscillator().x, { dtype: 'float32' })
    expect(xs.shape).toEqual([1, 299, 1])
    expect(ys.dtype).toBe('float32')
    expect(ys.data[0]).toBeCloseTo(0.99, 6)
  })

  it('needs two values', () => {
    expect(() => nextStepTask([1])).toThrow(/at least 2 values/)
  })
})
