/**
 * nn.minGru and nn.minLstm with `logSpace: true` (Feng et al. 2024's log-space form): the parallel
 * mode (logLinearRecurrence over the gates' logs) equals the sequential one (the cell with h̃
 * through g, by `scan`) in outputs, states and gradients; both equal a transcription of the
 * paper's log-space equations (cumsum and logcumsumexp, step by step); the form stays accurate in
 * float32 over long sequences; checkGrads passes; a non-positive initial state is refused.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, cast, concat, exp, grad, greaterEqual, log, logLinearRecurrence, matmul, mul, neg, normal, randomKey, relu, reshape, slice,
  softplus, splitKey, stack, sub, sum, tensor, transpose, uniform, where,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { cases, runs } from './gradHarness.js'
import { type Subject, expectMaskedLayerGradsOk, expectSameGrads, itModesAgree } from './linearLayerParity.js'
import { expectClose } from './support.js'

type Kind = 'minGru' | 'minLstm'
type Mode = 'parallel' | 'sequential'
const make = (kind: Kind, options: nn.MinRecurrentOptions): nn.RecurrentLayer<nn.HiddenState> =>
  kind === 'minGru' ? nn.minGru({ ...options, logSpace: true }) : nn.minLstm({ ...options, logSpace: true })

/** Initial states are positive, as the log needs. */
const subject = (kind: Kind, mode: Mode): Subject => ({
  layer: (c, config) => make(kind, { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: config.numLayers, bidirectional: config.bidirectional, mode }),
  initialState: (key, shape) => uniform(key, shape, { low: 0.1, high: 2 }),
})

describe.each(['minGru', 'minLstm'] as const)('nn.%s({ logSpace: true }): parallel = sequential (float64, 1e-12)', (kind) => {
  itModesAgree((mode) => subject(kind, mode))
})

// ---- the paper's log-space equations, transcribed: batch-first, time along axis 1 ----

const lin = (x: Tensor, w: Tensor, b: Tensor): Tensor => add(matmul(x, transpose(w)), b)
const stepOf = (x: Tensor, t: number): Tensor => slice(x, [[0, x.shape[0]], [t, t + 1]])
const logG = (x: Tensor): Tensor => where(greaterEqual(x, 0), log(add(relu(x), 0.5)), neg(softplus(neg(x))))

/**
 * parallel_scan_log(log_coeffs [B, T, H], log_values [B, T + 1, H]): a* = pad(cumsum(log_coeffs)),
 * log h = a* + logcumsumexp(log_values − a*), h = exp(log h)[:, 1:]; the sums written out step by step.
 */
const parallelScanLog = (logCoeffs: Tensor, logValues: Tensor): Tensor => {
  const [batch, time, hidden] = logCoeffs.shape
  const aStar: Tensor[] = [tensor(new Float64Array(batch * hidden), { shape: [batch, 1, hidden] })]
  for (let t = 0; t < time; t++) aStar.push(add(aStar[t], stepOf(logCoeffs, t)))
  const shifted = sub(logValues, concat(aStar, 1))
  const running: Tensor[] = [stepOf(shifted, 0)]
  for (let t = 1; t <= time; t++) running.push(log(add(exp(running[t - 1]), exp(stepOf(shifted, t)))))
  const logH = add(concat(aStar, 1), concat(running, 1))
  return exp(slice(logH, [[0, batch], [1, time + 1]]))
}

/** minGRU in log space: log_coeffs = −softplus(k), log_z = −softplus(−k), log h̃ = log_g(Linear_h(x)). */
const paperMinGru = (p: nn.Params, x: Tensor, h0: Tensor): Tensor => {
  const k = lin(x, p.weight_z, p.bias_z)
  const logValues = add(neg(softplus(neg(k))), logG(lin(x, p.weight_h, p.bias_h)))
  return parallelScanLog(neg(softplus(k)), concat([log(h0), logValues], 1))
}

/** minLSTM in log space: diff = softplus(−k_f) − softplus(−k_i), log f′ = −softplus(diff), log i′ = −softplus(−diff). */
const paperMinLstm = (p: nn.Params, x: Tensor, h0: Tensor): Tensor => {
  const diff = sub(softplus(neg(lin(x, p.weight_f, p.bias_f))), softplus(neg(lin(x, p.weight_i, p.bias_i))))
  const logValues = add(neg(softplus(neg(diff))), logG(lin(x, p.weight_h, p.bias_h)))
  return parallelScanLog(neg(softplus(diff)), concat([log(h0), logValues], 1))
}

const unsuffixed = (p: nn.Params): nn.Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k.replace(/_l0$/, ''), v]))

