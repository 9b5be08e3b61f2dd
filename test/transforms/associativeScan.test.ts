/**
 * @file associativeScan: equal to a sequential fold for several associative operators (addition,
 * 2×2 matrix products, the affine-map composition, a pytree of sums and maxima) on every axis,
 * forwards and reversed; gradients against finite differences at orders 1 and 2; the messages.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, TreeError, add, associativeScan, checkGrads, concat, matmul, maximum, mul, normal, randomKey, slice,
  splitKey, tanh, tensor, treeFlatten, treeUnflatten,
} from '../../src/index.js'
import { expectAllClose } from '../helpers/allClose.js'

const expectRight = (result: E.Either<{ message: string }, unknown>): void => {
  expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
}

/** Element t along `axis`, keeping the axis (length 1). */
const at = (x: Tensor, axis: number, t: number): Tensor =>
  slice(x, x.shape.slice(0, axis + 1).map((d, i) => (i === axis ? [t, t + 1] as const : [0, d] as const)))

/**
 * The reference: a plain fold, one element at a time. Forwards element t is
 * combine(…combine(e_0, e_1)…, e_t); reversed, combine(…combine(e_{T−1}, e_{T−2})…, e_t).
 */
const foldReference = <T>(combine: (a: T, b: T) => T, elems: T, axis: number, reverse: boolean): T => {
  const { leaves, def } = treeFlatten(elems)
  const n = leaves[0].shape[axis]
  const element = (t: number): T => treeUnflatten<T>(def, leaves.map((x) => at(x, axis, t)))
  const results: Tensor[][] = new Array(n)
  let acc: T | null = null
  for (let i = 0; i < n; i++) {
    const t = reverse ? n - 1 - i : i
    acc = acc === null ? element(t) : combine(acc, element(t))
    results[t] = treeFlatten(acc).leaves
  }
  return treeUnflatten<T>(def, leaves.map((_, j) => concat(results.map((r) => r[j]), axis)))
}

type Affine = { readonly a: Tensor; readonly b: Tensor }
/** (a1, b1) then (a2, b2): x ↦ a2·(a1·x + b1) + b2. */
const affine = (x: Affine, y: Affine): Affine => ({ a: mul(x.a, y.a), b: add(mul(y.a, x.b), y.b) })
const sumAndMax = ([x1, y1]: readonly Tensor[], [x2, y2]: readonly Tensor[]): Tensor[] => [add(x1, x2), maximum(y1, y2)]

const expectTreesClose = (actual: unknown, expected: unknown): void => {
  const [a, e] = [treeFlatten(actual).leaves, treeFlatten(expected).leaves]
  expect(a.length).toBe(e.length)
  a.forEach((x, i) => expectAllClose(x, e[i], { rtol: 1e-12, atol: 1e-12 }))
}

/** A shape of rank 1–3 with an axis of length 1–9 (several odd and even levels) and an axis in it. */
const caseArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
  length: fc.integer({ min: 1, max: 9 }),
  position: fc.nat(),
  negative: fc.boolean(),
  reverse: fc.boolean(),
  seed: fc.nat(1000),
})

const layout = ({ shape, length, position, negative }: { shape: number[]; length: number; position: number; negative: boolean }) => {
  const axis = position % (shape.length + 1)
  const full = [...shape.slice(0, axis), length, ...shape.slice(axis)]
  return { full, axis, given: negative ? axis - full.length : axis }
}

describe('associativeScan', () => {
  it('runs the documented example', () => {
    expectAllClose(associativeScan(add, tensor([1, 2, 3, 4])), [1, 3, 6, 10])
    expectAllClose(associativeScan(add, tensor([1, 2, 3, 4]), { reverse: true }), [10, 9, 7, 4])
  })

  it('equals a sequential fold of addition on every axis, forwards and reversed', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { full, axis, given } = layout(c)
      const x = normal(randomKey(c.seed), full)
      expectTreesClose(associativeScan(add, x, { axis: given, reverse: c.reverse }), foldReference(add, x, axis, c.reverse))
    }), { numRuns: 10, seed: 20 })
  })

  it('equals a sequential fold of 2×2 matrix products (not commutative) on every batch axis', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { full, axis, given } = layout(c)
      const x = normal(randomKey(c.seed), [...full, 2, 2])
      // A negative axis counts from the leaf's end, past the two matrix axes.
      const options = { axis: given < 0 ? given - 2 : given, reverse: c.reverse }
      expectTreesClose(associativeScan(matmul, x, options), foldReference(matmul, x, axis, c.reverse))
    }), { numRuns: 10, seed: 21 })
  })

  it('equals a sequential fold of the affine-map composition, an object pytree', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { full, axis, given } = layout(c)
      const [ka, kb] = splitKey(randomKey(c.seed))
      const elems = { a: normal(ka, full), b: normal(kb, full) }
      expectTreesClose(associativeScan(affine, elems, { axis: given, reverse: c.reverse }), foldReference(affine, elems, axis, c.reverse))
    }), { numRuns: 10, seed: 22 })
  })

  it('equals a sequential fold on an array pytree of sums and maxima', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { full, axis, given } = layout(c)
      const [kx, ky] = splitKey(randomKey(c.seed))
      const elems = [normal(kx, full), normal(ky, full)]
      expectTreesClose(associativeScan(sumAndMax, elems, { axis: given, reverse: c.reverse }), foldReference(sumAndMax, elems, axis, c.reverse))
    }), { numRuns: 10, seed: 23 })
  })

  it('has gradients that match finite differences (orders 1 and 2)', () => {
    const [ka, kb, km] = splitKey(randomKey(4), 3)
    const a = mul(normal(ka, [7, 2]), 0.7)
    const b = normal(kb, [7, 2])
    // tanh makes the second derivative of the affine scan's b non-trivial in both a and b.
    const affineScan = (a: Tensor, b: Tensor) => tanh(associativeScan(affine, { a, b }).b)
    expectRight(checkGrads(affineScan, [a, b], { order: 2 }))
    const reversed = (a: Tensor, b: Tensor) => associativeScan(affine, { a, b }, { reverse: true })
    expectRight(checkGrads(reversed, [a, b], { order: 2 }))
    const matrices = mul(normal(km, [2, 5, 2, 2]), 0.8)
    expectRight(checkGrads((m: Tensor) => associativeScan(matmul, m, { axis: 1 }), [matrices], { order: 2 }))
    expectRight(checkGrads((m: Tensor) => associativeScan(matmul, m, { axis: -3, reverse: true }), [matrices], { order: 1 }))
  })

  it('names leaves whose lengths differ, and a combine that changes shapes or structure', () => {
    const x = normal(randomKey(1), [4, 2])
    const addPairs = (p: Tensor[], q: Tensor[]) => p.map((v, i) => add(v, q[i]))
    expect(() => associativeScan(addPairs, [x, normal(randomKey(2), [3, 2])])).toThrow(ShapeError)
    expect(() => associativeScan(addPairs, [x, normal(randomKey(2), [3, 2])])).toThrow(
      'associativeScan: every leaf needs axis 0 of one length; elems[0] is [4, 2], elems[1] is [3, 2].',
    )
    expect(() => associativeScan((p: Tensor) => slice(p, [[0, 1]]), x)).toThrow(/^associativeScan: combine must return leaves of its operands' shapes; elems: expected \[2, 2\], got \[1, 2\]/)
    expect(() => associativeScan((p: Affine) => ({ a: p.a }) as Affine, { a: x, b: x })).toThrow(TreeError)
  })
})
