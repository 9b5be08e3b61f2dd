/**
 * The built-in layers run `scan` over their cells, and `scan` runs each cell's sequence kernel when
 * it takes the run. Against the same layers whose steps carry no kernel (the composition, run step
 * by step): outputs, final states and gradients in the parameters, the inputs and the initial state
 * agree to 1e-12 in float64 (1e-5 in float32), forwards and reversed, stacked and bidirectional,
 * every step's outputs or the last step's alone, without a mask and with one (from lengths, or
 * explicit with gaps and all-padding rows); scan's `outputs: 'last'` with a mask too; orders 1 and 2
 * pass checkGrads (order 2 takes the kernel node's differentiable VJP, the VJP of the composed scan);
 * and the kernels run once per layer run and direction, masked or not.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type DType, type Kernels, type Tensor, add, cast, full, jsKernels, mul, normal, randomKey, scan, splitKey, sum, tensor, treeLeaves, useKernels,
  valueAndGrad,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { K } from '../../src/tensor/backend.js'
import { composedRecurrence } from '../../src/tensor/recurrence.js'
import { type Case, cases, checkBoth } from './gradHarness.js'
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

/**
 * An explicit `[batch, time]` mask: row b real at random steps (gaps included), except that row
 * `seed mod batch` is all padding and, with more rows, the next one all real.
 */
const gappyMask = (c: Case): Tensor => {
  const data = Array.from({ length: c.batch * c.time }, (_, i) => {
    const b = Math.floor(i / c.time)
    if (b === c.seed % c.batch) return 0
    if (b === (c.seed + 1) % c.batch) return 1
    return ((i * 2654435761 + c.seed) >>> 7) % 3 === 0 ? 0 : 1
  })
  return tensor(data, { shape: [c.batch, c.time] })
}
const withLengths = (more: nn.RecurrentOptions<any> = {}) => (c: Case): nn.RecurrentOptions<any> => ({ ...more, lengths: c.lengths })
const withMask = (more: nn.RecurrentOptions<any> = {}) => (c: Case): nn.RecurrentOptions<any> => ({ ...more, mask: gappyMask(c) })

/** Name, the layer, the same layer without kernels, and options for every `apply` (or options for a case). */
const layers: [string, [Make, Make], (nn.RecurrentOptions<any> | ((c: Case) => nn.RecurrentOptions<any>))?][] = [
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
  ['elman tanh, lengths', elmanPair('tanh'), withLengths()],
  ['elman relu, mask, reversed', elmanPair('relu'), withMask({ reverse: true })],
  ['elman sigmoid, lengths, last step only', elmanPair('sigmoid'), withLengths({ outputs: 'lastStep' })],
  ['rnn tanh, bidirectional, 2 layers, lengths', torchPair(nn.rnnSpec('tanh'), nn.rnn, { bidirectional: true, numLayers: 2 }), withLengths()],
  ['rnn relu, mask, reversed', torchPair(nn.rnnSpec('relu'), (o) => nn.rnn({ ...o, nonlinearity: 'relu' })), withMask({ reverse: true })],
  ['lstm, lengths', torchPair(nn.lstmSpec, nn.lstm), withLengths()],
  ['lstm, bidirectional, 2 layers, mask', torchPair(nn.lstmSpec, nn.lstm, { bidirectional: true, numLayers: 2 }), withMask()],
  ['lstm, mask, reversed, last step only', torchPair(nn.lstmSpec, nn.lstm), withMask({ reverse: true, outputs: 'lastStep' })],
  ['gru, lengths, reversed', torchPair(nn.gruSpec, nn.gru), withLengths({ reverse: true })],
  ['gru, bidirectional, mask', torchPair(nn.gruSpec, nn.gru, { bidirectional: true }), withMask()],
]

const tolerance: Record<DType, number> = { float64: 1e-12, float32: 1e-5 }

