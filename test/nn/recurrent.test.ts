/**
 * Recurrent layers: shapes and PyTorch's layout conventions, the seed's first step, continuing a
 * sequence from a returned state, plain cells versus layers, init reproducibility, float32, and
 * the error messages.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, TreeError, ValueError, add, cast, concat, matmul, mul, normal, randomKey, sigmoid, slice, splitKey,
  reshape, stack, sub, tanh, transpose, unstack, zeros,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { expectClose, maxAbsDiff } from './support.js'

const [kParams, kX] = splitKey(randomKey(3), 2)
const x = normal(kX, [3, 5, 2]) // [batch, time, features]

describe('nn recurrent layers: shapes and layout', () => {
  it.each([
    ['rnn', nn.rnn({ inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: true }), 8, [4, 3, 4]],
    ['lstm', nn.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 3 }), 3, [3, 3, 3]],
    ['gru', nn.gru({ inputSize: 2, hiddenSize: 5, bidirectional: true }), 10, [2, 3, 5]],
    ['elman', nn.elman({ inputSize: 2, hiddenSize: 4, activation: 'relu' }), 4, [1, 3, 4]],
  ] as const)('%s: outputs [batch, time, hidden × directions], state [layers × directions, batch, hidden]', (kind, layer, features, stateShape) => {
    const { outputs, state } = (layer as nn.RecurrentLayer<any>).apply(layer.init(kParams), x)
    expect([...outputs.shape]).toEqual([3, 5, features])
    expect(Object.keys(state)).toEqual(kind === 'lstm' ? ['h', 'c'] : ['h'])
    for (const s of Object.values(state) as Tensor[]) expect([...s.shape]).toEqual(stateShape)
  })

  it('every layer is a RecurrentLayer (one contract, usable interchangeably)', () => {
    const any: nn.RecurrentLayer[] = [
      nn.lstm({ inputSize: 2, hiddenSize: 3 }), nn.gru({ inputSize: 2, hiddenSize: 3 }), nn.elman({ inputSize: 2, hiddenSize: 3 }),
      nn.stacked([nn.rnn({ inputSize: 2, hiddenSize: 3 }), nn.bidirectional(nn.elman({ inputSize: 3, hiddenSize: 3 }))]),
    ]
    for (const layer of any) expect(layer.kind).toBe('scangrad.recurrentLayer')
    const model: nn.Model<unknown, Tensor, unknown, nn.RecurrentOptions> = nn.seedNetwork({ inputSize: 2, hidden: [3], output: { size: 1 } })
    expect(typeof model.apply).toBe('function')
  })

  it('stacks layers of different sizes; the state is then one [batch, hidden_k] per layer', () => {
    const stack2 = nn.stacked([
      nn.elman({ inputSize: 2, hiddenSize: 4, activation: 'tanh' }),
      nn.elman({ inputSize: 4, hiddenSize: 3, activation: 'leakyRelu' }),
    ])
    const { outputs, state } = stack2.apply(stack2.init(kParams), x)
    expect([...outputs.shape]).toEqual([3, 5, 3])
    expect((state.h as Tensor[]).map((h) => [...h.shape])).toEqual([[3, 4], [3, 3]])
    expect(Object.keys(stack2.init(kParams)).sort()).toEqual(
      ['bLayer_l0', 'bLayer_l1', 'bTime_l0', 'bTime_l1', 'wLayer_l0', 'wLayer_l1', 'wTime_l0', 'wTime_l1'])
  })

  it('the last layer\'s forward h_n equals its output at the last step; the backward one its output at step 0', () => {
    const gru = nn.gru({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true })
    const { outputs, state } = gru.apply(gru.init(kParams), x)
    const h = unstack(state.h) // slices: layer 0 forward, backward; layer 1 forward, backward
    const out = (step: number, from: number) => reshape(slice(outputs, [[0, 3], [step, step + 1], [from, from + 3]]), [3, 3])
    expectClose(h[2], out(4, 0), 1e-15, 'forward h_n = outputs[:, T−1, :H]')
    expectClose(h[3], out(0, 3), 1e-15, 'backward h_n = outputs[:, 0, H:]')
  })
})

describe('nn.elman: the seed\'s recurrent layer', () => {
  const layer = nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'tanh' })
  const p = layer.init(kParams)

  it('has no time term, not even bTime, at the first step: h_1 = σ(x_1·wLayer + bLayer)', () => {
    const { outputs } = layer.apply(p, slice(x, [[0, 3], [0, 1]]))
    const x1 = unstack(transposeBT(slice(x, [[0, 3], [0, 1]])))[0]
    expectClose(unstack(transposeBT(outputs))[0], tanh(add(matmul(x1, p.wLayer), p.bLayer)), 1e-15, 'h_1')
  })

  it('then h_t = σ(x_t·wLayer + bLayer + h_{t−1}·wTime + bTime)', () => {
    const { outputs } = layer.apply(p, x)
    const xs = unstack(transposeBT(x))
    let h = tanh(add(matmul(xs[0], p.wLayer), p.bLayer))
    for (let t = 1; t < 5; t++) h = tanh(add(add(matmul(xs[t], p.wLayer), p.bLayer), add(matmul(h, p.wTime), p.bTime)))
    expectClose(unstack(transposeBT(outputs))[4], h, 1e-14, 'h_5')
  })

  it('seed-style init: weights ~ N(0, 1), biases ~ 0.01·N(0, 1); the same key gives the same parameters', () => {
    const big = nn.elman({ inputSize: 30, hiddenSize: 40 }).init(randomKey(1))
    const std = (t: Tensor) => Math.sqrt(Array.from(t.data).reduce((s, v) => s + v * v, 0) / t.size)
    expect(std(big.wLayer)).toBeGreaterThan(0.9)
    expect(std(big.wLayer)).toBeLessThan(1.1)
    expect(std(big.bTime)).toBeLessThan(0.02)
    const again = nn.elman({ inputSize: 30, hiddenSize: 40 }).init(randomKey(1))
    for (const k of Object.keys(big)) expect(Array.from(again[k].data)).toEqual(Array.from(big[k].data))
    expect(maxAbsDiff(nn.elman({ inputSize: 30, hiddenSize: 40 }).init(randomKey(2)).wLayer, big.wLayer).value).toBeGreaterThan(0.5)
  })

  it('accepts any differentiable function as activation', () => {
    const swish = (z: Tensor) => mul(z, sigmoid(z))
    const custom = nn.elman({ inputSize: 2, hiddenSize: 3, activation: swish })
    const { outputs } = custom.apply(p, slice(x, [[0, 3], [0, 1]]))
    const x1 = unstack(transposeBT(slice(x, [[0, 3], [0, 1]])))[0]
    expectClose(unstack(transposeBT(outputs))[0], swish(add(matmul(x1, p.wLayer), p.bLayer)), 1e-15, 'swish')
  })

  it('nn.activations has the seed\'s six, with leakyRelu slope 1e-3', () => {
    expect(Object.keys(nn.activations).sort()).toEqual(['identity', 'leakyRelu', 'relu', 'sigmoid', 'softmax', 'tanh'])
    const z = nn.activations.leakyRelu(nn.maskFromLengths([0], 1)) // 0 stays 0
    expect(z.item()).toBe(0)
    expect(Array.from(nn.activations.leakyRelu(sub(zeros([2]), 2)).data)).toEqual([-2e-3, -2e-3])
    const sm = nn.activations.softmax(normal(kX, [2, 4]))
    for (const row of sm.toArray() as number[][]) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14)
  })
})

/** [batch, time, f] → [time, batch, f] */
const transposeBT = (t: Tensor): Tensor => transpose(t, [1, 0, 2])

