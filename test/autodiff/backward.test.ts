/**
 * @file The backward sweep: cotangents of reused values add up, unused inputs get zeros, long
 * chains do not overflow the stack, nested differentiations keep their levels apart, and custom
 * VJPs and checkpoints slot into the tape.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, checkGrads, checkpoint, customVjp, exp, grad, hvp, log, matmul, mul, neg, ones, sigmoid, softplus,
  square, stopGradient, sub, sum, tanh, tensor, valueAndGrad, vjp,
} from '../../src/index.js'
import { expectAllClose } from '../helpers/allClose.js'

const cube = (x: Tensor) => mul(mul(x, x), x)

describe('ad.backward: accumulation', () => {
  it('fan-out sums the cotangents of a reused value', () => {
    const x = tensor([1, -2, 3])
    expect(grad((v: Tensor) => sum(mul(v, v)))(x).toArray()).toEqual([2, -4, 6])
    expect(grad((v: Tensor) => sum(add(mul(v, v), v)))(x).toArray()).toEqual([3, -3, 7])
    const y = tanh(x)
    expectAllClose(
      grad((v: Tensor) => { const t = tanh(v); return sum(add(t, mul(t, t))) })(x),
      (y.toArray() as number[]).map((t) => (1 + 2 * t) * (1 - t * t)),
      { rtol: 1e-15 },
    )
  })

  it('fan-out through broadcasting sums over the broadcast axes', () => {
    const b = tensor([1, 2])
    const g = grad((v: Tensor) => sum(mul(add(ones([3, 2]), v), v)))(b) // Σ over 3 rows of (1 + v)·v
    expect(g.toArray()).toEqual([3 * (1 + 2 * 1), 3 * (1 + 2 * 2)])
  })

  it('an unused input gets zeros of its shape and dtype', () => {
    const a = tensor([1, 2])
    const b = tensor([[1, 2, 3]], { dtype: 'float32' })
    const [ga, gb] = grad((x: Tensor, _y: Tensor) => sum(square(x)), { argnums: [0, 1] })(a, b)
    expect(ga.toArray()).toEqual([2, 4])
    expect(gb.toArray()).toEqual([[0, 0, 0]])
    expect(gb.dtype).toBe('float32')
    const params = { used: tensor(2), unused: [tensor([5, 5])] }
    const gp = grad((p: typeof params) => square(p.used))(params)
    expect(gp.unused[0].toArray()).toEqual([0, 0])
    expect(grad((_x: Tensor) => tensor(3))(a).toArray()).toEqual([0, 0])
  })

  it('stopGradient cuts every level', () => {
    expect(grad((x: Tensor) => sum(mul(stopGradient(x), x)))(tensor([3])).toArray()).toEqual([3])
    expect(grad(grad((x: Tensor) => mul(stopGradient(x), square(x))))(tensor(3)).item()).toBe(6)
  })

  it('a 50,000-node chain does not overflow the stack', () => {
    const depth = 50_000
    const f = (x: Tensor) => {
      let y = x
      for (let i = 0; i < depth; i++) y = mul(y, 1.00001)
      return sum(y)
    }
    const g = grad(f)(tensor([1, 2]))
    expectAllClose(g, [1.00001 ** depth, 1.00001 ** depth], { rtol: 1e-9 })
  })
})

describe('ad.backward: nesting', () => {
  it('grad of grad, and a third derivative', () => {
    expect(grad(grad(cube))(tensor(2)).item()).toBe(12)
    expect(grad(grad(grad(cube)))(tensor(-5)).item()).toBe(6)
    const x = tensor(0.7)
    const t = Math.tanh(0.7)
    expectAllClose(grad(grad(tanh))(x), -2 * t * (1 - t * t), { rtol: 1e-14 })
    expectAllClose(grad(grad(grad(exp)))(x), Math.exp(0.7), { rtol: 1e-15 })
    expectAllClose(grad(grad(softplus))(x), Math.exp(-0.7) / (1 + Math.exp(-0.7)) ** 2, { rtol: 1e-14 })
  })

  it('does not confuse perturbations: d/dx [x · d/dy (x + y)] = 1', () => {
    const f = (x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(tensor(1)))
    for (const x of [-2, 0, 0.5, 3]) expect(grad(f)(tensor(x)).item()).toBe(1)
  })

  it('an inner grad that closes over the outer variable is differentiated: d/dx ∂/∂y (x·y²)|y=3 = 6', () => {
    const f = (x: Tensor) => grad((y: Tensor) => mul(x, square(y)))(tensor(3))
    expect(grad(f)(tensor(10)).item()).toBe(6)
    // Levels do not leak: the inner gradient is a plain value once the outer grad returns.
    expect(f(tensor(10)).item()).toBe(60)
  })

  it('grad of a function that calls grad: d/dx Σ ∇(Σ y³)(x) = 6x', () => {
    const f = (x: Tensor) => sum(grad((y: Tensor) => sum(cube(y)))(x))
    expect(grad(f)(tensor([1, -2])).toArray()).toEqual([6, -12])
  })

  it('vjp inside grad, and hvp', () => {
    const f = (x: Tensor) => {
      const [, pullback] = vjp((y: Tensor) => mul(y, x), x)
      return sum(pullback(ones([2]))[0]) // ∂(y·x)/∂y = x, so f(x) = Σ x
    }
    expect(grad(f)(tensor([1, 2])).toArray()).toEqual([1, 1])
    const x = tensor([1, 2])
    const v = tensor([0.5, -1])
    // f(x) = Σ x₀²x₁: H = [[2x₁, 2x₀], [2x₀, 0]].
    expect(hvp((p: Tensor) => mul(square(sum(mul(p, tensor([1, 0])))), sum(mul(p, tensor([0, 1])))))(x, v).toArray())
      .toEqual([2 * 2 * 0.5 + 2 * 1 * -1, 2 * 1 * 0.5])
  })
})

describe('ad.customVjp', () => {
  /** log(1 + eˣ) with the hand-written derivative σ(x). */
  const makeSoftplus = (calls: { bwd: number }) =>
    customVjp(
      (x: Tensor) => [log(add(exp(x), 1)), x] as const,
      (x: Tensor, g: Tensor) => {
        calls.bwd++
        return [mul(g, sigmoid(x))]
      },
    )

  it('grad uses bwd', () => {
    const calls = { bwd: 0 }
    const f = makeSoftplus(calls)
    const g = grad((x: Tensor) => sum(f(x)))(tensor([-1, 0, 2]))
    expect(calls.bwd).toBe(1)
    expectAllClose(g, sigmoid(tensor([-1, 0, 2])), { rtol: 1e-15 })
    expect(f(tensor(0)).item()).toBeCloseTo(Math.log(2), 15)
  })

  it('checkGrads accepts a correct bwd, at first and second order', () => {
    const f = makeSoftplus({ bwd: 0 })
    const result = checkGrads((x: Tensor) => f(x), [tensor([[-1.5, 0.3], [2, -0.1]])], { order: 2 })
    expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
  })

  it('bwd receives the output cotangent and returns one per argument (pytrees, null for none)', () => {
    const scaled = customVjp(
      (p: { w: Tensor; b: Tensor }, x: Tensor) => [add(mul(p.w, x), p.b), { p, x }] as const,
      ({ p, x }, g: Tensor) => [{ w: mul(g, x), b: g }, null],
    )
    const p = { w: tensor([2, 3]), b: tensor([1, 1]) }
    const x = tensor([5, 7])
    const [gp, gx] = grad((q: typeof p, y: Tensor) => sum(scaled(q, y)), { argnums: [0, 1] })(p, x)
    expect(gp.w.toArray()).toEqual([5, 7])
    expect(gp.b.toArray()).toEqual([1, 1])
    expect(gx.toArray()).toEqual([0, 0]) // bwd said null: no gradient
  })

  it('an outer differentiation sees through fwd and bwd', () => {
    const f = makeSoftplus({ bwd: 0 })
    const x = 0.4
    const s = 1 / (1 + Math.exp(-x))
    expectAllClose(grad(grad(f))(tensor(x)), s * (1 - s), { rtol: 1e-14 })
  })
})

