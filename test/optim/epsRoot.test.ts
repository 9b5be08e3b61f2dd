/**
 * epsRoot (optax's eps_root) in adam, rmsprop and adagrad: differentiating a loss *through* one
 * optimiser step is NaN where a gradient entry is exactly 0 (√v has an infinite derivative at v = 0,
 * times v's zero derivative), and finite, matching central differences, with epsRoot 1e-16.
 * εroot = 0 (the default) keeps the one-pass Adam kernel's bits.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Tensor, checkGrads, grad, mul, square, sum, tensor, vjp, ValueError } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'

/** An inner loss whose gradient 2·c·w is exactly 0 at w[1] = 0. */
const inner = (w: Tensor) => sum(mul(square(w), tensor([1, 3, 0.5])))
const w0 = tensor([0.4, 0, -1.1])

/** The loss after one step of `opt` from w: a meta-loss, as in learned optimisers or hyper-gradients. */
const afterOneStep = (opt: optim.GradientTransformation<any>) => (w: Tensor): Tensor => {
  const g = grad(inner)(w)
  const [updates] = opt.update({ w: g }, opt.init({ w }), { w })
  return sum(square(optim.applyUpdates({ w }, updates).w))
}

const optimisers = [
  ['adam', (epsRoot?: number) => optim.adam(1e-3, { epsRoot })],
  ['rmsprop', (epsRoot?: number) => optim.rmsprop(1e-3, { epsRoot })],
  ['adagrad', (epsRoot?: number) => optim.adagrad(1e-3, { epsRoot })],
  ['adamw', (epsRoot?: number) => optim.adamw(1e-3, { epsRoot })],
  ['adagradMomentum', (epsRoot?: number) => optim.adagradMomentum(1e-3, { epsRoot })],
] as const

describe.each(optimisers)('optim.%s with epsRoot', (_name, make) => {
  it('without it, the gradient through a step is NaN at a zero gradient entry', () => {
    const g = grad(afterOneStep(make()))(w0)
    expect(Number.isNaN(g.data[1])).toBe(true)
  })

  it('with epsRoot 1e-16 it is finite and matches central differences', () => {
    const meta = afterOneStep(make(1e-16))
    const g = grad(meta)(w0)
    expect(Array.from(g.data).every(Number.isFinite)).toBe(true)
    // At g = 0 the step is g / (√εroot + ε) to first order, linear only for |g| ≪ 1e-8: the
    // difference step must stay well inside that, so it is 1e-11 (the rounding allowance grows to ~1e-4).
    const result = checkGrads(meta, [w0], { eps: 1e-11, rtol: 1e-4 })
    if (E.isLeft(result)) expect.fail(result.left.message)
  })
})

describe('optim.scaleByAdam epsRoot', () => {
  it('adds εroot to v̂ under the root: u = m̂ / (√(v̂ + εroot) + ε)', () => {
    const opt = optim.scaleByAdam({ epsRoot: 0.25, eps: 0 })
    const [u] = opt.update({ w: tensor([0, 2]) }, opt.init({ w: tensor([0, 0]) }))
    // First step: m̂ = g, v̂ = g².
    expect(Array.from(u.w.data)).toEqual([0, 2 / Math.sqrt(4.25)])
  })

  it('epsRoot 0 gives the same bits as leaving it out, on the kernel and the traced path', () => {
    const g = { w: tensor([0.3, -2, 0, 1e-9]) }
    const plain = optim.scaleByAdam()
    const zero = optim.scaleByAdam({ epsRoot: 0 })
    expect(Array.from(zero.update(g, zero.init(g))[0].w.data)).toEqual(Array.from(plain.update(g, plain.init(g))[0].w.data))
    const [traced] = vjp((x: Tensor) => zero.update({ w: x }, zero.init(g))[0].w, g.w)
    expect(Array.from(traced.data)).toEqual(Array.from(plain.update(g, plain.init(g))[0].w.data))
  })

  it('rejects a negative or non-finite epsRoot', () => {
    expect(() => optim.scaleByAdam({ epsRoot: -1 })).toThrow(ValueError)
    expect(() => optim.scaleByRms({ epsRoot: Number.NaN })).toThrow(/optim\.scaleByRms: epsRoot must be a finite number/)
    expect(() => optim.scaleByAdagrad({ epsRoot: -1e-16 })).toThrow(/optim\.scaleByAdagrad: epsRoot must be ≥ 0/)
  })
})
