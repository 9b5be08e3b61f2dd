import { describe, expect, it } from 'vitest'
import { decode, encode, encodeBatch, vocabulary } from '../../../src/data/index.js'
import { loadNames } from '../../../src/data/node/index.js'

describe('loadNames', () => {
  const names = loadNames()

  it('reads both lists lower-cased, without duplicates, sorted: 8,422 names', () => {
    expect(names).toHaveLength(8422)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toEqual([...names].sort())
    expect(names.every((n) => n === n.toLowerCase() && /^[a-z-]+$/.test(n))).toBe(true)
    expect(names).toContain('anne-marie')
    expect(names).toContain('aaron')
  })

  it('reads one list on request', () => {
    const female = loadNames({ lists: ['female'] })
    const male = loadNames({ lists: ['male'] })
    expect(female.length).toBeGreaterThan(4000)
    expect(male.length).toBeGreaterThan(3000)
    expect(female.length + male.length).toBeGreaterThan(names.length) // some names are in both
    expect(() => loadNames({ lists: [] })).toThrow(/lists is empty/)
  })

  it('gives a 29-token vocabulary (START, END, hyphen, 26 letters) that round-trips every name', () => {
    const vocab = vocabulary(names)
    expect(vocab.tokens).toHaveLength(29)
    for (const n of names) expect(decode(vocab, encode(vocab, n))).toBe(n)
    const batch = encodeBatch(vocab, names)
    expect(batch.inputs.shape).toEqual([8422, 16]) // longest names have 15 characters
  })
})
