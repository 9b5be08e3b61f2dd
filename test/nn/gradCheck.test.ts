/**
 * Every cell and layer passes checkGrads, order 1 and order 2, in float64, over fast-check-drawn
 * sizes, sequence lengths, inputs and parameter keys. Sizes are tiny so that order 1 can check
 * every entry ('full'); order 2 checks random projections.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { type Tensor, mul, normal, randomKey, splitKey } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { cases, checkBoth, layerProperty, mgu, runs } from './gradHarness.js'

describe('checkGrads (orders 1 and 2) over drawn sizes and inputs', () => {
  it('nn.elman (tanh)', layerProperty((c) => nn.elman({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, activation: 'tanh' })))

  it('nn.rnn (tanh, 2 layers)', layerProperty((c) => nn.rnn({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: 2 })))

  it('nn.rnn (relu)', layerProperty((c) => nn.rnn({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, nonlinearity: 'relu' })))

  it('nn.lstm', layerProperty((c) => nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize })))

  it('nn.gru', layerProperty((c) => nn.gru({ inputSize: c.inputSize, hiddenSize: c.hiddenSize })))

  it('gradients reach the initial state (lstm, gru, elman)', () => {
    fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 2, hiddenSize: 2 }), (c) => {
      const [k1, k2, k3] = splitKey(randomKey(c.seed), 3)
      const lstm = nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: 2 })
      const s = { h: normal(k2, [2, c.batch, c.hiddenSize]), c: normal(k3, [2, c.batch, c.hiddenSize]) }
      checkBoth((p: nn.Params, x: Tensor, s0: nn.LstmState) => lstm.apply(p, x, { initialState: s0, lengths: c.lengths }), [lstm.init(k1), c.x, s], c.seed)
      const gru = nn.gru({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, bidirectional: true })
      checkBoth((p: nn.Params, s0: nn.HiddenState) => gru.apply(p, c.x, { initialState: s0 }), [gru.init(k1), { h: s.h }], c.seed)
      const elman = nn.elman({ inputSize: c.inputSize, hiddenSize: c.hiddenSize })
      checkBoth((p: nn.Params, h0: Tensor) => elman.apply(p, c.x, { initialState: { h: h0 } }), [elman.init(k1), normal(k2, [1, c.batch, c.hiddenSize])], c.seed)
    }), { ...runs, numRuns: 4 })
  })

  it('the plain cells on their own (one step)', () => {
    fc.assert(fc.property(cases({ batch: 2, time: 1, inputSize: 3, hiddenSize: 3 }), (c) => {
      const [k1, k2, k3] = splitKey(randomKey(c.seed), 3)
      const xt = normal(k3, [c.batch, c.inputSize])
      const h = normal(k2, [c.batch, c.hiddenSize])
      const sizes = { inputSize: c.inputSize, hiddenSize: c.hiddenSize }
      const specs = [nn.cellSpecs.lstm, nn.cellSpecs.gru, nn.cellSpecs.rnn('tanh'), nn.cellSpecs.elman('sigmoid'), mgu] as nn.CellSpec<any>[]
      for (const spec of specs) {
        const params = nn.initParams(k1, spec.params(sizes), nn.init.uniform(0.8))
        const carry = spec.name === 'nn.lstm' ? { h, c: mul(h, 0.5) } : { h }
        checkBoth((p: nn.Params, cr: nn.Carry, xx: Tensor) => spec.cell(p, cr, xx), [params, carry, xt], c.seed)
      }
    }), runs)
  })
})