describe('ad.checkpoint', () => {
  it('gives the same gradients, recomputes in the backward pass, and differentiates closed-over values', () => {
    const w = tensor([[0.5, -0.3], [0.2, 0.8]])
    let runs = 0
    const block = (h: Tensor) => {
      runs++
      return tanh(matmul(h, w))
    }
    const loss = (h: Tensor, remat: boolean) => sum(square((remat ? checkpoint(block) : block)((remat ? checkpoint(block) : block)(h))))
    const h = tensor([[1, -1]])
    const plain = grad((x: Tensor) => loss(x, false))(h)
    runs = 0
    const remat = grad((x: Tensor) => loss(x, true))(h)
    expect(runs).toBe(4) // two forward runs and two recomputations
    expect(remat.toArray()).toEqual(plain.toArray())
    // w is not an argument of block: checkpoint finds it on the tape.
    const gw = (remat2: boolean) => grad((v: Tensor) => {
      const f = (x: Tensor) => tanh(matmul(x, v))
      return sum(square((remat2 ? checkpoint(f) : f)(h)))
    })(w)
    expect(gw(true).toArray()).toEqual(gw(false).toArray())
  })

  it('supports second order', () => {
    const f = (x: Tensor) => sum(checkpoint((y: Tensor) => tanh(mul(y, y)))(x))
    const result = checkGrads(f, [tensor([0.3, -0.8])], { order: 2 })
    expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
  })
})

describe('ad.valueAndGrad', () => {
  it('returns the value with the gradient', () => {
    const [value, g] = valueAndGrad((x: Tensor) => sum(neg(square(sub(x, 1)))))(tensor([3]))
    expect(value.item()).toBe(-4)
    expect(g.toArray()).toEqual([-4])
  })
})
