/**
 * The user-written LSTM cell of the training-step benchmark (bench/userLstmCell.ts, configuration
 * C2u) computes what `nn.lstm` computes: with the same parameters (renamed from `weight_ih_l0` to
 * `weight_ih`, ...), outputs, final states and the gradients of a loss — for every parameter and
 * the input — agree to 1e-10 in float64, alone and inside C2's model (per-step softmax on one-hot
 * inputs). So C2u and C2 time the same computation.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, add, grad, losses, mul, nn, normal, oneHot, randomKey, splitKey, sum, tensor } from '../../src/index.js'
import { userLstmSpec } from '../../bench/userLstmCell.js'
import { expectClose } from './support.js'

const [batch, time, inputSize, hiddenSize] = [3, 5, 4, 6]
const sizes = { inputSize, hiddenSize }
const TOL = 1e-10

/** `nn.lstm`'s parameter names (`weight_ih_l0`) as the user's cell names them (`weight_ih`). */
const unsuffixed = (p: nn.Params): nn.Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k.replace(/_l0$/, ''), v]))

const expectTreesClose = (actual: nn.Params, expected: nn.Params, what: string): void => {
  expect(Object.keys(actual).sort(), `${what}: names`).toEqual(Object.keys(expected).sort())
  for (const name of Object.keys(expected)) expectClose(actual[name], expected[name], TOL, `${what} ${name}`)
}

describe('the benchmark\'s user-written LSTM cell against nn.lstm', () => {
  const builtIn = nn.lstm(sizes)
  const user = nn.recurrent(userLstmSpec, sizes)
  const [kParams, kX, kW, kH, kC] = splitKey(randomKey(18), 5)
  const params = builtIn.init(kParams, { dtype: 'float64' })
  const userParams = unsuffixed(params)
  const xs = normal(kX, [batch, time, inputSize])
  const outputsWeight = normal(kW, [batch, time, hiddenSize])
  const hWeight = normal(kH, [1, batch, hiddenSize])
  const cWeight = normal(kC, [1, batch, hiddenSize])

  it('declares nn.lstm\'s parameters under PyTorch\'s names', () => {
    const shapes = (p: nn.Params) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, [...v.shape]]))
    expect(shapes(user.init(randomKey(0), { dtype: 'float64' }))).toEqual(shapes(userParams))
  })

  it('gives the same outputs and final state', () => {
    const a = user.apply(userParams, xs)
    const b = builtIn.apply(params, xs)
    expectClose(a.outputs, b.outputs, TOL, 'outputs')
    expectClose(a.state.h as Tensor, b.state.h, TOL, 'state h')
    expectClose(a.state.c as Tensor, b.state.c, TOL, 'state c')
  })

  it('gives the same gradients for every parameter and the input', () => {
    const loss = (layer: nn.RecurrentLayer) => (p: nn.Params, x: Tensor): Tensor => {
      const { outputs, state } = layer.apply(p, x)
      return add(add(sum(mul(outputs, outputsWeight)), sum(mul(state.h as Tensor, hWeight))), sum(mul(state.c as Tensor, cWeight)))
    }
    const [gUser, gxUser] = grad(loss(user), { argnums: [0, 1] })(userParams, xs) as [nn.Params, Tensor]
    const [gBuiltIn, gxBuiltIn] = grad(loss(builtIn), { argnums: [0, 1] })(params, xs) as [nn.Params, Tensor]
    expectTreesClose(gUser, unsuffixed(gBuiltIn), 'gradient')
    expectClose(gxUser, gxBuiltIn, TOL, 'gradient x')
  })

  it('gives the same loss and gradients inside C2\'s model (one-hot inputs, per-step softmax)', () => {
    const outputs = 7
    const output = nn.linear({ inputSize: hiddenSize, outputSize: outputs })
    const models = {
      builtIn: nn.sequenceModel({ recurrent: builtIn, output, readout: 'perStep' }),
      user: nn.sequenceModel({ recurrent: user, output, readout: 'perStep' }),
    }
    const symbols = (n: number, classes: number, shift: number) => tensor(Array.from({ length: n }, (_, i) => (i * 5 + shift) % classes), { shape: [batch, time] })
    const inputs = oneHot(symbols(batch * time, inputSize, 1), inputSize, { dtype: 'float64' })
    const targets = oneHot(symbols(batch * time, outputs, 2), outputs, { dtype: 'float64' })
    const modelParams = models.builtIn.init(randomKey(2), { dtype: 'float64' })
    const userModelParams = { recurrent: unsuffixed(modelParams.recurrent), output: modelParams.output }
    const lossOf = (model: nn.SequenceModel) => (p: nn.SequenceParams): Tensor => losses.softmaxCrossEntropy(model.apply(p, inputs), targets)
    expectClose(lossOf(models.user)(userModelParams), lossOf(models.builtIn)(modelParams), TOL, 'loss')
    const gUser = grad(lossOf(models.user))(userModelParams) as nn.SequenceParams
    const gBuiltIn = grad(lossOf(models.builtIn))(modelParams) as nn.SequenceParams
    expectTreesClose(gUser.recurrent, unsuffixed(gBuiltIn.recurrent), 'model gradient')
    expectTreesClose(gUser.output, gBuiltIn.output, 'model gradient output')
  })
})