describe.each([
  ['minGru', paperMinGru],
  ['minLstm', paperMinLstm],
] as const)('nn.%s({ logSpace: true }) against the paper’s log-space equations', (kind, paper) => {
  it.each(['parallel', 'sequential'] as const)('%s mode: outputs, final state and gradients (float64, 1e-12)', (mode) => {
    fc.assert(fc.property(cases({ batch: 2, time: 6, inputSize: 3, hiddenSize: 3 }), (c) => {
      const layer = make(kind, { inputSize: c.inputSize, hiddenSize: c.hiddenSize, mode })
      const [kp, kh, kw] = splitKey(randomKey(c.seed), 3)
      const params = layer.init(kp, { dtype: 'float64' })
      const h0 = uniform(kh, [1, c.batch, c.hiddenSize], { low: 0.1, high: 2 })
      const paperH0 = (h: Tensor): Tensor => reshape(h, [c.batch, 1, c.hiddenSize])
      const ours = layer.apply(params, c.x, { initialState: { h: h0 } })
      const theirs = paper(unsuffixed(params), c.x, paperH0(h0))
      expectClose(ours.outputs, theirs, 1e-12, 'outputs')
      const w = normal(kw, ours.outputs.shape)
      const [gp, gx, gh] = grad((p: nn.Params, x: Tensor, h: Tensor) => sum(mul(layer.apply(p, x, { initialState: { h } }).outputs, w)), { argnums: [0, 1, 2] })(
        params, c.x, h0,
      ) as [nn.Params, Tensor, Tensor]
      const [rp, rx, rh] = grad((p: nn.Params, x: Tensor, h: Tensor) => sum(mul(paper(unsuffixed(p), x, paperH0(h)), w)), { argnums: [0, 1, 2] })(
        params, c.x, h0,
      ) as [nn.Params, Tensor, Tensor]
      expectSameGrads([gp, gx, gh], [rp, rx, rh])
    }), runs)
  })
})

describe('the log-space form', () => {
  it('logLinearRecurrence equals the loop (including h0 = 0, omitted)', () => {
    const a = tensor([[0.5, 0.9], [0.25, 0.8], [0.5, 0.7]])
    const b = tensor([[1, 2], [1, 0.5], [3, 1]])
    const h0 = tensor([2, 4])
    const expected = [[2, 5.6], [1.5, 4.98], [3.75, 4.486]]
    expectClose(exp(logLinearRecurrence(log(a), log(b), log(h0))), tensor(expected), 1e-14, 'from h0')
    const fromZero = [[1, 2], [1.25, 2.1], [3.625, 2.47]]
    expectClose(exp(logLinearRecurrence(log(a), log(b))), tensor(fromZero), 1e-14, 'from 0')
  })

  it('stays accurate over 2,000 steps in float32 (relative error of the float64 result < 1e-4)', () => {
    const layer = nn.minGru({ inputSize: 4, hiddenSize: 8, logSpace: true })
    const [kp, kx] = splitKey(randomKey(5))
    const params = layer.init(kp, { dtype: 'float64' })
    const x = normal(kx, [2, 2000, 4])
    const exact = layer.apply(params, x).outputs
    const single = layer.apply(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, cast(v, 'float32')])), cast(x, 'float32')).outputs
    let worst = 0
    for (let i = 0; i < exact.size; i++) worst = Math.max(worst, Math.abs(single.data[i] - exact.data[i]) / exact.data[i])
    expect(worst).toBeLessThan(1e-4)
  })

  it.each(['minGru', 'minLstm'] as const)('nn.%s passes checkGrads, order 1 (masked, bidirectional, parallel)', (kind) => {
    expectMaskedLayerGradsOk(make(kind, { inputSize: 2, hiddenSize: 2, bidirectional: true }))
  })

  it('refuses a non-positive initial state in parallel mode, and a logSpace that is not a boolean', () => {
    const layer = nn.minGru({ inputSize: 2, hiddenSize: 2, logSpace: true })
    const params = layer.init(randomKey(0))
    const x = normal(randomKey(1), [1, 3, 2])
    expect(() => layer.apply(params, x, { initialState: { h: tensor([[[0.5, 0]]]) } })).toThrow(/nn\.minGru: with logSpace the initial state must be positive/)
    expect(() => nn.minLstm({ inputSize: 2, hiddenSize: 2, logSpace: 'yes' as unknown as boolean })).toThrow(/logSpace must be true or false/)
    const states = stack([layer.apply(params, x).state.h], 0)
    expect(states.data.every((v) => v > 0)).toBe(true)
  })
})
