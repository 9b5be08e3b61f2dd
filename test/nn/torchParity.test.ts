/**
 * PyTorch parity: every fixture in test/fixtures/torch (run through PyTorch 1.13 in float64) is
 * loaded by parameter name into nn.rnn / nn.lstm / nn.gru; outputs and final states must agree to
 * 1e-10 and the gradients of the fixture's loss — for every parameter, the input and the initial
 * state — to 1e-9.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, add, grad, mul, randomKey, sum } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { type TorchFixture, expectClose, fromJson, loadTorchFixtures } from './support.js'

const fixtures = loadTorchFixtures()

const build = (fx: TorchFixture): nn.RecurrentLayer => {
  const { inputSize, hiddenSize, numLayers, bidirectional, nonlinearity } = fx.config
  const options = { inputSize, hiddenSize, numLayers, bidirectional }
  if (fx.kind === 'rnn') return nn.rnn({ ...options, nonlinearity })
  return fx.kind === 'lstm' ? nn.lstm(options) : nn.gru(options)
}

const mapJson = (r: Record<string, { shape: number[]; data: number[] }>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromJson(v)]))

describe('nn.rnn / nn.lstm / nn.gru against PyTorch', () => {
  it('finds the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(13)
  })

  describe.each(fixtures.map((fx) => [fx.meta.name, fx] as const))('%s', (_name, fx) => {
    const layer = build(fx)
    const params = mapJson(fx.params)
    const x = fromJson(fx.x)
    const initialState = fx.initialState === null ? undefined : mapJson(fx.initialState)
    const options = { lengths: fx.lengths ?? undefined }
    const weights = mapJson(Object.fromEntries(Object.entries(fx.loss).filter(([k]) => k !== 'value')) as Record<string, { shape: number[]; data: number[] }>)

    const run = (p: Record<string, Tensor>, xs: Tensor, s?: Record<string, Tensor>) =>
      layer.apply(p, xs, { ...options, initialState: s })
    const loss = (p: Record<string, Tensor>, xs: Tensor, s?: Record<string, Tensor>): Tensor => {
      const { outputs, state } = run(p, xs, s)
      let total = add(sum(mul(outputs, weights.outputsWeight)), sum(mul(state.h as Tensor, weights.hWeight)))
      if (fx.kind === 'lstm') total = add(total, sum(mul(state.c as Tensor, weights.cWeight)))
      return total
    }

    it('has PyTorch\'s parameter names and shapes (init from a key)', () => {
      const drawn = layer.init(randomKey(0))
      expect(Object.keys(drawn).sort()).toEqual(Object.keys(fx.params).sort())
      for (const [k, v] of Object.entries(drawn)) expect([...v.shape], k).toEqual(fx.params[k].shape)
    })

    it('outputs and final states match to 1e-10', () => {
      const { outputs, state } = run(params, x, initialState)
      expectClose(outputs, fromJson(fx.outputs), 1e-10, 'outputs')
      for (const [k, v] of Object.entries(fx.state)) expectClose(state[k] as Tensor, fromJson(v), 1e-10, `state.${k}`)
      expect(Math.abs(loss(params, x, initialState).item() - fx.loss.value)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(fx.loss.value)))
    })

    it('gradients for every parameter, the input and the initial state match to 1e-9', () => {
      if (initialState === undefined) {
        const [gp, gx] = grad(loss, { argnums: [0, 1] })(params, x)
        for (const [k, v] of Object.entries(fx.grads.params)) expectClose(gp[k], fromJson(v), 1e-9, `grad ${k}`)
        expectClose(gx, fromJson(fx.grads.x), 1e-9, 'grad x')
      } else {
        const [gp, gx, gs] = grad(loss, { argnums: [0, 1, 2] })(params, x, initialState)
        for (const [k, v] of Object.entries(fx.grads.params)) expectClose(gp[k], fromJson(v), 1e-9, `grad ${k}`)
        expectClose(gx, fromJson(fx.grads.x), 1e-9, 'grad x')
        for (const [k, v] of Object.entries(fx.grads.initialState!)) expectClose(gs![k], fromJson(v), 1e-9, `grad initialState.${k}`)
      }
    })
  })
})
