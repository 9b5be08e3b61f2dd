/**
 * @file Shared by the WebAssembly kernel tests: deterministic operands, a tolerance-aware comparison,
 * and the matmul suite (random shapes including the awkward sizes 1, 3, 5, 17, 33, all transpose
 * flags, batch layouts, block edges) run against jsKernels for any kernel backend.
 *
 * The matmul tolerance: a float32 product accumulates in float32 (with or without fused
 * multiply-adds) while jsKernels accumulates in doubles, so entry (i, j) may differ by the standard
 * bound for a recursive sum of k products, γ_k·Σₚ|a_ip||b_pj| ≈ k·2⁻²⁴·Σₚ|a_ip||b_pj|, plus the
 * reference's own final rounding. float64 differs by summation order alone, the same bound with 2⁻⁵³.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, type Kernels, jsKernels } from '../../src/index.js'

export const DTYPES: readonly DType[] = ['float32', 'float64']

/** Awkward sizes around the 4- and 8-wide register tiles and vectors, plus random ones. */
export const sizeArb = fc.oneof(fc.constantFrom(1, 3, 5, 17, 33), fc.integer({ min: 1, max: 40 }))

/** Deterministic values in [−1, 1] (xorshift), with some exact zeros and repeats. */
export const filled = (dtype: DType, length: number, seed: number): Data => {
  const out = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length)
  let s = (seed * 2654435761 + 1) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    const u = s / 2 ** 32
    out[i] = u < 0.05 ? 0 : u < 0.1 ? 0.5 : 2 * u - 1
  }
  return out
}

const abs = (x: Data): Float64Array => Float64Array.from(x, Math.abs)

/** Fails with the worst element when |actual − expected| > bound[i] anywhere. */
export const expectWithin = (actual: Data, expected: Data, bound: (i: number) => number, what: string): void => {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  expect(actual.constructor, `${what}: dtype`).toBe(expected.constructor)
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]
    const e = expected[i]
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue
    if (!(Math.abs(a - e) <= bound(i))) expect.fail(`${what}: element ${i} is ${a}, expected ${e} (allowed ±${bound(i)})`)
  }
}

/** Bit-for-bit equality (NaN matches NaN; −0 and +0 are told apart). */
export const expectSame = (actual: Data, expected: Data, what: string): void => expectWithin(actual, expected, () => 0, what)

// ---- matmul cases ----

/** One matmul call: shapes, flags, how batches share operands, and the seed of the values. */
export interface MatmulCase {
  readonly dtype: DType
  readonly m: number
  readonly k: number
  readonly n: number
  readonly transposeA: boolean
  readonly transposeB: boolean
  /** How the batches use their operands (see `layout`). */
  readonly batching: 'single' | 'independent' | 'sharedB' | 'sharedA' | 'shuffled'
  readonly batches: number
  readonly seed: number
}

/** Operands and offsets for a case; matrices sit at arbitrary offsets inside larger arrays. */
const layout = (c: MatmulCase) => {
  const aSize = c.m * c.k
  const bSize = c.k * c.n
  const slack = c.seed % 3
  const count = (shared: boolean) => (c.batching === 'single' || shared ? 1 : c.batches)
  const aCount = count(c.batching === 'sharedA')
  const bCount = count(c.batching === 'sharedB')
  const a = filled(c.dtype, slack + aCount * aSize, c.seed)
  const b = filled(c.dtype, slack + bCount * bSize + 1, c.seed + 1)
  const batches = c.batching === 'single' ? 1 : c.batches
  const pick = (i: number, available: number) => (c.batching === 'shuffled' ? (i * 7 + 3) % available : Math.min(i, available - 1))
  const aOffsets = Int32Array.from({ length: batches }, (_, i) => slack + pick(i, aCount) * aSize)
  const bOffsets = Int32Array.from({ length: batches }, (_, i) => slack + pick(i, bCount) * bSize)
  return { a, aOffsets, b, bOffsets }
}

/** Runs the case on `kernels` and on jsKernels and compares within the tolerance above. */
export const checkMatmul = (kernels: Kernels, c: MatmulCase): void => {
  const { a, aOffsets, b, bOffsets } = layout(c)
  const args = [c.m, c.k, c.n, c.transposeA, c.transposeB] as const
  const actual = kernels.matmul(a, aOffsets, b, bOffsets, ...args)
  const expected = jsKernels.matmul(a, aOffsets, b, bOffsets, ...args)
  // Σ_p |a_ip|·|b_pj|: the scale of each entry's rounding error.
  const scale = jsKernels.matmul(abs(a), aOffsets, abs(b), bOffsets, ...args)
  const u = c.dtype === 'float32' ? 2 ** -24 : 2 ** -53
  expectWithin(actual, expected, (i) => (c.k + 2) * u * scale[i] + u * Math.abs(expected[i]), `matmul ${JSON.stringify(c)}`)
}

const matmulCaseArb = (dtype: DType) =>
  fc.record({
    dtype: fc.constant(dtype),
    m: sizeArb, k: sizeArb, n: sizeArb,
    transposeA: fc.boolean(), transposeB: fc.boolean(),
    batching: fc.constantFrom<MatmulCase['batching']>('single', 'independent', 'sharedB', 'sharedA', 'shuffled'),
    batches: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  })

/** The matmul tests for one backend, float32 and float64 (property runs per dtype: `numRuns`). */
export const matmulSuite = (kernels: Kernels, numRuns: number): void => {
  describe.each(DTYPES)(`${kernels.name} matmul, %s`, (dtype) => {
    it('agrees with jsKernels on random shapes, transpose flags and batch offsets', () => {
      fc.assert(fc.property(matmulCaseArb(dtype), (c) => checkMatmul(kernels, c)), { numRuns, seed: 5 })
    })

    it.each([
      [1, 1, 1], [130, 300, 9], [5, 257, 130], [1, 513, 1], [33, 17, 4100],
    ])('crosses the block edges at [%i, %i] · [%i, …], all transposes', (m, k, n) => {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          checkMatmul(kernels, { dtype, m, k, n, transposeA, transposeB, batching: 'single', batches: 1, seed: m + k + n })
        }
      }
    })

    it('folds [batch, m, k] · [k, n] with a shared b into one product and still matches', () => {
      for (const transposeB of [false, true]) {
        checkMatmul(kernels, { dtype, m: 5, k: 7, n: 9, transposeA: false, transposeB, batching: 'sharedB', batches: 3, seed: 3 })
      }
    })

    it('returns zeros for k = 0 and an empty array for m = 0', () => {
      const empty = dtype === 'float32' ? new Float32Array(0) : new Float64Array(0)
      const one = new Int32Array(1)
      expectSame(kernels.matmul(empty, one, empty, one, 2, 0, 3, false, false), jsKernels.matmul(empty, one, empty, one, 2, 0, 3, false, false), 'k = 0')
      expect(kernels.matmul(empty, one, filled(dtype, 6, 1), one, 0, 2, 3, false, false).length).toBe(0)
    })
  })
}
