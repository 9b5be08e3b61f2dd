/**
 * @file ad.jvp over pytrees: its contract and errors; no perturbation confusion; through scan
 * (the loop, reversed, masked, batch-major, checkpointed, traced into a derived kernel), through
 * the built-in layers' sequence kernels (the primal from the kernel, the tangent that of the
 * composed scan: real-time recurrent learning), through linearRecurrence, associativeScan and
 * customVjp (the user's tangent rule, or its bwd transposed), and composed with grad both ways.
 * Every tangent is checked against central differences in float64 and, for the layers, against
 * the same layer without kernels.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Kernels, type Tensor, ShapeError, TreeError, add, associativeScan, cast, checkpoint, customVjp, exp, grad, hvp, jvp,
  linearRecurrence, log, matmul, mul, normal, randomKey, scan, sigmoid, splitKey, sum, tanh, tensor, treeLeaves, treeMap, treeVdot, useKernels,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { K } from '../../src/tensor/backend.js'
import { composedOnly, composedTorchLayer } from '../nn/support.js'

const runs = { numRuns: 4, seed: 20261208, endOnFailure: true }
const EPS = 1e-6

/** A random tree like `tree`: normal leaves of its shapes. */
const randomLike = <T>(tree: T, seed: number): T => {
  const leaves = treeLeaves(tree)
  const keys = splitKey(randomKey(seed), leaves.length + 1)
  let i = 0
  return treeMap((x: Tensor) => cast(normal(keys[i++], x.shape), x.dtype), tree) as T
}

const along = <T>(tree: T, direction: T, h: number): T => treeMap((x: Tensor, t: Tensor) => add(x, mul(t, h)), tree, direction) as T

