/**
 * @file Fused elementwise groups in traced steps (src/transforms/fusion.ts): with `traceStep`, a
 * step's elementwise chain runs as fused programs, and its values and gradients equal the
 * step-by-step loop's (the tape's primitives and their own VJPs) to 1e-12 in float64 — for every
 * operation a group may hold (so every VJP rule is held to its primitive's), with repeated-row and
 * scalar operands; for an LSTM cell whose gates are windows of one wide sum; for groups cut short
 * (a member that reads a product of another member's value) and values read through stopGradient.
 * float32 stays within rounding of the loop. Each case checks that a fused program did run.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  type DType, type Tensor, add, div, exp, grad, jsKernels, matmul, maximum, minimum, mul, neg, nn, normal, randomKey, relu, scan, sigmoid, splitKey,
  sqrt, square, stopGradient, sub, sum, tanh, useKernels,
} from '../../src/index.js'
import { userLstmSpec } from '../../bench/userLstmCell.js'
import { expectClose } from '../nn/support.js'

/** The installed backend with its fused kernel counted. */
let fusedCalls = 0
const counting = (): void => {
  const base = useKernels(jsKernels)
  useKernels({ ...base, name: `${base.name} (counted)`, fused: (program, inputs) => { fusedCalls++; return base.fused!(program, inputs) } })
  fusedCalls = 0
  restore = () => useKernels(base)
}
let restore = (): void => undefined
afterEach(() => restore())

type Weights = { w: Tensor; b: Tensor }

/**
 * The loss of a scan over `cell` and its gradients in the weights, the inputs and the initial
 * carry, traced (fused) and step by step, compared entry by entry.
 */
const expectTracedEqualsLoop = (
  cell: (p: Weights) => (h: Tensor, x: Tensor) => readonly [Tensor, Tensor], dtype: DType, tolerance: number, seed = 1,
): void => {
  const [k1, k2, k3, k4, k5] = splitKey(randomKey(seed), 5)
  const [time, batch, hidden] = [4, 3, 5]
  const p: Weights = { w: mul(normal(k1, [hidden, hidden], { dtype }), 0.5), b: normal(k2, [hidden], { dtype }) }
  const xs = normal(k3, [time, batch, hidden], { dtype })
  const h0 = normal(k4, [batch, hidden], { dtype })
  const weights = normal(k5, [time, batch, hidden], { dtype })
  const loss = (traceStep: boolean) => (q: Weights, x: Tensor, h: Tensor): Tensor => {
    const [final, ys] = scan(cell(q), h, x, { traceStep })
    return add(sum(mul(ys, weights)), sum(mul(final, final)))
  }
  counting()
  const traced = grad(loss(true), { argnums: [0, 1, 2] })(p, xs, h0)
  expect(fusedCalls, 'fused programs run').toBeGreaterThan(0)
  const loop = grad(loss(false), { argnums: [0, 1, 2] })(p, xs, h0)
  expectClose(loss(true)(p, xs, h0), loss(false)(p, xs, h0), tolerance, 'loss')
  const [[tw, tx, th], [lw, lx, lh]] = [traced, loop]
  expectClose(tw.w, lw.w, tolerance, 'w')
  expectClose(tw.b, lw.b, tolerance, 'b')
  expectClose(tx, lx, tolerance, 'xs')
  expectClose(th, lh, tolerance, 'h0')
}

/** Every operation a group may hold, applied to u = tanh(·) of the step and to its input x. */
const OPERATIONS: Record<string, (u: Tensor, x: Tensor) => Tensor> = {
  add: (u, x) => add(u, x),
  sub: (u, x) => sub(u, x),
  mul: (u, x) => mul(u, x),
  div: (u, x) => div(u, add(square(x), 1)),
  maximum: (u, x) => maximum(u, x),
  minimum: (u, x) => minimum(u, x),
  'maximum at ties': (u) => maximum(u, u),
  neg: (u) => neg(u),
  square: (u) => square(u),
  sqrt: (u) => sqrt(add(square(u), 0.5)),
  relu: (u, x) => relu(sub(u, x)),
  exp: (u) => exp(u),
  tanh: (u, x) => tanh(add(u, x)),
  sigmoid: (u, x) => sigmoid(sub(x, u)),
}

describe('fused elementwise groups in traced steps', () => {
  it.each(Object.keys(OPERATIONS))('%s: values and gradients equal the loop\'s (float64)', (name) => {
    // A repeated row (the bias) and a scalar (0.9) in the chain, besides the operation tested.
    const cell = ({ w, b }: Weights) => (h: Tensor, x: Tensor) => {
      const next = OPERATIONS[name](tanh(mul(add(matmul(h, w), b), 0.9)), x)
      return [next, next] as const
    }
    expectTracedEqualsLoop(cell, 'float64', 1e-12)
  })

  it('a member that reads a product of another member\'s value ends the group there', () => {
    const cell = ({ w, b }: Weights) => (h: Tensor, x: Tensor) => {
      const first = tanh(add(matmul(h, w), b))
      const next = sigmoid(add(matmul(first, w), mul(first, x)))
      return [next, first] as const
    }
    expectTracedEqualsLoop(cell, 'float64', 1e-12)
  })

  it('sends no cotangent through a stopGradient inside the group', () => {
    const cell = ({ w, b }: Weights) => (h: Tensor, x: Tensor) => {
      const z = add(matmul(h, w), b)
      const next = tanh(add(mul(stopGradient(tanh(z)), z), mul(stopGradient(x), sigmoid(z))))
      return [next, next] as const
    }
    expectTracedEqualsLoop(cell, 'float64', 1e-12)
  })

  it('stays within float32 rounding of the loop', () => {
    const cell = ({ w, b }: Weights) => (h: Tensor, x: Tensor) => {
      const z = add(matmul(h, w), b)
      const next = add(mul(sigmoid(z), tanh(add(z, x))), mul(0.5, h))
      return [next, next] as const
    }
    expectTracedEqualsLoop(cell, 'float32', 2e-5)
  })

  describe.each(['float64', 'float32'] as const)('an LSTM cell whose gates are windows of one sum (%s)', (dtype) => {
    it('trains as the loop does', () => {
      const sizes = { inputSize: 4, hiddenSize: 6 }
      const layer = nn.recurrent(userLstmSpec, sizes)
      const loop = nn.recurrent({ ...userLstmSpec, traceable: false }, sizes)
      const params = layer.init(randomKey(3), { dtype })
      const xs = normal(randomKey(4), [3, 5, sizes.inputSize], { dtype })
      const weights = normal(randomKey(5), [3, 5, sizes.hiddenSize], { dtype })
      const loss = (l: typeof layer) => (p: nn.Params): Tensor => {
        const { outputs, state } = l.apply(p, xs)
        const c = state.c as Tensor // one layer: one [1, batch, hidden] tensor
        return add(sum(mul(outputs, weights)), sum(mul(c, c)))
      }
      const tolerance = dtype === 'float64' ? 1e-12 : 2e-5
      counting()
      const traced = grad(loss(layer))(params)
      expect(fusedCalls, 'fused programs run').toBeGreaterThan(0)
      const reference = grad(loss(loop))(params)
      expectClose(loss(layer)(params), loss(loop)(params), tolerance, 'loss')
      for (const name of Object.keys(reference)) expectClose(traced[name], reference[name], tolerance, name)
    })
  })
})
