/**
 * @file The gradient-check harness shared by the nn property tests: drawn sizes, lengths and
 * inputs; both orders of checkGrads; a layer property; a user-written cell (minimal gated unit).
 */
import fc from 'fast-check'
import { type Tensor, add, arbitraries, concat, matmul, mul, randomKey, sigmoid, sub, tanh } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { expectGradsOk } from './support.js'

export interface Case {
  readonly batch: number
  readonly time: number
  readonly inputSize: number
  readonly hiddenSize: number
  readonly seed: number
  readonly lengths: number[]
  readonly x: Tensor
}

/** Sizes, per-sequence lengths (each in [1, time]) and inputs in [−1.5, 1.5]. */
export const cases = (max = { batch: 2, time: 4, inputSize: 3, hiddenSize: 3 }): fc.Arbitrary<Case> =>
  fc.record({
    batch: fc.integer({ min: 1, max: max.batch }),
    time: fc.integer({ min: 1, max: max.time }),
    inputSize: fc.integer({ min: 1, max: max.inputSize }),
    hiddenSize: fc.integer({ min: 1, max: max.hiddenSize }),
    seed: fc.nat(),
  }).chain((s) => fc.record({
    lengths: fc.array(fc.integer({ min: 1, max: s.time }), { minLength: s.batch, maxLength: s.batch }),
    x: arbitraries.tensorOfShape([s.batch, s.time, s.inputSize], { min: -1.5, max: 1.5 }),
  }).map((rest) => ({ ...s, ...rest })))

/** Both orders: every entry at order 1, random projections at order 2. */
export const checkBoth = (f: (...args: any[]) => unknown, args: readonly unknown[], seed: number): void => {
  expectGradsOk(f, args, { order: 1, key: randomKey(seed) })
  expectGradsOk(f, args, { order: 2, mode: 'projected', projections: 3, key: randomKey(seed + 1) })
}

export const runs = { numRuns: 6, seed: 20240611, endOnFailure: true }

/** The property for a layer built from the drawn sizes, differentiated in (params, x). */
export const layerProperty = (
  make: (c: Case) => nn.RecurrentLayer<any>,
  options: (c: Case) => nn.RecurrentOptions<any> = () => ({}),
  max?: Parameters<typeof cases>[0],
) => () => {
  fc.assert(fc.property(cases(max), (c) => {
    const layer = make(c)
    const params = layer.init(randomKey(c.seed), { dtype: 'float64' })
    const opts = options(c)
    checkBoth((p: nn.Params, x: Tensor) => layer.apply(p, x, opts), [params, c.x], c.seed)
  }), runs)
}

/** A minimal gated unit (Zhou et al., 2016), written by a user: one gate f, h̃ = tanh(W_h[x, f ⊙ h] + b_h). */
export const mgu: nn.CellSpec<{ h: Tensor }> = {
  name: 'mgu',
  params: ({ inputSize, hiddenSize }) => ({
    wf: [inputSize + hiddenSize, hiddenSize], bf: [hiddenSize], wh: [inputSize + hiddenSize, hiddenSize], bh: [hiddenSize],
  }),
  cell: (p, { h }, x) => {
    const f = sigmoid(add(matmul(concat([x, h], -1), p.wf), p.bf))
    const candidate = tanh(add(matmul(concat([x, mul(f, h)], -1), p.wh), p.bh))
    const next = add(h, mul(f, sub(candidate, h)))
    return [{ h: next }, next]
  },
}