describe('each layer equals its cells run step by step without kernels', () => {
  for (const [name, [make, makeComposed], optionsOf = {}] of layers) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${name} (${dtype})`, () => {
        fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, withState) => {
          const applyOptions = typeof optionsOf === 'function' ? optionsOf(c) : optionsOf
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

  it("scan's outputs: 'last' with a mask (the last processed step's y, 0 where it is padding) through each built-in cell's kernel equals the loop, gradients included", () => {
    const specs: [string, nn.CellSpec<any>][] = [
      ['elman', nn.elmanSpec('tanh')], ['rnn', nn.rnnSpec('relu')], ['lstm', nn.lstmSpec], ['gru', nn.gruSpec],
    ]
    fc.assert(fc.property(cases({ batch: 4, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, reverse) => {
      for (const [name, spec] of specs) {
        const timeAxis = spec.timeAxis ?? 0
        const layer = nn.recurrent(spec, { inputSize: c.inputSize, hiddenSize: c.hiddenSize })
        const params = layer.init(randomKey(c.seed))
        const [batch, time] = [c.batch, c.time]
        // The mask in the cell's layout, [batch, time, 1] or [time, batch, 1].
        const batchFirst = gappyMask(c)
        const mask = tensor(Array.from({ length: batch * time }, (_, i) => {
          const [outer, inner] = timeAxis === 1 ? [Math.floor(i / time), i % time] : [i % batch, Math.floor(i / batch)]
          return batchFirst.data[outer * time + inner]
        }), { shape: timeAxis === 1 ? [batch, time, 1] : [time, batch, 1] })
        const xs = timeAxis === 1 ? c.x : tensor(Array.from({ length: c.x.size }, (_, i) => {
          const [t, b, f] = [Math.floor(i / (batch * c.inputSize)), Math.floor(i / c.inputSize) % batch, i % c.inputSize]
          return c.x.data[(b * time + t) * c.inputSize + f]
        }), { shape: [time, batch, c.inputSize] })
        const continued = full(mask.shape, 1)
        const weights = normal(randomKey(c.seed + 1), [batch, c.hiddenSize])
        const lossOf = (bind: (p: nn.Params) => nn.BoundCell<any>) => (p: nn.Params, x: Tensor, h0: Tensor): Tensor => {
          const bound = bind(p)
          const init = Object.fromEntries((spec.state ?? ['h']).map((k) => [k, h0]))
          const [carry, y] = scan(bound.step, init, bound.project(x, { continued }), { mask, reverse, timeAxis, outputs: 'last' })
          return treeLeaves(carry, 'carry').reduce((s: Tensor, t) => add(s, sum(mul(t, t))), sum(mul(y, weights)))
        }
        const h0 = normal(randomKey(c.seed + 2), [batch, c.hiddenSize])
        const [value, grads] = valueAndGrad(lossOf((p) => nn.bindCell(spec, p)), { argnums: [0, 1, 2] })(params, xs, h0)
        const [refValue, refGrads] = valueAndGrad(lossOf((p) => nn.bindCell(composedOnly(spec), p)), { argnums: [0, 1, 2] })(params, xs, h0)
        expectClose(value, refValue, 1e-12, `${name}: loss`)
        treeLeaves(grads, 'grads').forEach((g, i) => expectClose(g, treeLeaves(refGrads, 'grads')[i], 1e-12, `${name}: grads[${i}]`))
      }
    }), runs)
  })

  it.each([['lstm', torchPair(nn.lstmSpec, nn.lstm)], ['elman', elmanPair('tanh')]] as const)(
    'mixed dtypes (%s): float64 inputs with float32 parameters and the reverse compute in float64 and agree',
    (_, [make, makeComposed]) => {
      const [layer, reference] = [make(3, 4), makeComposed(3, 4)]
      for (const [paramsDtype, inputDtype] of [['float32', 'float64'], ['float64', 'float32']] as const) {
        const params = layer.init(randomKey(1), { dtype: paramsDtype })
        const x = cast(normal(randomKey(2), [2, 5, 3]), inputDtype)
        const outputs = layer.apply(params, x).outputs
        expect(outputs.dtype).toBe('float64')
        expectClose(outputs, reference.apply(params, x).outputs, 1e-12, `outputs (${paramsDtype} parameters, ${inputDtype} inputs)`)
      }
    },
  )
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
    // Masked, each sequence's last real step is read from every step's outputs.
    expect(countingForward(() => model.apply(modelParams, x, { lengths: [4, 2] }), 'projectedRecurrentFinal')).toBe(0)
    expect(countingForward(() => model.apply(modelParams, x, { lengths: [4, 2] }), 'projectedRecurrentForward')).toBe(1)
  })

  it('with a mask too: the kernels keep the padded steps\' states', () => {
    expect(countingForward(() => layer.apply(params, x, { lengths: [4, 2] }), 'projectedRecurrentForward')).toBe(1)
    const gru = nn.gru({ inputSize: 2, hiddenSize: 3, bidirectional: true, numLayers: 2 })
    const gruParams = gru.init(randomKey(3), { dtype: 'float64' })
    expect(countingForward(() => gru.apply(gruParams, x), 'gruForward')).toBe(4)
    expect(countingForward(() => gru.apply(gruParams, x, { lengths: [4, 2] }), 'gruForward')).toBe(4)
    const lstm = nn.lstm({ inputSize: 2, hiddenSize: 3 })
    const mask = tensor([[1, 0, 1, 1], [0, 0, 0, 0]], { shape: [2, 4] })
    expect(countingForward(() => lstm.apply(lstm.init(randomKey(4)), x, { mask }), 'lstmForward')).toBe(1)
    const rnn = nn.rnn({ inputSize: 2, hiddenSize: 3, bidirectional: true })
    expect(countingForward(() => rnn.apply(rnn.init(randomKey(5)), x, { mask }), 'recurrentForward')).toBe(2)
  })
})
