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

/** Shapes of rank minRank..maxRank (default 0..3) with dimensions minDim..maxDim (default 1..4). */
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

/** Tensors of exactly the given shape with values in the domain. */
export const tensorOfShape = (s: Shape, c: ValueConstraints = {}): fc.Arbitrary<Tensor> => {
  const n = sizeOf(s)
  return fc.array(value(c), { minLength: n, maxLength: n }).map((values) => {
    const data = allocate(c.dtype ?? 'float64', n)
    data.set(values)
    return new Tensor(data, s)
  })
}

/** Tensors of a random shape (see `shape`) with values in the domain. */
export const tensor = (c: ValueConstraints & ShapeConstraints & { readonly shape?: Shape } = {}): fc.Arbitrary<Tensor> =>
  c.shape !== undefined ? tensorOfShape(c.shape, c) : shape(c).chain((s) => tensorOfShape(s, c))

/**
 * Two shapes that broadcast together: a common shape, with some axes of either side set to 1 and
 * some leading axes of one side dropped.
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

/** Random keys from 32-bit seeds. */
export const key = (): fc.Arbitrary<Key> => fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(randomKey)
