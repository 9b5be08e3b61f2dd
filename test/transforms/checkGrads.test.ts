/**
 * @file checkGrads: accepts correct derivatives (full and projected, orders 1 and 2, pytrees,
 * float32 inputs), catches a wrong customVjp with a precise report, makes a fast-check property
 * over `arbitraries.tensor` fail and shrink to one element, and reports non-finite values instead
 * of comparing them. Mixed scales: a wrong gradient of 0.0075 beside a right one of 2e4 fails in
 * every mode, leaf by leaf; the taylor method fits slopes ≈ 2 and ≈ 1 and catches planted VJPs.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type CheckGradsOptions, type GradCheckFailure, type GradCheckReport, type Tensor, add, arbitraries, checkGrads, customVjp, exp, log,
  matmul, mul, nn, normal, randomKey, sigmoid, square, stopGradient, sub, sum, tanh, tensor,
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
    // full: one entry per input number (4 + 2 + 4) per order; projected: 3 projections per leaf (3 leaves) per order.
    expect(report.checked).toBe((mode === 'full' ? 10 : 9) * order)
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
    expect(failure.worst[0].path).toBe('args[0]')
    expect(failure.worst[0].projection).toBeGreaterThanOrEqual(0)
    expect(failure.message).toMatch(/order 1 args\[0\] \(projection \d\): analytic/)
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

// ---- mixed scales and the taylor method ----

const modes: readonly (readonly [string, CheckGradsOptions])[] = [
  ['full', { mode: 'full' }],
  ['projected', { mode: 'projected' }],
  ['taylor', { method: 'taylor' }],
]

/** 0.015 · Σ b, whose bwd says 0.0075: wrong by 0.0075 per entry. */
const halfSlope = customVjp(
  (b: Tensor) => [mul(sum(b), 0.015), b] as const,
  (b: Tensor, g: Tensor) => [mul(g, mul(tensor(0.0075), add(mul(b, 0), 1)))],
)

/** s · Σ tanh(b), with a bwd off by `factor`. */
const scaledTanh = (s: number, factor: number) => customVjp(
  (b: Tensor) => [mul(sum(tanh(b)), s), b] as const,
  (b: Tensor, g: Tensor) => [mul(g, mul(sub(1, square(tanh(b))), s * factor))],
)

describe('ad.checkGrads: each leaf is judged against its own scale', () => {
  const args = [{ big: tensor([0.5, -1.2, 0.3]), small: tensor([0.2, -0.7, 1.1]) }]
  type P = (typeof args)[0]

  it.each(modes)('%s: a wrong gradient of 0.0075 beside a right one of 2e4 fails, naming the leaf', (_, options) => {
    const f = (p: P) => add(mul(sum(p.big), 2e4), halfSlope(p.small))
    const failure = expectLeft(checkGrads(f, args, options))
    const paths = failure.kind === 'mismatch' ? failure.worst.map((e) => e.path) : failure.kind === 'taylor' ? failure.failed.map((t) => t.path) : []
    expect(new Set(paths)).toEqual(new Set(['args[0].small']))
    expect(failure.message).toMatch(/args\[0\]\.small/)
  })

  it.each(modes)('%s: a big gradient 0.1%% off beside a right small one fails', (_, options) => {
    const f = (p: P) => add(scaledTanh(2e4, 1.001)(p.big), mul(sum(square(p.small)), 0.0075))
    const failure = expectLeft(checkGrads(f, args, options))
    expect(failure.message).toMatch(/args\[0\]\.big/)
    expect(failure.message).not.toMatch(/args\[0\]\.small/)
  })

  it.each(modes)('%s: right gradients at mixed scales pass, orders 1 and 2', (_, options) => {
    const f = (p: P) => add(scaledTanh(2e4, 1)(p.big), add(mul(sum(exp(p.small)), 0.0075), mul(sum(p.big), 1e-3)))
    expectRight(checkGrads(f, args, { ...options, order: 2 }))
  })

  it('fast-check: at random scales a planted wrong VJP on either leaf fails in every mode and a right one passes', () => {
    const scale = fc.double({ min: -2, max: 4, noNaN: true }).map((e) => 10 ** e)
    const entries = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 })
    const property = fc.property(scale, scale, entries, entries, fc.boolean(), fc.nat(1000), (s1, s2, a, b, wrongFirst, seed) => {
      const p = { a: tensor(a), b: tensor(b) }
      const right = (q: typeof p) => add(scaledTanh(s1, 1)(q.a), scaledTanh(s2, 1)(q.b))
      const wrong = (q: typeof p) => add(scaledTanh(s1, wrongFirst ? 0.5 : 1)(q.a), scaledTanh(s2, wrongFirst ? 1 : 0.5)(q.b))
      for (const [, options] of modes) {
        expect(E.isRight(checkGrads(right, [p], { ...options, key: randomKey(seed) }))).toBe(true)
        const failure = checkGrads(wrong, [p], { ...options, key: randomKey(seed) })
        expect(E.isLeft(failure) && failure.left.message.includes(wrongFirst ? 'args[0].a' : 'args[0].b')).toBe(true)
      }
    })
    fc.assert(property, { numRuns: 10, seed: 19 })
  })
})

