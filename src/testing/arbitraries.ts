/**
 * @file fast-check arbitraries for property tests of tensors, gradients and cells: shapes,
 * tensors in a value domain, broadcast-compatible shape pairs, random keys. Failing properties
 * shrink towards small shapes and simple values.
 */
import fc from 'fast-check'
import { type Key, randomKey } from '../random/random.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'
import { type Shape, sizeOf } from '../tensor/shape.js'

export interface ShapeConstraints {
  readonly minRank?: number
  readonly maxRank?: number
  readonly minDim?: number
  readonly maxDim?: number
}

/**
 * Shapes of rank minRank..maxRank (default 0..3) with dimensions minDim..maxDim (default 1..4).
 * @example
 * ```ts
 * const { default: fc } = await import('fast-check') // in a test file: import fc from 'fast-check'
 *
 * // reshaping to one axis keeps every element
 * fc.assert(fc.property(arbitraries.shape(), (s) => reshape(zeros(s), [-1]).size === s.reduce((n, d) => n * d, 1)), { numRuns: 50 })
 * fc.sample(arbitraries.shape({ minRank: 2, maxRank: 2 }), 3) // e.g. [[1, 4], [3, 3], [2, 1]]
 * ```
 * @category testing
 */
export const shape = (c: ShapeConstraints = {}): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: c.minDim ?? 1, max: c.maxDim ?? 4 }), { minLength: c.minRank ?? 0, maxLength: c.maxRank ?? 3 })

export interface ValueConstraints {
  /** Smallest value (default −2). */
  readonly min?: number
  /** Largest value (default 2). */
  readonly max?: number
  /** Keep values at least `margin` away from these points (kinks such as relu's 0). */
  readonly awayFrom?: readonly number[]
  readonly margin?: number
  readonly dtype?: DType
}

const value = (c: ValueConstraints): fc.Arbitrary<number> => {
  const base = fc.double({ min: c.min ?? -2, max: c.max ?? 2, noNaN: true, noDefaultInfinity: true })
  const away = c.awayFrom ?? []
  const margin = c.margin ?? 1e-3
  return away.length === 0 ? base : base.filter((v) => away.every((p) => Math.abs(v - p) >= margin))
}

/**
 * Tensors of exactly the given shape with values in the domain.
 * @example
 * ```ts
 * const { default: fc } = await import('fast-check') // in a test file: import fc from 'fast-check'
 *
 * // tanh is odd, on [2, 3] tensors in [−3, 3]
 * fc.assert(fc.property(arbitraries.tensorOfShape([2, 3], { min: -3, max: 3 }), (x) =>
 *   max(abs(add(tanh(neg(x)), tanh(x)))).item() < 1e-12), { numRuns: 20 })
 * ```
 * @category testing
 */
export const tensorOfShape = (s: Shape, c: ValueConstraints = {}): fc.Arbitrary<Tensor> => {
  const n = sizeOf(s)
  return fc.array(value(c), { minLength: n, maxLength: n }).map((values) => {
    const data = allocate(c.dtype ?? 'float64', n)
    data.set(values)
    return new Tensor(data, s)
  })
}

/**
 * Tensors of a random shape (see `shape`) with values in the domain.
 * @example
 * ```ts
 * const { default: fc } = await import('fast-check') // in a test file: import fc from 'fast-check'
 *
 * // relu's gradient checks out on tensors of any shape kept away from its kink at 0
 * fc.assert(fc.property(arbitraries.tensor({ maxRank: 2, awayFrom: [0], margin: 1e-3 }), (x) =>
 *   E.isRight(checkGrads((x: Tensor) => sum(relu(x)), [x]))), { numRuns: 10 })
 * ```
 * @category testing
 */
export const tensor = (c: ValueConstraints & ShapeConstraints & { readonly shape?: Shape } = {}): fc.Arbitrary<Tensor> =>
  c.shape !== undefined ? tensorOfShape(c.shape, c) : shape(c).chain((s) => tensorOfShape(s, c))

/**
 * Two shapes that broadcast together: a common shape, with some axes of either side set to 1 and
 * some leading axes of one side dropped.
 * @example
 * ```ts
 * const { default: fc } = await import('fast-check') // in a test file: import fc from 'fast-check'
 *
 * // add broadcasts to the longer rank, and is symmetric
 * fc.assert(fc.property(arbitraries.broadcastShapes(), ([a, b]) =>
 *   add(zeros(a), ones(b)).rank === Math.max(a.length, b.length) &&
 *   add(zeros(a), ones(b)).shape.join() === add(ones(b), zeros(a)).shape.join()), { numRuns: 50 })
 * ```
 * @category testing
 */
export const broadcastShapes = (c: ShapeConstraints = {}): fc.Arbitrary<[number[], number[]]> =>
  shape({ minRank: 1, ...c }).chain((common) =>
    fc.tuple(
      fc.array(fc.boolean(), { minLength: common.length, maxLength: common.length }),
      fc.array(fc.boolean(), { minLength: common.length, maxLength: common.length }),
      fc.integer({ min: 0, max: common.length }),
    ).map(([onesA, onesB, drop]): [number[], number[]] => [
      common.map((d, i) => (onesA[i] ? 1 : d)),
      common.map((d, i) => (onesB[i] && !onesA[i] ? 1 : d)).slice(drop),
    ]),
  )

/**
 * Random keys from 32-bit seeds.
 * @example
 * ```ts
 * const { default: fc } = await import('fast-check') // in a test file: import fc from 'fast-check'
 *
 * // every key's permutation holds each index once
 * fc.assert(fc.property(arbitraries.key(), (key) =>
 *   [...permutation(key, 10)].sort((a, b) => a - b).join() === '0,1,2,3,4,5,6,7,8,9'), { numRuns: 20 })
 * ```
 * @category testing
 */
export const key = (): fc.Arbitrary<Key> => fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(randomKey)
