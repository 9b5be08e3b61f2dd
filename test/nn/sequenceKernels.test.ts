/**
 * The built-in layers run `scan` over their cells, and `scan` runs each cell's sequence kernel when
 * it takes the run. Against the same layers whose steps carry no kernel (the composition, run step
 * by step): outputs, final states and gradients in the parameters, the inputs and the initial state
 * agree to 1e-12 in float64 (1e-5 in float32), forwards and reversed, stacked and bidirectional,
 * every step's outputs or the last step's alone; orders 1 and 2 pass checkGrads (order 2 takes the
 * kernel node's differentiable VJP, the VJP of the composed scan); and the kernels run exactly when
 * there is no mask.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type DType, type Kernels, type Tensor, add, cast, jsKernels, mul, normal, randomKey, splitKey, sum, treeLeaves, useKernels, valueAndGrad,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { K } from '../../src/tensor/backend.js'
import { composedRecurrence } from '../../src/tensor/recurrence.js'
import { cases, checkBoth } from './gradHarness.js'
import { composedOnly, composedTorchLayer, expectClose } from './support.js'

const runs = { numRuns: 6, seed: 20261208, endOnFailure: true }

type Make = (inputSize: number, hiddenSize: number) => nn.RecurrentLayer<any>
const elmanPair = (activation: 'tanh' | 'relu' | 'sigmoid'): [Make, Make] => [
  (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation }),
  (i, h) => nn.recurrent(composedOnly(nn.elmanSpec(activation)), { inputSize: i, hiddenSize: h }),
]
const torchPair = (spec: nn.CellSpec<any>, layer: (o: nn.TorchRecurrentOptions) => nn.RecurrentLayer<any>, more: Partial<nn.TorchRecurrentOptions> = {}): [Make, Make] => [
  (i, h) => layer({ inputSize: i, hiddenSize: h, ...more }),
  (i, h) => composedTorchLayer(spec, { inputSize: i, hiddenSize: h, ...more }),
]

/** Name, the layer, the same layer without kernels, and options for every `apply`. */
const layers: [string, [Make, Make], nn.RecurrentOptions<any>?][] = [
  ['elman tanh', elmanPair('tanh')],
  ['elman relu', elmanPair('relu')],
  ['elman sigmoid, reversed', elmanPair('sigmoid'), { reverse: true }],
  ['elman tanh, last step only', elmanPair('tanh'), { outputs: 'lastStep' }],
  ['rnn tanh', torchPair(nn.rnnSpec('tanh'), nn.rnn)],
  ['rnn relu, reversed', torchPair(nn.rnnSpec('relu'), (o) => nn.rnn({ ...o, nonlinearity: 'relu' })), { reverse: true }],
  ['rnn tanh, bidirectional, 2 layers, last step only', torchPair(nn.rnnSpec('tanh'), nn.rnn, { bidirectional: true, numLayers: 2 }), { outputs: 'lastStep' }],
  ['lstm', torchPair(nn.lstmSpec, nn.lstm)],
  ['lstm, last step only', torchPair(nn.lstmSpec, nn.lstm), { outputs: 'lastStep' }],
  ['lstm, bidirectional, 2 layers', torchPair(nn.lstmSpec, nn.lstm, { bidirectional: true, numLayers: 2 })],
  ['gru', torchPair(nn.gruSpec, nn.gru)],
  ['gru, reversed', torchPair(nn.gruSpec, nn.gru), { reverse: true }],
  ['gru, bidirectional, 2 layers, last step only', torchPair(nn.gruSpec, nn.gru, { bidirectional: true, numLayers: 2 }), { outputs: 'lastStep' }],
]

const tolerance: Record<DType, number> = { float64: 1e-12, float32: 1e-5 }

