/**
 * The fused recurrent steps (one tape node per step, hand-written VJP) against the unfused
 * composition they replace: outputs, final states, gradients and a Hessian-vector product agree
 * to 1e-12 in float64, with and without masks and initial states; and each fused step alone
 * passes checkGrads at orders 1 and 2 (its VJP must also take cotangents on the gate outputs,
 * which only a second-order differentiation sends).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Tensor, add, hvp, mul, normal, randomKey, splitKey, sum, treeLeaves, treeMap, valueAndGrad } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { useFusedSteps } from '../../src/nn/fused.js'
import { cases, checkBoth } from './gradHarness.js'
import { expectClose, withSwitch } from './support.js'

const runs = { numRuns: 8, seed: 20261125, endOnFailure: true }

const unfused = <T>(f: () => T): T => withSwitch(useFusedSteps, false, f)

const layers: [string, (inputSize: number, hiddenSize: number) => nn.RecurrentLayer<any>][] = [
  ['elman tanh', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'tanh' })],
  ['elman relu', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'relu' })],
  ['elman sigmoid', (i, h) => nn.elman({ inputSize: i, hiddenSize: h, activation: 'sigmoid' })],
  ['rnn tanh', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h })],
  ['rnn relu (2 layers)', (i, h) => nn.rnn({ inputSize: i, hiddenSize: h, nonlinearity: 'relu', numLayers: 2 })],
  ['lstm', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h })],
  ['lstm bidirectional', (i, h) => nn.lstm({ inputSize: i, hiddenSize: h, bidirectional: true })],
  ['gru', (i, h) => nn.gru({ inputSize: i, hiddenSize: h })],
  ['gru (2 layers)', (i, h) => nn.gru({ inputSize: i, hiddenSize: h, numLayers: 2 })],
]

const expectTreesClose = (actual: unknown, expected: unknown, what: string): void => {
  const a = treeLeaves(actual, what)
  const b = treeLeaves(expected, what)
  expect(a.length).toBe(b.length)
  a.forEach((x, i) => expectClose(x, b[i], 1e-12, `${what}[${i}]`))
}

describe('fused recurrent steps equal the unfused composition (float64, 1e-12)', () => {
  for (const [name, make] of layers) {
    it(name, () => {
      fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 4 }), fc.boolean(), (c, masked) => {
        const layer = make(c.inputSize, c.hiddenSize)
        const [k1, k2] = splitKey(randomKey(c.seed))
        const params = layer.init(k1, { dtype: 'float64' })
        const options = masked ? { lengths: c.lengths } : {}
        const loss = (p: nn.Params, x: Tensor): Tensor => {
          const { outputs, state } = layer.apply(p, x, options)
          const weights = normal(k2, outputs.shape)
          const stateTerm = treeLeaves(state, 'state').reduce((s: Tensor, t) => add(s, sum(mul(t, t))), sum(outputs))
          return add(sum(mul(outputs, weights)), stateTerm)
        }
        const fused = valueAndGrad(loss, { argnums: [0, 1] })(params, c.x)
        const reference = unfused(() => valueAndGrad(loss, { argnums: [0, 1] })(params, c.x))
        expectClose(fused[0], reference[0], 1e-12, 'loss')
        expectTreesClose(fused[1], reference[1], 'grads')
        // Second order: a Hessian-vector product in the parameters.
        const v = treeMap((t: Tensor) => mul(t, 0.5), params)
        const f = (p: nn.Params) => loss(p, c.x)
        expectTreesClose(hvp(f)(params, v), unfused(() => hvp(f)(params, v)), 'hvp')
      }), runs)
    })
  }
})

describe('each fused step alone passes checkGrads (orders 1 and 2)', () => {
  const step = (spec: nn.CellSpec<any>, carryNames: readonly string[]) => () => {
    fc.assert(fc.property(cases({ batch: 2, time: 1, inputSize: 2, hiddenSize: 3 }), (c) => {
      const keys = splitKey(randomKey(c.seed), 4)
      const shapes = spec.params(c)
      const cell = spec.cell
      const params = nn.initParams(keys[0], shapes, nn.init.uniform(0.8), 'float64')
      const carry = Object.fromEntries(carryNames.map((n, i) => [n, normal(keys[1 + i], [c.batch, c.hiddenSize])]))
      const x = normal(keys[3], [c.batch, c.inputSize])
      checkBoth((p: nn.Params, h: Record<string, Tensor>, xt: Tensor) => {
        const [next, y] = cell(p, h as any, xt)
        return [next, y]
      }, [params, carry, x], c.seed)
    }), { ...runs, numRuns: 5 })
  }
  it('elman (tanh)', step(nn.elmanSpec('tanh'), ['h']))
  it('elman (sigmoid)', step(nn.elmanSpec('sigmoid'), ['h']))
  it('rnn (relu)', step(nn.rnnSpec('relu'), ['h']))
  it('lstm', step(nn.lstmSpec, ['h', 'c']))
  it('gru', step(nn.gruSpec, ['h']))
})

describe('fallbacks', () => {
  it('mixed dtypes (float64 inputs, float32 parameters) take the unfused path and agree', () => {
    const layer = nn.lstm({ inputSize: 2, hiddenSize: 3 })
    const params = layer.init(randomKey(1), { dtype: 'float32' })
    const x = normal(randomKey(2), [2, 4, 2])
    const fused = layer.apply(params, x).outputs
    expectClose(fused, unfused(() => layer.apply(params, x).outputs), 0, 'outputs')
    expect(fused.dtype).toBe('float64')
  })
})
