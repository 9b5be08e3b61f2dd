import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, TreeError, ValueError, arbitraries, tensor, treeFlatten, treeLeaves, treeUnflatten, zeros,
} from '../../src/index.js'
import * as optim from '../../src/optim/index.js'

const values = (x: Tensor): number[] => Array.from(x.data)

/** Everything observable about a tree: its structure and every leaf's shape, dtype and values. */
const snapshot = (tree: unknown) => {
  const { leaves, def } = treeFlatten(tree)
  return { def: JSON.stringify(def), leaves: leaves.map((x) => ({ shape: [...x.shape], dtype: x.dtype, data: Array.from(x.data) })) }
}

describe('optim.chain', () => {
  const grads = { a: tensor([3]), b: tensor([4]) } // global norm 5

  it('applies transformations left to right, so clip-then-scale differs from scale-then-clip', () => {
    const clipThenScale = optim.chain(optim.clipByGlobalNorm(1), optim.scale(10))
    const scaleThenClip = optim.chain(optim.scale(10), optim.clipByGlobalNorm(1))
    const [u1] = clipThenScale.update(grads, clipThenScale.init(grads))
    const [u2] = scaleThenClip.update(grads, scaleThenClip.init(grads))
    // clip: [3, 4]·(1/5) = [0.6, 0.8], then ×10 → [6, 8] (norm 10)
    expect([...values(u1.a), ...values(u1.b)].map((v) => +v.toFixed(12))).toEqual([6, 8])
    // ×10: [30, 40] (norm 50), then clip to norm 1 → [0.6, 0.8]
    expect([...values(u2.a), ...values(u2.b)].map((v) => +v.toFixed(12))).toEqual([0.6, 0.8])
    expect(optim.globalNorm(u1).item()).not.toBeCloseTo(optim.globalNorm(u2).item(), 6)
  })

  it('keeps one inner state per transformation, in order', () => {
    const opt = optim.chain(optim.traceMomentum(0.9), optim.scaleByLearningRate(0.1))
    const state = opt.init(grads)
    expect(state).toHaveLength(2)
    expect(Object.keys(state[0])).toEqual(['trace'])
    expect(state[1].count.item()).toBe(0)
    const [, next] = opt.update(grads, state)
    expect(next[1].count.item()).toBe(1)
    expect(values((next[0].trace as { a: Tensor }).a)).toEqual([3])
  })

  it('rejects a state of the wrong length, naming the fix', () => {
    const opt = optim.chain(optim.scale(1), optim.scale(2))
    expect(() => opt.update(grads, [{}] as never)).toThrow(/optim\.chain: the state must be an array of 2 inner states.*init\(params\)/)
  })
})

describe('optim.clipByGlobalNorm', () => {
  const leaf = arbitraries.tensor({ minRank: 0, maxRank: 2, min: -5, max: 5 })

  it('bounds the global norm by maxNorm, keeps the direction, and leaves small gradients unchanged', () => {
    fc.assert(
      fc.property(leaf, leaf, fc.double({ min: 0.01, max: 10, noNaN: true }), (a, b, maxNorm) => {
        const g = { a, b: [b] }
        const clip = optim.clipByGlobalNorm(maxNorm)
        const [u] = clip.update(g, clip.init(g))
        const before = optim.globalNorm(g).item()
        const after = optim.globalNorm(u).item()
        expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-12))
        const factor = before > maxNorm ? maxNorm / before : 1
        ;[...treeLeaves(g)].forEach((x, j) => {
          const y = treeLeaves(u)[j]
          x.data.forEach((v, i) => expect(Math.abs(y.data[i] - v * factor)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v))))
        })
        if (before <= maxNorm) expect(snapshot(u)).toEqual(snapshot(g))
      }),
      { numRuns: 40, seed: 20240603 },
    )
  })

  it('globalNorm is √(Σ x²) over every leaf, in float64', () => {
    expect(optim.globalNorm({ a: tensor([3]), b: tensor([4]) }).item()).toBe(5)
    expect(optim.globalNorm({ a: tensor([3e20, 4e20], { dtype: 'float32' }) }).dtype).toBe('float64')
    expect(optim.globalNorm({}).item()).toBe(0)
  })

  it('handles an all-zero gradient without dividing by zero', () => {
    const g = { w: zeros([3]) }
    const [u] = optim.clipByGlobalNorm(1).update(g, {})
    expect(values(u.w)).toEqual([0, 0, 0])
  })

  it('keeps float32 leaves float32', () => {
    const g = { w: tensor([30, 40], { dtype: 'float32' }), v: tensor([0]) }
    const [u] = optim.clipByGlobalNorm(1).update(g, {})
    expect(u.w.dtype).toBe('float32')
    expect(values(u.w)[0]).toBeCloseTo(0.6, 6)
  })

  it('rejects maxNorm ≤ 0', () => {
    expect(() => optim.clipByGlobalNorm(0)).toThrow(/optim\.clipByGlobalNorm: maxNorm must be positive, got 0/)
  })
})

