/**
 * @file diagnostics.gradientFlow: the closed form ‖g·(Aᵀ)^(T−t)‖ of a linear recurrence (forwards,
 * reversed, batch-major); finite differences of the loss with an explicit perturbation of the
 * carry for nonlinear cells (both uses of h, pytree carries); masks; PyTorch's LSTM and GRU
 * (LSTMCell / GRUCell with retain_grad); the built-in layers against the same cells written by hand
 * as scans (masked, reversed, stacked, bidirectional, batch-major, minGRU's parallel mode); the same
 * numbers with traceStep and checkpointing; the errors.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, ValueError, add, concat, diagnostics, matmul, mul, nn, normal, randomKey, reshape, scan, sigmoid, slice, splitKey, square, sub,
  sum, tanh, tensor, transpose, zeros,
} from '../../src/index.js'

const { gradientFlow } = diagnostics

const expectClose = (actual: readonly number[], expected: readonly number[], rtol = 1e-9): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `entry ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(rtol * Math.abs(expected[i]) + 1e-12))
}

const keys = splitKey(randomKey(19), 8)

// ---- a linear recurrence: c_t = c_{t−1}·A + x_t, L = ⟨g, c_T⟩ ----

const A = [[0.8, -0.3, 0.1], [0.2, 0.5, 0.4], [-0.1, 0.3, 0.9]]
const a = tensor(A)
const g = tensor([[1.5, -0.5, 2]])
const linearStep = (c: Tensor, x: Tensor): [Tensor, Tensor] => {
  const n = add(matmul(c, a), x)
  return [n, n]
}

/** ‖g·(Aᵀ)^k‖ for k = T − t, t = 1 … T, by plain loops. */
const closedForm = (time: number): number[] => {
  const norms: number[] = []
  let v = [1.5, -0.5, 2]
  for (let k = 0; k < time; k++) {
    norms.unshift(Math.hypot(...v))
    v = [0, 1, 2].map((i) => v.reduce((s, vj, j) => s + vj * A[i][j], 0)) // v·Aᵀ
  }
  return norms
}

