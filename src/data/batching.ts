/**
 * @file Minibatches and splits as arrays of row indices. Randomness comes only from an explicit
 * key (`permutation(key, n)`), so the same key gives the same batches and the same split on every
 * machine. Browser-safe.
 */
import { ValueError } from '../errors.js'
import { take } from '../autodiff/ops/structural.js'
import { type Key, permutation } from '../random/random.js'
import { Tensor } from '../tensor/Tensor.js'
import { type BatchSpec, splitBatches } from '../train/batches.js'

export type { BatchSpec }

/**
 * The row indices of each minibatch of one epoch, every index in `0 … n − 1` exactly once: the
 * training loop's `splitBatches` applied to `permutation(key, n)` (or to `0 … n − 1` without a
 * key). `{ batchSize: b }` gives ⌈n / b⌉ batches, the last short; `{ batchCount: c }` is the seed's
 * rule, c batches of ⌊n / c⌋ rows with the remainder added to the last. Unlike the seed (which
 * shuffles once per run), pass a fresh key each epoch, e.g. `train.epochKey(key, epoch)`.
 * @example
 * ```ts
 * console.log(data.batches(5, { batchCount: 2 })) // [[0, 1], [2, 3, 4]]
 * console.log(data.batches(5, { batchSize: 2 })) // [[0, 1], [2, 3], [4]]
 * const epoch3 = data.batches(5, { batchSize: 2 }, train.epochKey(randomKey(0), 3)) // shuffled, the same on every run
 * console.log(epoch3.flat().sort((a, b) => a - b)) // [0, 1, 2, 3, 4]
 * ```
 * @category batching
 */
export const batches = (n: number, spec: BatchSpec, key?: Key): number[][] => {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`data.batches: n must be a positive whole number of rows, got ${n}.`)
  return splitBatches(key === undefined ? Array.from({ length: n }, (_, i) => i) : permutation(key, n), spec, 'data.batches')
}

/**
 * The rows of a tensor at the given indices, along axis 0 (the core `take`, so gradients flow):
 * `out[i, …] = x[indices[i], …]`.
 *
 * @param x a tensor `[n, ...]`.
 * @param indices row indices in `[0, n)`.
 * @returns a tensor `[indices.length, ...]`.
 * @example
 * ```ts
 * const images = reshape(arange(24), [6, 2, 2]) // six 2×2 images
 * const [first] = data.batches(6, { batchSize: 4 }, randomKey(1))
 * console.log(data.takeRows(images, first).shape) // [4, 2, 2]
 * console.log(data.takeRows(tensor([10, 11, 12]), [2, 0]).toArray()) // [12, 10]
 * ```
 * @category batching
 */
export const takeRows = (x: Tensor, indices: readonly number[]): Tensor => take(x, indices, 0)

/** The size of the test part: a fraction of the rows in (0, 1), or a whole count. */
export type SplitSpec = { readonly test: number }

/** Disjoint, sorted row indices of a train/test split. */
export interface Split {
  readonly train: readonly number[]
  readonly test: readonly number[]
}

/**
 * A reproducible random train/test split of `0 … n − 1`. The test part takes the first rows of
 * `permutation(key, n)`; both parts are returned sorted, so a split is easy to store and compare.
 *
 * `test` below 1 is a fraction (test rows = round(fraction · n)); a whole number ≥ 1 is a count.
 * Both parts must be non-empty.
 *
 * @param n the number of rows.
 * @param spec `{ test: fraction | count }`.
 * @param key the random key; the same key gives the same split.
 * @returns `{ train, test }`, disjoint, together covering every row.
 * @example
 * ```ts
 * const { train, test } = data.trainTestSplit(10, { test: 0.2 }, randomKey(0))
 * console.log(train.length, test.length) // 8 2
 * console.log(data.trainTestSplit(10, { test: 3 }, randomKey(0)).test.length) // 3
 * ```
 * @category batching
 */
export const trainTestSplit = (n: number, spec: SplitSpec, key: Key): Split => {
  const who = 'data.trainTestSplit'
  if (!Number.isInteger(n) || n < 2) throw new ValueError(`${who}: n must be a whole number ≥ 2 (one row per part at least), got ${n}.`)
  const t = spec.test
  const isFraction = t > 0 && t < 1
  const count = isFraction ? Math.round(t * n) : t
  if (!(isFraction || Number.isInteger(t)) || count < 1 || count > n - 1) {
    throw new ValueError(
      `${who}: test must be a fraction in (0, 1) or a whole count, leaving both parts non-empty; ` +
        `got ${t}, which gives ${Number.isFinite(count) ? count : 'no'} test rows of ${n}.`,
    )
  }
  const order = permutation(key, n)
  const ascending = (a: number, b: number): number => a - b
  return { train: order.slice(count).sort(ascending), test: order.slice(0, count).sort(ascending) }
}
