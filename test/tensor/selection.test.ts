/**
 * One-hot products as row selection (src/tensor/selection.ts) against the plain product: equal
 * for A·B and Aᵀ·B with one-hot rows, in both dtypes; declined (null) for anything else — a dense
 * row, a row of zeros, a 2 in place of the 1, a non-finite B (where 0·∞ must give NaN) and
 * products too small to be worth the scan.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, jsKernels } from '../../src/index.js'
import { selectProduct } from '../../src/tensor/selection.js'

const SINGLE = new Int32Array(1)
const make = (dtype: DType, values: ArrayLike<number>) => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values))

const caseArb = fc.record({
  rows: fc.integer({ min: 8, max: 40 }),
  cols: fc.integer({ min: 8, max: 40 }),
  n: fc.integer({ min: 512, max: 600 }), // above the size where selection starts
  transposeA: fc.boolean(),
  seed: fc.nat(),
})

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never

/** A `[rows, cols]` one-hot matrix and a dense B, from a seed. */
const operands = (dtype: DType, { rows, cols, n, transposeA, seed }: Case) => {
  let s = seed >>> 0
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
  const a = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) a[r * cols + Math.floor(next() * cols)] = 1
  const [m, k] = transposeA ? [cols, rows] : [rows, cols]
  const b = Float64Array.from({ length: k * n }, () => next() - 0.5)
  return { a: make(dtype, a), b: make(dtype, b), m, k }
}

describe.each(['float32', 'float64'] as const)('selectProduct, %s', (dtype) => {
  it('equals the product for one-hot rows, A·B and Aᵀ·B', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { a, b, m, k } = operands(dtype, c)
      const selected = selectProduct(a, b, m, k, c.n, c.transposeA)
      expect(selected).not.toBeNull()
      const expected = jsKernels.matmul(a, SINGLE, b, SINGLE, m, k, c.n, c.transposeA, false)
      expect(selected!.constructor).toBe(expected.constructor)
      expect(Array.from(selected!)).toEqual(Array.from(expected))
    }), { numRuns: 60, seed: 3 })
  })

  it('declines anything that is not a one-hot selection', () => {
    const c = { rows: 16, cols: 16, n: 256, transposeA: false, seed: 1 }
    const { a, b, m, k } = operands(dtype, c)
    const variants: [string, (x: Float32Array | Float64Array) => void][] = [
      ['a second 1 in a row', (x) => { x[0] = 1; x[1] = 1 }],
      ['a row of zeros', (x) => x.fill(0, 0, 16)],
      ['a 2 in place of the 1', (x) => { x.fill(0, 0, 16); x[3] = 2 }],
    ]
    for (const [what, spoil] of variants) {
      const bad = a.slice()
      spoil(bad)
      expect(selectProduct(bad, b, m, k, c.n, false), what).toBeNull()
    }
    const infinite = b.slice()
    infinite[5] = Infinity
    expect(selectProduct(a, infinite, m, k, c.n, false), 'non-finite B').toBeNull()
    expect(selectProduct(a, b.subarray(0, k * 4), m, k, 4, false), 'too small').toBeNull()
  })

  it('declines Aᵀ·B when B holds ±∞ or NaN anywhere, though only the sums are checked', () => {
    const c = { rows: 64, cols: 16, n: 64, transposeA: true, seed: 2 }
    const { a, b, m, k } = operands(dtype, c)
    expect(selectProduct(a, b, m, k, c.n, true)).not.toBeNull()
    const spoils: [string, (x: Float32Array | Float64Array) => void][] = [
      ['+∞', (x) => { x[7] = Infinity }],
      ['−∞ in the last row', (x) => { x[x.length - 1] = -Infinity }],
      ['NaN', (x) => { x[100] = NaN }],
    ]
    for (const [what, spoil] of spoils) {
      const bad = b.slice()
      spoil(bad)
      expect(selectProduct(a, bad, m, k, c.n, true), what).toBeNull()
    }
  })
})

describe('selectProduct remembers what it found per A', () => {
  it('gives the same products when the same A comes back, as A·B and as Aᵀ·G, and re-scans another view', () => {
    const c = { rows: 64, cols: 16, n: 64, transposeA: false, seed: 5 }
    const { a, b, m, k } = operands('float64', c)
    const first = selectProduct(a, b, m, k, c.n, false)
    expect(Array.from(selectProduct(a, b, m, k, c.n, false)!)).toEqual(Array.from(first!))
    const g = Float64Array.from({ length: m * 64 }, (_, i) => Math.sin(i))
    const expected = jsKernels.matmul(a, SINGLE, g, SINGLE, k, m, 64, true, false)
    expect(Array.from(selectProduct(a, g, k, m, 64, true)!)).toEqual(Array.from(expected))
    // The same data viewed as [32, 32] is not one-hot by rows (two 1s in some rows): declined.
    expect(selectProduct(a, b.subarray(0, 32 * 32), 32, 32, 32, false)).toBeNull()
  })
})
