import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import {
  FiniteNumber, NonEmptyString, NonNegativeInt, NonNegativeNumber, PositiveInt, PositiveNumber, Probability,
  decodeWith, oneOf, struct, taggedUnion,
} from '../../src/io/index.js'

const Optimizer = taggedUnion('kind', {
  sgd: struct({ kind: t.literal('sgd'), learningRate: PositiveNumber }, { momentum: NonNegativeNumber }),
  adam: struct({ kind: t.literal('adam'), learningRate: PositiveNumber }, { b1: Probability, b2: Probability }),
})

const RunConfig = struct(
  {
    task: oneOf(['mnist', 'oscillator', 'weather']),
    epochs: PositiveInt,
    optimizer: Optimizer,
    layers: t.array(struct({ hidden: PositiveInt }), 'a list of layers'),
  },
  { seed: NonNegativeInt, name: NonEmptyString, dropout: Probability },
)

const message = (result: E.Either<{ message: string }, unknown>): string => {
  if (E.isRight(result)) throw new Error('expected Left, got Right')
  return result.left.message
}

describe('io.decodeWith', () => {
  it('decodes a valid config, keeping optional fields only when present', () => {
    const value = { task: 'mnist', epochs: 3, optimizer: { kind: 'adam', learningRate: 1e-3 }, layers: [{ hidden: 32 }], seed: 0 }
    expect(decodeWith(RunConfig, value, 'config.json')).toEqual(E.right(value))
  })

  it('reports the documented one-line message for a bad field', () => {
    const result = decodeWith(struct({ optimizer: struct({ learningRate: PositiveNumber }) }), { optimizer: { learningRate: 'fast' } }, 'config.json')
    expect(message(result)).toBe('config.json: /optimizer/learningRate: expected a positive number, got "fast"')
    expect(E.isLeft(result) && result.left).toMatchObject({ kind: 'invalid', source: 'config.json', path: '/optimizer/learningRate' })
  })

  it('lists EVERY invalid field with its path: wrong values, missing, unknown, nested in arrays', () => {
    const bad = {
      task: 'cifar',
      epochs: 0,
      optimizer: { kind: 'adam', learningRate: -1, b1: 1.5 },
      layers: [{ hidden: 32 }, { hidden: 2.5 }, { hiden: 4 }],
      dropout: '0.1',
      epoch: 3,
    }
    expect(message(decodeWith(RunConfig, bad, 'config.json')).split('\n')).toEqual([
      'config.json: /task: expected one of "mnist", "oscillator", "weather", got "cifar"',
      'config.json: /epochs: expected a positive integer, got 0',
      'config.json: /optimizer/learningRate: expected a positive number, got -1',
      'config.json: /optimizer/b1: expected a probability (a number from 0 to 1), got 1.5',
      'config.json: /layers/1/hidden: expected a positive integer, got 2.5',
      'config.json: /layers/2/hidden: is missing (expected a positive integer)',
      'config.json: /layers/2/hiden: unknown field (known fields: hidden)',
      'config.json: /dropout: expected a probability (a number from 0 to 1), got "0.1"',
      'config.json: /epoch: unknown field (known fields: task, epochs, optimizer, layers, seed, name, dropout)',
    ])
  })

  it('reports an unknown tag of a tagged union once, at the tag, with the known tags', () => {
    const value = { task: 'mnist', epochs: 1, optimizer: { kind: 'adamw', learningRate: 1 }, layers: [] }
    expect(message(decodeWith(RunConfig, value, 'run.json'))).toBe('run.json: /optimizer/kind: expected one of "sgd", "adam", got "adamw"')
  })

  it('merges the branches of a plain union into one line per field', () => {
    const codec = struct({ size: t.union([PositiveInt, oneOf(['auto'])]) })
    expect(message(decodeWith(codec, { size: 'big' }, 'c.json'))).toBe('c.json: /size: expected a positive integer or one of "auto", got "big"')
  })

  it('describes the root, built-in codecs and non-JSON values readably', () => {
    expect(message(decodeWith(RunConfig, [1], 'c.json'))).toBe('c.json: /: expected an object, got [1]')
    expect(message(decodeWith(struct({ a: t.number, b: t.string, c: t.boolean }), { a: 'x', b: 1, c: null }, 'c'))).toBe(
      'c: /a: expected a number, got "x"\nc: /b: expected a string, got 1\nc: /c: expected a boolean, got null',
    )
    expect(message(decodeWith(FiniteNumber, Infinity, '--lr'))).toBe('--lr: /: expected a finite number, got Infinity')
    expect(message(decodeWith(NonEmptyString, '', 'name'))).toBe('name: /: expected a non-empty string, got ""')
    expect(message(decodeWith(struct({ 'a/b': t.number }), { 'a/b': 'x' }, 'c'))).toBe('c: /a~1b: expected a number, got "x"')
    const long = message(decodeWith(t.number, { text: 'y'.repeat(200) }, 'c'))
    expect(long.length).toBeLessThan(100)
  })

  it('the reusable codecs accept and reject the right values', () => {
    const accepts = (codec: t.Mixed, values: unknown[]) => values.forEach((v) => expect(codec.is(v), `${codec.name} ${String(v)}`).toBe(true))
    const rejects = (codec: t.Mixed, values: unknown[]) => values.forEach((v) => expect(codec.is(v), `${codec.name} ${String(v)}`).toBe(false))
    accepts(PositiveNumber, [1e-9, 3])
    rejects(PositiveNumber, [0, -1, NaN, Infinity, '1'])
    accepts(PositiveInt, [1, 100])
    rejects(PositiveInt, [0, 1.5, -2, 2 ** 60])
    accepts(NonNegativeInt, [0, 7])
    rejects(NonNegativeInt, [-1, 0.5])
    accepts(Probability, [0, 0.5, 1])
    rejects(Probability, [-0.1, 1.01, NaN])
    accepts(oneOf(['a', 'b']), ['a', 'b'])
    rejects(oneOf(['a', 'b']), ['c', 1, null])
    accepts(Optimizer, [{ kind: 'sgd', learningRate: 0.1 }])
    rejects(Optimizer, [{ kind: 'sgd' }, { kind: 'sgd', learningRate: 0.1, extra: 1 }, null])
  })
})
