/**
 * nn.minGru and nn.minLstm (Feng et al. 2024): the parallel mode (gates at once, linearRecurrence
 * over time) equals the sequential reference (the cell through `scan`) in outputs, final states and
 * gradients, plain, masked, reversed, stacked and bidirectional; each layer equals a plain-loop
 * transcription of the paper's equations; and passes checkGrads.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, div, grad, matmul, mul, normal, randomKey, reshape, sigmoid, slice, splitKey, stack, sub, sum, tensor, transpose,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { cases, runs } from './gradHarness.js'
import { type Subject, expectMaskedLayerGradsOk, expectSameGrads, itModesAgree } from './linearLayerParity.js'
import { expectClose, expectGradsOk } from './support.js'

type Kind = 'minGru' | 'minLstm'
const make = (kind: Kind, options: nn.MinRecurrentOptions): nn.RecurrentLayer<nn.HiddenState> =>
  kind === 'minGru' ? nn.minGru(options) : nn.minLstm(options)

const subject = (kind: Kind, mode: 'parallel' | 'sequential'): Subject => ({
  layer: (c, config) => make(kind, { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: config.numLayers, bidirectional: config.bidirectional, mode }),
  initialState: (key, shape) => normal(key, shape),
})

describe.each(['minGru', 'minLstm'] as const)('nn.%s: parallel = sequential (float64, 1e-12)', (kind) => {
  itModesAgree((mode) => subject(kind, mode))
})

// ---- the paper's equations, one step at a time, batch-first ----

const lin = (x: Tensor, w: Tensor, b: Tensor): Tensor => add(matmul(x, transpose(w)), b)
const stepOf = (x: Tensor, t: number): Tensor => reshape(slice(x, [[0, x.shape[0]], [t, t + 1]]), [x.shape[0], x.shape[2]])

/** The recurrence h_t = a_t ⊙ h_{t−1} + b_t over x's steps (axis 1), with (a_t, b_t) from each step's input. */
const paperLoop = (x: Tensor, h0: Tensor, coefficients: (xt: Tensor) => [Tensor, Tensor]): { outputs: Tensor; h: Tensor } => {
  let h = h0
  const hs: Tensor[] = []
  for (let t = 0; t < x.shape[1]; t++) {
    const [a, b] = coefficients(stepOf(x, t))
    h = add(mul(a, h), b)
    hs.push(h)
  }
  return { outputs: stack(hs, 1), h }
}

/** minGRU: z = σ(Linear_z(x)), h̃ = Linear_h(x), h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃. */
const paperMinGru = (p: nn.Params, x: Tensor, h0: Tensor) => paperLoop(x, h0, (xt) => {
  const z = sigmoid(lin(xt, p.weight_z, p.bias_z))
  return [sub(tensor(1), z), mul(z, lin(xt, p.weight_h, p.bias_h))]
})

/** minLSTM: f, i = σ(Linear_f,i(x)), h̃ = Linear_h(x), f' = f/(f + i), i' = i/(f + i), h_t = f' ⊙ h_{t−1} + i' ⊙ h̃. */
const paperMinLstm = (p: nn.Params, x: Tensor, h0: Tensor) => paperLoop(x, h0, (xt) => {
  const f = sigmoid(lin(xt, p.weight_f, p.bias_f))
  const i = sigmoid(lin(xt, p.weight_i, p.bias_i))
  return [div(f, add(f, i)), mul(div(i, add(f, i)), lin(xt, p.weight_h, p.bias_h))]
})

