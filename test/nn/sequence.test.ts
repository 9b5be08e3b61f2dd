/**
 * The whole-sequence path (one tape node per unmasked layer run; Elman, RNN, LSTM and GRU; batch-major
 * for a single Elman / RNN layer) against scan over the fused steps it replaces: outputs, final states and gradients in the parameters, the inputs and the
 * initial state agree to 1e-12 in float64 (1e-5 relative in float32), forwards and reversed; the
 * sequence primitives alone pass checkGrads at orders 1 and 2 (order 2 runs their traced,
 * primitive-composed backward pass); and the path is taken exactly when there is no mask.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Kernels, type Tensor, add, cast, jsKernels, mul, normal, randomKey, splitKey, sum, treeLeaves, useKernels, valueAndGrad } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import {
  type SequenceOutputs, gruSequence, lstmSequence, projectedRecurrentFinal, projectedRecurrentSequence, recurrentSequence, useSequenceKernels,
} from '../../src/nn/sequence.js'
import { composedRecurrence } from '../../src/tensor/recurrence.js'
import { cases, checkBoth } from './gradHarness.js'
import { expectClose, withSwitch } from './support.js'

const runs = { numRuns: 8, seed: 20261125, endOnFailure: true }

const perStep = <T>(f: () => T): T => withSwitch(useSequenceKernels, false, f)

/** Name, layer, and options for every `apply` (e.g. a reversed run). */
const layers: [string, (inputSize: number, hiddenSize: number) => nn.RecurrentLayer<any>, { reverse?: boolean }?][] = [
  ['elman tanh', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'tanh' })],
  ['elman relu', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'relu' })],
  ['elman sigmoid', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'sigmoid' })],
  ['elman tanh, reversed', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'tanh' }), { reverse: true }],
  ['rnn tanh', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h })],
  ['rnn relu, reversed', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h, nonlinearity: 'relu' }), { reverse: true }],
  ['rnn tanh, bidirectional', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h, bidirectional: true })],
  ['rnn relu, 2 layers', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h, nonlinearity: 'relu', numLayers: 2 })],
  ['lstm', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h })],
  ['lstm, bidirectional, 2 layers', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h, bidirectional: true, numLayers: 2 })],
  ['gru', (i, h) => nn.gru({ inputSize: i, hiddenSize: h })],
  ['gru, reversed', (i, h) => nn.gru({ inputSize: i, hiddenSize: h }), { reverse: true }],
  ['gru, bidirectional, 2 layers', (i, h) => nn.gru({ inputSize: i, hiddenSize: h, bidirectional: true, numLayers: 2 })],
]

const tolerance: Record<DType, number> = { float64: 1e-12, float32: 1e-5 }

