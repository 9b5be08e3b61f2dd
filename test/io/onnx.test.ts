import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-web'
import { describe, expect, it } from 'vitest'
import { cast, nn, normal, randomKey, splitKey, type Tensor } from '../../src/index.js'
import { toOnnx } from '../../src/io/index.js'
import { relativeGap, runOnnx as run } from '../helpers/onnxRuntime.js'

const { onnx } = onnxProto

const layers = {
  lstm: nn.lstm, gru: nn.gru, rnnTanh: (o: nn.TorchRecurrentOptions) => nn.rnn({ ...o, nonlinearity: 'tanh' }),
  rnnRelu: (o: nn.TorchRecurrentOptions) => nn.rnn({ ...o, nonlinearity: 'relu' }),
} as const

describe('io.toOnnx in onnxruntime-web', () => {
  for (const [name, make] of Object.entries(layers)) {
    for (const [numLayers, bidirectional] of [[1, false], [2, true]] as const) {
      it(`${name}, ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}: outputs and final states match apply, with and without initial states`, async () => {
        const layer = make({ inputSize: 3, hiddenSize: 5, numLayers, bidirectional }) as unknown as nn.RecurrentLayer
        const [k1, k2, k3, k4] = splitKey(randomKey(7), 4)
        const params = layer.init(k1, { dtype: 'float32' })
        const bytes = toOnnx(layer, params)
        const withStates = toOnnx(layer, params, { initialStates: 'required' })
        // Batch 4 and 6 steps: the export probed its model at batch 2, 3 steps.
        const xs = normal(k2, [4, 6, 3], { dtype: 'float32' })
        const slices = numLayers * (bidirectional ? 2 : 1)
        const initialState = Object.fromEntries(layer.stateNames.map((n, k) => [n, normal(k === 0 ? k3 : k4, [slices, 4, 5], { dtype: 'float32' })]))
        for (const given of [false, true]) {
          const expected = layer.apply(params, xs, given ? { initialState } : {})
          const feeds: Record<string, Tensor> = { x: xs, ...(given ? { h0: initialState.h, ...(initialState.c ? { c0: initialState.c } : {}) } : {}) }
          const got = await run(given ? withStates : bytes, feeds)
          expect(relativeGap(got.y, expected.outputs)).toBeLessThan(1e-5)
          expect(relativeGap(got.h_n, expected.state.h as Tensor)).toBeLessThan(1e-5)
          if (name === 'lstm') expect(relativeGap(got.c_n, expected.state.c as Tensor)).toBeLessThan(1e-5)
        }
      })
    }
  }

  const readouts = [
    ['lstm', 'perStep', 'identity', 'float32'], ['gru', 'lastStep', 'softmax', 'float32'], ['rnnTanh', 'perStep', 'sigmoid', 'float32'],
    ['rnnRelu', 'lastStep', 'tanh', 'float32'], ['lstm', 'perStep', 'leakyRelu', 'float32'],
    ['gru', 'lastStep', 'relu', 'float64'], ['rnnTanh', 'perStep', 'tanh', 'float64'], ['lstm', 'lastStep', 'identity', 'float64'],
  ] as const
  for (const [name, readout, activation, dtype] of readouts) {
    it(`nn.sequenceModel over a bidirectional 2-layer ${name}, ${readout}, ${activation} output, ${dtype}`, async () => {
      const recurrent = layers[name]({ inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: true }) as unknown as nn.RecurrentLayer
      const output = activation === 'identity' ? nn.linear({ inputSize: 8, outputSize: 3 }) : nn.dense({ inputSize: 8, outputSize: 3, activation })
      const model = nn.sequenceModel({ recurrent, output, readout })
      const [k1, k2, k3] = splitKey(randomKey(11), 3)
      const params = model.init(k1, { dtype })
      const xs = normal(k2, [5, 7, 2], { dtype })
      const h0 = normal(k3, [4, 5, 4], { dtype })
      // onnxruntime has no double LSTM/GRU/RNN kernels: a float64 model runs there as a float32 graph.
      const asFloat32 = dtype === 'float64' ? { dtype: 'float32' as const } : {}
      const tolerance = dtype === 'float32' ? 1e-5 : 1e-4
      const required = toOnnx(model, params, { initialStates: 'required', ...asFloat32 })
      const states = (h: Tensor): nn.RecurrentState => (name === 'lstm' ? { h, c: h } : { h })
      const fresh = model.applyWithState(params, xs)
      const expected = model.applyWithState(params, xs, { initialState: states(h0) })
      const feedsOf = (h: Tensor) => ({ x: cast(xs, 'float32'), h0: cast(h, 'float32'), ...(name === 'lstm' ? { c0: cast(h, 'float32') } : {}) })
      const got = await run(required, feedsOf(h0))
      expect(relativeGap(got.y, model.apply(params, xs, { initialState: states(h0) }))).toBeLessThan(tolerance)
      expect(relativeGap(got.y, expected.predictions)).toBeLessThan(tolerance)
      expect(relativeGap(got.h_n, expected.state.h as Tensor)).toBeLessThan(tolerance)
      const omitted = await run(toOnnx(model, params, asFloat32), { x: cast(xs, 'float32') })
      expect(relativeGap(omitted.y, fresh.predictions)).toBeLessThan(tolerance)
    })
  }

  it('a float64 model exports a float64 graph (inputs, outputs and every float constant are DOUBLE)', () => {
    const model = nn.sequenceModel({ recurrent: nn.gru({ inputSize: 2, hiddenSize: 3 }) as unknown as nn.RecurrentLayer, output: nn.linear({ inputSize: 3, outputSize: 1 }) })
    const params = model.init(randomKey(1), { dtype: 'float64' })
    const { graph } = onnx.ModelProto.decode(toOnnx(model, params))
    const DOUBLE = onnx.TensorProto.DataType.DOUBLE
    expect(graph!.input!.map((v) => v.type!.tensorType!.elemType)).toEqual([DOUBLE, DOUBLE])
    expect(graph!.output!.map((v) => v.type!.tensorType!.elemType)).toEqual([DOUBLE, DOUBLE])
    const floats = graph!.initializer!.filter((t) => t.dataType !== onnx.TensorProto.DataType.INT64)
    expect(floats.length).toBeGreaterThan(0)
    expect(floats.every((t) => t.dataType === DOUBLE)).toBe(true)
  })

})