describe('optim.l2', () => {
  const params = {
    wLayer: tensor([[1, 2]]), bLayer: tensor([3]), wTime: tensor([[-4]]), bTime: tensor([5]),
    torch: { weight_ih_l0: tensor([6]), bias_ih_l0: tensor([7]) },
    layers: [{ w: tensor([8]), b: tensor([9]) }],
    outputBias: tensor([10]),
  }
  const zeroGrads = treeUnflatten<typeof params>(treeFlatten(params).def, treeLeaves(params).map((x) => zeros(x.shape)))

  it('adds λ·w to the gradient of weights and leaves biases untouched (the seed’s λ)', () => {
    const opt = optim.l2(0.5)
    const [u] = opt.update(zeroGrads, opt.init(params), params)
    expect(values(u.wLayer)).toEqual([0.5, 1])
    expect(values(u.wTime)).toEqual([-2])
    expect(values(u.torch.weight_ih_l0)).toEqual([3])
    expect(values(u.layers[0].w)).toEqual([4])
    for (const bias of [u.bLayer, u.bTime, u.torch.bias_ih_l0, u.layers[0].b, u.outputBias]) expect(values(bias)).toEqual([0])
  })

  it('takes a different filter', () => {
    const opt = optim.l2(1, { filter: ({ name }) => name === 'bTime' })
    const [u] = opt.update(zeroGrads, opt.init(params), params)
    expect(values(u.bTime)).toEqual([5])
    expect(values(u.wLayer)).toEqual([0, 0])
  })

  it('the default filter looks at the leaf’s name', () => {
    const leaf = tensor(0)
    const isWeight = (name: string) => optim.isWeight({ path: `.${name}`, name, leaf })
    expect(['w', 'wLayer', 'weight_hh_l1', 'kernel', ''].map(isWeight)).toEqual([true, true, true, true, true])
    expect(['b', 'bLayer', 'bias_hh_l1', 'outputBias', 'beta'].map(isWeight)).toEqual([false, false, false, false, false])
  })

  it('needs the parameters', () => {
    const opt = optim.l2(0.1)
    expect(() => opt.update(zeroGrads, opt.init(params))).toThrow(/optim\.l2: needs the current parameters.*update\(grads, state, params\)/)
  })
})

describe('optim.masked', () => {
  const params = { w: tensor([1, 2]), b: tensor([3]) }

  it('applies the inner transformation to selected leaves only and gives the others no state', () => {
    const opt = optim.masked(optim.traceMomentum(0.5), ({ name }) => name === 'w')
    const state = opt.init(params)
    expect((state.trace as { b: unknown }).b).toBeNull()
    const [u1, s1] = opt.update(params, state)
    const [u2] = opt.update(params, s1)
    expect(values(u2.w)).toEqual([1.5, 3]) // 0.5·[1, 2] + [1, 2]
    expect(values(u1.b)).toEqual([3])
    expect(values(u2.b)).toEqual([3])
  })
})

