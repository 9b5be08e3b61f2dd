/**
 * Library mistakes a first-hour user makes (issue 21, section 2), each reported by name where it is
 * made, not steps later as NaN or as a bound of an internal function. They live here because the
 * CLI's tasks build their optimisers and layers through the same calls.
 */
import { describe, expect, it } from 'vitest'
import { add, matmul, mean, nn, optim, randomKey, square, sub, tensor, type Tensor } from '../../src/index.js'
import { NonFiniteLossError, fit } from '../../src/train/index.js'

describe('optimiser aliases check the learning rate', () => {
  const aliases = ['sgd', 'momentum', 'adagrad', 'adagradMomentum', 'rmsprop', 'adam', 'adamw'] as const
  it.each(aliases)('optim.%s rejects a negative, NaN or infinite learning rate', (name) => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => optim[name](bad)).toThrow(new RegExp(`^optim\\.${name}: the learning rate must be a finite number ≥ 0, got ${String(bad)}`))
    }
    expect(() => optim[name](1e-3)).not.toThrow()
    expect(() => optim[name](0)).not.toThrow() // frozen parameters: training-loop tests use it
    expect(() => optim[name](() => 0.1)).not.toThrow()
  })
})

describe('recurrent layers name a bad size', () => {
  it.each([
    ['nn.lstm', () => nn.lstm({ inputSize: 4, hiddenSize: 0 }), /^nn\.lstm: hiddenSize must be a positive integer, got 0\.$/],
    ['nn.gru', () => nn.gru({ inputSize: 4, hiddenSize: -2 }), /^nn\.gru: hiddenSize must be a positive integer, got -2\.$/],
    ['nn.rnn', () => nn.rnn({ inputSize: 0, hiddenSize: 3 }), /^nn\.rnn: inputSize must be a positive integer, got 0\.$/],
    ['nn.elman', () => nn.elman({ inputSize: 1, hiddenSize: 0, init: 'pytorch' }), /^nn\.elman: hiddenSize must be a positive integer, got 0\.$/],
  ] as const)('%s', (_, make, message) => {
    expect(make).toThrow(message)
  })
})

describe('a NaN loss from NaN data', () => {
  it('points at the input data first, and summary() leaves out the library-only advice', () => {
    type P = { readonly w: Tensor }
    const data = { x: tensor([[1], [Number.NaN], [2], [3]]), y: tensor([[1], [2], [3], [4]]) }
    const loss = (p: P, batch: typeof data) => mean(square(sub(add(matmul(batch.x, p.w), tensor(0)), batch.y)))
    let error: unknown
    try {
      fit({ loss, optimizer: optim.sgd(0.1), data, params: { w: tensor([[0.5]]) }, key: randomKey(0), epochs: 1, batchSize: 4 })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(NonFiniteLossError)
    const e = error as NonFiniteLossError
    expect(e.message).toContain('If the input data may hold NaN or ±∞, check it first')
    expect(e.summary()).toMatch(/^the loss became NaN at epoch 0, batch 0/)
    expect(e.summary()).not.toContain('error.params')
  })
})