describe('diagnostics.gradientFlow', () => {
  it('equals ‖g·(Aᵀ)^(T−t)‖ for a linear recurrence and L = ⟨g, c_T⟩', () => {
    const xs = normal(keys[0], [7, 1, 3])
    const [flow] = gradientFlow((x: Tensor) => sum(mul(scan(linearStep, zeros([1, 3]), x)[0], g)), xs)
    expectClose(flow, closedForm(7))
  })

  it('lists a reversed scan in its own order (entry 0: the step at xs[T − 1]) and a batch-major one as a time-major one', () => {
    const xs = normal(keys[1], [6, 1, 3])
    const [reversed] = gradientFlow((x: Tensor) => sum(mul(scan(linearStep, zeros([1, 3]), x, { reverse: true })[0], g)), xs)
    expectClose(reversed, closedForm(6))
    const [batchMajor] = gradientFlow((x: Tensor) => sum(mul(scan(linearStep, zeros([1, 3]), x, { timeAxis: 1 })[0], g)), transpose(xs, [1, 0, 2]))
    expectClose(batchMajor, closedForm(6))
  })

  it('gives one array per scan in call order, [] for a scan of zero steps, and nothing for a loss without scans', () => {
    const xs = normal(keys[2], [4, 1, 3])
    const flows = gradientFlow((x: Tensor) => {
      const [c1] = scan(linearStep, zeros([1, 3]), x)
      const [c0] = scan(linearStep, zeros([1, 3]), slice(x, [[0, 0]]))
      const [c2] = scan(linearStep, zeros([1, 3]), slice(x, [[0, 2]]))
      return add(sum(mul(c1, g)), add(sum(c0), sum(mul(c2, g))))
    }, xs)
    expect(flows.length).toBe(3)
    expectClose(flows[0], closedForm(4))
    expect(flows[1]).toEqual([])
    expectClose(flows[2], closedForm(2))
    expect(gradientFlow((x: Tensor) => sum(x), xs)).toEqual([])
  })

  // ---- nonlinear cells against finite differences of an explicit perturbation ----

  const [batch, n, time] = [2, 3, 5]
  const w = mul(normal(keys[3], [n, n]), 0.8)
  const u = normal(keys[4], [2, n])
  const xs = normal(keys[5], [time, batch, 2])
  const readout = normal(keys[6], [time, batch, n])
  const tanhCore = (h: Tensor, x: Tensor): Tensor => tanh(add(matmul(h, w), matmul(x, u)))

  /** ‖∂L/∂c_t‖ by central differences over every entry of the step's new carry leaves. */
  const finiteDifferenceFlow = (loss: (t: number, leaf: number, entry: number, eps: number) => number, leafSizes: readonly number[]): number[] =>
    Array.from({ length: time }, (_, t) => {
      const eps = 1e-6
      let sq = 0
      leafSizes.forEach((size, leaf) => {
        for (let e = 0; e < size; e++) sq += ((loss(t, leaf, e, eps) - loss(t, leaf, e, -eps)) / (2 * eps)) ** 2
      })
      return Math.sqrt(sq)
    })

  /** A one-hot perturbation of a `[batch, n]` leaf. */
  const bump = (entry: number, eps: number): Tensor => {
    const d = zeros([batch, n])
    d.data[entry] = eps
    return d
  }

  it('counts both uses of h for a cell that returns [h, h] (finite differences)', () => {
    const xSteps = Array.from({ length: time }, (_, t) => slice(xs, [[t, t + 1]]))
    const rSteps = Array.from({ length: time }, (_, t) => slice(readout, [[t, t + 1]]))
    const byHand = (t0: number, _leaf: number, entry: number, eps: number): number => {
      let h = zeros([batch, n])
      let total = zeros([])
      for (let t = 0; t < time; t++) {
        h = tanhCore(h, reshape(xSteps[t], [batch, 2]))
        if (t === t0) h = add(h, bump(entry, eps))
        total = add(total, sum(mul(h, reshape(rSteps[t], [batch, n]))))
      }
      return add(total, sum(square(h))).item()
    }
    const [flow] = gradientFlow((x: Tensor) => {
      const [h, hs] = scan((c: Tensor, xt: Tensor) => {
        const next = tanhCore(c, xt)
        return [next, next]
      }, zeros([batch, n]), x)
      return add(sum(mul(hs, readout)), sum(square(h)))
    }, xs)
    expectClose(flow, finiteDifferenceFlow(byHand, [batch * n]), 1e-6)
  })

  it('takes the norm over every leaf of a pytree carry (finite differences)', () => {
    const wc = mul(normal(keys[7], [n, n]), 0.5)
    const cell = (h: Tensor, c: Tensor, x: Tensor): { h: Tensor; c: Tensor } => {
      const cNext = add(mul(sigmoid(matmul(h, wc)), c), tanhCore(h, x))
      return { h: tanh(cNext), c: cNext }
    }
    const xSteps = Array.from({ length: time }, (_, t) => reshape(slice(xs, [[t, t + 1]]), [batch, 2]))
    const byHand = (t0: number, leaf: number, entry: number, eps: number): number => {
      let carry = { h: zeros([batch, n]), c: zeros([batch, n]) }
      let total = zeros([])
      for (let t = 0; t < time; t++) {
        carry = cell(carry.h, carry.c, xSteps[t])
        if (t === t0) carry = leaf === 0 ? { ...carry, c: add(carry.c, bump(entry, eps)) } : { ...carry, h: add(carry.h, bump(entry, eps)) }
        total = add(total, sum(mul(carry.h, reshape(slice(readout, [[t, t + 1]]), [batch, n]))))
      }
      return total.item()
    }
    const [flow] = gradientFlow((x: Tensor) => {
      const [, hs] = scan((carry: { h: Tensor; c: Tensor }, xt: Tensor) => {
        const next = cell(carry.h, carry.c, xt)
        return [next, next.h]
      }, { h: zeros([batch, n]), c: zeros([batch, n]) }, x)
      return sum(mul(hs, readout))
    }, xs)
    expectClose(flow, finiteDifferenceFlow(byHand, [batch * n, batch * n]), 1e-6)
  })

  it('leaves out the rows of padded steps: a masked batch is its sequences measured one by one', () => {
    const lengths = [5, 3]
    const mask = tensor(Array.from({ length: time }, (_, t) => lengths.map((l) => [t < l ? 1 : 0])))
    const step = (c: Tensor, xt: Tensor): [Tensor, Tensor] => {
      const next = tanhCore(c, xt)
      return [next, next]
    }
    const lossOf = (x: Tensor, r: Tensor, rows: number, options: { mask?: Tensor } = {}) => {
      const [h, hs] = scan(step, zeros([rows, n]), x, options)
      return add(sum(mul(hs, r)), sum(square(h)))
    }
    const [masked] = gradientFlow((x: Tensor) => lossOf(x, readout, batch, { mask }), xs)
    const row = (b: number) => gradientFlow((x: Tensor) => lossOf(x, slice(readout, [[0, lengths[b]], [b, b + 1]]), 1), slice(xs, [[0, lengths[b]], [b, b + 1]]))[0]
    const [first, second] = [row(0), row(1)]
    expectClose(masked, first.map((f, t) => Math.hypot(f, second[t] ?? 0)), 1e-9)
  })

  it('gives the same numbers with traceStep and with checkpointing', () => {
    const lossWith = (options: { traceStep?: boolean; checkpoint?: number }) => (x: Tensor) => {
      const [h, hs] = scan((c: Tensor, xt: Tensor) => {
        const next = tanhCore(c, xt)
        return [next, next]
      }, zeros([batch, n]), x, options)
      return add(sum(mul(hs, readout)), sum(square(h)))
    }
    const [plain] = gradientFlow(lossWith({}), xs)
    expectClose(gradientFlow(lossWith({ traceStep: true }), xs)[0], plain, 1e-12)
    expectClose(gradientFlow(lossWith({ checkpoint: 2 }), xs)[0], plain, 1e-12)
  })

  it('says what is wrong with a loss that is not a scalar or that runs other scans when called again', () => {
    const step = (c: Tensor, xt: Tensor): [Tensor, Tensor] => [add(c, xt), c]
    expect(() => gradientFlow((x: Tensor) => scan(step, zeros([1, 2]), x)[0], zeros([3, 1, 2]))).toThrow(ShapeError)
    expect(() => gradientFlow((x: Tensor) => scan(step, zeros([1, 2]), x)[0], zeros([3, 1, 2]))).toThrow(/diagnostics.gradientFlow: the loss must return a scalar tensor \(shape \[\]\), got shape \[1, 2\]/)
    let calls = 0
    const impure = (x: Tensor) => sum(scan(step, zeros([1, 2]), slice(x, [[0, ++calls]]))[0])
    expect(() => gradientFlow(impure, zeros([3, 1, 2]))).toThrow(ValueError)
    calls = 0
    expect(() => gradientFlow(impure, zeros([3, 1, 2]))).toThrow(/ran other scans when called again \(scan 0: steps × carry \[1, 1, 2\] the first time, \[2, 1, 2\] the second\)/)
  })
})

