/**
 * @file Shared helpers for the nn tests: max-abs-difference comparison with a readable failure,
 * loading PyTorch fixtures, and a gradient-check assertion.
 */
import * as E from 'fp-ts/lib/Either.js'
import { readFileSync, readdirSync } from 'node:fs'
import { expect } from 'vitest'
import { type CheckGradsOptions, Tensor, checkGrads, nn, tensor } from '../../src/index.js'

/** The largest |a − b| entry, with its flat index. Shapes must match. */
export const maxAbsDiff = (a: Tensor, b: Tensor): { value: number; index: number } => {
  let value = 0
  let index = -1
  for (let i = 0; i < a.size; i++) {
    const d = Math.abs(a.data[i] - b.data[i])
    if (!(d <= value)) {
      value = d
      index = i
    }
  }
  return { value, index }
}

/** Asserts same shape and max |a − b| ≤ atol, naming `what` and the worst entry on failure. */
export const expectClose = (actual: Tensor, expected: Tensor, atol: number, what: string): number => {
  expect([...actual.shape], `${what}: shape`).toEqual([...expected.shape])
  const { value, index } = maxAbsDiff(actual, expected)
  const detail = index < 0 ? '' : ` at flat index ${index}: ${actual.data[index]} vs ${expected.data[index]}`
  expect(value <= atol, `${what}: max abs diff ${value}${detail} > ${atol}`).toBe(true)
  return value
}

/** `{ shape, data }` from a fixture → Tensor (float64). */
export const fromJson = (t: { shape: number[]; data: number[] }): Tensor => tensor(t.data, { shape: t.shape })

export interface TensorJson { readonly shape: number[]; readonly data: number[] }

/** One PyTorch fixture (schema in scripts/fixtures/torch_rnn.py). */
export interface TorchFixture {
  readonly kind: 'rnn' | 'lstm' | 'gru'
  readonly meta: { readonly name: string }
  readonly config: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; nonlinearity?: 'tanh' | 'relu' }
  readonly params: Record<string, TensorJson>
  readonly x: TensorJson
  readonly lengths: number[] | null
  readonly initialState: null | Record<string, TensorJson>
  readonly outputs: TensorJson
  readonly state: Record<string, TensorJson>
  readonly loss: { outputsWeight: TensorJson; hWeight: TensorJson; cWeight?: TensorJson; value: number }
  readonly grads: { params: Record<string, TensorJson>; x: TensorJson; initialState: null | Record<string, TensorJson> }
}

const fixtureDir = new URL('../fixtures/torch/', import.meta.url)

export const loadTorchFixtures = (): TorchFixture[] =>
  readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, fixtureDir), 'utf8')) as TorchFixture)

/** Fails with checkGrads' own message (worst entries) unless the check passes. */
export const expectGradsOk = (f: (...args: any[]) => unknown, args: readonly unknown[], options: CheckGradsOptions = {}): void => {
  const result = checkGrads(f, args, options)
  if (E.isLeft(result)) expect.fail(result.left.message)
}

/**
 * A cell spec whose step carries no sequence kernel: `scan` then runs the step's composition, the
 * reference every kernel is tested against.
 */
export const composedOnly = <C extends nn.Carry>(spec: nn.CellSpec<C>): nn.CellSpec<C> => ({
  ...spec,
  bind: (params) => {
    const bound = nn.bindCell(spec, params)
    return { project: bound.project, step: (carry, x) => bound.step(carry, x) }
  },
})

/** A PyTorch-style stack (`nn.lstm`'s layout and parameter names) of a spec whose steps run without kernels. */
export const composedTorchLayer = <C extends nn.Carry>(
  spec: nn.CellSpec<C>, options: { inputSize: number; hiddenSize: number; numLayers?: number; bidirectional?: boolean },
): nn.RecurrentLayer<any> => {
  const directions = options.bidirectional === true ? 2 : 1
  const layers = Array.from({ length: options.numLayers ?? 1 }, (_, k) => {
    const layer = nn.recurrent(composedOnly(spec), { inputSize: k === 0 ? options.inputSize : options.hiddenSize * directions, hiddenSize: options.hiddenSize })
    return directions === 2 ? nn.bidirectional(layer, { name: spec.name }) : layer
  })
  return nn.stacked(layers, { name: spec.name })
}
