import { describe, expect, it } from 'vitest'
import { type Tensor, mean, randomKey, square, sub, add, matmul, tensor, treeLeaves } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'
import { type EpochLog, type LossFn, type TrainState, epochPlan, evaluate, fit, supervised } from '../../src/train/index.js'
import {
  type LinearParams, type Regression, accuracy, blobs, crossEntropy, linearInit, mseLoss, noisyMseLoss, regressionData,
} from './toys.js'

const leafData = (tree: unknown): number[][] => treeLeaves(tree).map((x) => Array.from(x.data))

describe('train.fit: exact resumption', () => {
  const data = regressionData(10)
  const common = {
    loss: noisyMseLoss, optimizer: optim.adam(0.05), data, batchSize: 3, validation: regressionData(5, 9),
  } as const

  it('2 epochs, then 2 more from the saved state, equals 4 epochs straight, bit for bit', () => {
    const straight = fit({ ...common, params: linearInit(), key: randomKey(7), epochs: 4 })
    const first = fit({ ...common, params: linearInit(), key: randomKey(7), epochs: 2 })
    expect(first.state.epoch).toBe(2)
    const resumed = fit({ ...common, resume: first.state, epochs: 4 })
    expect(leafData(resumed.state.params)).toEqual(leafData(straight.state.params))
    expect(leafData(resumed.state.optState)).toEqual(leafData(straight.state.optState))
    expect(resumed.state.step).toBe(straight.state.step)
    expect(straight.state.step).toBe(4 * 4) // ⌈10 / 3⌉ = 4 batches per epoch
    const timeless = (logs: readonly EpochLog[]) => logs.map(({ seconds: _, ...rest }) => rest)
    expect(timeless([...first.history, ...resumed.history])).toEqual(timeless(straight.history))
  })

  it('stopping mid-epoch from onBatch and resuming also reproduces the straight run', () => {
    const straight = fit({ ...common, params: linearInit(), key: randomKey(3), epochs: 3 })
    const stopped = fit({
      ...common, params: linearInit(), key: randomKey(3), epochs: 3,
      onBatch: ({ epoch, batch }) => (epoch === 1 && batch === 1 ? 'stop' : undefined),
    })
    expect(stopped.stopReason).toBe('callback')
    expect(stopped.state).toMatchObject({ epoch: 1, batch: 2, step: 6 })
    expect(stopped.history).toHaveLength(1)
    const resumed = fit({ ...common, resume: stopped.state, epochs: 3 })
    expect(leafData(resumed.state.params)).toEqual(leafData(straight.state.params))
    // The epoch that was split across the two calls reports the same averages.
    expect(resumed.history[0].train).toEqual(straight.history[1].train)
  })

  it('an aborted signal stops before the next batch and the state resumes exactly', () => {
    const straight = fit({ ...common, params: linearInit(), key: randomKey(5), epochs: 2 })
    const signal = { aborted: false }
    const stopped = fit({
      ...common, params: linearInit(), key: randomKey(5), epochs: 2, signal,
      onBatch: ({ state }) => { if (state.step === 5) signal.aborted = true },
    })
    expect(stopped.stopReason).toBe('signal')
    expect(stopped.state.step).toBe(5)
    const resumed = fit({ ...common, resume: stopped.state, epochs: 2 })
    expect(leafData(resumed.state.params)).toEqual(leafData(straight.state.params))
  })
})

