/**
 * Seed parity: the seed's forward equations and its hand-derived BPTT (SEED-NOTES.md) transcribed
 * with plain loops over Float64Arrays — no library op — are an independent oracle for
 * nn.seedNetwork / nn.elman: predictions and automatic gradients must agree to 1e-10 for two
 * stacked Elman layers, batch > 1, T ≥ 5, a per-step output layer and MSE.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, grad, mean, normal, randomKey, splitKey, square, sub, tensor } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { expectClose } from './support.js'

// ---- the oracle: row-major matrices as Float64Array ----

type Mat = Float64Array

/** [n, k] · [k, m] */
const matmul = (a: Mat, b: Mat, n: number, k: number, m: number): Mat => {
  const out = new Float64Array(n * m)
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) out[i * m + j] += a[i * k + p] * b[p * m + j]
  return out
}
/** [n, k] · ([m, k])ᵀ */
const matmulBt = (a: Mat, b: Mat, n: number, k: number, m: number): Mat => {
  const out = new Float64Array(n * m)
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let p = 0; p < k; p++) out[i * m + j] += a[i * k + p] * b[j * k + p]
  return out
}
/** acc += ([n, k])ᵀ · [n, m] */
const addAtB = (acc: Mat, a: Mat, b: Mat, n: number, k: number, m: number): void => {
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) acc[p * m + j] += a[i * k + p] * b[i * m + j]
}
/** acc[j] += Σ_i a[i, j] */
const addColumnSums = (acc: Mat, a: Mat, n: number, m: number): void => {
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) acc[j] += a[i * m + j]
}
const addRowVector = (a: Mat, b: Mat, n: number, m: number): Mat => a.map((v, idx) => v + b[idx % m])
const plus = (a: Mat, b: Mat): Mat => a.map((v, i) => v + b[i])

interface ScalarActivation { f: (z: number) => number; df: (z: number) => number }
const scalarActivations: Record<string, ScalarActivation> = {
  tanh: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z) => { const s = 1 / (1 + Math.exp(-z)); return s * (1 - s) } },
  leakyRelu: { f: (z) => (z > 0 ? z : 1e-3 * z), df: (z) => (z > 0 ? 1 : 1e-3) },
  identity: { f: (z) => z, df: () => 1 },
}

interface OracleLayer { wLayer: Mat; bLayer: Mat; wTime: Mat; bTime: Mat; size: number; act: ScalarActivation }

/**
 * The seed's network, forward and backward by hand. x: [batch][time] rows of inputSize; returns
 * predictions [batch, time, out] (row-major) and the gradients of C = mean((ŷ − y)²).
 */