describe('the sequence path equals scan over the fused steps', () => {
  for (const [name, make, applyOptions = {}] of layers) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${name} (${dtype})`, () => {
        fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, withState) => {
          const layer = make(c.inputSize, c.hiddenSize)
          const [k1, k2, k3] = splitKey(randomKey(c.seed), 3)
          const params = layer.init(k1, { dtype })
          const slices = layer.stateSizes.length
          const initialState = Object.fromEntries(layer.stateNames.map((n, i) =>
            [n, normal(splitKey(k3, layer.stateNames.length)[i], [slices, c.batch, c.hiddenSize], { dtype })]))
          const x = cast(c.x, dtype)
          const loss = (p: nn.Params, xs: Tensor, state: Record<string, Tensor>): Tensor => {
            const { outputs, state: final } = layer.apply(p, xs, withState ? { ...applyOptions, initialState: state } : applyOptions)
            const weights = normal(k2, outputs.shape, { dtype })
            return treeLeaves(final, 'state').reduce((s: Tensor, t) => add(s, sum(mul(t, t))), sum(mul(outputs, weights)))
          }
          expect(layer.apply(params, x).outputs.dtype).toBe(dtype)
          const f = valueAndGrad(loss, { argnums: [0, 1, 2] })
          const [value, grads] = f(params, x, initialState)
          const [refValue, refGrads] = perStep(() => f(params, x, initialState))
          expectClose(value, refValue, tolerance[dtype], 'loss')
          const a = treeLeaves(grads, 'grads')
          const b = treeLeaves(refGrads, 'grads')
          expect(a.length).toBe(b.length)
          a.forEach((g, i) => expectClose(g, b[i], tolerance[dtype], `grads[${i}]`))
        }), runs)
      })
    }
  }
})

describe('the sequence primitives alone pass checkGrads (orders 1 and 2)', () => {
  /** Which outputs of an Elman / RNN node the checked function returns: hs (0), the final state (1), or both. */
  const outputPicks = fc.constantFrom(0, 1, 'both' as const)
  const options = [false, true].flatMap((reverse) => [false, true].map((transposed) => ({ reverse, transposed })))
  for (const option of options) {
    const label = `${option.reverse ? 'reversed' : 'forwards'}, weight ${option.transposed ? 'transposed' : 'as is'}`
    it(`recurrentSequence (tanh, relu, sigmoid; time- or batch-major), ${label}`, () => {
      const activations = fc.constantFrom('tanh', 'relu', 'sigmoid' as const)
      fc.assert(fc.property(cases({ batch: 2, time: 4, inputSize: 1, hiddenSize: 3 }), activations, fc.boolean(), outputPicks, (c, activation, batchMajor, pick) => {
        const keys = splitKey(randomKey(c.seed), 3)
        const p = normal(keys[0], batchMajor ? [c.batch, c.time, c.hiddenSize] : [c.time, c.batch, c.hiddenSize])
        const h0 = normal(keys[1], [c.batch, c.hiddenSize])
        const w = mul(normal(keys[2], [c.hiddenSize, c.hiddenSize]), 0.6)
        // Every h_t and the final state, or either alone (then the other output gets no cotangent).
        const outputs = (o: SequenceOutputs) => (pick === 'both' ? o : o[pick])
        checkBoth((pi: Tensor, hi: Tensor, wi: Tensor) => outputs(recurrentSequence(pi, hi, wi, activation, { ...option, batchMajor })), [p, h0, w], c.seed)
      }), { ...runs, numRuns: 6 })
    })
    it(`projectedRecurrentSequence (tanh, relu, sigmoid; time- or batch-major), ${label}`, () => {
      const activations = fc.constantFrom('tanh', 'relu', 'sigmoid' as const)
      fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 2, hiddenSize: 3 }), activations, fc.boolean(), outputPicks, (c, activation, batchMajor, pick) => {
        const keys = splitKey(randomKey(c.seed), 4)
        const x = normal(keys[0], batchMajor ? [c.batch, c.time, c.inputSize] : [c.time, c.batch, c.inputSize])
        const wIn = normal(keys[1], [c.inputSize, c.hiddenSize])
        const h0 = normal(keys[2], [c.batch, c.hiddenSize])
        const w = mul(normal(keys[3], [c.hiddenSize, c.hiddenSize]), 0.6)
        const outputs = (o: SequenceOutputs) => (pick === 'both' ? o : o[pick])
        const f = (xi: Tensor, wi: Tensor, hi: Tensor, ri: Tensor) => outputs(projectedRecurrentSequence(xi, wi, hi, ri, activation, { ...option, batchMajor }))
        checkBoth(f, [x, wIn, h0, w], c.seed)
      }), { ...runs, numRuns: 5 })
    })
    it(`projectedRecurrentFinal (tanh, relu, sigmoid; time- or batch-major), ${label}`, () => {
      const activations = fc.constantFrom('tanh', 'relu', 'sigmoid' as const)
      fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 2, hiddenSize: 3 }), activations, fc.boolean(), (c, activation, batchMajor) => {
        const keys = splitKey(randomKey(c.seed), 4)
        const x = normal(keys[0], batchMajor ? [c.batch, c.time, c.inputSize] : [c.time, c.batch, c.inputSize])
        const wIn = normal(keys[1], [c.inputSize, c.hiddenSize])
        const h0 = normal(keys[2], [c.batch, c.hiddenSize])
        const w = mul(normal(keys[3], [c.hiddenSize, c.hiddenSize]), 0.6)
        const f = (xi: Tensor, wi: Tensor, hi: Tensor, ri: Tensor) => projectedRecurrentFinal(xi, wi, hi, ri, activation, { ...option, batchMajor })
        checkBoth(f, [x, wIn, h0, w], c.seed)
      }), { ...runs, numRuns: 4 })
    })
    it(`lstmSequence, ${label}`, () => {
      fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 1, hiddenSize: 2 }), (c) => {
        const keys = splitKey(randomKey(c.seed), 4)
        const hidden = c.hiddenSize
        const p = normal(keys[0], [c.time, c.batch, 4 * hidden])
        const h0 = normal(keys[1], [c.batch, hidden])
        const c0 = normal(keys[2], [c.batch, hidden])
        const w = mul(normal(keys[3], option.transposed ? [4 * hidden, hidden] : [hidden, 4 * hidden]), 0.6)
        checkBoth((pi: Tensor, hi: Tensor, ci: Tensor, wi: Tensor) => lstmSequence(pi, hi, ci, wi, option), [p, h0, c0, w], c.seed)
      }), { ...runs, numRuns: 4 })
    })
    it(`gruSequence, ${label}`, () => {
      fc.assert(fc.property(cases({ batch: 2, time: 3, inputSize: 1, hiddenSize: 2 }), (c) => {
        const keys = splitKey(randomKey(c.seed), 4)
        const hidden = c.hiddenSize
        const p = normal(keys[0], [c.time, c.batch, 3 * hidden])
        const h0 = normal(keys[1], [c.batch, hidden])
        const w = mul(normal(keys[2], option.transposed ? [3 * hidden, hidden] : [hidden, 3 * hidden]), 0.6)
        const b = normal(keys[3], [3 * hidden])
        checkBoth((pi: Tensor, hi: Tensor, wi: Tensor, bi: Tensor) => gruSequence(pi, hi, wi, bi, option), [p, h0, w, b], c.seed)
      }), { ...runs, numRuns: 4 })
    })
  }
})

describe("a last-step readout takes the layer's own final-state node", () => {
  /** Name, layer, options, and whether `apply` gives `last` (unmasked, forwards, one direction, Elman / RNN). */
  const readoutLayers: [string, () => nn.RecurrentLayer<any>, nn.RecurrentOptions<any>, boolean][] = [
    ['elman tanh', () => nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'tanh' }), {}, true],
    ['elman relu', () => nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'relu' }), {}, true],
    ['rnn tanh, 2 layers', () => nn.rnn({ inputSize: 3, hiddenSize: 4, numLayers: 2 }), {}, true],
    ['elman tanh, reversed', () => nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'tanh' }), { reverse: true }, false],
    ['elman tanh, with lengths', () => nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'tanh' }), { lengths: [5, 3, 5] }, false],
    ['rnn tanh, bidirectional', () => nn.rnn({ inputSize: 3, hiddenSize: 4, bidirectional: true }), {}, false],
    ['lstm', () => nn.lstm({ inputSize: 3, hiddenSize: 4 }), {}, false],
  ]
  for (const [name, make, options, hasLast] of readoutLayers) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${name} (${dtype}): ${hasLast ? 'last equals lastStep(outputs), and' : 'no last;'} the model's gradients equal scan's`, () => {
        fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), (c) => {
          const recurrent = make()
          const model = nn.sequenceModel({ recurrent, output: nn.linear({ inputSize: recurrent.outputSize, outputSize: 2 }), readout: 'lastStep' })
          const params = model.init(randomKey(c.seed), { dtype })
          const x = cast(normal(randomKey(c.seed + 1), [3, 5, 3]), dtype)
          const applied = recurrent.apply(params.recurrent, x, options)
          expect(applied.last !== undefined).toBe(hasLast)
          if (applied.last !== undefined) expect(applied.last.data).toEqual(nn.lastStep(applied.outputs).data)
          const targets = normal(randomKey(c.seed + 2), [3, 2], { dtype })
          const loss = (p: nn.SequenceParams) => sum(mul(model.apply(p, x, options), targets))
          const [value, grads] = valueAndGrad(loss)(params)
          const [refValue, refGrads] = perStep(() => valueAndGrad(loss)(params))
          expectClose(value, refValue, tolerance[dtype], 'loss')
          const a = treeLeaves(grads, 'grads')
          const b = treeLeaves(refGrads, 'grads')
          a.forEach((g, i) => expectClose(g, b[i], tolerance[dtype], `grads[${i}]`))
        }), { ...runs, numRuns: 4 })
      })
    }
  }

  it("a layer's applyFinal gives apply's last and state, and the model the same predictions and gradients, bit for bit", () => {
    for (const dtype of ['float64', 'float32'] as const) {
      fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, given) => {
        const recurrent = nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'tanh' })
        const model = nn.sequenceModel({ recurrent, output: nn.linear({ inputSize: 4, outputSize: 2 }), readout: 'lastStep' })
        const params = model.init(randomKey(c.seed), { dtype })
        const x = cast(normal(randomKey(c.seed + 1), [3, 5, 3]), dtype)
        // From zeros, or from a given state (then every step continues).
        const options = given ? { initialState: { h: normal(randomKey(c.seed + 3), [1, 3, 4], { dtype }) } } : {}
        const final = recurrent.applyFinal!(params.recurrent, x, options)!
        const full = recurrent.apply(params.recurrent, x, options)
        expect(final.last.data).toEqual(full.last!.data)
        expect(final.state.h.data).toEqual(full.state.h.data)
        const targets = normal(randomKey(c.seed + 2), [3, 2], { dtype })
        const viaFinal = valueAndGrad((p: nn.SequenceParams) => sum(mul(model.apply(p, x, options), targets)))(params)
        const viaOutputs = valueAndGrad((p: nn.SequenceParams) => sum(mul(model.applyWithState(p, x, options).predictions, targets)))(params)
        expect(viaFinal[0].data).toEqual(viaOutputs[0].data)
        treeLeaves(viaFinal[1], 'grads').forEach((g, i) => expect(g.data, `grads[${i}]`).toEqual(treeLeaves(viaOutputs[1], 'grads')[i].data))
      }), { ...runs, numRuns: 4 })
    }
  })

  it('applyFinal declines masked and reversed runs; layers without the path have none', () => {
    const recurrent = nn.elman({ inputSize: 3, hiddenSize: 4, activation: 'tanh' })
    const params = recurrent.init(randomKey(0), { dtype: 'float64' })
    const x = normal(randomKey(1), [3, 5, 3])
    expect(recurrent.applyFinal!(params, x, { lengths: [5, 3, 5] })).toBeNull()
    expect(recurrent.applyFinal!(params, x, { reverse: true })).toBeNull()
    expect(perStep(() => recurrent.applyFinal!(params, x))).toBeNull()
    expect(() => recurrent.applyFinal!(params, normal(randomKey(1), [3, 5, 2]))).toThrow(/expects 3 features per step/)
    for (const layer of [nn.rnn({ inputSize: 3, hiddenSize: 4 }), nn.lstm({ inputSize: 3, hiddenSize: 4 }), nn.stacked([recurrent, nn.elman({ inputSize: 4, hiddenSize: 4 })])]) {
      expect(layer.applyFinal).toBeUndefined()
    }
  })

  it('passes checkGrads through the model (float64, orders 1 and 2)', () => {
    fc.assert(fc.property(cases({ batch: 2, time: 4, inputSize: 2, hiddenSize: 3 }), (c) => {
      const model = nn.sequenceModel({
        recurrent: nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'tanh' }), output: nn.linear({ inputSize: 3, outputSize: 2 }), readout: 'lastStep',
      })
      const params = model.init(randomKey(c.seed), { dtype: 'float64' })
      const x = normal(randomKey(c.seed + 1), [2, 4, 2])
      checkBoth((p: nn.SequenceParams, xs: Tensor) => model.apply(p, xs), [params, x], c.seed)
    }), { ...runs, numRuns: 3 })
  })
})

