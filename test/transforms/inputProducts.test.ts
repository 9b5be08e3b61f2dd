/**
 * @file Input products in traced steps (transforms/derivedKernel.ts): a product `x·w` of a step's
 * input and a step-invariant weight runs once over every step's rows, and its cotangents are taken
 * in one pullback at the end. Values and gradients (weights, inputs, initial carry) equal the
 * step-by-step loop's to 1e-12 in float64: forwards and reversed, with every output or only the
 * last (so most steps' products get no cotangent), and with the product read by the carry or by y
 * alone.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type Tensor, add, grad, jsKernels, matmul, mul, normal, randomKey, scan, splitKey, sum, tanh, useKernels } from '../../src/index.js'
import { expectClose } from '../nn/support.js'

type Weights = { w: Tensor; u: Tensor; v: Tensor }

const cases = [
  { reverse: false, outputs: 'all' as const },
  { reverse: true, outputs: 'all' as const },
  { reverse: false, outputs: 'last' as const },
  { reverse: true, outputs: 'last' as const },
]

/** The [rows, inner] of every product the installed backend runs meanwhile. */
const products: [number, number][] = []
let restore = (): void => undefined
afterEach(() => restore())
const recordingProducts = (): void => {
  const base = useKernels(jsKernels)
  useKernels({ ...base, name: `${base.name} (recorded)`, matmul: (a, ao, b, bo, m, k, ...rest) => { products.push([m, k]); return base.matmul(a, ao, b, bo, m, k, ...rest) } })
  products.length = 0
  restore = () => useKernels(base)
}

describe('input products in traced steps', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('equal the loop %s', (_, c) => {
    const [k1, k2, k3, k4, k5, k6] = splitKey(randomKey(7), 6)
    const [time, batch, inputs, hidden] = [5, 3, 4, 6]
    const p: Weights = { w: mul(normal(k1, [hidden, hidden]), 0.4), u: normal(k2, [inputs, hidden]), v: normal(k3, [inputs, hidden]) }
    const xs = normal(k4, [time, batch, inputs])
    const h0 = normal(k5, [batch, hidden])
    const weights = normal(k6, c.outputs === 'all' ? [time, batch, hidden] : [batch, hidden])
    // x·u feeds the carry; x·v only y, so with the last output alone it has a cotangent at one step.
    const step = ({ w, u, v }: Weights) => (h: Tensor, x: Tensor) => {
      const next = tanh(add(matmul(h, w), matmul(x, u)))
      return [next, add(next, matmul(x, v))] as const
    }
    const loss = (traceStep: boolean) => (q: Weights, x: Tensor, h: Tensor): Tensor => {
      const [final, ys] = scan(step(q), h, x, { ...c, traceStep })
      return add(sum(mul(ys, weights)), sum(mul(final, final)))
    }
    recordingProducts()
    const traced = grad(loss(true), { argnums: [0, 1, 2] })(p, xs, h0)
    expect(products, 'one product over every step\'s rows').toContainEqual([time * batch, inputs])
    const loop = grad(loss(false), { argnums: [0, 1, 2] })(p, xs, h0)
    expectClose(loss(true)(p, xs, h0), loss(false)(p, xs, h0), 1e-12, 'loss')
    for (const name of ['w', 'u', 'v'] as const) expectClose(traced[0][name], loop[0][name], 1e-12, name)
    expectClose(traced[1], loop[1], 1e-12, 'xs')
    expectClose(traced[2], loop[2], 1e-12, 'h0')
    expect(traced[1].shape).toEqual([time, batch, inputs])
  })
})
