/**
 * @file linearRecurrence: equal to the sequential loop written with ops and to `associativeScan`
 * with the affine-map composition (float64 to 1e-12, float32 to its round-off), real and complex;
 * gradients of a, b and h0 against finite differences at orders 1 and 2 and against the loop's;
 * a pullback called twice, with other work between, gives the same bits; the messages.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type DType, type Tensor, ShapeError, ValueError, add, associativeScan, cast, checkGrads, concat, grad, linearRecurrence, mul,
  normal, randomKey, slice, splitKey, stack, sub, sum, tanh, tensor, unstack, uniform, vjp, zeros,
} from '../../src/index.js'
import { expectAllClose } from '../helpers/allClose.js'

const expectRight = (result: E.Either<{ message: string }, unknown>): void => {
  expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
}

/** x ⊙ y on (re, im) pairs in the trailing axis, written with ops. */
const complexTimes = (x: Tensor, y: Tensor): Tensor => {
  const part = (z: Tensor, k: number) => slice(z, [...z.shape.slice(0, -1).map((d) => [0, d] as const), [k, k + 1]])
  const [xr, xi, yr, yi] = [part(x, 0), part(x, 1), part(y, 0), part(y, 1)]
  return concat([sub(mul(xr, yr), mul(xi, yi)), add(mul(xr, yi), mul(xi, yr))], -1)
}

/** The reference: h_t = a_t ⊙ h_{t−1} + b_t, one step at a time with ops. */
const loop = (a: Tensor, b: Tensor, h0: Tensor, complex = false): Tensor => {
  const [as, bs] = [unstack(a), unstack(b)]
  let h = h0
  const hs = as.map((at, t) => (h = add(complex ? complexTimes(at, h) : mul(at, h), bs[t])))
  return stack(hs)
}

type Recurrence = (a: Tensor, b: Tensor, h0: Tensor) => Tensor

/** The same recurrence as an associative scan: h0 folded into the first b, then affine maps composed. */
const viaScan = (a: Tensor, b: Tensor, h0: Tensor): Tensor => {
  const first = add(mul(slice(a, [[0, 1]]), h0), slice(b, [[0, 1]]))
  const b0 = a.shape[0] === 1 ? first : concat([first, slice(b, [[1, a.shape[0]]])], 0)
  const compose = (x: { a: Tensor; b: Tensor }, y: { a: Tensor; b: Tensor }) => ({ a: mul(x.a, y.a), b: add(mul(y.a, x.b), y.b) })
  return associativeScan(compose, { a, b: b0 }).b
}

/** Coefficients in (−1, 1), as a stable recurrence has them; b and h0 standard normal. */
const operands = (seed: number, shape: readonly number[], dtype: DType = 'float64') => {
  const [ka, kb, kh] = splitKey(randomKey(seed), 3)
  return {
    a: uniform(ka, shape, { dtype, low: -0.95, high: 0.95 }),
    b: normal(kb, shape, { dtype }),
    h0: normal(kh, shape.slice(1), { dtype }),
  }
}

const shapeArb = fc.record({
  time: fc.integer({ min: 1, max: 9 }),
  rest: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
  seed: fc.nat(1000),
})