const oracle = (layers: OracleLayer[], wOut: Mat, bOut: Mat, outSize: number, xRows: Mat[], batch: number, inputSize: number, target: Mat) => {
  const T = xRows.length
  // Forward: z_t = a_t·W_layer + b_layer + [t > 1](h_{t−1}·W_time + b_time), h_t = σ(z_t).
  const inputs: Mat[][] = [] // inputs[l][t]: [batch, n_in]
  const zs: Mat[][] = []
  const hs: Mat[][] = []
  let below = xRows
  let nIn = inputSize
  for (const layer of layers) {
    const H = layer.size
    const z: Mat[] = []
    const h: Mat[] = []
    for (let t = 0; t < T; t++) {
      let zt = addRowVector(matmul(below[t], layer.wLayer, batch, nIn, H), layer.bLayer, batch, H)
      if (t > 0) zt = plus(zt, addRowVector(matmul(h[t - 1], layer.wTime, batch, H, H), layer.bTime, batch, H))
      z.push(zt)
      h.push(zt.map(layer.act.f))
    }
    inputs.push(below)
    zs.push(z)
    hs.push(h)
    below = h
    nIn = H
  }
  const top = layers[layers.length - 1].size
  const yhat = below.map((ht) => addRowVector(matmul(ht, wOut, batch, top, outSize), bOut, batch, outSize))

  // Backward. C = mean over batch·time·out, so ∂C/∂ŷ_t = 2(ŷ_t − y_t) / (B·T·O).
  const scale = 2 / (batch * T * outSize)
  const dyhat = yhat.map((yt, t) => yt.map((v, idx) => {
    const b = Math.floor(idx / outSize)
    const o = idx % outSize
    return scale * (v - target[(b * T + t) * outSize + o])
  }))
  const gWOut = new Float64Array(top * outSize)
  const gBOut = new Float64Array(outSize)
  dyhat.forEach((d, t) => { addAtB(gWOut, below[t], d, batch, top, outSize); addColumnSums(gBOut, d, batch, outSize) })
  let fromAbove = dyhat.map((d) => matmulBt(d, wOut, batch, outSize, top)) // ∂C/∂h_t from the layer above
  const layerGrads = new Array<{ wLayer: Mat; bLayer: Mat; wTime: Mat; bTime: Mat }>(layers.length)
  for (let l = layers.length - 1; l >= 0; l--) {
    const { size: H, act, wLayer, wTime } = layers[l]
    const nBelow = l === 0 ? inputSize : layers[l - 1].size
    const g = { wLayer: new Float64Array(nBelow * H), bLayer: new Float64Array(H), wTime: new Float64Array(H * H), bTime: new Float64Array(H) }
    const toBelow: Mat[] = new Array(T)
    let deltaNext: Mat | null = null
    for (let t = T - 1; t >= 0; t--) {
      // ∂C/∂h_t = (from the layer above at t) + δ_{t+1}·W_timeᵀ; δ_t = ∂C/∂h_t ⊙ σ'(z_t).
      const dh: Mat = deltaNext === null ? fromAbove[t] : plus(fromAbove[t], matmulBt(deltaNext, wTime, batch, H, H))
      const delta: Mat = dh.map((v, idx) => v * act.df(zs[l][t][idx]))
      addColumnSums(g.bLayer, delta, batch, H) // ∂C/∂b_layer = Σ_t δ_t
      addAtB(g.wLayer, inputs[l][t], delta, batch, nBelow, H) // ∂C/∂W_layer = Σ_t a_tᵀ δ_t
      if (t > 0) {
        addColumnSums(g.bTime, delta, batch, H) // ∂C/∂b_time = Σ_{t≥2} δ_t
        addAtB(g.wTime, hs[l][t - 1], delta, batch, H, H) // ∂C/∂W_time = Σ_{t≥2} h_{t−1}ᵀ δ_t
      }
      toBelow[t] = matmulBt(delta, wLayer, batch, H, nBelow) // ∂C/∂a_t = δ_t·W_layerᵀ
      deltaNext = delta
    }
    layerGrads[l] = g
    fromAbove = toBelow
  }
  return { yhat, gWOut, gBOut, layerGrads, gX: fromAbove }
}

// ---- the comparison ----

const cases = [
  { name: 'tanh → sigmoid', acts: ['tanh', 'sigmoid'] as const, hidden: [4, 3] },
  { name: 'leakyRelu → tanh', acts: ['leakyRelu', 'tanh'] as const, hidden: [3, 5] },
]