describe('train.fit: minibatches', () => {
  it('shuffles afresh every epoch: orders differ across epochs, and repeat across runs with the same key', () => {
    const n = 12
    const ids = tensor(Array.from({ length: n }, (_, i) => i))
    const record = (): number[][] => {
      const seen: number[][] = []
      const loss: LossFn<{ w: Tensor }, { id: Tensor }> = (p, batch) => {
        seen.push(Array.from(batch.id.data))
        return mean(square(p.w))
      }
      fit({ loss, optimizer: optim.sgd(0.1), data: { id: ids }, params: { w: tensor([1]) }, key: randomKey(11), epochs: 3, batchSize: 5 })
      return seen
    }
    const run = record()
    expect(run.map((b) => b.length)).toEqual([5, 5, 2, 5, 5, 2, 5, 5, 2]) // the last batch takes the remainder
    const epochs = [run.slice(0, 3).flat(), run.slice(3, 6).flat(), run.slice(6, 9).flat()]
    for (const order of epochs) expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(epochs[0]).not.toEqual(epochs[1])
    expect(epochs[1]).not.toEqual(epochs[2])
    expect(record()).toEqual(run)
  })

  it("epoch e's plan depends only on (key, e)", () => {
    const key = randomKey(4)
    const a = epochPlan(key, 5, 20, { batchCount: 3 })
    expect(epochPlan(key, 5, 20, { batchCount: 3 })).toEqual(a)
    expect(a.batches.map((b) => b.length)).toEqual([6, 6, 8])
    expect(epochPlan(key, 4, 20, { batchCount: 3 }).batches).not.toEqual(a.batches)
    expect(epochPlan(randomKey(5), 5, 20, { batchCount: 3 }).batches).not.toEqual(a.batches)
  })

  it('batchCount gives that many batches, the last taking the remainder; shuffle: false keeps the order', () => {
    const sizes: number[][] = []
    const loss: LossFn<{ w: Tensor }, { id: Tensor }> = (p, batch) => {
      sizes.push(Array.from(batch.id.data))
      return mean(square(p.w))
    }
    fit({
      loss, optimizer: optim.sgd(0.1), data: { id: tensor([0, 1, 2, 3, 4, 5, 6]) }, params: { w: tensor([1]) }, key: randomKey(0),
      epochs: 1, batchCount: 3, shuffle: false,
    })
    expect(sizes).toEqual([[0, 1], [2, 3], [4, 5, 6]])
  })

  it('refuses ambiguous batching and mismatched sample axes with a message saying how to fix it', () => {
    const base = { loss: mseLoss, optimizer: optim.sgd(0.1), params: linearInit(), key: randomKey(0), epochs: 1 }
    expect(() => fit({ ...base, data: regressionData(4) })).toThrow(/exactly one of batchSize .* or batchCount/)
    const bad = { inputs: regressionData(4).inputs, targets: regressionData(5).targets }
    expect(() => fit({ ...base, data: bad, batchSize: 2 })).toThrow(/same leading \(sample\) axis; data.inputs is \[4, 3\] but data.targets is \[5, 1\]/)
  })
})