describe('continuing a sequence from its returned state (truncated BPTT windows)', () => {
  it.each([
    ['elman', nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'tanh' })],
    ['rnn', nn.rnn({ inputSize: 2, hiddenSize: 3, numLayers: 2 })],
    ['lstm', nn.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 2 })],
    ['gru', nn.gru({ inputSize: 2, hiddenSize: 3 })],
  ] as const)('%s: run(0..5) = run(0..2) then run(2..5) from its state', (_kind, layer) => {
    const l = layer as nn.RecurrentLayer<any>
    const p = l.init(kParams)
    const whole = l.apply(p, x)
    const first = l.apply(p, slice(x, [[0, 3], [0, 2]]))
    const second = l.apply(p, slice(x, [[0, 3], [2, 5]]), { initialState: first.state })
    expectClose(concat([first.outputs, second.outputs], 1), whole.outputs, 1e-14, 'outputs')
    for (const k of Object.keys(whole.state)) expectClose(second.state[k], whole.state[k], 1e-14, `state.${k}`)
  })
})

describe('plain cells agree with the layers', () => {
  it.each([
    ['lstm', nn.cells.lstm, nn.lstm({ inputSize: 2, hiddenSize: 3 }), (h: Tensor) => ({ h, c: zeros(h.shape) })],
    ['gru', nn.cells.gru, nn.gru({ inputSize: 2, hiddenSize: 3 }), (h: Tensor) => ({ h })],
    ['rnn', nn.cells.rnn, nn.rnn({ inputSize: 2, hiddenSize: 3 }), (h: Tensor) => ({ h })],
    ['elman', nn.cells.elman, nn.elman({ inputSize: 2, hiddenSize: 3 }), (h: Tensor) => ({ h })],
  ] as const)('nn.cells.%s stepped by hand = the layer', (kind, cell, layer, carry0) => {
    const l = layer as nn.RecurrentLayer<any>
    const p = l.init(kParams)
    const cellParams = kind === 'elman' ? p : Object.fromEntries(Object.entries(p).map(([k, v]) => [k.replace(/_l0$/, ''), v]))
    let carry: any = carry0(zeros([3, 3]))
    const ys: Tensor[] = []
    for (const xt of unstack(transposeBT(x))) {
      const [next, y] = (cell as nn.Cell<any>)(cellParams, carry, xt)
      carry = next
      ys.push(y)
    }
    // The plain Elman cell always takes a continuing step, as the layer does from a given state.
    const options = kind === 'elman' ? { initialState: { h: zeros([1, 3, 3]) } } : {}
    expectClose(stack(ys, 1), l.apply(p, x, options).outputs, 1e-14, `${kind} outputs`)
  })

  it('a user cell without a fast path runs per step (recurrent with only `cell`)', () => {
    const spec: nn.CellSpec<{ h: Tensor }> = {
      name: 'leaky',
      params: ({ inputSize, hiddenSize }) => ({ w: [inputSize, hiddenSize] }),
      cell: (q, { h }, xt) => {
        const next = add(mul(h, 0.5), tanh(matmul(xt, q.w)))
        return [{ h: next }, next]
      },
    }
    const layer = nn.recurrent(spec, { inputSize: 2, hiddenSize: 4 })
    const q = layer.init(kParams)
    expect(Object.keys(q)).toEqual(['w'])
    let h = zeros([3, 4])
    for (const xt of unstack(transposeBT(x))) h = add(mul(h, 0.5), tanh(matmul(xt, q.w)))
    expectClose(unstack(layer.apply(q, x).state.h as Tensor)[0], h, 1e-15, 'final h')
  })
})

