import { describe, expect, it } from 'vitest'
import { type Tensor, mean, normal, randomKey, splitKey, square, sub, tensor } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'
import { type LossFn, evaluate, fit, makeTbpttStep, splitTime } from '../../src/train/index.js'
import { expectAllClose } from '../helpers/allClose.js'
import { type RecurrenceParams, type Regression, recurrence, recurrenceLoss } from './toys.js'

const B = 2
const T = 7
const [kx, ky] = splitKey(randomKey(21))
const data: Regression = { inputs: normal(kx, [B, T, 1]), targets: normal(ky, [B, T, 1]) }
const params0: RecurrenceParams = { w: tensor(0.6), u: tensor(-0.4) }

/**
 * An independent oracle with plain numbers: h_t = w·h_{t−1} + u·x_t, loss = mean over the window
 * of (h_t − y_t)², with the derivatives ∂h/∂w and ∂h/∂u carried forward in time (forward mode).
 * `stop` resets them at each window start (what stopGradient does); `carry` keeps h between windows.
 */
const oracle = (window: number, lr: number, options: { stop: boolean; carry: boolean }) => {
  const x = data.inputs.data
  const y = data.targets.data
  let w = params0.w.item()
  let u = params0.u.item()
  let h = new Array(B).fill(0)
  let dw = new Array(B).fill(0)
  let du = new Array(B).fill(0)
  const losses: number[] = []
  for (let start = 0; start < T; start += window) {
    const end = Math.min(start + window, T)
    const count = B * (end - start)
    if (!options.carry) h = new Array(B).fill(0)
    if (options.stop || !options.carry) {
      dw = new Array(B).fill(0)
      du = new Array(B).fill(0)
    }
    let loss = 0
    let gw = 0
    let gu = 0
    for (let t = start; t < end; t++) {
      for (let b = 0; b < B; b++) {
        dw[b] = h[b] + w * dw[b]
        du[b] = x[b * T + t] + w * du[b]
        h[b] = w * h[b] + u * x[b * T + t]
        const r = h[b] - y[b * T + t]
        loss += (r * r) / count
        gw += (2 * r * dw[b]) / count
        gu += (2 * r * du[b]) / count
      }
    }
    losses.push(loss)
    w -= lr * gw
    u -= lr * gu
  }
  return { w, u, losses }
}

describe('train.makeTbpttStep (truncated BPTT)', () => {
  it('one update per window, state carried, no gradient across windows: matches the stopped-gradient oracle', () => {
    const opt = optim.sgd(0.05)
    const result = makeTbpttStep(recurrenceLoss, opt, { window: 3 })(params0, opt.init(params0), data)
    const expected = oracle(3, 0.05, { stop: true, carry: true })
    expect(result.updates).toBe(3) // windows of 3, 3 and 1 steps
    expectAllClose(result.params.w, tensor(expected.w))
    expectAllClose(result.params.u, tensor(expected.u))
    const [l1, l2, l3] = expected.losses
    expect(result.loss).toBeCloseTo((3 * l1 + 3 * l2 + 1 * l3) / 7, 12)
    // The alternatives the oracle can tell apart really differ: gradient flowing back into the
    // previous window, or the state reset at each window.
    const leaky = oracle(3, 0.05, { stop: false, carry: true })
    const reset = oracle(3, 0.05, { stop: true, carry: false })
    expect(Math.abs(leaky.w - expected.w)).toBeGreaterThan(1e-6)
    expect(Math.abs(reset.w - expected.w)).toBeGreaterThan(1e-6)
  })

  it('returns the state after the last window: with η = 0 it is the final state of one pass over the whole sequence', () => {
    const opt = optim.sgd(0)
    const result = makeTbpttStep(recurrenceLoss, opt, { window: 2 })(params0, opt.init(params0), data)
    // With η = 0 the parameters never change, so the carried state is the full-sequence state.
    expectAllClose(result.state as Tensor, recurrence(params0, data.inputs).h)
  })

  it('with a window covering the whole sequence it is the ordinary train step (full BPTT)', () => {
    const opt = optim.sgd(0.05)
    const result = makeTbpttStep(recurrenceLoss, opt, { window: T })(params0, opt.init(params0), data)
    const expected = oracle(T, 0.05, { stop: true, carry: true })
    expectAllClose(result.params.w, tensor(expected.w))
    expect(result.updates).toBe(1)
  })

  it('splitTime cuts every leaf along axis 1, the last window taking the remainder', () => {
    const windows = splitTime(data, 3)
    expect(windows.map((w) => [w.inputs.shape, w.targets.shape])).toEqual([
      [[2, 3, 1], [2, 3, 1]], [[2, 3, 1], [2, 3, 1]], [[2, 1, 1], [2, 1, 1]],
    ])
    expect(() => splitTime({ inputs: data.inputs, label: tensor([[1], [0]]) }, 3)).toThrow(/batch.label has shape \[2, 1\], expected \[2, 7, …\]/)
  })

  it('refuses a loss that does not return its state', () => {
    const stateless: LossFn<RecurrenceParams, Regression> = (p, batch) => mean(square(sub(recurrence(p, batch.inputs).outputs, batch.targets)))
    const opt = optim.sgd(0.1)
    expect(() => makeTbpttStep(stateless, opt, { window: 3 })(params0, opt.init(params0), data)).toThrow(/must return \[loss, \{ state \}\]/)
  })

  it('fit with truncatedBptt: one update per window per batch, validation on whole sequences, loss falls', () => {
    const [k1, k2] = splitKey(randomKey(5))
    const inputs = normal(k1, [6, 12, 1])
    // A target the recurrence can represent: h_t = 0.5·h_{t−1} + 0.8·x_t.
    const targets = recurrence({ w: tensor(0.5), u: tensor(0.8) }, inputs).outputs
    const sequences = { inputs, targets }
    const result = fit({
      loss: recurrenceLoss, optimizer: optim.adam(0.05), data: sequences, validation: sequences, params: params0, key: k2,
      epochs: 20, batchSize: 3, truncatedBptt: { window: 5 },
    })
    expect(result.state.step).toBe(20 * 2 * 3) // 20 epochs × 2 batches × ⌈12 / 5⌉ windows
    expect(result.history[19].validation?.loss).toBeLessThan((result.history[0].validation?.loss ?? 0) / 10)
    // fit validates in batches of `batchSize` (3): the same computation, hence the same bits, is
    // `evaluate` with that batch size. One batch of 6 sums in another order (the WebAssembly sums
    // run in SIMD lanes), which may differ in the last bit.
    expect(result.history[19].validation?.loss).toBe(evaluate(recurrenceLoss, result.state.params, sequences, { batchSize: 3 }).loss)
  })
})