/** Central differences of f's output leaves along the tangents. */
const differences = (f: (...args: any[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[]): Tensor[] => {
  const plus = treeLeaves(f(...primals.map((p, i) => along(p, tangents[i], EPS))))
  const minus = treeLeaves(f(...primals.map((p, i) => along(p, tangents[i], -EPS))))
  return plus.map((p, j) => mul(add(p, mul(minus[j], -1)), 1 / (2 * EPS)))
}

const maxAbsDiff = (a: Tensor, b: Tensor): number => {
  expect(a.shape).toEqual(b.shape)
  return Array.from(a.data).reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0)
}

/** Every leaf of `actual` within `atol` plus `rtol` times the largest entry of `expected`'s. */
const expectTreeClose = (actual: unknown, expected: unknown, atol: number, what: string, rtol = 0): void => {
  const [a, b] = [treeLeaves(actual), treeLeaves(expected)]
  expect(a.length, `${what}: leaves`).toBe(b.length)
  a.forEach((x, i) => {
    const scale = Array.from(b[i].data).reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const gap = maxAbsDiff(x, b[i])
    if (!(gap <= atol + rtol * scale)) expect.fail(`${what}: leaf ${i} differs by ${gap} (scale ${scale})`)
  })
}

/** jvp of f at primals along random tangents equals central differences. */
const expectTangentMatchesDifferences = (f: (...args: any[]) => unknown, primals: readonly unknown[], seed: number, atol = 1e-7): unknown => {
  const tangents = primals.map((p, i) => randomLike(p, seed + i))
  const [out, tangent] = jvp(f, primals, tangents)
  expectTreeClose(out, f(...primals), 0, 'primal')
  // Central differences carry an O(h²) truncation error that grows with the values' scale, hence the relative part.
  expectTreeClose(tangent, differences(f, primals, tangents), atol, 'tangent vs central differences', 1e-6)
  return tangent
}

describe('ad.jvp: contract', () => {
  const x = tensor([0.5, -1, 2])
  const v = tensor([1, 0.5, -2])

  it('returns the value and the directional derivative, over pytrees, zeros where the output ignores the inputs', () => {
    const f = (p: { w: Tensor; b: Tensor }, y: Tensor) => ({ out: add(matmul(y, p.w), p.b), constant: tensor([7]), nothing: null })
    const p = { w: tensor([[1, 2], [3, 4], [5, 6]]), b: tensor([0.1, 0.2]) }
    const tp = { b: tensor([1, -1]), w: tensor([[0, 1], [1, 0], [0, 0]]) } // keys in another order: matched by name
    const [out, tangent] = jvp(f, [p, x], [tp, v])
    expect(out.out.toArray()).toEqual(f(p, x).out.toArray())
    // ẏ·w + y·ẇ + ḃ
    expect(tangent.out.toArray()).toEqual([1 * 1 + 0.5 * 3 - 2 * 5 + (-1) + 1, 1 * 2 + 0.5 * 4 - 2 * 6 + 0.5 + -1])
    expect(tangent.constant.toArray()).toEqual([0])
    expect(tangent.nothing).toBeNull()
  })

  it('keeps the dtype: a float32 function has float32 tangents', () => {
    const [y, dy] = jvp((a: Tensor) => tanh(a), [cast(x, 'float32')], [cast(v, 'float32')])
    expect([y.dtype, dy.dtype]).toEqual(['float32', 'float32'])
  })

  it('refuses tangents that do not match the primals', () => {
    const f = (a: Tensor) => exp(a)
    expect(() => jvp(f, x as never, [v] as never)).toThrow(/jvp: primals and tangents must be arrays/)
    expect(() => jvp(f, [x], [v, v] as never)).toThrow(/primals has 1 argument\(s\) but tangents has 2/)
    expect(() => jvp(f, [x], [tensor([1, 2])])).toThrow(ShapeError)
    expect(() => jvp(f, [x], [tensor([1, 2])])).toThrow('jvp: the tangent of primals[0] must have its primal\'s shape [3], got [2].')
    expect(() => jvp(f, [x], [cast(v, 'float32')])).toThrow(/must have its primal's dtype float64, got float32/)
    expect(() => jvp((p: { a: Tensor }) => p.a, [{ a: x }], [{ b: v }] as never)).toThrow(TreeError)
    expect(() => jvp(f, [3 as never], [1 as never])).toThrow(/jvp: primals\[0\]: the leaf at \(root\) is a number/)
  })

  it('does not confuse perturbations: d/dx [x · d/dy (x + y)] = 1', () => {
    const inner = (a: Tensor) => jvp((y: Tensor) => add(a, y), [tensor(3)], [tensor(1)])[1]
    const [, outer] = jvp((a: Tensor) => mul(a, inner(a)), [tensor(2)], [tensor(1)])
    expect(outer.item()).toBe(1)
    // Nested forward mode: the second derivative of x³ is 6x.
    const second = jvp((a: Tensor) => jvp((b: Tensor) => mul(mul(b, b), b), [a], [tensor(1)])[1], [tensor(2)], [tensor(1)])[1]
    expect(second.item()).toBe(12)
  })

  it('composes with grad both ways: hvp by forward over reverse equals reverse over reverse', () => {
    const f = (p: { w: Tensor; b: Tensor }) => sum(tanh(add(matmul(tensor([[1, -2, 0.5]]), p.w), p.b)))
    const p = { w: normal(randomKey(1), [3, 4]), b: normal(randomKey(2), [4]) }
    const t = randomLike(p, 3)
    const reverseOverReverse = grad((q: typeof p) => treeVdot(grad(f)(q), t))(p)
    expectTreeClose(hvp(f)(p, t), reverseOverReverse, 1e-14, 'hvp')
    const reverseOverForward = grad((q: typeof p) => sum(jvp(f, [q], [t])[1]))(p)
    expectTreeClose(reverseOverForward, reverseOverReverse, 1e-14, 'reverse over forward')
  })
})

describe('ad.jvp through scan', () => {
  const w = normal(randomKey(4), [3, 3])
  const u = normal(randomKey(5), [2, 3])
  const step = (h: Tensor, x: Tensor): [Tensor, Tensor] => {
    const n = tanh(add(matmul(h, w), matmul(x, u)))
    return [n, mul(n, n)]
  }
  const h0 = normal(randomKey(6), [2, 3])
  const xs = normal(randomKey(7), [4, 2, 2]) // [time, batch, features]
  const mask = tensor([1, 1, 0, 1, 1, 0, 1, 1], { shape: [4, 2, 1] })

  it.each([
    ['the loop', {}],
    ['reversed', { reverse: true }],
    ['masked', { mask }],
    ['checkpointed every 2 steps', { checkpoint: 2 }],
    ['traced into a derived kernel', { traceStep: true }],
  ] as const)('%s: the tangent equals central differences', (_, options) => {
    const f = (c: Tensor, x: Tensor) => scan(step, c, x, options)
    expectTangentMatchesDifferences(f, [h0, xs], 1)
  })

  it('batch-major, and with the step closing over what is differentiated (the weights)', () => {
    const f = (weights: Tensor, x: Tensor) =>
      scan((h: Tensor, xt: Tensor) => {
        const n = tanh(add(matmul(h, weights), matmul(xt, u)))
        return [n, n] as const
      }, h0, x, { timeAxis: 1 })
    expectTangentMatchesDifferences(f, [w, normal(randomKey(8), [2, 4, 2])], 2)
  })

  it('traceStep and the loop give the same tangents', () => {
    const tangents = [randomLike(h0, 9), randomLike(xs, 10)] as const
    const loop = jvp((c: Tensor, x: Tensor) => scan(step, c, x), [h0, xs], tangents)[1]
    const traced = jvp((c: Tensor, x: Tensor) => scan(step, c, x, { traceStep: true }), [h0, xs], tangents)[1]
    expectTreeClose(traced, loop, 1e-14, 'traceStep vs loop')
    // The weights the step closes over, differentiated: operands of the derived kernel.
    const closing = (traceStep: boolean) => (weights: Tensor) =>
      scan((h: Tensor, xt: Tensor) => [tanh(add(matmul(h, weights), matmul(xt, u))), h] as const, h0, xs, { traceStep })
    const dw = randomLike(w, 11)
    expectTreeClose(jvp(closing(true), [w], [dw])[1], jvp(closing(false), [w], [dw])[1], 1e-14, 'closed-over weights')
  })
})

describe('ad.jvp through the built-in layers (sequence kernels): real-time recurrent learning', () => {
  type Make = (inputSize: number, hiddenSize: number) => nn.RecurrentLayer<any>
  const layers: [string, Make, Make, nn.RecurrentOptions<any>?][] = [
    ['lstm', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h }), (i, h) => composedTorchLayer(nn.lstmSpec, { inputSize: i, hiddenSize: h })],
    ['gru, reversed', (i, h) => nn.gru({ inputSize: i, hiddenSize: h }), (i, h) => composedTorchLayer(nn.gruSpec, { inputSize: i, hiddenSize: h }), { reverse: true }],
    ['rnn, last step', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h }), (i, h) => composedTorchLayer(nn.rnnSpec('tanh'), { inputSize: i, hiddenSize: h }), { outputs: 'lastStep' }],
    ['elman', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'tanh' }),
      (i, h) => nn.recurrent(composedOnly(nn.elmanSpec('tanh')), { inputSize: i, hiddenSize: h })],
    ['lstm, bidirectional, 2 layers, lengths', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h, bidirectional: true, numLayers: 2 }),
      (i, h) => composedTorchLayer(nn.lstmSpec, { inputSize: i, hiddenSize: h, bidirectional: true, numLayers: 2 }), { lengths: [4, 2] }],
    ['gru, mask', (i, h) => nn.gru({ inputSize: i, hiddenSize: h }), (i, h) => composedTorchLayer(nn.gruSpec, { inputSize: i, hiddenSize: h }),
      { mask: tensor([[1, 0, 1, 1], [1, 1, 1, 0]]) }],
    ['elman relu, lengths', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'relu' }),
      (i, h) => nn.recurrent(composedOnly(nn.elmanSpec('relu')), { inputSize: i, hiddenSize: h }), { lengths: [3, 4] }],
  ]

  for (const [name, make, makeComposed, options = {}] of layers) {
    it(`${name}: the tangent in parameters, inputs and initial state equals central differences and the layer without kernels`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const [layer, reference] = [make(3, 3), makeComposed(3, 3)]
        const params = layer.init(randomKey(seed), { dtype: 'float64' })
        const x = normal(randomKey(seed + 1), [2, 4, 3])
        const state = Object.fromEntries(layer.stateNames.map((n, i) => [n, normal(randomKey(seed + 2 + i), [layer.stateSizes.length, 2, 3])]))
        const apply = (l: nn.RecurrentLayer<any>) => (p: nn.Params, xs: Tensor, s: Record<string, Tensor>) => {
          const { outputs, state: final } = l.apply(p, xs, { ...options, initialState: s })
          return { outputs, final }
        }
        const tangent = expectTangentMatchesDifferences(apply(layer), [params, x, state], seed + 10, 1e-6)
        const tangents = [randomLike(params, seed + 10), randomLike(x, seed + 11), randomLike(state, seed + 12)] as const
        expectTreeClose(tangent, jvp(apply(reference), [params, x, state], tangents)[1], 1e-12, 'kernel vs composition')
      }), runs)
    })
  }

  it('the primal comes from the kernel, once per layer run', () => {
    const layer = nn.lstm({ inputSize: 3, hiddenSize: 3 })
    const params = layer.init(randomKey(1), { dtype: 'float64' })
    const x = normal(randomKey(2), [2, 4, 3])
    const previous = K
    let calls = 0
    const counting: Kernels = { ...previous, lstmForward: (...args: Parameters<NonNullable<Kernels['lstmForward']>>) => (calls++, previous.lstmForward(...args)) }
    useKernels(counting)
    try {
      const [out] = jvp((p: nn.Params) => layer.apply(p, x).outputs, [params], [randomLike(params, 3)])
      expect(calls).toBe(1)
      expectTreeClose(out, layer.apply(params, x).outputs, 0, 'primal')
    } finally {
      useKernels(previous)
    }
  })

  it('hvp of an LSTM loss: forward over reverse equals reverse over reverse', () => {
    const layer = nn.lstm({ inputSize: 2, hiddenSize: 3 })
    const params = layer.init(randomKey(5), { dtype: 'float64' })
    const x = normal(randomKey(6), [2, 3, 2])
    const loss = (p: nn.Params) => sum(mul(layer.apply(p, x).outputs, layer.apply(p, x).outputs))
    const t = randomLike(params, 7)
    expectTreeClose(hvp(loss)(params, t), grad((q: nn.Params) => treeVdot(grad(loss)(q), t))(params), 1e-13, 'hvp')
  })
})

