/**
 * nn.lru (Orvieto et al. 2023): the parallel mode (linearRecurrence over complex pairs) equals the
 * sequential reference (the cell through `scan`) in outputs, final states and gradients, plain,
 * masked, reversed, stacked and bidirectional; the layer equals a plain-number transcription of the
 * paper's equations (complex arithmetic with Math.cos and Math.sin), and its gradients equal that
 * transcription's central differences; the ring initialisation keeps its bounds; a sequence run in
 * two pieces, the state carried, equals one run (as generation runs it); checkGrads passes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, grad, mul, normal, oneHot, randomKey, slice, splitKey, sum, tensor, uniform,
} from '../../src/index.js'
import { generate } from '../../src/train/index.js'
import * as nn from '../../src/nn/index.js'
import { type Case, cases, runs } from './gradHarness.js'
import { type Subject, itModesAgree } from './linearLayerParity.js'
import { expectClose, expectGradsOk } from './support.js'

type Mode = 'parallel' | 'sequential'

const stateSizeOf = (c: Case): number => 1 + (c.seed % 3)

const subject = (mode: Mode): Subject => ({
  layer: (c, config) =>
    nn.lru({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, stateSize: stateSizeOf(c), numLayers: config.numLayers, bidirectional: config.bidirectional, mode }),
  initialState: (key, shape) => normal(key, shape),
  stateWidth: (c) => 2 * stateSizeOf(c),
})

describe('nn.lru: parallel = sequential (float64, 1e-12)', () => {
  itModesAgree((mode) => subject(mode))
})

// ---- the paper's equations in plain numbers: complex arithmetic, one step at a time ----

type Values = Record<string, Float64Array>

/**
 * λ_n = exp(−exp(ν_n) + i·exp(θ_n)), γ_n = exp(γ_log_n); h_t = λ ⊙ h_{t−1} + γ ⊙ (B_re + i·B_im)·x_t;
 * y_t = Re((C_re + i·C_im)·h_t) + D ⊙ x_t (x·Dᵀ for a matrix D). x `[batch, time, in]`, h0 `[batch, 2N]` as pairs.
 */
const paperLru = (p: Values, x: Float64Array, h0: Float64Array, sizes: { batch: number; time: number; inputSize: number; hiddenSize: number; stateSize: number }): Float64Array => {
  const { batch, time, inputSize: I, hiddenSize: H, stateSize: N } = sizes
  const y = new Float64Array(batch * time * H)
  for (let b = 0; b < batch; b++) {
    const hr = Array.from({ length: N }, (_, n) => h0[b * 2 * N + 2 * n])
    const hi = Array.from({ length: N }, (_, n) => h0[b * 2 * N + 2 * n + 1])
    for (let t = 0; t < time; t++) {
      const xt = x.subarray((b * time + t) * I, (b * time + t + 1) * I)
      for (let n = 0; n < N; n++) {
        const modulus = Math.exp(-Math.exp(p.nu_log[n]))
        const angle = Math.exp(p.theta_log[n])
        const [lr, li] = [modulus * Math.cos(angle), modulus * Math.sin(angle)]
        let ur = 0
        let ui = 0
        for (let i = 0; i < I; i++) {
          ur += p.B_re[n * I + i] * xt[i]
          ui += p.B_im[n * I + i] * xt[i]
        }
        const gamma = Math.exp(p.gamma_log[n])
        ;[hr[n], hi[n]] = [lr * hr[n] - li * hi[n] + gamma * ur, lr * hi[n] + li * hr[n] + gamma * ui]
      }
      for (let o = 0; o < H; o++) {
        let v = 0
        for (let n = 0; n < N; n++) v += p.C_re[o * N + n] * hr[n] - p.C_im[o * N + n] * hi[n]
        if (I === H) v += p.D[o] * xt[o]
        else for (let i = 0; i < I; i++) v += p.D[o * I + i] * xt[i]
        y[(b * time + t) * H + o] = v
      }
    }
  }
  return y
}

const valuesOf = (p: nn.Params): Values =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k.replace(/_l0$/, ''), Float64Array.from(v.data)]))

