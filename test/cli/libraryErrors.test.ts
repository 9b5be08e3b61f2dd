/**
 * Library mistakes a first-hour user makes (issue 21, section 2), each reported by name where it is
 * made, not steps later as NaN or as a bound of an internal function. They live here because the
 * CLI's tasks build their optimisers and layers through the same calls.
 */
import { describe, expect, it } from 'vitest'
import { optim } from '../../src/index.js'

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