describe('ad.jvp through the linear layers in parallel mode', () => {
  it("nn.minGru's kernel (minGruStates: the composition's tangent) and nn.minLstm: tangents equal central differences", () => {
    for (const layer of [nn.minGru({ inputSize: 3, hiddenSize: 4 }), nn.minLstm({ inputSize: 3, hiddenSize: 4 })]) {
      const params = layer.init(randomKey(1), { dtype: 'float64' })
      expectTangentMatchesDifferences((p: nn.Params, xs: Tensor) => layer.apply(p, xs).outputs, [params, normal(randomKey(2), [2, 5, 3])], 3, 1e-6)
    }
  })

  it.each([false, true])("nn.minGru (bidirectional: %s): the parallel kernel's tangents equal the sequential scan's to 1e-12", (bidirectional) => {
    const [parallel, sequential] = (['parallel', 'sequential'] as const).map((mode) => nn.minGru({ inputSize: 3, hiddenSize: 4, bidirectional, mode }))
    const params = parallel.init(randomKey(4), { dtype: 'float64' })
    const xs = normal(randomKey(5), [2, 5, 3])
    const [tp, tx] = [randomLike(params, 6), normal(randomKey(7), xs.shape)]
    const tangentOf = (layer: typeof parallel) => jvp((p: nn.Params, x: Tensor) => layer.apply(p, x).outputs, [params, xs], [tp, tx])[1]
    expectTreeClose(tangentOf(parallel), tangentOf(sequential), 1e-12, 'tangent')
  })
})

