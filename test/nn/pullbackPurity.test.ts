/**
 * @file A pullback is a pure function (issue 18): every built-in layer's pullback, called several
 * times with other kernel work in between (a large product that reuses WebAssembly memory, another
 * forward pass of the same layer, another layer's gradient), gives the reference gradient each
 * time, on every backend and in both dtypes. The reference is the same layer's gradient on the
 * JavaScript kernels, taken once.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  type DType, type Kernels, type Tensor, cast, jsKernels, loadThreadedWasmKernels, loadWasmKernels, matmul, nn, normal, ones, randomKey,
  treeLeaves, useKernels, vjp,
} from '../../src/index.js'
import { nodeWorkers } from '../../src/node.js'
import { K } from '../../src/tensor/backend.js'

const everywhere = { binary: 0, math: 0, sum: 0, gather: 0, matmul: 0 }
const threaded = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minSize: everywhere, minParallelSize: 0 })
afterAll(() => threaded.close())

const backends: readonly (readonly [string, () => Kernels])[] = [
  ['js', () => jsKernels],
  ['wasm', () => loadWasmKernels({ minSize: everywhere })],
  ['wasm, 2 threads', () => threaded],
]

type Layer = nn.RecurrentLayer<any>
const layers: readonly (readonly [string, () => Layer])[] = [
  ['lstm', () => nn.lstm({ inputSize: 3, hiddenSize: 8 })],
  ['gru', () => nn.gru({ inputSize: 3, hiddenSize: 8 })],
  ['rnn relu', () => nn.rnn({ inputSize: 3, hiddenSize: 8, nonlinearity: 'relu' })],
  ['elman', () => nn.elman({ inputSize: 3, hiddenSize: 8 })],
  ['lstm, 2 layers, bidirectional', () => nn.lstm({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true })],
  ['gru, 2 layers, bidirectional', () => nn.gru({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true })],
  ['rnn, 2 layers, bidirectional', () => nn.rnn({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true })],
]

const lengths = [12, 5, 9, 1, 12, 7]

/** The gradient of ⟨ct, outputs⟩ + ⟨cs, final h⟩ with respect to the parameters and the inputs, as a pullback. */
const pullbackOf = (layer: Layer, params: object, x: Tensor, masked: boolean) => {
  const [out, pullback] = vjp(
    (p: object, xs: Tensor) => {
      const { outputs, state } = layer.apply(p as never, xs, masked ? { lengths } : {})
      return { outputs, h: state.h as Tensor }
    },
    params, x,
  )
  const ct = { outputs: normal(randomKey(3), out.outputs.shape, { dtype: x.dtype }), h: normal(randomKey(4), out.h.shape, { dtype: x.dtype }) }
  return () => treeLeaves(pullback(ct))
}

const expectSame = (actual: readonly Tensor[], expected: readonly Tensor[], tolerance: number, what: string): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => {
    let worst = 0
    for (let j = 0; j < a.size; j++) worst = Math.max(worst, Math.abs(a.data[j] - expected[i].data[j]) / (1 + Math.abs(expected[i].data[j])))
    expect(worst, `${what}, leaf ${i}`).toBeLessThanOrEqual(tolerance)
  })
}

describe.each(layers)('%s: the pullback is a pure function', (_, makeLayer) => {
  describe.each(['float64', 'float32'] as const)('%s', (dtype: DType) => {
    it.each(backends)('on %s, called again after other work, masked and not', (_b, backend) => {
      const layer = makeLayer()
      const params = layer.init(randomKey(1), { dtype })
      const x = cast(normal(randomKey(2), [6, 12, 3]), dtype)
      const other = nn.gru({ inputSize: 3, hiddenSize: 5 })
      const otherParams = other.init(randomKey(5), { dtype })
      const previous = K
      for (const masked of [false, true]) {
        useKernels(jsKernels)
        const reference = pullbackOf(layer, params, x, masked)()
        useKernels(backend())
        try {
          const pullback = pullbackOf(layer, params, x, masked)
          const tolerance = dtype === 'float64' ? 1e-10 : 1e-4
          const what = `${masked ? 'masked' : 'unmasked'}`
          expectSame(pullback(), reference, tolerance, `${what}: first call`)
          expectSame(pullback(), reference, tolerance, `${what}: second call, nothing between`)
          matmul(ones([300, 300], { dtype }), ones([300, 300], { dtype }))
          expectSame(pullback(), reference, tolerance, `${what}: after a 300×300 product`)
          layer.apply(params as never, cast(normal(randomKey(7), [9, 20, 3]), dtype))
          expectSame(pullback(), reference, tolerance, `${what}: after a validation batch through the same layer`)
          pullbackOf(other, otherParams, x, false)()
          expectSame(pullback(), reference, tolerance, `${what}: after another layer's gradient`)
        } finally {
          useKernels(previous)
        }
      }
    })
  })
})
