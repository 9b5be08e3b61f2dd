/**
 * @file The parity harness of the layers linear in the carry (nn.minGru, nn.minLstm, nn.lru): the
 * run configurations, and one layer's outputs, final state and gradients in one mode, so that the
 * parallel mode can be compared with the sequential reference.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { type Key, type Shape, type Tensor, add, grad, mul, normal, randomKey, splitKey, sum } from '../../src/index.js'
import type * as nn from '../../src/nn/index.js'
import { type Case, cases, runs } from './gradHarness.js'
import { expectClose, expectGradsOk } from './support.js'

export interface Config {
  readonly numLayers?: number
  readonly bidirectional?: boolean
  readonly masked?: boolean
  readonly reverse?: boolean
  readonly initialState?: boolean
  readonly lastStep?: boolean
}

export const configs: Record<string, Config> = {
  plain: {},
  masked: { masked: true },
  'masked, reversed, from a given state': { masked: true, reverse: true, initialState: true },
  'stacked bidirectional, masked': { numLayers: 2, bidirectional: true, masked: true, initialState: true },
  'stacked bidirectional, last step': { numLayers: 2, bidirectional: true, lastStep: true },
}

/** What `runMode` needs of a layer kind: the layer for the drawn sizes and config, and an initial state of `slices`. */
export interface Subject {
  readonly layer: (c: Case, config: Config) => nn.RecurrentLayer<nn.HiddenState>
  readonly initialState: (key: Key, shape: Shape) => Tensor
  /** The state's width per slice (default the hidden size). */
  readonly stateWidth?: (c: Case) => number
}

/** Outputs, final state and the gradients of a weighted sum of both. */
export const runMode = (subject: Subject, config: Config, c: Case) => {
  const layer = subject.layer(c, config)
  const [kp, kh, kw, kv] = splitKey(randomKey(c.seed), 4)
  const params = layer.init(kp, { dtype: 'float64' })
  const slices = (config.numLayers ?? 1) * (config.bidirectional ? 2 : 1)
  const h0 = subject.initialState(kh, [slices, c.batch, subject.stateWidth?.(c) ?? c.hiddenSize])
  const options = (h: Tensor): nn.RecurrentOptions<nn.HiddenState> => ({
    ...(config.masked ? { lengths: c.lengths } : {}),
    ...(config.reverse ? { reverse: true } : {}),
    ...(config.initialState ? { initialState: { h } } : {}),
    ...(config.lastStep ? { outputs: 'lastStep' as const } : {}),
  })
  const { outputs, state } = layer.apply(params, c.x, options(h0))
  const wOut = normal(kw, outputs.shape)
  const wState = normal(kv, state.h.shape)
  const loss = (p: nn.Params, x: Tensor, h: Tensor): Tensor => {
    const r = layer.apply(p, x, options(h))
    return add(sum(mul(r.outputs, wOut)), sum(mul(r.state.h, wState)))
  }
  const [gp, gx, gh] = grad(loss, { argnums: [0, 1, 2] })(params, c.x, h0) as [nn.Params, Tensor, Tensor]
  return { outputs, h: state.h, gp, gx, gh }
}

/** The parallel and sequential runs agree to 1e-12 in everything. */
export const expectSameRuns = (par: ReturnType<typeof runMode>, seq: ReturnType<typeof runMode>, config: Config): void => {
  expectClose(par.outputs, seq.outputs, 1e-12, 'outputs')
  expectClose(par.h, seq.h, 1e-12, 'state.h')
  expectClose(par.gx, seq.gx, 1e-12, 'd/dx')
  if (config.initialState === true) expectClose(par.gh, seq.gh, 1e-12, 'd/dh0')
  expect(Object.keys(par.gp).sort()).toEqual(Object.keys(seq.gp).sort())
  for (const name of Object.keys(seq.gp)) expectClose(par.gp[name], seq.gp[name], 1e-12, `d/d${name}`)
}

/** One test per configuration: random cases run in both modes give the same outputs, state and gradients. */
export const itModesAgree = (subjectIn: (mode: 'parallel' | 'sequential') => Subject): void => {
  it.each(Object.entries(configs))('%s', (_, config) => {
    fc.assert(fc.property(cases({ batch: 3, time: 5, inputSize: 3, hiddenSize: 3 }), (c) => {
      expectSameRuns(runMode(subjectIn('parallel'), config, c), runMode(subjectIn('sequential'), config, c), config)
    }), runs)
  })
}

/** Gradients with respect to (params, x, h0) of a layer and of a transcription, equal to 1e-12. */
export const expectSameGrads = (ours: readonly [nn.Params, Tensor, Tensor], theirs: readonly [nn.Params, Tensor, Tensor]): void => {
  expectClose(ours[1], theirs[1], 1e-12, 'd/dx')
  expectClose(ours[2], theirs[2], 1e-12, 'd/dh0')
  for (const name of Object.keys(ours[0])) expectClose(ours[0][name], theirs[0][name], 1e-12, `d/d${name}`)
}

/** A masked (lengths 3 and 2), bidirectional layer of two units passes checkGrads at order 1. */
export const expectMaskedLayerGradsOk = (layer: nn.RecurrentLayer<nn.HiddenState>): void => {
  const [kp, kx] = splitKey(randomKey(3))
  const params = layer.init(kp, { dtype: 'float64' })
  const x = normal(kx, [2, 3, 2])
  expectGradsOk((p: nn.Params, xs: Tensor) => layer.apply(p, xs, { lengths: [3, 2] }), [params, x], { order: 1, key: randomKey(4) })
}