describe('ad.jvp through linearRecurrence and associativeScan', () => {
  it('linearRecurrence (real and complex pairs): the tangent equals central differences', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.boolean(), fc.integer({ min: 1, max: 4 }), (seed, complex, time) => {
      const shape = complex ? [time, 2, 2] : [time, 3]
      const a = mul(tanh(normal(randomKey(seed), shape)), 0.9)
      const [b, h0] = [normal(randomKey(seed + 1), shape), normal(randomKey(seed + 2), shape.slice(1))]
      expectTangentMatchesDifferences((p: Tensor, q: Tensor, r: Tensor) => linearRecurrence(p, q, r, { complex }), [a, b, h0], seed)
    }), runs)
  })

  it('associativeScan of affine maps: the tangent equals central differences', () => {
    const compose = ([a1, b1]: Tensor[], [a2, b2]: Tensor[]): Tensor[] => [mul(a1, a2), add(mul(a2, b1), b2)]
    const f = (a: Tensor, b: Tensor) => associativeScan(compose, [a, b])
    expectTangentMatchesDifferences(f, [normal(randomKey(1), [5, 2]), normal(randomKey(2), [5, 2])], 3)
  })
})

describe('ad.jvp through customVjp and checkpoint', () => {
  const x = tensor([0.5, -1.5, 2])
  const t = tensor([1, -2, 0.5])

  it("uses the user's tangent rule when given, else transposes bwd", () => {
    // A deliberately unusual pair: fwd is the identity, bwd doubles, jvp triples; which one ran shows.
    const fwd = (a: Tensor) => [a, null] as const
    const bwd = (_: null, g: Tensor) => [mul(g, 2)]
    const withRule = customVjp(fwd, bwd, { jvp: (_primals: [Tensor], [ta]: [Tensor]) => mul(ta, 3) })
    expect(Array.from(jvp(withRule, [x], [t])[1].data)).toEqual(Array.from(t.data, (v) => 3 * v))
    expect(Array.from(jvp(customVjp(fwd, bwd), [x], [t])[1].data)).toEqual(Array.from(t.data, (v) => 2 * v))
  })

  it('a correct VJP transposed gives the right tangent, for several arguments, pytrees and at second order', () => {
    // softplus(a)·b with its VJP (g·σ(a)·b, g·softplus(a)), written with primitives.
    const f = customVjp(
      (p: { a: Tensor }, b: Tensor) => {
        const s = log(add(exp(p.a), 1))
        return [mul(s, b), { a: p.a, b, s }] as const
      },
      (r: { a: Tensor; b: Tensor; s: Tensor }, g: Tensor) => [{ a: mul(g, mul(sigmoid(r.a), r.b)) }, mul(g, r.s)],
    )
    expectTangentMatchesDifferences(f, [{ a: x }, tensor([2, 1, -1])], 11)
    const loss = (p: { a: Tensor }) => sum(f(p, tensor([2, 1, -1])))
    expectTangentMatchesDifferences(grad(loss), [{ a: x }], 12)
  })

  it('only the arguments with tangents are differentiated; a null cotangent counts as zero', () => {
    const f = customVjp((a: Tensor, b: Tensor) => [mul(a, b), a] as const, (a: Tensor, g: Tensor) => [null, mul(g, a)])
    // bwd gives a no cotangent: transposed, its tangent contributes nothing; b's does.
    expect(jvp((b: Tensor) => f(x, b), [t], [tensor([1, 1, 1])])[1].toArray()).toEqual(x.toArray())
  })

  it('checkpoint leaves values and tangents as they are', () => {
    const g = (a: Tensor) => tanh(mul(a, a))
    const tangent = jvp(checkpoint(g), [x], [t])[1]
    expect(tangent.toArray()).toEqual(jvp(g, [x], [t])[1].toArray())
    // Under grad, a checkpointed segment inside forward mode still differentiates.
    expectTreeClose(grad((a: Tensor) => sum(jvp(checkpoint(g), [a], [t])[1]))(x), grad((a: Tensor) => sum(jvp(g, [a], [t])[1]))(x), 1e-15, 'checkpoint')
  })
})