describe('io.toOnnx refusals name the part', () => {
  const key = randomKey(3)
  it('a custom cell, a stack built by hand, a custom output activation, a non-model', () => {
    const mgu = nn.recurrent({ name: 'mgu', params: ({ inputSize: i, hiddenSize: h }) => ({ w: [i + h, h] }), cell: (_p, carry, x) => [carry, x] }, { inputSize: 2, hiddenSize: 2 })
    expect(() => toOnnx(mgu, mgu.init(key))).toThrow(/the recurrent layer mgu cannot be exported/)
    const byHand = nn.stacked([nn.recurrent(nn.cellSpecs.gru, { inputSize: 2, hiddenSize: 3 }), nn.recurrent(nn.cellSpecs.gru, { inputSize: 3, hiddenSize: 3 })])
    expect(() => toOnnx(byHand, byHand.init(key))).toThrow(/nn\.stacked\(nn\.gru, nn\.gru\) cannot be exported/)
    const single = nn.recurrent(nn.cellSpecs.gru, { inputSize: 2, hiddenSize: 3 })
    expect(() => toOnnx(single, single.init(key))).toThrow(/nn\.gru .* does not compute what nn\.gru\(\{ hiddenSize: 3, numLayers: 1, bidirectional: false \}\) computes/)
    const custom = nn.sequenceModel({ recurrent: nn.gru({ inputSize: 2, hiddenSize: 3 }) as unknown as nn.RecurrentLayer, output: nn.dense({ inputSize: 3, outputSize: 1, activation: (x) => cast(x, x.dtype) && nn.activations.tanh(nn.activations.tanh(x)) }) })
    expect(() => toOnnx(custom, custom.init(key))).toThrow(/the output layer's activation is a function/)
    expect(() => toOnnx({}, {})).toThrow(/io\.toOnnx: the model must be nn\.lstm, nn\.gru, nn\.rnn or nn\.elman/)
  })
  it('parameters that are not the layer\'s, and bad options', () => {
    const layer = nn.lstm({ inputSize: 2, hiddenSize: 3 })
    const params = layer.init(key)
    expect(() => toOnnx(layer, nn.gru({ inputSize: 2, hiddenSize: 3 }).init(key))).toThrow(/nn\.lstm's apply failed on its own parameters/)
    expect(() => toOnnx(layer, params, { initialStates: 'sometimes' as 'optional' })).toThrow(/initialStates must be 'optional' or 'required', got "sometimes"/)
  })
})

