/**
 * @file ad.jacfwd, ad.jacrev and ad.hessian: jacfwd = jacrev = central differences (entry by
 * entry) over pytrees and every form of argnums, JAX's shapes `[...out, ...in]` and nesting
 * (output tree of input trees), through an LSTM's kernel; the Hessian symmetric and equal to the
 * central differences of the gradient; clear errors for bad argnums and non-tensor arguments.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, TreeError, ValueError, add, cast, concat, exp, grad, hessian, jacfwd, jacrev, matmul, mul, normal, randomKey, reshape,
  sigmoid, sum, tanh, tensor, treeFlatten, treeLeaves, treeUnflatten,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'

const runs = { numRuns: 5, seed: 20261208, endOnFailure: true }
const EPS = 1e-6

/** x with h added at flat index e of leaf l of a tree. */
const nudged = (tree: unknown, l: number, e: number, h: number): unknown => {
  const { leaves, def } = treeFlatten(tree)
  return treeUnflatten(def, leaves.map((x, m) => {
    if (m !== l) return x
    const data = Float64Array.from(x.data)
    data[e] += h
    return tensor(data, { shape: x.shape })
  }))
}

/**
 * The Jacobian by central differences, entry by entry, in JAX's layout: per output leaf, per
 * argnum (a bare tree for a single index), the argument's tree of `[...out, ...in]` blocks.
 */
const numericJacobian = (f: (...args: any[]) => unknown, args: readonly unknown[], argnums: number | number[]): unknown => {
  const list = typeof argnums === 'number' ? [argnums] : argnums
  const { leaves: outs, def: outDef } = treeFlatten(f(...args))
  const perArgument = (j: number, i: number): unknown => {
    const { leaves, def } = treeFlatten(args[i])
    return treeUnflatten(def, leaves.map((x, l) => {
      const columns = Array.from({ length: x.size }, (_, e) => {
        const at = (h: number) => treeLeaves(f(...args.map((a, k) => (k === i ? nudged(a, l, e, h) : a))))[j]
        return Array.from(at(EPS).data, (v, k) => (v - at(-EPS).data[k]) / (2 * EPS))
      })
      const m = outs[j].size
      const data = Float64Array.from({ length: m * x.size }, (_, k) => columns[k % x.size][Math.floor(k / x.size)])
      return tensor(data, { shape: [...outs[j].shape, ...x.shape] })
    }))
  }
  return treeUnflatten(outDef, outs.map((_, j) => (typeof argnums === 'number' ? perArgument(j, argnums) : list.map((i) => perArgument(j, i)))))
}