describe('init', () => {
  it('PyTorch\'s default: every entry in [−1/√hidden, 1/√hidden], reproducible from the key', () => {
    const lstm = nn.lstm({ inputSize: 3, hiddenSize: 16, numLayers: 2, bidirectional: true })
    const p = lstm.init(randomKey(5))
    for (const v of Object.values(p)) for (const e of v.data) expect(Math.abs(e)).toBeLessThanOrEqual(0.25)
    const q = lstm.init(randomKey(5))
    for (const k of Object.keys(p)) expect(Array.from(q[k].data)).toEqual(Array.from(p[k].data))
    expect(Object.keys(p)).toContain('weight_hh_l1_reverse')
  })

  it('dtype float32 on request; float32 runs agree with float64 to float32 precision', () => {
    const gru = nn.gru({ inputSize: 2, hiddenSize: 3 })
    const p32 = gru.init(kParams, { dtype: 'float32' })
    expect(p32.weight_ih_l0.dtype).toBe('float32')
    const out32 = gru.apply(p32, cast(x, 'float32'))
    expect(out32.outputs.dtype).toBe('float32')
    expect((out32.state.h as Tensor).dtype).toBe('float32')
    const p64 = Object.fromEntries(Object.entries(p32).map(([k, v]) => [k, cast(v, 'float64')]))
    expect(maxAbsDiff(cast(out32.outputs, 'float64'), gru.apply(p64, x).outputs).value).toBeLessThan(1e-5)
  })

  it('a custom initialiser sees each parameter\'s role and name', () => {
    const seen: string[] = []
    nn.elman({ inputSize: 2, hiddenSize: 3, init: (key, shape, info) => { seen.push(`${info.name}:${info.role}`); return nn.init.zeros(key, shape, info) } }).init(kParams)
    expect(seen).toEqual(['wLayer:weight', 'bLayer:bias', 'wTime:weight', 'bTime:bias'])
  })
})

