/**
 * @file Random keys: determinism, splitting, sample moments, and the Threefry-2x32 known answers.
 */
import { describe, expect, it } from 'vitest'
import {
  type Key, ValueError, categorical, keyFromWords, normal, permutation, randomKey, splitKey, tensor, uniform,
} from '../../src/index.js'
import { threefry } from '../../src/random/random.js'

const hex = (words: Uint32Array): string[] => Array.from(words, (w) => w.toString(16).padStart(8, '0'))

const moments = (data: ArrayLike<number>): { mean: number; variance: number } => {
  let s = 0
  for (let i = 0; i < data.length; i++) s += data[i]
  const mean = s / data.length
  let v = 0
  for (let i = 0; i < data.length; i++) v += (data[i] - mean) ** 2
  return { mean, variance: v / (data.length - 1) }
}

describe('random.threefry', () => {
  // Random123's known-answer vectors for threefry2x32 with 20 rounds: [key, counter, output].
  it.each([
    [[0x00000000, 0x00000000], [0x00000000, 0x00000000], ['6b200159', '99ba4efe']],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], ['1cb996fc', 'bb002be7']],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], ['c4923a9c', '483df7a0']],
  ])('key %j, counter %j', ([k0, k1], [x0, x1], expected) => {
    const out = new Uint32Array(2)
    threefry(k0, k1, x0, x1, out, 0)
    expect(hex(out)).toEqual(expected)
  })
})

describe('random keys', () => {
  it('the same key gives the same numbers', () => {
    const key = randomKey(42)
    expect(normal(key, [5]).toArray()).toEqual(normal(randomKey(42), [5]).toArray())
    expect(uniform(key, [2, 3]).toArray()).toEqual(uniform(key, [2, 3]).toArray())
    expect(permutation(key, 10)).toEqual(permutation(key, 10))
    expect(splitKey(key, 3)).toEqual(splitKey(randomKey(42), 3))
  })

  it('gives the same numbers on every machine (pinned values for seed 0)', () => {
    const key = randomKey(0)
    expect(splitKey(key).map((k) => k.words)).toEqual([[3209186213, 3633839910], [2657313455, 3765769444]])
    // 53-bit integers divided by 2⁵³: exact, whatever the engine.
    expect(uniform(key, [3]).toArray()).toEqual([0.41845711022987275, 0.3146817218764961, 0.39316028345159515])
    // Box–Muller goes through log, cos and sin, which engines may round differently in the last bit.
    const z = normal(key, [3]).toArray() as number[]
    ;[-0.4116069057099756, 0.9564104037503303, -0.17882175885752383].forEach((v, i) => expect(z[i]).toBeCloseTo(v, 12))
  })

  it('split keys differ from each other, from their parent, and between seeds', () => {
    const parent = randomKey(7)
    const children = splitKey(parent, 8)
    const words = new Set([parent, ...children].map((k) => k.words.join(':')))
    expect(words.size).toBe(9)
    const [a, b] = splitKey(parent)
    expect(normal(a, [4]).toArray()).not.toEqual(normal(b, [4]).toArray())
    expect(normal(randomKey(1), [4]).toArray()).not.toEqual(normal(randomKey(2), [4]).toArray())
    // Seeds beyond 2³² keep their high word.
    expect(randomKey(2 ** 32).words).not.toEqual(randomKey(0).words)
  })

  it('keys round-trip through their words', () => {
    const key: Key = splitKey(randomKey(3))[1]
    expect(keyFromWords(key.words)).toEqual(key)
    expect(uniform(keyFromWords(key.words), [3]).toArray()).toEqual(uniform(key, [3]).toArray())
  })

  it('rejects bad seeds, counts and keys', () => {
    expect(() => randomKey(1.5)).toThrow(ValueError)
    expect(() => splitKey(randomKey(0), 0)).toThrow(/n must be a positive integer/)
    expect(() => normal({} as Key, [2])).toThrow(/expected a key/)
    expect(() => uniform(randomKey(0), [2], { low: 1, high: 1 })).toThrow(/low must be below high/)
  })
})

describe('random samples', () => {
  const n = 100_000

  it('normal has mean 0 and variance 1 (10⁵ samples)', () => {
    const { mean, variance } = moments(normal(randomKey(11), [n]).data)
    // Standard errors are 1/√n ≈ 0.0032 and √(2/n) ≈ 0.0045: these bounds are about 6σ.
    expect(Math.abs(mean)).toBeLessThan(0.02)
    expect(Math.abs(variance - 1)).toBeLessThan(0.03)
  })

  it('uniform has mean (low + high)/2 and variance (high − low)²/12, inside [low, high)', () => {
    const x = uniform(randomKey(12), [n], { low: -1, high: 3 })
    const { mean, variance } = moments(x.data)
    expect(Math.abs(mean - 1)).toBeLessThan(0.03) // standard error 4/√(12n) ≈ 0.0037
    expect(Math.abs(variance - 16 / 12)).toBeLessThan(0.03)
    expect(x.data.every((v) => v >= -1 && v < 3)).toBe(true)
  })

  it('honours shape and dtype, odd sizes included', () => {
    expect(normal(randomKey(0), [3, 1], { dtype: 'float32' }).dtype).toBe('float32')
    expect(normal(randomKey(0), [3, 1]).shape).toEqual([3, 1])
    expect(normal(randomKey(0), [7]).data.every(Number.isFinite)).toBe(true)
    expect(uniform(randomKey(0), [], { dtype: 'float32' }).shape).toEqual([])
  })

  it('permutation is a permutation', () => {
    const p = permutation(randomKey(5), 50)
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('categorical draws classes with softmax(logits) frequencies', () => {
    const logits = [Math.log(0.2), Math.log(0.5), Math.log(0.3)]
    const batch = 20_000
    const draws = categorical(randomKey(9), tensor(Array.from({ length: batch }, () => logits)))
    const freq = [0, 1, 2].map((c) => draws.filter((d) => d === c).length / batch)
    ;[0.2, 0.5, 0.3].forEach((p, c) => expect(Math.abs(freq[c] - p)).toBeLessThan(0.02)) // SE ≤ 0.0036
  })
})