// ---- the built-in layers ----

type Params = Record<string, Tensor>

/** `x·Wᵀ + b` for PyTorch's `[out, in]` weights. */
const linear = (x: Tensor, weight: Tensor, bias: Tensor): Tensor => add(matmul(x, transpose(weight)), bias)
const gateOf = (pre: Tensor, k: number, hidden: number): Tensor => slice(pre, [[0, pre.shape[0]], [k * hidden, (k + 1) * hidden]])

/** PyTorch's LSTM cell (i, f, g, o), written out. */
const lstmCell = (p: Params, suffix: string) => ({ h, c }: { h: Tensor; c: Tensor }, x: Tensor): [{ h: Tensor; c: Tensor }, Tensor] => {
  const hidden = h.shape[1]
  const pre = add(linear(x, p[`weight_ih${suffix}`], p[`bias_ih${suffix}`]), linear(h, p[`weight_hh${suffix}`], p[`bias_hh${suffix}`]))
  const [i, f, o] = [0, 1, 3].map((k) => sigmoid(gateOf(pre, k, hidden)))
  const cNext = add(mul(f, c), mul(i, tanh(gateOf(pre, 2, hidden))))
  const hNext = mul(o, tanh(cNext))
  return [{ h: hNext, c: cNext }, hNext]
}