describe('train.fit: history, outputs and stopping', () => {
  it('records one entry per epoch, the loss falls on a toy regression, and outputs are kept per epoch', () => {
    const probe = tensor([[1, 1, 1]])
    const result = fit({
      loss: mseLoss, optimizer: optim.sgd(0.1), data: regressionData(40), validation: regressionData(10, 5), params: linearInit(),
      key: randomKey(1), epochs: 15, batchSize: 8,
      recordOutputs: (p: LinearParams) => add(matmul(probe, p.w), p.b).item(),
    })
    expect(result.stopReason).toBe('completed')
    expect(result.history).toHaveLength(15)
    expect(result.outputs).toHaveLength(15)
    expect(result.history.map((h) => h.epoch)).toEqual(Array.from({ length: 15 }, (_, i) => i))
    expect(result.history[14].step).toBe(15 * 5)
    const train = result.history.map((h) => h.train.loss)
    const validation = result.history.map((h) => h.validation?.loss ?? NaN)
    expect(train[14]).toBeLessThan(train[0] / 100)
    expect(validation[14]).toBeLessThan(validation[0] / 100)
    expect(validation[14]).toBeLessThan(1e-3)
    // The fitted line at x = (1, 1, 1) approaches 1 − 2 + 0.5 + 0.3 = −0.2.
    expect(result.outputs[14]).toBeCloseTo(-0.2, 1)
    expect(result.history[14].validation?.loss).toBe(evaluate(mseLoss, result.state.params, regressionData(10, 5)).loss)
  })

  it('reports metrics such as accuracy for train and validation (supervised classification)', () => {
    const apply = (p: LinearParams, x: Tensor) => add(matmul(x, p.w), p.b)
    const loss = supervised(apply, crossEntropy, { metrics: { accuracy } })
    const { history } = fit({
      loss, optimizer: optim.sgd(0.5), data: blobs(60), validation: blobs(30, 8), params: { w: tensor([[0, 0], [0, 0]]), b: tensor([0, 0]) },
      key: randomKey(2), epochs: 8, batchSize: 16,
    })
    expect(Object.keys(history[0].train).sort()).toEqual(['accuracy', 'loss'])
    expect(history[7].train.accuracy).toBeGreaterThan(0.9)
    expect(history[7].validation?.accuracy).toBeGreaterThan(0.9)
    expect(history[7].validation?.loss).toBeLessThan(history[0].validation?.loss ?? 0)
  })

  it('early stopping stops after `patience` epochs without improvement and remembers the best', () => {
    const data = regressionData(8)
    const frozen = fit({
      loss: mseLoss, optimizer: optim.sgd(0), data, params: linearInit(), key: randomKey(0), epochs: 50, batchSize: 4,
      earlyStopping: { patience: 3 },
    })
    expect(frozen.stopReason).toBe('earlyStopping')
    expect(frozen.history).toHaveLength(4) // the first epoch sets the best, three more without improvement
    expect(frozen.state.earlyStopping).toEqual({ best: frozen.history[0].train.loss, bestEpoch: 0, wait: 3 })

    const learning = fit({
      loss: mseLoss, optimizer: optim.sgd(0.1), data, validation: data, params: linearInit(), key: randomKey(0), epochs: 6, batchSize: 4,
      earlyStopping: { monitor: 'validation.loss', patience: 2, minDelta: 1e-9 },
    })
    expect(learning.stopReason).toBe('completed')
    expect(learning.state.earlyStopping?.bestEpoch).toBe(5)
    expect(() => fit({ loss: mseLoss, optimizer: optim.sgd(0), data, params: linearInit(), key: randomKey(0), epochs: 2, batchSize: 4, earlyStopping: { monitor: 'validation.accuracy', patience: 1 } }))
      .toThrow(/earlyStopping.monitor 'validation.accuracy' is not reported; available: train.loss/)
  })

  it("onEpoch's 'stop' ends training after that epoch and sees the history so far", () => {
    const seen: number[] = []
    const result = fit({
      loss: mseLoss, optimizer: optim.sgd(0.1), data: regressionData(8), params: linearInit(), key: randomKey(0), epochs: 10, batchSize: 4,
      onEpoch: (info) => {
        seen.push(info.history.length)
        return info.epoch === 2 ? 'stop' : undefined
      },
    })
    expect(result.stopReason).toBe('callback')
    expect(seen).toEqual([1, 2, 3])
    expect(result.state).toMatchObject({ epoch: 3, batch: 0, step: 6 })
  })

  it('a resumed state with a batch index beyond the epoch is refused', () => {
    const start: TrainState<LinearParams, unknown> = {
      params: linearInit(), optState: optim.sgd(0.1).init(linearInit()), key: randomKey(0), epoch: 0, batch: 9, step: 0,
    }
    const data: Regression = regressionData(8)
    expect(() => fit({ loss: mseLoss, optimizer: optim.sgd(0.1), data, resume: start, epochs: 1, batchSize: 4 }))
      .toThrow(/resume.batch is 9 but epoch 0 has only 2 batches/)
  })

  it('evaluate is independent of the batching and passes no key', () => {
    const data = regressionData(11)
    const params = { w: tensor([[0.5], [0.1], [0]]), b: tensor([0.2]) }
    const keyless: LossFn<LinearParams, Regression> = (p, batch, { key }) => {
      expect(key).toBeUndefined()
      return mseLoss(p, batch, {})
    }
    const whole = evaluate(keyless, params, data)
    expect(whole.loss).toBeCloseTo(mean(square(sub(add(matmul(data.inputs, params.w), params.b), data.targets))).item(), 14)
    expect(evaluate(keyless, params, data, { batchSize: 4 }).loss).toBeCloseTo(whole.loss, 12)
  })
})