describe('nn.lru against the paper’s equations in plain numbers', () => {
  it.each(['parallel', 'sequential'] as const)('%s mode: outputs (1e-12) and gradients (central differences of the transcription)', (mode) => {
    fc.assert(fc.property(cases({ batch: 2, time: 5, inputSize: 3, hiddenSize: 3 }), (c) => {
      const stateSize = stateSizeOf(c)
      const layer = nn.lru({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, stateSize, mode })
      const [kp, kh, kw, kd] = splitKey(randomKey(c.seed), 4)
      const params = layer.init(kp, { dtype: 'float64' })
      const h0 = normal(kh, [1, c.batch, 2 * stateSize])
      const sizes = { batch: c.batch, time: c.time, inputSize: c.inputSize, hiddenSize: c.hiddenSize, stateSize }
      const ours = layer.apply(params, c.x, { initialState: { h: h0 } }).outputs
      expectClose(ours, tensor(paperLru(valuesOf(params), Float64Array.from(c.x.data), Float64Array.from(h0.data), sizes), { shape: ours.shape }), 1e-12, 'outputs')
      // ⟨w, y⟩: its gradient along a random direction of every parameter, x and h0, against central differences.
      const w = normal(kw, ours.shape)
      const [gp, gx, gh] = grad((p: nn.Params, x: Tensor, h: Tensor) => sum(mul(layer.apply(p, x, { initialState: { h } }).outputs, w)), { argnums: [0, 1, 2] })(
        params, c.x, h0,
      ) as [nn.Params, Tensor, Tensor]
      const names = Object.keys(params).sort()
      const keys = splitKey(kd, names.length + 2)
      const direction = Object.fromEntries(names.map((n, i) => [n, normal(keys[i], params[n].shape).data]))
      const dx = normal(keys[names.length], c.x.shape).data
      const dh = normal(keys[names.length + 1], h0.shape).data
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i], 0)
      const analytic = names.reduce((s, n) => s + dot(gp[n].data, direction[n]), 0) + dot(gx.data, dx) + dot(gh.data, dh)
      const at = (eps: number): number => {
        const shifted = Object.fromEntries(names.map((n) => [n.replace(/_l0$/, ''), Float64Array.from(params[n].data, (v, i) => v + eps * direction[n][i])]))
        const y = paperLru(shifted, Float64Array.from(c.x.data, (v, i) => v + eps * dx[i]), Float64Array.from(h0.data, (v, i) => v + eps * dh[i]), sizes)
        return dot(y, w.data)
      }
      const eps = 1e-6
      const numeric = (at(eps) - at(-eps)) / (2 * eps)
      expect(Math.abs(numeric - analytic)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(analytic))
    }), runs)
  })
})

