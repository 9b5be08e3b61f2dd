/**
 * The composite layers — stacked, bidirectional, masked, a user-written cell inside the machinery,
 * a whole sequence network — pass checkGrads, order 1 and order 2, in float64, over fast-check-drawn
 * sizes, sequence lengths, inputs and parameter keys (the single cells are in gradCheck.test.ts).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { type Tensor, mul, randomKey, sigmoid } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { cases, checkBoth, layerProperty, mgu, runs } from './gradHarness.js'

describe('checkGrads (orders 1 and 2) on composite layers', () => {
  it('nn.elman with softmax and a custom activation', layerProperty((c) =>
    nn.stacked([
      nn.elman({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, activation: 'softmax' }),
      nn.elman({ inputSize: c.hiddenSize, hiddenSize: 2, activation: (z: Tensor) => mul(z, sigmoid(z)) }),
    ])))

  it('stacked Elman layers of different sizes and activations (the seed\'s L hidden layers)', layerProperty((c) =>
    nn.stacked([
      nn.elman({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, activation: 'tanh' }),
      nn.elman({ inputSize: c.hiddenSize, hiddenSize: c.hiddenSize + 1, activation: 'sigmoid' }),
    ])))

  it('nn.lstm (bidirectional)', layerProperty((c) =>
    nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, bidirectional: true }), undefined,
  { batch: 2, time: 3, inputSize: 2, hiddenSize: 2 }))

  it('nn.gru (bidirectional, 2 layers)', layerProperty((c) =>
    nn.gru({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: 2, bidirectional: true }), undefined,
  { batch: 2, time: 3, inputSize: 2, hiddenSize: 2 }))

  it('masked (lengths): stacked bidirectional lstm', layerProperty(
    (c) => nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: 2, bidirectional: true }),
    (c) => ({ lengths: c.lengths }),
    { batch: 3, time: 4, inputSize: 2, hiddenSize: 2 },
  ))

  it('masked (mask tensor) and reversed elman', layerProperty(
    (c) => nn.elman({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, activation: 'tanh' }),
    (c) => ({ mask: nn.maskFromLengths(c.lengths, c.time), reverse: true }),
  ))

  it('a user-written cell (minimal gated unit), stacked, bidirectional and masked', layerProperty(
    (c) => nn.stacked([
      nn.bidirectional(nn.recurrent(mgu, { inputSize: c.inputSize, hiddenSize: c.hiddenSize })),
      nn.recurrent(mgu, { inputSize: 2 * c.hiddenSize, hiddenSize: 2 }),
    ]),
    (c) => ({ lengths: c.lengths }),
    { batch: 2, time: 3, inputSize: 2, hiddenSize: 2 },
  ))

  it('a sequence network with a dense head on each sequence\'s last step', () => {
    fc.assert(fc.property(cases(), (c) => {
      const net = nn.seedNetwork({
        inputSize: c.inputSize, hidden: [c.hiddenSize, 2], activations: ['tanh', 'sigmoid'],
        output: { size: 2, activation: 'softmax', readout: 'lastStep' },
      })
      checkBoth((p: nn.SequenceParams, x: Tensor) => net.apply(p, x, { lengths: c.lengths }), [net.init(randomKey(c.seed)), c.x], c.seed)
    }), runs)
  })
})
