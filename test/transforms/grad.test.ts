import { describe, expect, it } from 'vitest'
import { add, grad, hvp, mul, sum, tensor, valueAndGrad, vjp, type Tensor } from '../../src/index.js'

describe('ad.grad', () => {
  it('differentiates x·x as 2x', () => {
    expect(grad((x: Tensor) => sum(mul(x, x)))(tensor([1, 2, 3])).toArray()).toEqual([2, 4, 6])
  })

  it('does not confuse nested perturbations: d/dx [x · d/dy (x + y)] = 1', () => {
    const f = (x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(tensor(2)))
    for (const x of [-3, 0.5, 7]) expect(grad(f)(tensor(x)).item()).toBe(1)
  })

  it('composes: grad(grad(x³)) = 6x', () => {
    const d2 = grad(grad((x: Tensor) => mul(mul(x, x), x)))
    expect(d2(tensor(2)).item()).toBe(12)
  })

  it('returns gradients with the structure of the argument', () => {
    const params = { w: tensor([1, 2]), layers: [{ b: tensor(3) }] }
    const g = grad((p: typeof params) => add(sum(mul(p.w, p.w)), mul(p.layers[0].b, 2)))(params)
    expect(g.w.toArray()).toEqual([2, 4])
    expect(g.layers[0].b.item()).toBe(2)
  })

  it('valueAndGrad with argnums and hasAux', () => {
    const f = (a: Tensor, b: Tensor) => [sum(mul(a, b)), { note: 'aux' }] as const
    const [[value, aux], [ga, gb]] = valueAndGrad(f, { argnums: [0, 1], hasAux: true })(tensor([1, 2]), tensor([3, 4]))
    expect(value.item()).toBe(11)
    expect(aux).toEqual({ note: 'aux' })
    expect(ga.toArray()).toEqual([3, 4])
    expect(gb.toArray()).toEqual([1, 2])
  })

  it('repeated argnums give each occurrence the gradient of its argument', () => {
    const f = (a: Tensor, b: Tensor) => sum(mul(mul(a, a), b))
    const [g1, g0, g1again] = grad(f, { argnums: [1, 0, 1] })(tensor([1, 2]), tensor([3, 4]))
    expect(g1.toArray()).toEqual([1, 4])
    expect(g0.toArray()).toEqual([6, 16])
    expect(g1again.toArray()).toEqual([1, 4])
    const [value, [h0, h0again]] = valueAndGrad(f, { argnums: [0, 0] })(tensor([1, 2]), tensor([3, 4]))
    expect(value.item()).toBe(19)
    expect(h0.toArray()).toEqual([6, 16])
    expect(h0again.toArray()).toEqual([6, 16])
  })

  it('vjp pulls a cotangent back to every primal', () => {
    const [y, pullback] = vjp((a: Tensor, b: Tensor) => mul(a, b), tensor([1, 2]), tensor([3, 4]))
    expect(y.toArray()).toEqual([3, 8])
    const [ga, gb] = pullback(tensor([1, 10]))
    expect(ga.toArray()).toEqual([3, 40])
    expect(gb.toArray()).toEqual([1, 20])
  })

  it('hvp of Σx³ at x in direction v is 6·x·v', () => {
    expect(hvp((x: Tensor) => sum(mul(mul(x, x), x)))(tensor([1, 2]), tensor([1, 0.5])).toArray()).toEqual([6, 6])
  })

  it('rejects a non-scalar output with its shape', () => {
    expect(() => grad((x: Tensor) => mul(x, 2))(tensor([[1, 2]]))).toThrow(/must return a scalar \(shape \[\]\), but returned shape \[1, 2\]/)
  })

  it('names a non-tensor leaf by its path', () => {
    expect(() => grad((p: any) => sum(p.w))({ w: tensor([1]), layers: [{ b: 3 }] })).toThrow(/argument 0: the leaf at \.layers\[0\]\.b is a number/)
  })
})