describe('errors say who, what rule, what was seen, and how to fix it', () => {
  const lstm = nn.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 2 })
  const p = lstm.init(kParams)

  it('wrong feature count: names the layer, the expected and the received sizes', () => {
    expect(() => lstm.apply(p, normal(kX, [3, 5, 4]))).toThrow(ShapeError)
    expect(() => lstm.apply(p, normal(kX, [3, 5, 4]))).toThrow(/nn\.lstm: the input layer expects 2 features per step, but xs is \[3, 5, 4\] \(4 features\)/)
    const net = nn.seedNetwork({ inputSize: 3, hidden: [4], output: { size: 1 } })
    expect(() => net.apply(net.init(kParams), x)).toThrow(/nn\.seedNetwork: the input layer expects 3 features per step, but xs is \[3, 5, 2\] \(2 features\).*inputSize: 2/)
  })

  it('wrong rank', () => {
    expect(() => lstm.apply(p, normal(kX, [5, 2]))).toThrow(/must be \[batch, time, features\] = \[batch, time, 2\], got \[5, 2\]/)
  })

  it('missing or misshapen parameters are listed by their full names', () => {
    const { weight_hh_l1: _dropped, ...missing } = p
    expect(() => lstm.apply(missing, x)).toThrow(TreeError)
    expect(() => lstm.apply(missing, x)).toThrow(/missing weight_hh_l1 \(expected shape \[12, 3\]\)/)
    expect(() => lstm.apply({ ...p, bias_ih_l0: zeros([3]) }, x)).toThrow(/bias_ih_l0: expected shape \[12\], got \[3\]/)
    expect(() => lstm.apply({ ...p, weight_ih_l7: zeros([3]) }, x)).toThrow(/unexpected parameter weight_ih_l7/)
  })

  it('a misshapen initial state', () => {
    expect(() => lstm.apply(p, x, { initialState: { h: zeros([1, 3, 3]), c: zeros([2, 3, 3]) } })).toThrow(/initialState\.h must be \[2, 3, 3\]/)
    expect(() => lstm.apply(p, x, { initialState: { h: zeros([2, 3, 3]) } as never })).toThrow(/initialState\.c must be/)
  })

  it('stacking layers whose sizes do not chain', () => {
    expect(() => nn.stacked([nn.elman({ inputSize: 2, hiddenSize: 4 }), nn.elman({ inputSize: 3, hiddenSize: 2 })]))
      .toThrow(/layer 1 \(nn\.elman\) expects 3 input features, but layer 0 \(nn\.elman\) outputs 4.*inputSize: 4/)
    expect(() => nn.stacked([nn.lstm({ inputSize: 2, hiddenSize: 4 }), nn.gru({ inputSize: 4, hiddenSize: 2 })]))
      .toThrow(/same state entries/)
  })

  it('unknown activation or nonlinearity, bad sizes', () => {
    expect(() => nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'gelu' as never })).toThrow(ValueError)
    expect(() => nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'gelu' as never })).toThrow(/unknown activation "gelu"/)
    expect(() => nn.rnn({ inputSize: 2, hiddenSize: 3, nonlinearity: 'sigmoid' as never })).toThrow(/'tanh' or 'relu'/)
    expect(() => nn.gru({ inputSize: 0, hiddenSize: 3 })).toThrow(/inputSize must be a positive integer, got 0/)
    expect(() => nn.bidirectional(nn.gru({ inputSize: 2, hiddenSize: 3, bidirectional: true }))).toThrow(/already runs in both directions/)
  })
})
