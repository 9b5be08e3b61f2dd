/**
 * @file The reference kernels' map-free fast paths against their definitions, bit for bit, in
 * float32 and float64: gatherStrided against gather through the naive index map, scatterStrided
 * against scatterAdd through it; sumRows,
 * sumColumns and maxColumns against sumInto and maxInto with the leading- and trailing-axis
 * reduction maps (and plain loops in row order); the one-pass activation VJPs for arrays of mixed
 * dtypes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, jsKernels } from '../../src/index.js'
import { naiveIndex, viewArb } from './stridedViews.js'
import { expectSame, filled } from './wasmMatmulCases.js'

const runs = { numRuns: 150, seed: 5150 }
const DTYPES: readonly DType[] = ['float32', 'float64']

/** Values spread over 7 decades, so a different summation order would show in the last bits. */
const spreadValues = (dtype: DType, n: number, seed: number): Data => filled(dtype, n, seed).map((v, i) => v * 10 ** ((i % 7) - 3)) as Data

describe.each(DTYPES)('jsKernels fast paths, %s', (dtype) => {
  it('gatherStrided equals gather through the naive index map, bit for bit', () => {
    fc.assert(fc.property(viewArb(), fc.nat(1000), ({ shape, strides, offset, length }, seed) => {
      const x = filled(dtype, length, seed)
      const expected = jsKernels.gather(x, Int32Array.from(naiveIndex(shape, strides, offset)))
      expectSame(jsKernels.gatherStrided!(x, shape, strides, offset), expected, `[${shape}] strides [${strides}] offset ${offset}`)
    }), runs)
  })

  it('gatherStrided copies long rows and broadcasts (the block-copy and fill paths)', () => {
    const x = filled(dtype, 3 * 200, 3)
    const transpose = jsKernels.gatherStrided!(x, [200, 3], [1, 200], 0)
    expectSame(transpose, jsKernels.gather(x, Int32Array.from(naiveIndex([200, 3], [1, 200], 0))), 'transpose')
    const rows = jsKernels.gatherStrided!(x, [2, 3, 100], [0, 200, 1], 50)
    expectSame(rows, jsKernels.gather(x, Int32Array.from(naiveIndex([2, 3, 100], [0, 200, 1], 50))), 'long rows')
    const spread = jsKernels.gatherStrided!(x, [3, 100], [1, 0], 0)
    expectSame(spread, jsKernels.gather(x, Int32Array.from(naiveIndex([3, 100], [1, 0], 0))), 'broadcast')
  })

  it('scatterStrided places a slice into zeros as scatterAdd through the index map does, bit for bit', () => {
    // A slice of a random shape: per axis a range [start, start + length) of the full extent.
    const sliceArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat(5), fc.nat(5)), { minLength: 0, maxLength: 4 })
      .map((axes) => {
        const full = axes.map(([d]) => d)
        const starts = axes.map(([d, a]) => a % d)
        const shape = axes.map(([d, a, b], i) => Math.min(d - starts[i], (b % d) + 1))
        const strides = full.map((_, i) => full.slice(i + 1).reduce((p, q) => p * q, 1))
        const offset = starts.reduce((o, start, i) => o + start * strides[i], 0)
        return { shape, strides, offset, outSize: full.reduce((p, q) => p * q, 1) }
      })
    fc.assert(fc.property(sliceArb, fc.nat(1000), ({ shape, strides, offset, outSize }, seed) => {
      const x = filled(dtype, shape.reduce((p, q) => p * q, 1), seed)
      const expected = jsKernels.scatterAdd(x, Int32Array.from(naiveIndex(shape, strides, offset)), outSize)
      expectSame(jsKernels.scatterStrided!(x, shape, strides, offset, outSize), expected, `[${shape}] strides [${strides}] offset ${offset}`)
    }), runs)
    // Long rows take the block copy: one step of a [4, 30, 100] sequence.
    const step = filled(dtype, 4 * 100, 9)
    const placed = jsKernels.scatterStrided!(step, [4, 1, 100], [3000, 100, 1], 2900, 12000)
    expectSame(placed, jsKernels.scatterAdd(step, Int32Array.from(naiveIndex([4, 1, 100], [3000, 100, 1], 2900)), 12000), 'long rows')
  })

  it('sumRows equals sumInto with the row-reduction index map, and a plain loop in row order', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 }), fc.nat(1000), (rows, cols, seed) => {
      const x = spreadValues(dtype, rows * cols, seed)
      const index = Int32Array.from({ length: rows * cols }, (_, i) => i % cols)
      const actual = jsKernels.sumRows!(x, rows, cols)
      expectSame(actual, jsKernels.sumInto(x, index, cols), `[${rows}, ${cols}] vs sumInto`)
      const plain = new Float64Array(cols)
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) plain[j] += x[r * cols + j]
      expectSame(actual, dtype === 'float32' ? Float32Array.from(plain) : plain, `[${rows}, ${cols}] vs loop`)
    }), runs)
  })

  it('sumColumns and maxColumns equal sumInto and maxInto with the trailing-axis map', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 20 }), fc.nat(1000), fc.boolean(), (rows, cols, seed, nan) => {
      const x = spreadValues(dtype, rows * cols, seed)
      if (nan) x[seed % x.length] = Number.NaN // maxInto's rule: a NaN wins its row
      const index = Int32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols))
      expectSame(jsKernels.sumColumns!(x, rows, cols), jsKernels.sumInto(x, index, rows), `sum [${rows}, ${cols}]`)
      expectSame(jsKernels.maxColumns!(x, rows, cols), jsKernels.maxInto(x, index, rows), `max [${rows}, ${cols}]`)
    }), runs)
  })
})

describe('jsKernels activation VJPs', () => {
  it('round each operation in the dtype of g, also when t has the other dtype', () => {
    const g32 = Float32Array.from([0.3, -1.7, 2.5])
    const t64 = Float64Array.from([0.1, -0.77, 0.999])
    const tanh = jsKernels.tanhBackward!(g32, t64)
    const sigmoid = jsKernels.sigmoidBackward!(g32, t64)
    expect(tanh).toBeInstanceOf(Float32Array)
    expect(Array.from(tanh)).toEqual(Array.from(g32, (g, i) => Math.fround(g * Math.fround(1 - Math.fround(t64[i] * t64[i])))))
    expect(Array.from(sigmoid)).toEqual(Array.from(g32, (g, i) => Math.fround(g * Math.fround(t64[i] * Math.fround(1 - t64[i])))))
    const g64 = Float64Array.from(g32)
    const t32 = Float32Array.from(t64)
    expect(Array.from(jsKernels.tanhBackward!(g64, t32))).toEqual(Array.from(g64, (g, i) => g * (1 - t32[i] * t32[i])))
  })
})