describe('optim: purity and state', () => {
  const params = { w: tensor([[0.5, -1], [2, 0.25]]), b: tensor([0.1, -0.2]) }
  const grads = { w: tensor([[1, -2], [0.5, 3]]), b: tensor([-1, 0.5]) }
  const table: [string, optim.GradientTransformation<any>][] = [
    ['sgd', optim.sgd(0.1)],
    ['momentum', optim.momentum(0.1)],
    ['adagrad', optim.adagrad(0.1)],
    ['adagradMomentum', optim.adagradMomentum(0.1)],
    ['rmsprop', optim.rmsprop(0.1)],
    ['adam', optim.adam(0.1)],
    ['adamw', optim.adamw(0.1)],
    ['clip, l2, adam', optim.chain(optim.clipByGlobalNorm(1), optim.l2(0.1), optim.adam(0.1))],
    ['masked adam', optim.masked(optim.adam(0.1), optim.isWeight)],
  ]

  it.each(table)('%s never mutates params, grads or state, and its state is a tree of tensors', (_name, opt) => {
    const s0 = opt.init(params)
    const [, s1] = opt.update(grads, s0, params)
    const before = [snapshot(params), snapshot(grads), snapshot(s0), snapshot(s1)]
    const [u2, s2] = opt.update(grads, s1, params)
    optim.applyUpdates(params, u2)
    expect([snapshot(params), snapshot(grads), snapshot(s0), snapshot(s1)]).toEqual(before)
    // A state is tensors only (counts are float64 scalars), so it can be checkpointed and restored.
    const restored = treeUnflatten(treeFlatten(s1).def, treeLeaves(s1).map((x) => tensor(Array.from(x.data), { shape: x.shape, dtype: x.dtype })))
    const [u2Again, s2Again] = opt.update(grads, restored, params)
    expect(snapshot(u2Again)).toEqual(snapshot(u2))
    expect(snapshot(s2Again)).toEqual(snapshot(s2))
  })

  it('keeps float32 parameters float32', () => {
    const p = { w: tensor([1, 2], { dtype: 'float32' }) }
    const opt = optim.adam(0.1)
    const [u] = opt.update({ w: tensor([0.5, -0.5], { dtype: 'float32' }) }, opt.init(p), p)
    expect(u.w.dtype).toBe('float32')
    expect(optim.applyUpdates(p, { w: tensor([0.1, 0.1]) }).w.dtype).toBe('float32')
  })
})

describe('optim: errors', () => {
  const params = { w: tensor([1, 2]) }

  it('rejects gradients whose structure differs from the state, naming the optimiser and the fix', () => {
    const opt = optim.adam(0.1)
    const state = opt.init(params)
    expect(() => opt.update({ v: tensor([1, 2]) }, state)).toThrow(TreeError)
    expect(() => opt.update({ v: tensor([1, 2]) }, state)).toThrow(/optim\.scaleByAdam: state\.mu .*keys differ.*init\(params\)/)
  })

  it('rejects leaves whose shapes differ instead of broadcasting them', () => {
    const opt = optim.momentum(0.1)
    expect(() => opt.update({ w: tensor([[1, 2]]) }, opt.init(params))).toThrow(ShapeError)
    expect(() => opt.update({ w: tensor([[1, 2]]) }, opt.init(params))).toThrow(
      /optim\.traceMomentum: state\.trace and updates differ in shape at \.w: state\.trace has \[2\], updates has \[1, 2\]/,
    )
    expect(() => optim.applyUpdates(params, { w: tensor([1, 2, 3]) })).toThrow(/optim\.applyUpdates: updates and params differ in shape at \.w/)
  })

  it('validates hyperparameters', () => {
    expect(() => optim.adam(0.1, { b1: 1 })).toThrow(ValueError)
    expect(() => optim.adam(0.1, { b1: 1 })).toThrow(/optim\.scaleByAdam: b1 must be in \[0, 1\), got 1/)
    expect(() => optim.rmsprop(0.1, { eps: -1 })).toThrow(/optim\.scaleByRms: eps must be ≥ 0, got -1/)
    expect(() => optim.sgd(NaN)).toThrow(/optim\.sgd: the learning rate must be a finite number ≥ 0, got NaN/)
  })

  it('rejects a schedule that returns a non-finite rate, with the step', () => {
    const opt = optim.sgd(() => Infinity)
    expect(() => opt.update(params, opt.init(params))).toThrow(/returned Infinity at step 0/)
  })
})
