/**
 * Learning, end to end in float32: the models must reach a loss or accuracy that an untrained model
 * cannot. Small problems and a fixed step budget keep these within the CI time; each threshold is
 * far from what the untrained network scores (asserted too, so a threshold cannot be vacuous).
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, data, fit, losses, nn, oneHot, optim, randomKey, splitKey, tensor, train, uniform,
} from '../../src/index.js'

const dtype = 'float32'

/** Random symbols in [0, n): a [count, time] index tensor, from a key. */
const symbols = (seed: number, count: number, time: number, n: number): Tensor => {
  const u = uniform(randomKey(seed), [count, time])
  return tensor(Array.from(u.data, (v) => Math.floor(v * n)), { shape: [count, time] })
}

describe('learning', () => {
  it('a stacked LSTM learns to copy its input with a delay of 2 steps', () => {
    const [n, time, delay] = [4, 10, 2]
    const make = (seed: number, count: number) => {
      const s = symbols(seed, count, time, n)
      const shifted = tensor(Array.from({ length: count * time }, (_, i) => (i % time >= delay ? s.data[i - delay] : 0)), { shape: [count, time] })
      // The first `delay` steps have nothing to recall: masked out of loss and accuracy.
      const mask = tensor(Array.from({ length: count * time }, (_, i) => (i % time >= delay ? 1 : 0)), { shape: [count, time], dtype })
      return { inputs: oneHot(s, n, { dtype }), targets: oneHot(shifted, n, { dtype }), mask }
    }
    const model = nn.sequenceModel({
      recurrent: nn.stacked([nn.lstm({ inputSize: n, hiddenSize: 24 }), nn.lstm({ inputSize: 24, hiddenSize: 24 })]),
      output: nn.linear({ inputSize: 24, outputSize: n }),
    })
    type Batch = ReturnType<typeof make>
    const loss: train.LossFn<ReturnType<typeof model.init>, Batch> = (p, b) => {
      const logits = model.apply(p, b.inputs)
      return [losses.softmaxCrossEntropy(logits, b.targets, { mask: b.mask }),
        { metrics: { accuracy: losses.accuracy(logits, b.targets, { mask: b.mask }) } }]
    }
    const [initKey, runKey] = splitKey(randomKey(1))
    const params = model.init(initKey, { dtype })
    const test = make(3, 64)
    const before = train.evaluate(loss, params, test)
    const result = fit({ loss, optimizer: optim.adam(0.02), data: make(2, 256), params, key: runKey, epochs: 8, batchSize: 32 })
    const after = train.evaluate(loss, result.state.params, test)
    expect(before.accuracy).toBeLessThan(0.45) // chance is 1/4
    expect(after.accuracy).toBeGreaterThan(0.95)
  })

  it("an Elman network fits the seed's damped oscillator (next-step prediction)", () => {
    const { x } = data.oscillator()
    const { xs, ys } = data.nextStepTask(x, { dtype })
    const net = nn.seedNetwork({ inputSize: 1, hidden: [3], activations: 'tanh', output: { size: 1 } })
    const loss = train.supervised(net.apply, losses.mse)
    const [initKey, runKey] = splitKey(randomKey(0))
    const params = net.init(initKey, { dtype })
    const batch = { inputs: xs, targets: ys }
    const before = train.evaluate(loss, params, batch).loss
    const result = fit({ loss, optimizer: optim.adam(0.01), data: batch, params, key: runKey, epochs: 250, batchSize: 1 })
    const after = train.evaluate(loss, result.state.params, batch).loss
    // Untrained: about 0.056; the fit must be over ten times better.
    expect(before).toBeGreaterThan(0.03)
    expect(after).toBeLessThan(0.005)
  })

  it('a GRU classifies sequences by the sign of their sum', () => {
    const time = 8
    const make = (seed: number, count: number) => {
      const u = uniform(randomKey(seed), [count, time, 1], { low: -1, high: 1, dtype })
      const labels = Array.from({ length: count }, (_, i) => {
        let total = 0
        for (let t = 0; t < time; t++) total += u.data[i * time + t]
        return total > 0 ? 1 : 0
      })
      return { inputs: u, targets: oneHot(labels, 2, { dtype }) }
    }
    const model = nn.sequenceModel({
      recurrent: nn.gru({ inputSize: 1, hiddenSize: 16 }),
      output: nn.linear({ inputSize: 16, outputSize: 2 }),
      readout: 'lastStep',
    })
    const loss = train.supervised(model.apply, losses.softmaxCrossEntropy, { metrics: { accuracy: losses.accuracy } })
    const [initKey, runKey] = splitKey(randomKey(5))
    const params = model.init(initKey, { dtype })
    const test = make(11, 256)
    const before = train.evaluate(loss, params, test).accuracy
    const result = fit({ loss, optimizer: optim.adam(0.02), data: make(10, 512), params, key: runKey, epochs: 20, batchSize: 64 })
    const after = train.evaluate(loss, result.state.params, test).accuracy
    expect(before).toBeLessThan(0.7) // chance is 1/2
    expect(after).toBeGreaterThan(0.9)
  })
})