/** Same tree structure, same shapes, entries within atol + 1e-6·|expected|. */
/** Every entry within `atol` plus `rtol` of the expected entry's size. */
const expectTreeClose = (actual: unknown, expected: unknown, atol: number, what: string, rtol = 0): void => {
  const a = treeFlatten(actual)
  const b = treeFlatten(expected)
  expect(a.def, `${what}: structure`).toEqual(b.def)
  a.leaves.forEach((x, i) => {
    expect(x.shape, `${what}: leaf ${i} shape`).toEqual(b.leaves[i].shape)
    x.data.forEach((v, k) => {
      const w = b.leaves[i].data[k]
      if (!(Math.abs(v - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}: leaf ${i}[${k}] is ${v}, expected ${w}`)
    })
  })
}

describe('ad.jacfwd and ad.jacrev', () => {
  /** A function of a parameter tree and an input, with an output tree of two leaves. */
  const f = (p: { w: Tensor; b: Tensor }, x: Tensor) => ({
    y: tanh(add(matmul(x, p.w), p.b)),
    extra: [mul(sum(exp(x)), sum(sigmoid(p.b)))],
  })

  it.each([[0], [1], [[0, 1]], [[1]], [[1, 0, 1]]] as const)('argnums %j: jacfwd = jacrev = central differences, in JAX\'s nesting', (argnums) => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), (seed) => {
      const p = { w: normal(randomKey(seed), [3, 2]), b: normal(randomKey(seed + 1), [2]) }
      const x = normal(randomKey(seed + 2), [2, 3])
      const numeric = numericJacobian(f, [p, x], argnums as number | number[])
      const forward = jacfwd(f, { argnums })(p, x)
      // Central differences: an O(h²) truncation error that grows with the entries, hence the relative part.
      expectTreeClose(forward, numeric, 1e-7, 'jacfwd', 1e-6)
      expectTreeClose(jacrev(f, { argnums })(p, x), forward, 1e-13, 'jacrev vs jacfwd')
    }), runs)
  })

  it('has shape [...out.shape, ...in.shape] for tensor → tensor functions, scalars included', () => {
    const x = normal(randomKey(1), [2, 3])
    const g = (y: Tensor) => reshape(concat([y, mul(y, y)], 0), [4, 3, 1])
    expect(jacfwd(g)(x).shape).toEqual([4, 3, 1, 2, 3])
    expect(jacrev(g)(x).shape).toEqual([4, 3, 1, 2, 3])
    expect(jacfwd((y: Tensor) => sum(y))(x).shape).toEqual([2, 3])
    expect(jacrev((s: Tensor) => mul(x, s))(tensor(2)).shape).toEqual([2, 3])
    expect(jacfwd((y: Tensor) => mul(y, 2))(tensor([1, 2])).toArray()).toEqual([[2, 0], [0, 2]])
  })

  it('nests as the output tree of the argument trees, with argnums arrays giving arrays', () => {
    const p = { w: normal(randomKey(3), [3, 2]), b: normal(randomKey(4), [2]) }
    const x = normal(randomKey(5), [2, 3])
    const byParams = jacrev(f)(p, x)
    expect(byParams.y.w.shape).toEqual([2, 2, 3, 2])
    expect(byParams.y.b.shape).toEqual([2, 2, 2])
    expect(byParams.extra[0].w.shape).toEqual([3, 2])
    const both = jacfwd(f, { argnums: [0, 1] })(p, x)
    expect(both.y[1].shape).toEqual([2, 2, 2, 3])
    expect(both.extra[0][0].b.shape).toEqual([2])
  })

  it('an output that does not depend on the argument gives zeros; float32 in, float32 out', () => {
    const x = cast(tensor([1, 2]), 'float32')
    const j = jacfwd((y: Tensor, z: Tensor) => mul(z, 3), { argnums: 0 })(x, x)
    expect(j.toArray()).toEqual([[0, 0], [0, 0]])
    expect(jacrev((y: Tensor) => mul(y, y))(x).dtype).toBe('float32')
    expect(jacfwd((y: Tensor) => mul(y, y))(x).dtype).toBe('float32')
  })

  it('through an LSTM layer (its sequence kernel): jacfwd = jacrev', () => {
    const layer = nn.lstm({ inputSize: 2, hiddenSize: 2 })
    const params = layer.init(randomKey(6), { dtype: 'float64' })
    const x = normal(randomKey(7), [1, 3, 2])
    const g = (xs: Tensor) => layer.apply(params, xs).outputs
    const forward: Tensor = jacfwd(g)(x)
    expect(forward.shape).toEqual([1, 3, 2, 1, 3, 2])
    expectTreeClose(jacrev(g)(x), forward, 1e-13, 'lstm jacrev vs jacfwd')
    // Causality: no output step depends on a later input step.
    expect(Array.from(forward.data).filter((_, k) => {
      const [tOut, tIn] = [Math.floor(k / 12) % 3, Math.floor(k / 2) % 3]
      return tIn > tOut
    }).every((v) => v === 0)).toBe(true)
  })

  it('refuses bad argnums and arguments that are not trees of tensors', () => {
    const x = tensor([1, 2])
    const id = (y: Tensor) => y
    for (const jac of [jacfwd, jacrev]) {
      expect(() => jac(id, { argnums: 2 })(x)).toThrow(TreeError)
      expect(() => jac(id, { argnums: 2 })(x)).toThrow(/argnums names argument 2, but the function was called with 1 argument/)
      expect(() => jac(id, { argnums: -1 })(x)).toThrow(TreeError)
      expect(() => jac(id, { argnums: [] })(x)).toThrow(ValueError)
      expect(() => jac(id, { argnums: 0.5 })(x)).toThrow(/argnums must be an argument index or a non-empty array of them, got 0.5/)
      expect(() => jac(id)(3 as never)).toThrow(/argument 0 is the number 3; Jacobians are taken with respect to float tensors, so pass tensor\(3\)/)
      expect(() => jac(id)({ w: x, name: 'w' } as never)).toThrow(/the leaf at .name is a string, expected a Tensor/)
      expect(() => jac(() => 'not a tensor' as never)(x)).toThrow(/the function's output: the leaf at \(root\) is a string/)
    }
  })
})

describe('ad.hessian', () => {
  it('is symmetric and equals central differences of the gradient', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), (seed) => {
      const a = normal(randomKey(seed), [3, 3])
      const f = (x: Tensor) => sum(tanh(matmul(a, mul(x, x))))
      const x = normal(randomKey(seed + 1), [3, 2])
      const h = hessian(f)(x)
      expect(h.shape).toEqual([3, 2, 3, 2])
      const n = 6
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(h.data[i * n + j] - h.data[j * n + i])).toBeLessThanOrEqual(1e-14)
      expectTreeClose(h, numericJacobian(grad(f), [x], 0), 1e-7, 'hessian vs differences of grad', 1e-6)
    }), runs)
  })

  it('over pytrees and argnums: the argument tree of its own tree', () => {
    const f = (p: { u: Tensor; v: Tensor }, c: Tensor) => mul(mul(sum(p.u), sum(p.v)), c)
    const p = { u: tensor([1, 2]), v: tensor([3, 4, 5]) }
    const h = hessian(f)(p, tensor(2))
    expect(h.u.u.shape).toEqual([2, 2])
    expect(h.u.v.shape).toEqual([2, 3])
    expect(h.v.u.shape).toEqual([3, 2])
    // ∂²/∂u_i∂v_j of c·Σu·Σv is c.
    expect(h.u.v.toArray()).toEqual([[2, 2, 2], [2, 2, 2]])
    // With argnums [0, 1], JAX's nesting: the gradient's tree [{ u, v }, c], each leaf holding [∂/∂p, ∂/∂c].
    const mixed = hessian(f, { argnums: [0, 1] })(p, tensor(2))
    expect(mixed[0].u[0].v.shape).toEqual([2, 3])
    expect(mixed[0].u[1].toArray()).toEqual([12, 12]) // ∂/∂c of ∂f/∂u_i = Σv
    expect(mixed[1][0].v.toArray()).toEqual([3, 3, 3]) // ∂/∂v_j of ∂f/∂c = Σu
    expect(mixed[1][1].shape).toEqual([])
  })
})
