/**
 * @file Splittable, counter-based random keys (JAX's design): a key is two 32-bit words; splitting
 * and sampling hash (key, counter) with Threefry-2x32 (Salmon et al., 2011, 20 rounds). The same
 * key gives the same numbers on every run and machine. Math.random is never used.
 */
import { ValueError } from '../errors.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'
import { type Shape, checkShape, sizeOf } from '../tensor/shape.js'

/** A random key. Never reuse a key for two purposes: split it. @category random */
export interface Key {
  readonly kind: 'scangrad.key'
  readonly words: readonly [number, number]
}

const makeKey = (a: number, b: number): Key => Object.freeze({ kind: 'scangrad.key', words: Object.freeze([a >>> 0, b >>> 0]) as readonly [number, number] })

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24]
const PARITY = 0x1bd11bda

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0

/**
 * Threefry-2x32 with 20 rounds: a keyed bijection on pairs of 32-bit words. Writes the two output
 * words of counter (x0, x1) under key (k0, k1) to `out[at]`, `out[at + 1]`. Exported (not public)
 * for the Random123 known-answer test.
 */
export const threefry = (k0: number, k1: number, x0: number, x1: number, out: Uint32Array, at: number): void => {
  const ks = [k0, k1, (k0 ^ k1 ^ PARITY) >>> 0]
  let a = (x0 + ks[0]) >>> 0
  let b = (x1 + ks[1]) >>> 0
  for (let group = 0; group < 5; group++) {
    for (let r = 0; r < 4; r++) {
      a = (a + b) >>> 0
      b = rotl(b, ROTATIONS[(group % 2) * 4 + r]) ^ a
    }
    a = (a + ks[(group + 1) % 3]) >>> 0
    b = (b + ks[(group + 2) % 3] + group + 1) >>> 0
  }
  out[at] = a
  out[at + 1] = b
}

/** `count` pseudo-random 32-bit words from a key: Threefry in counter mode. */
const randomBits = (key: Key, count: number): Uint32Array => {
  const pairs = Math.ceil(count / 2)
  const out = new Uint32Array(pairs * 2)
  const [k0, k1] = key.words
  for (let i = 0; i < pairs; i++) threefry(k0, k1, i, 0, out, 2 * i)
  return out
}

const checkKey = (who: string, key: unknown): Key => {
  const k = key as Key
  if (k === null || typeof k !== 'object' || k.kind !== 'scangrad.key') {
    throw new ValueError(`${who}: expected a key from randomKey(seed) or splitKey(key), got ${key === null ? 'null' : typeof key}.`)
  }
  return k
}

/**
 * A key from an integer seed.
 * @example const [initKey, dataKey] = splitKey(randomKey(0))
 * @category random
 */
export const randomKey = (seed: number): Key => {
  if (!Number.isSafeInteger(seed)) throw new ValueError(`randomKey: the seed must be a safe integer, got ${seed}.`)
  // High and low 32 bits, so seeds beyond 2³² still give distinct keys.
  return makeKey(Math.floor(seed / 2 ** 32), seed % 2 ** 32)
}

/**
 * A key restored from its two words (as stored in a checkpoint).
 * @example
 * ```ts
 * const key = splitKey(randomKey(0))[1]
 * const saved = JSON.stringify(key.words)
 * const restored = keyFromWords(JSON.parse(saved))
 * equal(uniform(restored, [3]), uniform(key, [3])).toArray() // [1, 1, 1]: the same stream
 * ```
 * @category random
 */
export const keyFromWords = (words: readonly [number, number]): Key => makeKey(words[0], words[1])

/**
 * `n` (default 2) independent keys derived from one.
 * @example
 * ```ts
 * const [initKey, dataKey] = splitKey(randomKey(0))
 * const epochKeys = splitKey(dataKey, 10)
 * epochKeys.length // 10
 * equal(normal(initKey, [2]), normal(dataKey, [2])).toArray() // [0, 0]: independent streams
 * ```
 * @category random
 */
export const splitKey = (key: Key, n = 2): Key[] => {
  checkKey('splitKey', key)
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`splitKey: n must be a positive integer, got ${n}.`)
  const bits = randomBits(makeKey(key.words[0] ^ 0x5f3759df, key.words[1]), 2 * n)
  return Array.from({ length: n }, (_, i) => makeKey(bits[2 * i], bits[2 * i + 1]))
}