/** PyTorch's tanh RNN cell, written out. */
const rnnCell = (p: Params, suffix: string) => (h: Tensor, x: Tensor): [Tensor, Tensor] => {
  const next = tanh(add(linear(x, p[`weight_ih${suffix}`], p[`bias_ih${suffix}`]), linear(h, p[`weight_hh${suffix}`], p[`bias_hh${suffix}`])))
  return [next, next]
}

/** minGRU (Feng et al. 2024), written out: h = (1 − z) ⊙ h + z ⊙ h̃. */
const minGruCell = (p: Params, suffix: string) => (h: Tensor, x: Tensor): [Tensor, Tensor] => {
  const z = sigmoid(linear(x, p[`weight_z${suffix}`], p[`bias_z${suffix}`]))
  const next = add(mul(sub(1, z), h), mul(z, linear(x, p[`weight_h${suffix}`], p[`bias_h${suffix}`])))
  return [next, next]
}

const timeMajor = (x: Tensor): Tensor => transpose(x, [1, 0, 2])
const maskOf = (lengths: readonly number[], time: number): Tensor => tensor(Array.from({ length: time }, (_, t) => lengths.map((l) => [t < l ? 1 : 0])))

describe('diagnostics.gradientFlow of the built-in layers', () => {
  const [batch, time, input, hidden] = [3, 6, 2, 4]
  const [kx, kp, kw] = splitKey(randomKey(7), 3)
  const x = normal(kx, [batch, time, input])
  const weights = normal(kw, [batch, time, 2 * hidden])
  const lengths = [6, 4, 1]

  it("equals PyTorch's LSTMCell and GRUCell run step by step with retain_grad", () => {
    interface Flat { shape: number[]; data: number[] }
    const fixture = JSON.parse(readFileSync('test/fixtures/torch/diagnostics/diagnostics.json', 'utf8')) as {
      gradientFlow: { kind: 'lstm' | 'gru'; params: Record<string, Flat>; x: Flat; outputsWeight: Flat; hWeight: Flat; norms: number[] }[]
    }
    const of = (f: Flat): Tensor => reshape(tensor(f.data), f.shape)
    for (const c of fixture.gradientFlow) {
      const [, steps, inputSize] = c.x.shape
      const layer = (c.kind === 'lstm' ? nn.lstm : nn.gru)({ inputSize, hiddenSize: c.hWeight.shape[1] })
      const params = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, of(v)]))
      const [flow] = gradientFlow((p: Params) => {
        const { outputs, state } = layer.apply(p, of(c.x))
        return add(sum(mul(outputs, of(c.outputsWeight))), sum(mul(reshape(state.h as Tensor, c.hWeight.shape), of(c.hWeight))))
      }, params)
      console.log(c.kind, flow, c.norms)
      expect(flow.length).toBe(steps)
      expectClose(flow, c.norms, 1e-9)
    }
  })

  it('nn.lstm with lengths equals the LSTM cell written by hand as a masked scan', () => {
    const layer = nn.lstm({ inputSize: input, hiddenSize: hidden })
    const params = layer.init(kp, { dtype: 'float64' }) as Params
    const r = slice(weights, [[0, batch], [0, time], [0, hidden]])
    const [builtIn] = gradientFlow((p: Params) => sum(mul(layer.apply(p, x, { lengths }).outputs, r)), params)
    const [byHand] = gradientFlow((p: Params) => {
      const zero = zeros([batch, hidden])
      const [, hs] = scan(lstmCell(p, '_l0'), { h: zero, c: zero }, timeMajor(x), { mask: maskOf(lengths, time) })
      return sum(mul(hs, timeMajor(r)))
    }, params)
    expectClose(builtIn, byHand, 1e-10)
    expect(builtIn[time - 1]).toBeGreaterThan(0)
  })

  it('a stacked bidirectional nn.rnn (batch-major scans): one array per layer and direction, in the order they run', () => {
    const layer = nn.rnn({ inputSize: input, hiddenSize: hidden, numLayers: 2, bidirectional: true })
    const params = layer.init(kp, { dtype: 'float64' }) as Params
    const builtIn = gradientFlow((p: Params) => sum(mul(layer.apply(p, x).outputs, weights)), params)
    const byHand = gradientFlow((p: Params) => {
      let inputs = timeMajor(x)
      for (const k of [0, 1]) {
        const [, forwards] = scan(rnnCell(p, `_l${k}`), zeros([batch, hidden]), inputs)
        const [, backwards] = scan(rnnCell(p, `_l${k}_reverse`), zeros([batch, hidden]), inputs, { reverse: true })
        inputs = concat([forwards, backwards], -1)
      }
      return sum(mul(inputs, timeMajor(weights)))
    }, params)
    expect(builtIn.length).toBe(4)
    builtIn.forEach((flow, k) => expectClose(flow, byHand[k], 1e-10))
  })

  it("nn.elman (the seed's first step without a time term) equals its cell written by hand", () => {
    const layer = nn.elman({ inputSize: input, hiddenSize: hidden, activation: 'tanh' })
    const params = layer.init(kp, { dtype: 'float64' }) as Params
    const r = slice(weights, [[0, batch], [0, time], [0, hidden]])
    const [builtIn] = gradientFlow((p: Params) => sum(mul(layer.apply(p, x).outputs, r)), params)
    const continued = tensor(Array.from({ length: time }, (_, t) => [[t === 0 ? 0 : 1]]))
    const [byHand] = gradientFlow((p: Params) => {
      const [, hs] = scan((h: Tensor, { xt, k }: { xt: Tensor; k: Tensor }) => {
        const next = tanh(add(add(matmul(xt, p.wLayer), p.bLayer), mul(k, add(matmul(h, p.wTime), p.bTime))))
        return [next, next]
      }, zeros([batch, hidden]), { xt: timeMajor(x), k: continued })
      return sum(mul(hs, timeMajor(r)))
    }, params)
    expectClose(builtIn, byHand, 1e-10)
  })

  it("nn.minGru in its parallel mode (no scan of its own) is measured through its steps: bidirectional, with lengths", () => {
    const layer = nn.minGru({ inputSize: input, hiddenSize: hidden, bidirectional: true })
    const params = layer.init(kp, { dtype: 'float64' }) as Params
    const builtIn = gradientFlow((p: Params) => sum(mul(layer.apply(p, x, { lengths }).outputs, weights)), params)
    const byHand = gradientFlow((p: Params) => {
      const inputs = timeMajor(x)
      const mask = maskOf(lengths, time)
      const [, forwards] = scan(minGruCell(p, '_l0'), zeros([batch, hidden]), inputs, { mask })
      const [, backwards] = scan(minGruCell(p, '_l0_reverse'), zeros([batch, hidden]), inputs, { mask, reverse: true })
      return sum(mul(concat([forwards, backwards], -1), timeMajor(weights)))
    }, params)
    expect(builtIn.length).toBe(2)
    builtIn.forEach((flow, k) => expectClose(flow, byHand[k], 1e-10))
  })
})