describe('when the sequence path runs', () => {
  const composed = composedRecurrence(jsKernels)
  /** Runs f with kernels that count calls of one sequence kernel (computing as the composition does). */
  type ForwardKernel = 'recurrentForward' | 'projectedRecurrentForward' | 'projectedRecurrentFinal' | 'gruForward'
  const countingForward = (f: () => void, kernel: ForwardKernel): number => {
    let calls = 0
    const counting: Kernels = {
      ...jsKernels,
      [kernel]: (...args: unknown[]) => {
        calls++
        return (composed[kernel] as (...xs: unknown[]) => unknown)(...args)
      },
    }
    const previous = useKernels(counting)
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

  it('once per unmasked layer run, forwards and in both directions', () => {
    // The Elman layer hands its input projection to the kernel; the RNN projects first.
    expect(countingForward(() => layer.apply(params, x), 'projectedRecurrentForward')).toBe(1)
    expect(countingForward(() => layer.apply(params, x), 'recurrentForward')).toBe(0)
    const both = nn.rnn({ inputSize: 2, hiddenSize: 3, bidirectional: true, numLayers: 2 })
    const bothParams = both.init(randomKey(2), { dtype: 'float64' })
    expect(countingForward(() => both.apply(bothParams, x), 'recurrentForward')).toBe(4)
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

  it('not with a mask (scan over the masked steps), nor when switched off', () => {
    expect(countingForward(() => layer.apply(params, x, { lengths: [4, 2] }), 'projectedRecurrentForward')).toBe(0)
    expect(countingForward(() => perStep(() => layer.apply(params, x)), 'projectedRecurrentForward')).toBe(0)
  })

  it('for the GRU likewise: once per unmasked run, never with a mask or switched off', () => {
    const gru = nn.gru({ inputSize: 2, hiddenSize: 3, bidirectional: true, numLayers: 2 })
    const gruParams = gru.init(randomKey(3), { dtype: 'float64' })
    expect(countingForward(() => gru.apply(gruParams, x), 'gruForward')).toBe(4)
    expect(countingForward(() => gru.apply(gruParams, x, { lengths: [4, 2] }), 'gruForward')).toBe(0)
    expect(countingForward(() => perStep(() => gru.apply(gruParams, x)), 'gruForward')).toBe(0)
  })
})
