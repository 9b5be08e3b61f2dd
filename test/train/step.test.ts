import { describe, expect, it } from 'vitest'
import { type Tensor, grad, log, mean, randomKey, sqrt, sum, tensor, mul, sub } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'
import { type LossFn, NonFiniteLossError, fit, makeTrainStep } from '../../src/train/index.js'
import { type LinearParams, linearInit, mseLoss, regressionData } from './toys.js'

describe('train.makeTrainStep', () => {
  it('applies exactly one update θ − η∇L(θ) per batch and leaves its inputs untouched', () => {
    const data = regressionData(6)
    const params: LinearParams = { w: tensor([[0.1], [0.2], [0.3]]), b: tensor([0.4]) }
    const before = Array.from(params.w.data)
    const opt = optim.sgd(0.1)
    const step = makeTrainStep(mseLoss, opt)
    const result = step(params, opt.init(params), data)
    const g = grad((p: LinearParams) => mseLoss(p, data, {}) as Tensor)(params)
    expect(Array.from(result.params.w.data)).toEqual(Array.from(sub(params.w, mul(g.w, 0.1)).data))
    expect(Array.from(result.params.b.data)).toEqual(Array.from(sub(params.b, mul(g.b, 0.1)).data))
    expect(result.loss).toBe((mseLoss(params, data, {}) as Tensor).item())
    expect(result.updates).toBe(1)
    expect(Array.from(params.w.data)).toEqual(before)
  })

  it('reports metrics the loss returns, and passes the key through', () => {
    const key = randomKey(3)
    const loss: LossFn<{ a: Tensor }, Tensor> = (p, _batch, context) => {
      expect(context.key).toBe(key)
      return [sum(mul(p.a, p.a)), { metrics: { half: 0.5, norm: sum(p.a) } }]
    }
    const opt = optim.sgd(0.1)
    const result = makeTrainStep(loss, opt)({ a: tensor([1, 2]) }, opt.init({ a: tensor([1, 2]) }), tensor([0]), key)
    expect(result.metrics).toEqual({ half: 0.5, norm: 3 })
  })
})

describe('train: non-finite losses', () => {
  /** log(a) falls as a falls; with η = 0.1, a goes 0.5 → 0.3 → −0.033, and log(−0.033) is NaN. */
  const logLoss: LossFn<{ a: Tensor }, { x: Tensor }> = (p) => mean(log(p.a))

  it('fit stops with an error naming the epoch, the batch and the primitive, carrying the last finite state', () => {
    const options = {
      loss: logLoss, optimizer: optim.sgd(0.1), data: { x: tensor([1, 2, 3, 4]) }, params: { a: tensor([0.5]) },
      key: randomKey(0), epochs: 5, batchCount: 2,
    }
    let error: unknown
    try {
      fit(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(NonFiniteLossError)
    const e = error as NonFiniteLossError<{ a: Tensor }, unknown>
    expect(e.message).toMatch(/^fit: the loss became NaN at epoch 1, batch 0 \(after 2 updates\), counted from 0\./)
    expect(e.message).toMatch(/first primitive to produce a non-finite value in the forward pass was 'log' \(inputs \[1\], output \[1\]\)/)
    expect(e).toMatchObject({ phase: 'loss', epoch: 1, batch: 0, step: 2, culprit: { primitive: 'log' } })
    expect(e.params.a.item()).toBeCloseTo(0.3 - 0.1 / 0.3, 14)
    expect(e.state).toMatchObject({ epoch: 1, batch: 0, step: 2 })
    // The carried state is a real resumable state: one more step from it reproduces the failure.
    expect(() => fit({ ...options, params: undefined, key: undefined, resume: e.state! })).toThrow(/epoch 1, batch 0/)
  })

  it('a finite loss with a non-finite gradient is caught in the backward pass (sqrt at 0)', () => {
    const loss: LossFn<{ a: Tensor }, Tensor> = (p) => sum(sqrt(p.a))
    const opt = optim.sgd(0.1)
    const params = { a: tensor([0, 1]) }
    const run = () => makeTrainStep(loss, opt)(params, opt.init(params), tensor([0]))
    expect(run).toThrow(NonFiniteLossError)
    expect(run).toThrow(/trainStep: the loss is finite \(1\) but the gradient of params.a is not in this step\. .* in the backward pass was 'div'/)
  })

  it('an update that overflows a parameter is caught with the parameter named', () => {
    const opt = optim.sgd(1e308)
    const params = linearInit()
    const run = () => makeTrainStep(mseLoss, opt)(params, opt.init(params), regressionData(4))
    expect(run).toThrow(/the optimiser update made params.w(, params.b)? non-finite .* in the optimiser update was 'mul'/)
  })
})
