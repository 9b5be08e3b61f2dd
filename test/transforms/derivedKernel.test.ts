/**
 * @file `scan(…, { traceStep: true })`: the step traced once and run as one kernel node equals the
 * step-by-step loop — values and gradients in the closed-over weights, the inputs and the initial
 * carry, to 1e-12 in float64 — forwards and reversed, batch-major, masked, the last output alone,
 * pytree carries and inputs; second-order gradients go through the VJP of the traced step's scan;
 * a step the trace cannot stand for (a customVjp inside) runs the loop.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, concat, customVjp, grad, matmul, mul, normal, randomKey, scan, sigmoid, slice, splitKey, stopGradient, sum, tanh, tensor, transpose,
} from '../../src/index.js'
import { expectClose, expectGradsOk } from '../nn/support.js'

type Carry = { h: Tensor; c: Tensor }
type Weights = { w: Tensor; u: Tensor; b: Tensor }

/** An LSTM-like step with a pytree carry and pytree inputs, reading its weights from a closure. */
const stepOf = ({ w, u, b }: Weights) => ({ h, c }: Carry, { x, scale }: { x: Tensor; scale: Tensor }): [Carry, Tensor] => {
  const hidden = h.shape[1]
  const z = add(add(matmul(h, transpose(w)), matmul(mul(x, scale), u)), b)
  const gate = (k: number) => slice(z, [[0, h.shape[0]], [k * hidden, (k + 1) * hidden]])
  const cNext = add(mul(sigmoid(gate(0)), c), mul(sigmoid(gate(1)), tanh(gate(2))))
  const hNext = mul(sigmoid(gate(3)), tanh(cNext))
  return [{ h: hNext, c: cNext }, concat([hNext, cNext], 1)]
}

const options = [
  {},
  { reverse: true },
  { outputs: 'last' as const },
  { timeAxis: 1 as const },
  { mask: true },
  { mask: true, reverse: true, timeAxis: 1 as const },
]

describe('scan with traceStep equals the step-by-step loop', () => {
  it.each(options.map((o) => [JSON.stringify(o), o] as const))('%s', (_, o) => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.nat(), (batch, time, seed) => {
      const [k1, k2, k3, k4, k5, k6] = splitKey(randomKey(seed), 6)
      const [hidden, inputs] = [3, 2]
      const weights: Weights = { w: normal(k1, [4 * hidden, hidden]), u: normal(k2, [inputs, 4 * hidden]), b: normal(k3, [4 * hidden]) }
      const layoutShape = (trailing: number) => (o.timeAxis === 1 ? [batch, time, trailing] : [time, batch, trailing])
      const xs = { x: normal(k4, layoutShape(inputs)), scale: normal(k5, layoutShape(1)) }
      const init: Carry = { h: normal(k6, [batch, hidden]), c: normal(randomKey(seed + 1), [batch, hidden]) }
      // Real (1) and padded (0) steps drawn from the seed; some rows may be all padding.
      const mask = o.mask === true ? tensor(Array.from(normal(randomKey(seed + 2), layoutShape(1)).data, (v) => (v > -0.3 ? 1 : 0)), { shape: layoutShape(1) }) : null
      const scanOptions = { reverse: o.reverse, outputs: o.outputs, timeAxis: o.timeAxis, ...(mask === null ? {} : { mask }) }
      const loss = (traceStep: boolean) => (p: Weights, x: typeof xs, c0: Carry): Tensor => {
        const [final, ys] = scan(stepOf(p), c0, x, { ...scanOptions, traceStep })
        const weights = normal(randomKey(seed + 3), ys.shape)
        return add(sum(mul(ys, weights)), add(sum(mul(final.h, final.h)), sum(final.c)))
      }
      const [traced, loop] = [true, false].map((t) => grad(loss(t), { argnums: [0, 1, 2] })(weights, xs, init))
      expectClose(loss(true)(weights, xs, init), loss(false)(weights, xs, init), 1e-12, 'loss')
      const flat = (g: unknown): Tensor[] => (g instanceof Object && 'data' in (g as object) ? [g as Tensor] : Object.values(g as object).flatMap(flat))
      const [a, b] = [flat(traced), flat(loop)]
      expect(a.length).toBe(b.length)
      a.forEach((g, i) => expectClose(g, b[i], 1e-12, `gradient ${i}`))
    }), { numRuns: 6, seed: 20261208, endOnFailure: true })
  })

  it('passes checkGrads at orders 1 and 2 (order 2 through the VJP of the traced step)', () => {
    const [k1, k2, k3, k4] = splitKey(randomKey(3), 4)
    const weights: Weights = { w: normal(k1, [8, 2]), u: normal(k2, [2, 8]), b: normal(k3, [8]) }
    const xs = { x: normal(k4, [3, 2, 2]), scale: normal(randomKey(5), [3, 2, 1]) }
    const init: Carry = { h: normal(randomKey(6), [2, 2]), c: normal(randomKey(7), [2, 2]) }
    const loss = (p: Weights, c0: Carry): Tensor => {
      const [final, ys] = scan(stepOf(p), c0, xs, { traceStep: true })
      return add(sum(mul(ys, ys)), sum(final.c))
    }
    expectGradsOk(loss, [weights, init], { order: 1, key: randomKey(8) })
    expectGradsOk(loss, [weights, init], { order: 2, mode: 'projected', projections: 3, key: randomKey(9) })
  })

  it('keeps stopGradient inside the step: no cotangent flows back through it', () => {
    const w = normal(randomKey(1), [3, 3])
    const xs = normal(randomKey(2), [4, 2, 3])
    const loss = (traceStep: boolean) => (weight: Tensor, h0: Tensor): Tensor => {
      const [, ys] = scan((h: Tensor, x: Tensor) => {
        const next = tanh(add(matmul(stopGradient(h), weight), mul(x, h)))
        return [next, next] as const
      }, h0, xs, { traceStep })
      return sum(mul(ys, ys))
    }
    const h0 = normal(randomKey(3), [2, 3])
    const [a, b] = [true, false].map((t) => grad(loss(t), { argnums: [0, 1] })(w, h0))
    a.forEach((g, i) => expectClose(g, b[i], 1e-12, `gradient ${i}`))
  })

  it("reports a carry that changes shape with the loop's message", () => {
    const bad = () => scan((h: Tensor, x: Tensor) => [sum(add(h, x), 0), x] as const, normal(randomKey(1), [2, 3]), normal(randomKey(2), [4, 2, 3]), { traceStep: true })
    expect(bad).toThrow(/scan: the step function returned a carry that does not match `init`/)
  })

  it('runs the loop for a step whose trace cannot stand for it (a customVjp inside), with the same gradients', () => {
    const doubled = customVjp((x: Tensor) => [mul(x, 2), null] as const, (_res: null, g: Tensor) => [mul(g, 2)])
    const w = normal(randomKey(1), [3, 3])
    const xs = normal(randomKey(2), [4, 2, 3])
    const loss = (traceStep: boolean) => (weight: Tensor): Tensor => {
      const [, ys] = scan((h: Tensor, x: Tensor) => {
        const next = tanh(add(doubled(matmul(h, weight)), x))
        return [next, next] as const
      }, normal(randomKey(3), [2, 3]), xs, { traceStep })
      return sum(mul(ys, ys))
    }
    expectClose(grad(loss(true))(w), grad(loss(false))(w), 1e-12, 'gradient')
  })
})
