/**
 * @file fast-check arbitraries and checks shared by the loss tests: prediction layouts
 * ([batch, features] or [batch, time, features]), 0/1 masks over positions, one-hot rows.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import { type GradCheckFailure, type GradCheckReport, type Tensor, oneHot, tensor } from '../../src/index.js'

/** Shapes [batch, features] or [batch, time, features] with small sizes. */
export const layout = (c: { minFeatures?: number } = {}): fc.Arbitrary<number[]> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      time: fc.integer({ min: 0, max: 3 }),
      features: fc.integer({ min: c.minFeatures ?? 1, max: 4 }),
    })
    .map(({ batch, time, features }) => (time === 0 ? [batch, features] : [batch, time, features]))

/** A 0/1 mask over the positions of `shape` (its shape without the last axis) with at least one 1. */
export const maskFor = (shape: readonly number[]): fc.Arbitrary<Tensor> => {
  const positions = shape.slice(0, -1)
  const n = positions.reduce((a, b) => a * b, 1)
  return fc
    .array(fc.constantFrom(0, 1), { minLength: n, maxLength: n })
    .map((v) => tensor(v.some((x) => x === 1) ? v : [1, ...v.slice(1)], { shape: positions }))
}

/** One-hot rows shaped like `shape`, with random classes. */
export const oneHotFor = (shape: readonly number[]): fc.Arbitrary<Tensor> => {
  const classes = shape[shape.length - 1]
  const positions = shape.slice(0, -1)
  const n = positions.reduce((a, b) => a * b, 1)
  return fc
    .array(fc.integer({ min: 0, max: classes - 1 }), { minLength: n, maxLength: n })
    .map((idx) => oneHot(tensor(idx, { shape: positions }), classes))
}

/** Fails with checkGrads' own report (worst entries) on a Left. */
export const expectGradsOk = (result: E.Either<GradCheckFailure, GradCheckReport>): void => {
  if (E.isLeft(result)) expect.fail(result.left.message)
}

export const runs = { numRuns: 20, seed: 4242 } as const