describe.each([
  ['minGru', paperMinGru],
  ['minLstm', paperMinLstm],
] as const)('nn.%s against the paper’s equations in a plain loop', (kind, paper) => {
  it.each(['parallel', 'sequential'] as const)('%s mode: outputs, final state and gradients', (mode) => {
    fc.assert(fc.property(cases({ batch: 2, time: 5, inputSize: 3, hiddenSize: 3 }), (c) => {
      const layer = make(kind, { inputSize: c.inputSize, hiddenSize: c.hiddenSize, mode })
      const [kp, kh, kw] = splitKey(randomKey(c.seed), 3)
      const params = layer.init(kp, { dtype: 'float64' })
      const h0 = normal(kh, [1, c.batch, c.hiddenSize])
      const h0Slice = reshape(h0, [c.batch, c.hiddenSize])
      const ours = layer.apply(params, c.x, { initialState: { h: h0 } })
      /** The one layer's parameters without their `_l0` suffix. */
      const unsuffixed = (p: nn.Params): nn.Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k.replace(/_l0$/, ''), v]))
      const theirs = paper(unsuffixed(params), c.x, h0Slice)
      expectClose(ours.outputs, theirs.outputs, 1e-12, 'outputs')
      expectClose(ours.state.h, reshape(theirs.h, [1, c.batch, c.hiddenSize]), 1e-12, 'state.h')
      const w = normal(kw, ours.outputs.shape)
      const loss = (r: { outputs: Tensor; h: Tensor }): Tensor => add(sum(mul(r.outputs, w)), sum(mul(r.h, r.h)))
      const [gp, gx, gh] = grad((p: nn.Params, x: Tensor, h: Tensor) => {
        const r = layer.apply(p, x, { initialState: { h } })
        return loss({ outputs: r.outputs, h: r.state.h })
      }, { argnums: [0, 1, 2] })(params, c.x, h0) as [nn.Params, Tensor, Tensor]
      const [rp, rx, rh] = grad((p: nn.Params, x: Tensor, h: Tensor) => loss(paper(unsuffixed(p), x, reshape(h, [c.batch, c.hiddenSize]))), { argnums: [0, 1, 2] })(
        params, c.x, h0,
      ) as [nn.Params, Tensor, Tensor]
      expectSameGrads([gp, gx, gh], [rp, rx, rh])
    }), runs)
  })
})

describe('checkGrads and names', () => {
  it.each(['minGru', 'minLstm'] as const)('nn.%s passes checkGrads, order 1 (masked, bidirectional, parallel)', (kind) => {
    expectMaskedLayerGradsOk(make(kind, { inputSize: 2, hiddenSize: 2, bidirectional: true }))
  })

  // Unmasked, minGru's parallel mode is one kernel (batch-first forwards, time-major reversed):
  // order 2 goes through its differentiable VJP.
  it('nn.minGru passes checkGrads, order 2 (unmasked, bidirectional, parallel)', () => {
    const layer = nn.minGru({ inputSize: 2, hiddenSize: 2, bidirectional: true })
    const [kp, kx] = splitKey(randomKey(5))
    const params = layer.init(kp, { dtype: 'float64' })
    const x = normal(kx, [2, 3, 2])
    expectGradsOk((p: nn.Params, xs: Tensor) => layer.apply(p, xs).outputs, [params, x], { order: 2, key: randomKey(6) })
  })

  it('names parameters in PyTorch layout and rejects an unknown mode', () => {
    const params = nn.minGru({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }).init(randomKey(0))
    expect(Object.keys(params).sort()).toEqual([
      'bias_h_l0', 'bias_h_l0_reverse', 'bias_h_l1', 'bias_h_l1_reverse', 'bias_z_l0', 'bias_z_l0_reverse', 'bias_z_l1', 'bias_z_l1_reverse',
      'weight_h_l0', 'weight_h_l0_reverse', 'weight_h_l1', 'weight_h_l1_reverse', 'weight_z_l0', 'weight_z_l0_reverse', 'weight_z_l1', 'weight_z_l1_reverse',
    ])
    expect([...params.weight_z_l1.shape]).toEqual([4, 8])
    expect(Object.keys(nn.minLstm({ inputSize: 3, hiddenSize: 4 }).init(randomKey(0))).sort()).toEqual(
      ['bias_f_l0', 'bias_h_l0', 'bias_i_l0', 'weight_f_l0', 'weight_h_l0', 'weight_i_l0'],
    )
    expect(() => nn.minGru({ inputSize: 3, hiddenSize: 4, mode: 'fast' as 'parallel' })).toThrow(/mode must be/)
  })
})
