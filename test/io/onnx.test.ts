import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-web'
import { beforeAll, describe, expect, it } from 'vitest'
import { nn, normal, randomKey, splitKey, type Tensor } from '../../src/index.js'
import { toOnnx } from '../../src/io/index.js'

// The WebAssembly build from node_modules, one thread: nothing is downloaded and no worker starts.
beforeAll(() => {
  ort.env.wasm.numThreads = 1
  ort.env.wasm.wasmPaths = fileURLToPath(new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url))
})

const ortTensor = (t: Tensor): ort.Tensor => new ort.Tensor(t.dtype, t.data, [...t.shape])

const run = async (bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortTensor(v)])))
  } finally {
    await session.release()
  }
}

/** Largest |a − b| over the largest |b|. */
const relativeGap = (a: ort.Tensor, b: Tensor): number => {
  expect([...a.dims]).toEqual([...b.shape])
  const data = a.data as Float32Array | Float64Array
  let gap = 0
  let scale = 1e-30
  for (let k = 0; k < b.data.length; k++) {
    gap = Math.max(gap, Math.abs(data[k] - b.data[k]))
    scale = Math.max(scale, Math.abs(b.data[k]))
  }
  return gap / scale
}

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
})
