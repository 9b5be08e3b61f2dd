/**
 * @file jvp, jacfwd, jacrev and hessian through nn.lstm / nn.gru / nn.rnn against PyTorch 1.13's
 * torch.autograd.functional (float64; fixtures in test/fixtures/torch/forward, made by
 * scripts/fixtures/torch_forward.py): tangents of the outputs and final states along tangents of
 * every parameter and the input, the Jacobian of the outputs in the input, and the Hessian of a
 * weighted sum of the outputs in the input, all to 1e-10.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type Tensor, hessian, jacfwd, jacrev, jvp, mul, sum } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { type TensorJson, expectClose, fromJson } from '../nn/support.js'

interface ForwardFixture {
  readonly kind: 'lstm' | 'gru' | 'rnn'
  readonly quantity: 'jvp' | 'jacobian' | 'hessian'
  readonly meta: { readonly name: string }
  readonly config: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; nonlinearity?: 'tanh' | 'relu' }
  readonly params: Record<string, TensorJson>
  readonly x: TensorJson
  readonly tangents?: { params: Record<string, TensorJson>; x: TensorJson }
  readonly outputsWeight?: TensorJson
  readonly result: TensorJson | Record<string, TensorJson>
}

const folder = new URL('../fixtures/torch/forward/', import.meta.url)
const fixtures = readdirSync(folder).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, folder), 'utf8')) as ForwardFixture)

const tensors = (r: Record<string, TensorJson>): Record<string, Tensor> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromJson(v)]))

const layerOf = ({ kind, config }: ForwardFixture): nn.RecurrentLayer => {
  const options = { inputSize: config.inputSize, hiddenSize: config.hiddenSize, numLayers: config.numLayers, bidirectional: config.bidirectional }
  if (kind === 'rnn') return nn.rnn({ ...options, nonlinearity: config.nonlinearity })
  return kind === 'lstm' ? nn.lstm(options) : nn.gru(options)
}

describe('forward mode and Jacobians through the recurrent layers, against PyTorch', () => {
  it('finds the fixtures: a jvp, a Jacobian and a Hessian at least', () => {
    expect(new Set(fixtures.map((fx) => fx.quantity))).toEqual(new Set(['jvp', 'jacobian', 'hessian']))
  })

  it.each(fixtures.map((fx) => [fx.meta.name, fx] as const))('%s', (_name, fx) => {
    const layer = layerOf(fx)
    const params = tensors(fx.params)
    const x = fromJson(fx.x)
    if (fx.quantity === 'jvp') {
      const run = (p: Record<string, Tensor>, xs: Tensor): Record<string, Tensor> => {
        const { outputs, state } = layer.apply(p, xs)
        return { outputs, ...(state as Record<string, Tensor>) }
      }
      const [, tangent] = jvp(run, [params, x], [tensors(fx.tangents!.params), fromJson(fx.tangents!.x)])
      for (const [k, expected] of Object.entries(fx.result as Record<string, TensorJson>)) {
        expectClose(tangent[k], fromJson(expected), 1e-10, `tangent of ${k}`)
      }
    } else if (fx.quantity === 'jacobian') {
      const outputs = (xs: Tensor) => layer.apply(params, xs).outputs
      const expected = fromJson(fx.result as TensorJson)
      expectClose(jacfwd(outputs)(x), expected, 1e-10, 'jacfwd')
      expectClose(jacrev(outputs)(x), expected, 1e-10, 'jacrev')
    } else {
      const weight = fromJson(fx.outputsWeight!)
      const loss = (xs: Tensor) => sum(mul(layer.apply(params, xs).outputs, weight))
      expectClose(hessian(loss)(x), fromJson(fx.result as TensorJson), 1e-10, 'hessian')
    }
  })
})