describe('ad.checkGrads: the taylor method', () => {
  it('reports slopes ≈ 2 (first-order remainder) and ≈ 1 (zeroth order) for right gradients, leaf by leaf', () => {
    const x = tensor([[0.3, -1.2], [0.8, 0.1]])
    const params = { w: tensor([[0.5, -0.4], [0.2, 0.9]]), b: tensor([0.1, -0.2]) }
    const report = expectRight(checkGrads((p: typeof params, v: Tensor) => sum(tanh(add(matmul(v, p.w), p.b))), [params, x], { method: 'taylor', order: 2 }))
    expect(report.method).toBe('taylor')
    expect(report.checked).toBe(6) // 3 leaves, orders 1 and 2
    expect(report.slopes!.firstOrder).toBeGreaterThan(1.9)
    expect(report.slopes!.zerothOrder).toBeGreaterThan(0.9)
    expect(report.slopes!.zerothOrder).toBeLessThan(1.1)
    for (const fit of report.fits!) {
      expect(fit.firstOrderSlope).toBeCloseTo(2, 1)
      expect(fit.zerothOrderSlope).toBeCloseTo(1, 1)
      expect(fit.steps.length).toBeGreaterThanOrEqual(3)
      expect(fit.numeric).toBeCloseTo(fit.analytic, 6)
    }
    expect(report.fits!.map((fit) => [fit.order, fit.path])).toEqual([
      [1, 'args[0].w'], [1, 'args[0].b'], [1, 'args[1]'], [2, 'args[0].w'], [2, 'args[0].b'], [2, 'args[1]'],
    ])
  })

  it('fails a wrong VJP with a first-order slope of 1, and a bwd wrong only at second order', () => {
    const failure = expectLeft(checkGrads((p: { w: Tensor }) => wrongSquare(p.w), [{ w: tensor([[1, 0.5], [-3, 2]]) }], { method: 'taylor' }))
    if (failure.kind !== 'taylor') return expect.fail(failure.message)
    expect(failure.failed[0].path).toBe('args[0].w')
    expect(failure.failed[0].firstOrderSlope).toBeCloseTo(1, 1)
    expect(failure.message).toMatch(/order 1 args\[0\]\.w \(direction 0\): first-order remainder slope 1\.00 \(needs ≥ 1\.8\)/)
    const f = (v: Tensor) => sum(squareWithStoppedBwd(v))
    expectRight(checkGrads(f, [tensor([0.5, -1])], { method: 'taylor' }))
    const second = expectLeft(checkGrads(f, [tensor([0.5, -1])], { method: 'taylor', order: 2 }))
    expect(second.kind === 'taylor' && second.failed[0].order).toBe(2)
  })

  it('a function linear along the direction has no measurable first-order slope and passes', () => {
    const report = expectRight(checkGrads((v: Tensor) => mul(sum(v), 2e4), [tensor([0.3, -2, 1])], { method: 'taylor' }))
    expect(Number.isNaN(report.slopes!.firstOrder)).toBe(true)
    expect(report.slopes!.zerothOrder).toBeCloseTo(1, 2)
  })

  it('passes an LSTM layer at its PyTorch initialisation, order 2, several directions', () => {
    const layer = nn.lstm({ inputSize: 3, hiddenSize: 4 })
    const params = layer.init(randomKey(1))
    const xs = normal(randomKey(2), [5, 2, 3])
    const report = expectRight(checkGrads((p: nn.Params, x: Tensor) => layer.apply(p, x).outputs, [params, xs], { method: 'taylor', order: 2, projections: 2 }))
    expect(report.slopes!.firstOrder).toBeGreaterThan(1.9)
  })
})