describe('nn.seedNetwork / nn.elman against the seed\'s hand-derived BPTT', () => {
  describe.each(cases)('$name', ({ acts, hidden }) => {
    const [batch, T, inputSize, outSize] = [3, 6, 2, 2]
    const net = nn.seedNetwork({ inputSize, hidden, activations: [...acts], output: { size: outSize, activation: 'identity' } })
    const [kp, kx, ky] = splitKey(randomKey(7), 3)
    const params = net.init(kp)
    const x = normal(kx, [batch, T, inputSize])
    const y = normal(ky, [batch, T, outSize])
    const loss = (p: nn.SequenceParams, xs: Tensor) => mean(square(sub(net.apply(p, xs), y)))

    // The oracle reads the same numbers, re-laid as plain arrays: x per time step as [batch, in] rows.
    const xRows = Array.from({ length: T }, (_, t) => {
      const row = new Float64Array(batch * inputSize)
      for (let b = 0; b < batch; b++) for (let i = 0; i < inputSize; i++) row[b * inputSize + i] = x.data[(b * T + t) * inputSize + i]
      return row
    })
    const oracleLayers = hidden.map((size, l) => ({
      wLayer: Float64Array.from(params.recurrent[`wLayer_l${l}`].data),
      bLayer: Float64Array.from(params.recurrent[`bLayer_l${l}`].data),
      wTime: Float64Array.from(params.recurrent[`wTime_l${l}`].data),
      bTime: Float64Array.from(params.recurrent[`bTime_l${l}`].data),
      size,
      act: scalarActivations[acts[l]],
    }))
    const expected = oracle(oracleLayers, Float64Array.from(params.output.w.data), Float64Array.from(params.output.b.data), outSize,
      xRows, batch, inputSize, Float64Array.from(y.data))

    it('uses the seed\'s parameter layout and seed-style init', () => {
      expect(Object.keys(params.recurrent).sort()).toEqual(
        ['bLayer_l0', 'bLayer_l1', 'bTime_l0', 'bTime_l1', 'wLayer_l0', 'wLayer_l1', 'wTime_l0', 'wTime_l1'])
      expect([...params.recurrent.wLayer_l0.shape]).toEqual([inputSize, hidden[0]])
      expect([...params.recurrent.wTime_l1.shape]).toEqual([hidden[1], hidden[1]])
      expect([...params.output.w.shape]).toEqual([hidden[1], outSize])
      // biases are 0.01-scaled normals: tiny next to the standard-normal weights
      const absMax = (t: Tensor) => Math.max(...Array.from(t.data, Math.abs))
      expect(absMax(params.recurrent.bLayer_l0)).toBeLessThan(0.05)
      expect(absMax(params.recurrent.wLayer_l0)).toBeGreaterThan(0.1)
    })

    it('forward predictions match to 1e-10', () => {
      const predictions = net.apply(params, x)
      const oracleByBatch = new Float64Array(batch * T * outSize)
      expected.yhat.forEach((yt, t) => { for (let b = 0; b < batch; b++) for (let o = 0; o < outSize; o++) oracleByBatch[(b * T + t) * outSize + o] = yt[b * outSize + o] })
      expectClose(predictions, tensor(oracleByBatch, { shape: [batch, T, outSize] }), 1e-10, 'predictions')
    })

    it('automatic gradients equal the hand-derived BPTT formulas to 1e-10', () => {
      const [g, gx] = grad(loss, { argnums: [0, 1] })(params, x)
      hidden.forEach((size, l) => {
        const lg = expected.layerGrads[l]
        const nIn = l === 0 ? inputSize : hidden[l - 1]
        expectClose(g.recurrent[`wLayer_l${l}`], tensor(lg.wLayer, { shape: [nIn, size] }), 1e-10, `∂C/∂W_layer (layer ${l})`)
        expectClose(g.recurrent[`bLayer_l${l}`], tensor(lg.bLayer), 1e-10, `∂C/∂b_layer (layer ${l})`)
        expectClose(g.recurrent[`wTime_l${l}`], tensor(lg.wTime, { shape: [size, size] }), 1e-10, `∂C/∂W_time (layer ${l})`)
        expectClose(g.recurrent[`bTime_l${l}`], tensor(lg.bTime), 1e-10, `∂C/∂b_time (layer ${l})`)
      })
      expectClose(g.output.w, tensor(expected.gWOut, { shape: [hidden[hidden.length - 1], outSize] }), 1e-10, '∂C/∂W_out')
      expectClose(g.output.b, tensor(expected.gBOut), 1e-10, '∂C/∂b_out')
      const gxOracle = new Float64Array(batch * T * inputSize)
      expected.gX.forEach((gt, t) => { for (let b = 0; b < batch; b++) for (let i = 0; i < inputSize; i++) gxOracle[(b * T + t) * inputSize + i] = gt[b * inputSize + i] })
      expectClose(gx, tensor(gxOracle, { shape: [batch, T, inputSize] }), 1e-10, '∂C/∂x')
    })

    it('b_time gets no gradient from the first step: a zero initial state is not the same network', () => {
      // With an explicit zero initial state the time term (bTime) is on from step 1, so outputs
      // differ. The layers have different sizes, so the state is one [batch, hidden_l] per layer.
      const h0 = hidden.map((size) => tensor(new Float64Array(batch * size), { shape: [batch, size] }))
      const withState = net.applyWithState(params, x, { initialState: { h: h0 } })
      const without = net.apply(params, x)
      let differs = 0
      for (let i = 0; i < without.size; i++) differs = Math.max(differs, Math.abs(without.data[i] - withState.predictions.data[i]))
      expect(differs).toBeGreaterThan(1e-6)
    })
  })
})