/** Uniform doubles in [0, 1) with 53 random bits each. */
const unitUniform = (key: Key, count: number): Float64Array => {
  const bits = randomBits(key, 2 * count)
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) out[i] = ((bits[2 * i] >>> 5) * 67108864 + (bits[2 * i + 1] >>> 6)) / 9007199254740992
  return out
}

/** Options of the samplers. @category random */
export interface RandomOptions {
  readonly dtype?: DType
}

/**
 * Samples from U[low, high).
 * @example
 * ```ts
 * const u = uniform(randomKey(0), [1000], { low: -1, high: 1 })
 * u.shape                // [1000]
 * max(abs(u)).item() < 1 // true
 * uniform(randomKey(0), [2, 3], { dtype: 'float32' }).dtype // 'float32'
 * ```
 * @category random
 */
export const uniform = (key: Key, shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor => {
  checkKey('uniform', key)
  checkShape('uniform', shape)
  const { low = 0, high = 1 } = options
  if (!(low < high)) throw new ValueError(`uniform: low must be below high, got low ${low}, high ${high}.`)
  const u = unitUniform(key, sizeOf(shape))
  const data = allocate(options.dtype ?? 'float64', u.length)
  for (let i = 0; i < u.length; i++) data[i] = low + (high - low) * u[i]
  return new Tensor(data, shape)
}

/**
 * Samples from the standard normal N(0, 1), by the Box–Muller transform.
 * @example
 * ```ts
 * normal(randomKey(0), [2]).toArray() // [-0.4116069057099756, 0.9564104037503303] on every run and machine
 * const w = mul(normal(randomKey(1), [64, 32]), Math.sqrt(1 / 64)) // an initialisation of scale 1/√fan-in
 * w.shape // [64, 32]
 * ```
 * @category random
 */
export const normal = (key: Key, shape: Shape, options: RandomOptions = {}): Tensor => {
  checkKey('normal', key)
  checkShape('normal', shape)
  const n = sizeOf(shape)
  const u = unitUniform(key, 2 * Math.ceil(n / 2))
  const data = allocate(options.dtype ?? 'float64', n)
  for (let i = 0; i < n; i += 2) {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - u[i]))
    const angle = 2 * Math.PI * u[i + 1]
    data[i] = radius * Math.cos(angle)
    if (i + 1 < n) data[i + 1] = radius * Math.sin(angle)
  }
  return new Tensor(data, shape)
}

/**
 * A random permutation of 0, …, n − 1 (Fisher–Yates driven by the key).
 * @example
 * ```ts
 * const order = permutation(randomKey(0), 5)
 * order                                    // [4, 0, 1, 2, 3]
 * take(tensor([10, 11, 12, 13, 14]), order).toArray() // [14, 10, 11, 12, 13]: the rows shuffled
 * ```
 * @category random
 */
export const permutation = (key: Key, n: number): number[] => {
  checkKey('permutation', key)
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`permutation: n must be a non-negative integer, got ${n}.`)
  const u = unitUniform(key, n)
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

/**
 * Draws one category per row from unnormalised log-probabilities `[batch, classes]`.
 * @example
 * ```ts
 * const logits = tensor([[0, 0, 0], [0, -Infinity, 1000]])
 * categorical(randomKey(0), logits) // [1, 2]: row 0 uniform, row 1 all but certainly class 2
 * ```
 * @category random
 */
export const categorical = (key: Key, logits: Tensor): number[] => {
  checkKey('categorical', key)
  if (logits.rank !== 2) throw new ValueError(`categorical: logits must be [batch, classes], got rank ${logits.rank}.`)
  const [batch, classes] = logits.shape
  const u = unitUniform(key, batch)
  return Array.from({ length: batch }, (_, b) => {
    const row = logits.data.subarray(b * classes, (b + 1) * classes)
    let peak = -Infinity
    for (const v of row) peak = Math.max(peak, v)
    const weights = Array.from(row, (v) => Math.exp(v - peak))
    let target = u[b] * weights.reduce((s, w) => s + w, 0)
    for (let c = 0; c < classes; c++) {
      target -= weights[c]
      if (target < 0) return c
    }
    return classes - 1
  })
}