describe('nn.lru', () => {
  it('initialises λ on the ring rMin ≤ |λ| ≤ rMax with 0 ≤ arg λ ≤ maxPhase, and γ = √(1 − |λ|²)', () => {
    const layer = nn.lru({ inputSize: 4, hiddenSize: 4, stateSize: 256, rMin: 0.4, rMax: 0.9, maxPhase: 1 })
    const p = layer.init(randomKey(7))
    const moduli = Array.from(p.nu_log_l0.data, (v) => Math.exp(-Math.exp(v)))
    const phases = Array.from(p.theta_log_l0.data, Math.exp)
    expect(Math.min(...moduli)).toBeGreaterThanOrEqual(0.4)
    expect(Math.max(...moduli)).toBeLessThanOrEqual(0.9)
    expect(Math.min(...moduli)).toBeLessThan(0.5) // spread over the ring, not bunched at one radius
    expect(Math.max(...moduli)).toBeGreaterThan(0.8)
    expect(Math.max(...phases)).toBeLessThanOrEqual(1)
    Array.from(p.gamma_log_l0.data).forEach((g, n) => expect(Math.exp(g)).toBeCloseTo(Math.sqrt(1 - moduli[n] ** 2), 12))
    expect([...p.D_l0.shape]).toEqual([4])
    expect([...nn.lru({ inputSize: 3, hiddenSize: 5, stateSize: 2 }).init(randomKey(0)).D_l0.shape]).toEqual([5, 3])
  })

  it.each(['parallel', 'sequential'] as const)('%s: a sequence in two pieces, the state carried, equals one run (float64)', (mode) => {
    const layer = nn.lru({ inputSize: 3, hiddenSize: 4, stateSize: 5, numLayers: 2, mode })
    const params = layer.init(randomKey(1))
    const x = normal(randomKey(2), [2, 7, 3])
    const whole = layer.apply(params, x)
    const first = layer.apply(params, sliceTime(x, 0, 4))
    const second = layer.apply(params, sliceTime(x, 4, 7), { initialState: first.state })
    expectClose(second.outputs, sliceTime(whole.outputs, 4, 7), 1e-12, 'outputs of the second piece')
    expectClose(second.state.h, whole.state.h, 1e-12, 'final state')
  })

  it('generate samples from a sequence model over it, one step at a time', () => {
    const model = nn.sequenceModel({ recurrent: nn.lru({ inputSize: 5, hiddenSize: 6, stateSize: 4 }), output: nn.linear({ inputSize: 6, outputSize: 5 }) })
    const params = model.init(randomKey(3))
    const prime = oneHot(tensor([[0], [1]]), 5)
    const { tokens, state } = generate(model.applyWithState, params, { prime, steps: 4, key: randomKey(4) })
    expect(tokens.map((row) => row.length)).toEqual([4, 4])
    expect([...(state as { h: Tensor }).h.shape]).toEqual([1, 2, 8])
  })

  it('passes checkGrads at orders 1 and 2 (masked, bidirectional, parallel)', () => {
    const layer = nn.lru({ inputSize: 2, hiddenSize: 2, stateSize: 2, bidirectional: true, rMin: 0.5, rMax: 0.95 })
    const [kp, kx] = splitKey(randomKey(3))
    const params = layer.init(kp, { dtype: 'float64' })
    const x = uniform(kx, [2, 3, 2], { low: -1, high: 1 })
    expectGradsOk((p: nn.Params, xs: Tensor) => layer.apply(p, xs, { lengths: [3, 2] }), [params, x], { order: 1, key: randomKey(4) })
    expectGradsOk((p: nn.Params, xs: Tensor) => layer.apply(p, xs, { lengths: [3, 2] }), [params, x], { order: 2, mode: 'projected', projections: 2, key: randomKey(5) })
  })

  it('names its parameters and rejects bad options', () => {
    expect(Object.keys(nn.lru({ inputSize: 3, hiddenSize: 3, bidirectional: true }).init(randomKey(0))).sort()).toEqual([
      'B_im_l0', 'B_im_l0_reverse', 'B_re_l0', 'B_re_l0_reverse', 'C_im_l0', 'C_im_l0_reverse', 'C_re_l0', 'C_re_l0_reverse', 'D_l0', 'D_l0_reverse',
      'gamma_log_l0', 'gamma_log_l0_reverse', 'nu_log_l0', 'nu_log_l0_reverse', 'theta_log_l0', 'theta_log_l0_reverse',
    ])
    expect(() => nn.lru({ inputSize: 3, hiddenSize: 3, rMin: 0.9, rMax: 0.5 })).toThrow(/nn\.lru: the ring needs 0 ≤ rMin < rMax ≤ 1, got rMin 0.9 and rMax 0.5/)
    expect(() => nn.lru({ inputSize: 3, hiddenSize: 3, maxPhase: 0 })).toThrow(/maxPhase must be a positive number/)
    expect(() => nn.lru({ inputSize: 3, hiddenSize: 3, stateSize: 0 })).toThrow(/stateSize must be a positive integer/)
    expect(() => nn.lru({ inputSize: 3, hiddenSize: 3, mode: 'fast' as 'parallel' })).toThrow(/mode must be/)
  })
})

/** Steps [from, to) of a batch-first `[batch, time, features]`. */
const sliceTime = (x: Tensor, from: number, to: number): Tensor => slice(x, [[0, x.shape[0]], [from, to]])
