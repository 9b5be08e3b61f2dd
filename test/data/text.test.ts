import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { END, END_INDEX, START, START_INDEX, decode, encode, encodeBatch, vocabulary } from '../../src/data/index.js'

describe('data.vocabulary', () => {
  it('puts START and END first, then the characters in code-point order (JSDoc example)', () => {
    expect(vocabulary(['ab', 'ba']).tokens).toEqual([START, END, 'a', 'b'])
    expect(START_INDEX).toBe(0)
    expect(END_INDEX).toBe(1)
    expect(vocabulary(['zoë', 'anne-marie']).tokens.slice(2)).toEqual(['-', 'a', 'e', 'i', 'm', 'n', 'o', 'r', 'z', 'ë'])
  })

  it('round-trips: decode(encode(s)) = s for every string of the data', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 0, maxLength: 12, unit: 'grapheme' }), { minLength: 1, maxLength: 8 }), (texts) => {
        const v = vocabulary(texts)
        for (const s of texts) expect(decode(v, encode(v, s))).toBe(s)
      }),
      { numRuns: 40, seed: 3 },
    )
  })

  it('encodes characters without START/END and decodes up to the first END (JSDoc examples)', () => {
    const v = vocabulary(['ab'])
    expect(encode(v, 'ba')).toEqual([3, 2])
    expect(decode(v, [0, 3, 2, 1, 1])).toBe('ba')
  })

  it('refuses characters outside the vocabulary and indices outside it', () => {
    const v = vocabulary(['ab'])
    expect(() => encode(v, 'abc')).toThrow(/character "c" in "abc" is not in the vocabulary/)
    expect(() => decode(v, [2, 9])).toThrow(/index 9 at position 1 is outside the vocabulary \[0, 4\)/)
  })
})

describe('data.encodeBatch', () => {
  const v = vocabulary(['ab', 'abba', 'b'])

  it('shifts inputs and targets by one step, pads with END and masks the padding', () => {
    const { inputs, targets, mask, lengths } = encodeBatch(v, ['ab', 'b'])
    expect(inputs.shape).toEqual([2, 3])
    expect(inputs.toArray()).toEqual([[0, 2, 3], [0, 3, 1]])
    expect(targets.toArray()).toEqual([[2, 3, 1], [3, 1, 1]])
    expect(mask.toArray()).toEqual([[1, 1, 1], [1, 1, 0]])
    expect(lengths).toEqual([2, 1])
  })

  it('decodes each row of the targets back to its string', () => {
    const names = ['abba', 'b', 'ab', '']
    const { inputs, targets } = encodeBatch(v, names, { time: 7 })
    const rows = targets.toArray() as number[][]
    expect(rows.map((r) => decode(v, r))).toEqual(names)
    expect((inputs.toArray() as number[][]).map((r) => decode(v, r))).toEqual(names)
  })

  it('needs room for the longest string and its END', () => {
    expect(() => encodeBatch(v, ['abba'], { time: 4 })).toThrow(/time must be a whole number ≥ 5/)
  })
})