describe('each layer equals its cells run step by step without kernels', () => {
  for (const [name, [make, makeComposed], applyOptions = {}] of layers) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${name} (${dtype})`, () => {
        fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, withState) => {
          const [layer, reference] = [make(c.inputSize, c.hiddenSize), makeComposed(c.inputSize, c.hiddenSize)]
          const [k1, k2, k3] = splitKey(randomKey(c.seed), 3)
          const params = layer.init(k1, { dtype })
          const slices = layer.stateSizes.length
          const initialState = Object.fromEntries(layer.stateNames.map((n, i) =>
            [n, normal(splitKey(k3, layer.stateNames.length)[i], [slices, c.batch, c.hiddenSize], { dtype })]))
          const x = cast(c.x, dtype)
          const lossOf = (l: nn.RecurrentLayer<any>) => (p: nn.Params, xs: Tensor, state: Record<string, Tensor>): Tensor => {
            const { outputs, state: final } = l.apply(p, xs, withState ? { ...applyOptions, initialState: state } : applyOptions)
            const weights = normal(k2, outputs.shape, { dtype })
            return treeLeaves(final, 'state').reduce((s: Tensor, t) => add(s, sum(mul(t, t))), sum(mul(outputs, weights)))
          }
          expect(layer.apply(params, x, applyOptions).outputs.dtype).toBe(dtype)
          const [value, grads] = valueAndGrad(lossOf(layer), { argnums: [0, 1, 2] })(params, x, initialState)
          const [refValue, refGrads] = valueAndGrad(lossOf(reference), { argnums: [0, 1, 2] })(params, x, initialState)
          expectClose(value, refValue, tolerance[dtype], 'loss')
          const [a, b] = [treeLeaves(grads, 'grads'), treeLeaves(refGrads, 'grads')]
          expect(a.length).toBe(b.length)
          a.forEach((g, i) => expectClose(g, b[i], tolerance[dtype], `grads[${i}]`))
        }), runs)
      })
    }
  }

  it('float64 inputs with float32 parameters take the composition (the kernels do not promote) and agree', () => {
    const [make, makeComposed] = torchPair(nn.lstmSpec, nn.lstm)
    const [layer, reference] = [make(3, 4), makeComposed(3, 4)]
    const params = layer.init(randomKey(1), { dtype: 'float32' })
    const x = normal(randomKey(2), [2, 5, 3])
    expectClose(layer.apply(params, x).outputs, reference.apply(params, x).outputs, 1e-12, 'outputs')
  })
})

describe('through the kernels, orders 1 and 2 pass checkGrads', () => {
  const checked: [string, Make, nn.RecurrentOptions<any>?][] = [
    ['elman tanh', elmanPair('tanh')[0]],
    ['elman relu, last step only', elmanPair('relu')[0], { outputs: 'lastStep' }],
    ['rnn tanh, reversed', torchPair(nn.rnnSpec('tanh'), nn.rnn)[0], { reverse: true }],
    ['lstm, bidirectional', torchPair(nn.lstmSpec, nn.lstm, { bidirectional: true })[0]],
    ['gru, last step only', torchPair(nn.gruSpec, nn.gru)[0], { outputs: 'lastStep' }],
  ]
  for (const [name, make, applyOptions = {}] of checked) {
    it(name, () => {
      fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 2, hiddenSize: 3 }), (c) => {
        const layer = make(c.inputSize, c.hiddenSize)
        const params = layer.init(randomKey(c.seed), { dtype: 'float64' })
        const weights = normal(randomKey(c.seed + 1), applyOptions.outputs === 'lastStep' ? [c.batch, layer.outputSize] : [c.batch, c.time, layer.outputSize])
        const loss = (p: nn.Params, xs: Tensor): Tensor => sum(mul(layer.apply(p, xs, applyOptions).outputs, weights))
        checkBoth(loss, [params, c.x], c.seed)
      }), { ...runs, numRuns: 3 })
    })
  }
})

describe('when the kernels run', () => {
  const composed = composedRecurrence(jsKernels)
  type ForwardKernel = 'recurrentForward' | 'projectedRecurrentForward' | 'projectedRecurrentFinal' | 'lstmForward' | 'gruForward'
  /** Runs f with kernels that count calls of one sequence kernel (computing as the composition does). */
  const countingForward = (f: () => void, kernel: ForwardKernel): number => {
    let calls = 0
    const counting: Kernels = {
      ...jsKernels,
      [kernel]: (...args: unknown[]) => {
        calls++
        return (composed[kernel] as (...xs: unknown[]) => unknown)(...args)
      },
    }
    const previous = K
    useKernels(counting)
    try {
      f()
    } finally {
      useKernels(previous)
    }
    return calls
  }
  const layer = nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'tanh' })
  const params = layer.init(randomKey(0), { dtype: 'float64' })
  const x = normal(randomKey(1), [2, 4, 2])

  it('once per unmasked layer run and direction', () => {
    // The Elman layer hands its input projection to the kernel; the RNN projects first.
    expect(countingForward(() => layer.apply(params, x), 'projectedRecurrentForward')).toBe(1)
    expect(countingForward(() => layer.apply(params, x), 'recurrentForward')).toBe(0)
    const both = nn.rnn({ inputSize: 2, hiddenSize: 3, bidirectional: true, numLayers: 2 })
    const bothParams = both.init(randomKey(2), { dtype: 'float64' })
    expect(countingForward(() => both.apply(bothParams, x), 'recurrentForward')).toBe(4)
    const lstm = nn.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 2 })
    expect(countingForward(() => lstm.apply(lstm.init(randomKey(3)), x), 'lstmForward')).toBe(2)
  })

  it("for a model's last-step readout, as the final state alone, its gradient included (unless masked)", () => {
    const model = nn.sequenceModel({ recurrent: layer, output: nn.linear({ inputSize: 3, outputSize: 2 }), readout: 'lastStep' })
    const modelParams = model.init(randomKey(4), { dtype: 'float64' })
    const loss = (p: nn.SequenceParams) => sum(model.apply(p, x))
    for (const [kernel, calls] of [['projectedRecurrentFinal', 1], ['projectedRecurrentForward', 0]] as const) {
      expect(countingForward(() => valueAndGrad(loss)(modelParams), kernel), kernel).toBe(calls)
    }
    expect(countingForward(() => model.applyWithState(modelParams, x), 'projectedRecurrentForward')).toBe(1)
    expect(countingForward(() => model.apply(modelParams, x, { lengths: [4, 2] }), 'projectedRecurrentFinal')).toBe(0)
  })

  it('not with a mask: scan runs the masked steps', () => {
    expect(countingForward(() => layer.apply(params, x, { lengths: [4, 2] }), 'projectedRecurrentForward')).toBe(0)
    const gru = nn.gru({ inputSize: 2, hiddenSize: 3, bidirectional: true, numLayers: 2 })
    const gruParams = gru.init(randomKey(3), { dtype: 'float64' })
    expect(countingForward(() => gru.apply(gruParams, x), 'gruForward')).toBe(4)
    expect(countingForward(() => gru.apply(gruParams, x, { lengths: [4, 2] }), 'gruForward')).toBe(0)
  })
})
