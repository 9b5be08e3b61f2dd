import * as ort from 'onnxruntime-web'
import { describe, expect, it } from 'vitest'
import { cast, nn, normal, randomKey, splitKey, type Tensor, zeros } from '../../src/index.js'
import { toOnnx } from '../../src/io/index.js'
import { relativeGap, runOnnx as run } from '../helpers/onnxRuntime.js'

const ACTIVATIONS = ['tanh', 'relu', 'sigmoid'] as const

describe('io.toOnnx of nn.elman in onnxruntime-web', () => {
  for (const activation of ACTIVATIONS) {
    it(`nn.elman (${activation}): outputs and final state match apply, fresh (no time term at step 1) and from a given state`, async () => {
      const layer = nn.elman({ inputSize: 3, hiddenSize: 5, activation })
      const [k1, k2, k3] = splitKey(randomKey(21), 3)
      const params = layer.init(k1, { dtype: 'float32' })
      // Batch 4 and 6 steps: the export probed its model at batch 2, 3 steps.
      const xs = normal(k2, [4, 6, 3], { dtype: 'float32' })
      const fresh = layer.apply(params, xs)
      const got = await run(toOnnx(layer, params), { x: xs })
      expect(relativeGap(got.y, fresh.outputs)).toBeLessThan(1e-5)
      expect(relativeGap(got.h_n, fresh.state.h as Tensor)).toBeLessThan(1e-5)
      const h0 = normal(k3, [1, 4, 5], { dtype: 'float32' })
      const continued = layer.apply(params, xs, { initialState: { h: h0 } })
      const gotContinued = await run(toOnnx(layer, params, { initialStates: 'required' }), { x: xs, h0 })
      expect(relativeGap(gotContinued.y, continued.outputs)).toBeLessThan(1e-5)
      expect(relativeGap(gotContinued.h_n, continued.state.h as Tensor)).toBeLessThan(1e-5)
      // The first-step rule matters: the two runs differ at step 1 even though h0 could be zeros.
      expect(relativeGap(gotContinued.y, fresh.outputs)).toBeGreaterThan(1e-3)
    })
  }

  it('the fresh graph has no state input; a run from zeros differs from a fresh run (bTime is on)', async () => {
    const layer = nn.elman({ inputSize: 2, hiddenSize: 3 })
    const params = layer.init(randomKey(4), { dtype: 'float32' })
    const xs = normal(randomKey(5), [3, 5, 2], { dtype: 'float32' })
    const session = await ort.InferenceSession.create(toOnnx(layer, params), { logSeverityLevel: 3 })
    expect(session.inputNames).toEqual(['x'])
    await session.release()
    const h0 = zeros([1, 3, 3], { dtype: 'float32' })
    const got = await run(toOnnx(layer, params, { initialStates: 'required' }), { x: xs, h0 })
    expect(relativeGap(got.y, layer.apply(params, xs, { initialState: { h: h0 } }).outputs)).toBeLessThan(1e-5)
    expect(relativeGap(got.y, layer.apply(params, xs).outputs)).toBeGreaterThan(1e-4)
  })

  const networks = [
    { hidden: [4], activations: 'tanh', readout: 'perStep', output: 'identity' },
    { hidden: [4, 4], activations: ['relu', 'sigmoid'], readout: 'lastStep', output: 'tanh' },
    { hidden: [3, 5, 2], activations: ['sigmoid', 'tanh', 'relu'], readout: 'perStep', output: 'sigmoid' },
    { hidden: [6, 3], activations: 'tanh', readout: 'lastStep', output: 'identity' },
  ] as const
  for (const { hidden, activations, readout, output } of networks) {
    it(`nn.seedNetwork hidden [${hidden.join(', ')}], ${JSON.stringify(activations)}, ${readout}, ${output} output`, async () => {
      const net = nn.seedNetwork({ inputSize: 2, hidden, activations, output: { size: 3, activation: output, readout } })
      const [k1, k2, k3] = splitKey(randomKey(31), 3)
      const params = net.init(k1, { dtype: 'float32' })
      const xs = normal(k2, [5, 7, 2], { dtype: 'float32' })
      const uniform = hidden.every((h) => h === hidden[0])
      const statesOf = (got: Record<string, ort.Tensor>, expected: nn.RecurrentState) => {
        if (uniform) expect(relativeGap(got.h_n, expected.h as Tensor)).toBeLessThan(1e-5)
        else (expected.h as readonly Tensor[]).forEach((h, k) => expect(relativeGap(got[`h_n_l${k}`], h)).toBeLessThan(1e-5))
      }
      const fresh = net.applyWithState(params, xs)
      const got = await run(toOnnx(net, params), { x: xs })
      expect(relativeGap(got.y, net.apply(params, xs))).toBeLessThan(1e-5)
      expect(relativeGap(got.y, fresh.predictions)).toBeLessThan(1e-5)
      statesOf(got, fresh.state)
      const starts = hidden.map((h, k) => normal(splitKey(k3, hidden.length)[k], [5, h], { dtype: 'float32' }))
      const initialState = uniform
        ? { h: normal(k3, [hidden.length, 5, hidden[0]], { dtype: 'float32' }) }
        : { h: starts }
      const feeds: Record<string, Tensor> = uniform ? { x: xs, h0: initialState.h as Tensor } : Object.fromEntries([['x', xs], ...starts.map((s, k) => [`h0_l${k}`, s])])
      const continued = net.applyWithState(params, xs, { initialState })
      const gotContinued = await run(toOnnx(net, params, { initialStates: 'required' }), feeds)
      expect(relativeGap(gotContinued.y, continued.predictions)).toBeLessThan(1e-5)
      statesOf(gotContinued, continued.state)
    })
  }

  it('a float64 seedNetwork exported as a float32 graph (onnxruntime has no double RNN kernel), and nn.stacked elman layers by hand', async () => {
    const net = nn.seedNetwork({ inputSize: 2, hidden: [4, 3], activations: ['tanh', 'sigmoid'], output: { size: 1 } })
    const params = net.init(randomKey(8), { dtype: 'float64' })
    const xs = normal(randomKey(9), [3, 8, 2], { dtype: 'float64' })
    const got = await run(toOnnx(net, params, { dtype: 'float32' }), { x: cast(xs, 'float32') })
    expect(relativeGap(got.y, net.apply(params, xs))).toBeLessThan(1e-4)
    const byHand = nn.stacked([nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'relu' }), nn.elman({ inputSize: 3, hiddenSize: 3 })])
    const p = byHand.init(randomKey(10), { dtype: 'float32' })
    const x32 = cast(xs, 'float32')
    const byHandGot = await run(toOnnx(byHand, p), { x: x32 })
    const expected = byHand.apply(p, x32)
    expect(relativeGap(byHandGot.y, expected.outputs)).toBeLessThan(1e-5)
    expect(relativeGap(byHandGot.h_n, expected.state.h as Tensor)).toBeLessThan(1e-5)
  })
})

describe('io.toOnnx refuses Elman layers it cannot express, naming the part', () => {
  const key = randomKey(3)
  it('an activation other than tanh, relu or sigmoid', () => {
    const leaky = nn.elman({ inputSize: 1, hiddenSize: 3, activation: 'leakyRelu' })
    expect(() => toOnnx(leaky, leaky.init(key))).toThrow(/io\.toOnnx: nn\.elman has an activation ONNX's RNN node cannot express: only tanh, relu and sigmoid export/)
    const net = nn.seedNetwork({ inputSize: 1, hidden: [3, 2], activations: ['tanh', 'identity'], output: { size: 1 } })
    expect(() => toOnnx(net, net.init(key))).toThrow(/nn\.seedNetwork layer 1 has an activation ONNX's RNN node cannot express/)
  })
})
