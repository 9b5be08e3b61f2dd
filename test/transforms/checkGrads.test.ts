/**
 * @file checkGrads: accepts correct derivatives (full and projected, orders 1 and 2, pytrees,
 * float32 inputs), catches a wrong customVjp with a precise report, makes a fast-check property
 * over `arbitraries.tensor` fail and shrink to one element, and reports non-finite values instead
 * of comparing them.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type GradCheckFailure, type GradCheckReport, type Tensor, add, arbitraries, checkGrads, customVjp, exp, log, matmul, mul,
  randomKey, sigmoid, square, stopGradient, sum, tanh, tensor,
} from '../../src/index.js'

const expectRight = (result: E.Either<GradCheckFailure, GradCheckReport>): GradCheckReport => {
  if (E.isLeft(result)) expect.fail(result.left.message)
  return result.right
}

const expectLeft = (result: E.Either<GradCheckFailure, GradCheckReport>): GradCheckFailure => {
  if (E.isRight(result)) expect.fail(`expected a failure, got ${JSON.stringify(result.right)}`)
  return result.left
}

/** Σ x², with a bwd that forgets the factor 2: right only where x = 0. */
const wrongSquare = customVjp(
  (x: Tensor) => [sum(square(x)), x] as const,
  (x: Tensor, g: Tensor) => [mul(g, x)],
)

/** x², with a bwd that is right at first order but hides x from outer differentiations. */
const squareWithStoppedBwd = customVjp(
  (x: Tensor) => [square(x), x] as const,
  (x: Tensor, g: Tensor) => [mul(g, mul(stopGradient(x), 2))],
)

describe('ad.checkGrads: correct functions pass', () => {
  const x = tensor([[0.3, -1.2], [0.8, 0.1]])
  const params = { w: tensor([[0.5, -0.4], [0.2, 0.9]]), layers: [{ b: tensor([0.1, -0.2]) }, null] }
  const model = (p: typeof params, input: Tensor) => sum(tanh(add(matmul(input, p.w), p.layers[0]!.b)))

  it.each([
    ['full', 1],
    ['full', 2],
    ['projected', 1],
    ['projected', 2],
  ] as const)('%s mode, order %i, pytree arguments', (mode, order) => {
    const report = expectRight(checkGrads(model, [params, x], { mode, order }))
    expect(report.order).toBe(order)
    expect(report.mode).toBe(mode)
    // full: one entry per input number (4 + 2 + 4) per order; projected: 3 projections per order.
    expect(report.checked).toBe((mode === 'full' ? 10 : 3) * order)
    expect(report.maxAbsError).toBeLessThan(1e-6)
  })

  it('checks non-scalar and pytree outputs through random cotangents', () => {
    expectRight(checkGrads((v: Tensor) => ({ a: tanh(v), b: [exp(v)] }), [x], { order: 2 }))
    expectRight(checkGrads((v: Tensor) => sigmoid(v), [x], { key: randomKey(3) }))
  })

  it('casts float32 inputs up and differentiates in float64', () => {
    const x32 = tensor([0.25, -0.5, 1.5], { dtype: 'float32' })
    // In float32 a difference quotient with eps = 1e-6 would be mostly round-off; in float64 it is exact enough.
    const report = expectRight(checkGrads((v: Tensor) => {
      expect(v.dtype).toBe('float64')
      return sum(exp(mul(v, v)))
    }, [x32], { order: 2 }))
    expect(report.maxRelError).toBeLessThan(1e-6)
  })
})

describe('ad.checkGrads: wrong derivatives are caught', () => {
  it('reports path, index, analytic and numeric values of the worst entries', () => {
    const failure = expectLeft(checkGrads((p: { w: Tensor }) => wrongSquare(p.w), [{ w: tensor([[1, 0], [-3, 2]]) }]))
    if (failure.kind !== 'mismatch') return expect.fail(failure.message)
    expect(failure.checked).toBe(4)
    expect(failure.worst.map((e) => [e.path, e.index])).toEqual([['args[0].w', [1, 0]], ['args[0].w', [1, 1]], ['args[0].w', [0, 0]]])
    const [worst] = failure.worst
    expect(worst.order).toBe(1)
    expect(worst.analytic).toBe(-3)
    expect(worst.numeric).toBeCloseTo(-6, 6)
    expect(worst.absError).toBeCloseTo(3, 6)
    expect(worst.relError).toBeCloseTo(0.5, 6)
    expect(failure.message).toMatch(/checkGrads: 3 of 4 order-1 derivative\(s\) disagree with central differences/)
    expect(failure.message).toMatch(/order 1 args\[0\]\.w\[1, 0\]: analytic -3, numeric -6\.0000/)
  })

  it('catches it in projected mode too', () => {
    const failure = expectLeft(checkGrads(wrongSquare, [tensor([1, 2, 3])], { mode: 'projected' }))
    if (failure.kind !== 'mismatch') return expect.fail(failure.message)
    expect(failure.worst[0].path).toMatch(/^projection \d$/)
  })

  it('catches a bwd that is right at first order but not differentiable correctly', () => {
    const f = (v: Tensor) => sum(squareWithStoppedBwd(v))
    expectRight(checkGrads(f, [tensor([0.5, -1])]))
    const failure = expectLeft(checkGrads(f, [tensor([0.5, -1])], { order: 2 }))
    if (failure.kind !== 'mismatch') return expect.fail(failure.message)
    expect(failure.worst[0].order).toBe(2)
    expect(failure.worst[0].analytic).toBe(0)
  })

  it('a fast-check property over arbitraries.tensor fails and shrinks to a single element', () => {
    const property = fc.property(arbitraries.tensor({ maxRank: 3, maxDim: 4 }), (x) => E.isRight(checkGrads(wrongSquare, [x])))
    const result = fc.check(property, { numRuns: 50, seed: 42 })
    expect(result.failed).toBe(true)
    const [counterexample] = result.counterexample!
    expect(counterexample.shape).toEqual([])
    expect(counterexample.size).toBe(1)
    expect(result.numShrinks).toBeGreaterThan(0)
  })
})

describe('ad.checkGrads: non-finite values are reported, not compared', () => {
  it('NaN or ∞ in an input', () => {
    const failure = expectLeft(checkGrads((p: { a: Tensor[] }) => sum(p.a[0]), [{ a: [tensor([[1, 2], [Number.NaN, 4]])] }]))
    expect(failure.kind).toBe('nonFinite')
    if (failure.kind !== 'nonFinite') return
    expect(failure.where).toBe('input')
    expect(failure.message).toMatch(/inputs must be finite, but args\[0\]\.a\[0\]\[1, 0\] is NaN/)
    expect(expectLeft(checkGrads((v: Tensor) => sum(v), [tensor(Number.POSITIVE_INFINITY)])).kind).toBe('nonFinite')
  })

  it('a non-finite output', () => {
    const failure = expectLeft(checkGrads((v: Tensor) => log(v), [tensor([1, 0])]))
    expect(failure.kind).toBe('nonFinite')
    expect(failure.message).toMatch(/returned a non-finite value: output\[1\] is -Infinity/)
  })
})
