/**
 * The training loop driven by the real nn, losses and optim modules rather than the hand-written
 * toys: the contracts in src/train/types.ts must accept them as they are.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, concat, expandDims, randomKey, slice, splitKey, squeeze, tensor } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import * as losses from '../../src/losses/index.js'
import * as optim from '../../src/optim/index.js'
import { type LossFn, extrapolate, fit, supervised } from '../../src/train/index.js'
import { expectAllClose } from '../helpers/allClose.js'
import { blobs } from './toys.js'

/** Sine waves with random phases, [count, time, 1]: inputs x_t, targets x_{t+1}. */
const waves = (count: number, time: number, seed: number) => {
  const phases = Array.from({ length: count }, (_, i) => (i * 2.3 + seed) % 6.28)
  const values = phases.flatMap((phase) => Array.from({ length: time + 1 }, (_, t) => Math.sin(phase + 0.3 * t)))
  const all = tensor(values, { shape: [count, time + 1, 1] })
  return { inputs: slice(all, [[0, count], [0, time]]), targets: slice(all, [[0, count], [1, time + 1]]) }
}

describe('train with nn, losses and optim', () => {
  const net = nn.seedNetwork({ inputSize: 1, hidden: [6], activations: 'tanh', output: { size: 1 } })

  it('fits next-step prediction with the seed network under truncated BPTT (state through applyWithState)', () => {
    const loss: LossFn<nn.SequenceParams, ReturnType<typeof waves>, nn.RecurrentState> = (p, batch, { state, key }) => {
      const { predictions, state: next } = net.applyWithState(p, batch.inputs, { initialState: state, key })
      return [losses.mse(predictions, batch.targets), { state: next }]
    }
    const [initKey, runKey] = splitKey(randomKey(0))
    const data = waves(8, 24, 0)
    const result = fit({
      loss, optimizer: optim.adam(0.02), data, validation: waves(4, 24, 1), params: net.init(initKey), key: runKey,
      epochs: 12, batchSize: 4, truncatedBptt: { window: 8 },
    })
    expect(result.state.step).toBe(12 * 2 * 3)
    const first = result.history[0].validation?.loss ?? 0
    const last = result.history[11].validation?.loss ?? Infinity
    expect(last).toBeLessThan(first / 2)
  })

  it("extrapolates with a network's applyWithState exactly like re-running the growing sequence", () => {
    const params = net.init(randomKey(3))
    const xs = waves(2, 6, 0).inputs
    const { outputs } = extrapolate(net.applyWithState, params, xs, 3)
    let sequence = xs
    const expected: Tensor[] = []
    for (let i = 0; i < 3; i++) {
      const y = net.apply(params, sequence)
      const lastY = slice(y, [[0, 2], [y.shape[1] - 1, y.shape[1]]])
      sequence = concat([sequence, lastY], 1)
      const again = net.apply(params, sequence)
      expected.push(squeeze(slice(again, [[0, 2], [again.shape[1] - 1, again.shape[1]]]), 1))
    }
    expectAllClose(outputs as Tensor, concat(expected.map((e) => expandDims(e, 1)), 1))
  })

  it('supervised(model.apply, losses.softmaxCrossEntropy, { accuracy }) reports accuracy for train and validation', () => {
    const model = nn.linear({ inputSize: 2, outputSize: 2 })
    const loss = supervised(model.apply, losses.softmaxCrossEntropy, { metrics: { accuracy: losses.accuracy } })
    const { history } = fit({
      loss, optimizer: optim.sgd(0.5), data: blobs(60), validation: blobs(30, 8), params: model.init(randomKey(1)), key: randomKey(2),
      epochs: 6, batchSize: 16,
    })
    expect(history[5].train.accuracy).toBeGreaterThan(0.9)
    expect(history[5].validation?.accuracy).toBeGreaterThan(0.9)
  })
})