describe('linearRecurrence', () => {
  it('runs the documented example', () => {
    expectAllClose(linearRecurrence(tensor([[0.5], [0.5]]), tensor([[1], [1]]), tensor([0])), [[1], [1.5]])
  })

  it('equals the sequential loop and associativeScan with the affine composition (float64, 1e-12)', () => {
    fc.assert(fc.property(shapeArb, ({ time, rest, seed }) => {
      const { a, b, h0 } = operands(seed, [time, ...rest])
      const hs = linearRecurrence(a, b, h0)
      expectAllClose(hs, loop(a, b, h0), { rtol: 1e-12, atol: 1e-12 })
      expectAllClose(hs, viaScan(a, b, h0), { rtol: 1e-12, atol: 1e-12 })
    }), { numRuns: 10, seed: 30 })
  })

  it('equals the sequential loop in float32 to float32 round-off, with a float32 result', () => {
    fc.assert(fc.property(shapeArb, ({ time, rest, seed }) => {
      const { a, b, h0 } = operands(seed, [time, ...rest], 'float32')
      const hs = linearRecurrence(a, b, h0)
      expect(hs.dtype).toBe('float32')
      expectAllClose(hs, loop(a, b, h0), { rtol: 1e-5, atol: 1e-5 })
      expectAllClose(hs, viaScan(a, b, h0), { rtol: 1e-5, atol: 1e-5 })
      const exact = linearRecurrence(cast(a, 'float64'), cast(b, 'float64'), cast(h0, 'float64'))
      expectAllClose(hs, exact, { rtol: 1e-5, atol: 1e-5 })
    }), { numRuns: 10, seed: 31 })
  })

  it('equals the complex loop with { complex: true } (pairs of reals in the trailing axis)', () => {
    fc.assert(fc.property(shapeArb, ({ time, rest, seed }) => {
      const { a, b, h0 } = operands(seed, [time, ...rest, 2])
      // |a| < 1 as complex numbers too: the pairs scaled by 1/√2.
      const scaled = mul(a, Math.SQRT1_2)
      expectAllClose(linearRecurrence(scaled, b, h0, { complex: true }), loop(scaled, b, h0, true), { rtol: 1e-12, atol: 1e-12 })
    }), { numRuns: 10, seed: 32 })
  })

  it('has gradients of a, b and h0 that match finite differences (orders 1 and 2) and the loop\'s', () => {
    const { a, b, h0 } = operands(5, [6, 2, 3])
    const loss = (a: Tensor, b: Tensor, h0: Tensor) => tanh(linearRecurrence(a, b, h0))
    expectRight(checkGrads(loss, [a, b, h0], { order: 2 }))
    expectRight(checkGrads((a: Tensor, b: Tensor, h0: Tensor) => linearRecurrence(a, b, h0), [a, b, h0], { order: 2 }))
    const scalar = (f: Recurrence) => (a: Tensor, b: Tensor, h0: Tensor) => sum(tanh(f(a, b, h0)))
    const ours = grad(scalar(linearRecurrence), { argnums: [0, 1, 2] })(a, b, h0)
    const reference = grad(scalar(loop), { argnums: [0, 1, 2] })(a, b, h0)
    ours.forEach((g, i) => expectAllClose(g, reference[i], { rtol: 1e-12, atol: 1e-12 }))
    // Second order through the kernel's differentiable VJP against the loop's.
    const second = (f: Recurrence) => grad((a: Tensor) => sum(grad(scalar(f), { argnums: [0, 1, 2] })(a, b, h0)[2]))(a)
    expectAllClose(second(linearRecurrence), second(loop), { rtol: 1e-10, atol: 1e-12 })
  })

  it('has complex gradients that match finite differences (orders 1 and 2)', () => {
    const { a, b, h0 } = operands(6, [5, 2, 2])
    const scaled = mul(a, Math.SQRT1_2)
    const loss = (a: Tensor, b: Tensor, h0: Tensor) => tanh(linearRecurrence(a, b, h0, { complex: true }))
    expectRight(checkGrads(loss, [scaled, b, h0], { order: 2 }))
  })

  it('has a pullback that gives the same bits when called twice, with other work between', () => {
    const { a, b, h0 } = operands(7, [8, 4])
    const g = normal(randomKey(8), [8, 4])
    const [, pullback] = vjp((a: Tensor, b: Tensor, h0: Tensor) => linearRecurrence(a, b, h0), a, b, h0)
    const first = pullback(g)
    linearRecurrence(b, a, zeros([4]))
    vjp((x: Tensor) => linearRecurrence(x, x, h0), b)[1](g)
    const again = pullback(g)
    first.forEach((x, i) => expect(Array.from(again[i].data)).toEqual(Array.from(x.data)))
  })

  it('names the operand whose shape or dtype is wrong', () => {
    const { a, b, h0 } = operands(9, [3, 2])
    expect(() => linearRecurrence(a, slice(b, [[0, 2]]), h0)).toThrow(ShapeError)
    expect(() => linearRecurrence(a, b, zeros([3]))).toThrow('linearRecurrence: h0 must have a\'s shape without its time axis, [2]; got [3] (a is [3, 2]).')
    expect(() => linearRecurrence(a, b, cast(h0, 'float32'))).toThrow(ValueError)
    expect(() => linearRecurrence(zeros([3, 3]), zeros([3, 3]), zeros([3]), { complex: true })).toThrow(/must have length 2; a is \[3, 3\]/)
  })
})
