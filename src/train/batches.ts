/**
 * @file Minibatches for the training loop: how many samples a dataset holds, each epoch's key and
 * seeded shuffle, the split into batches (the last takes the remainder) and the gathering of one
 * batch. Pure functions of (key, epoch, n). Imports autodiff/ (take), random/, tree/.
 */
import { take } from '../autodiff/ops/structural.js'
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type Key, permutation, splitKey } from '../random/random.js'
import { treeFlatten, treeMap, treePaths } from '../tree/tree.js'

/**
 * How to cut a dataset into minibatches: `{ batchSize: s }` gives ⌈n / s⌉ batches of s samples, the
 * last holding what remains; `{ batchCount: c }` gives c batches of ⌊n / c⌋ samples, the last also
 * taking the n mod c left over (the seed's `batches` argument).
 * @category training
 */
export type BatchSpec = { readonly batchSize: number; readonly batchCount?: undefined } | { readonly batchCount: number; readonly batchSize?: undefined }

/**
 * The number of samples in a dataset: a pytree of tensors that all share their leading axis.
 * @example
 * ```ts
 * console.log(train.datasetSize({ inputs: zeros([6, 10, 3]), targets: zeros([6, 1]) }, 'myLoop')) // 6
 * try {
 *   train.datasetSize({ inputs: zeros([6, 2]), targets: zeros([5]) }, 'myLoop')
 * } catch (e) {
 *   console.log((e as Error).message) // myLoop: every tensor of the data needs the same leading (sample) axis; …
 * }
 * ```
 * @category training
 */
export const datasetSize = (data: unknown, who: string): number => {
  const { leaves, def } = treeFlatten(data, `${who}: data`)
  if (leaves.length === 0) throw new ValueError(`${who}: the data holds no tensors; pass a tensor or a tree of tensors such as { inputs, targets }.`)
  const paths = treePaths(def, 'data')
  const n = leaves[0].rank === 0 ? -1 : leaves[0].shape[0]
  leaves.forEach((x, i) => {
    if (x.rank === 0 || x.shape[0] !== n) {
      throw new ShapeError(
        `${who}: every tensor of the data needs the same leading (sample) axis; ${paths[0]} is ${showShape(leaves[0].shape)} ` +
          `but ${paths[i]} is ${showShape(x.shape)}. Samples go first: [samples, time, features].`,
      )
    }
  })
  if (n === 0) throw new ValueError(`${who}: the data holds no samples (leading axis 0).`)
  return n
}

/**
 * Cuts an ordering of the samples into minibatches as `spec` says.
 * @example
 * ```ts
 * const order = [0, 1, 2, 3, 4, 5, 6]
 * console.log(train.splitBatches(order, { batchSize: 3 })) // [[0, 1, 2], [3, 4, 5], [6]]
 * console.log(train.splitBatches(order, { batchCount: 3 })) // [[0, 1], [2, 3], [4, 5, 6]]
 * ```
 * @category training
 */
export const splitBatches = (order: readonly number[], spec: BatchSpec, who = 'splitBatches'): number[][] => {
  const n = order.length
  if (spec.batchSize !== undefined) {
    const s = spec.batchSize
    if (!Number.isInteger(s) || s < 1) throw new ValueError(`${who}: batchSize must be a positive integer, got ${s}.`)
    return Array.from({ length: Math.ceil(n / s) }, (_, b) => order.slice(b * s, (b + 1) * s))
  }
  const c = spec.batchCount
  if (!Number.isInteger(c) || c < 1 || c > n) {
    throw new ValueError(`${who}: batchCount must be an integer in [1, ${n}] (the number of samples), got ${c}.`)
  }
  const size = Math.floor(n / c)
  return Array.from({ length: c }, (_, b) => order.slice(b * size, b === c - 1 ? n : (b + 1) * size))
}

/** Exactly one of batchSize / batchCount, checked. */
export const batchSpec = (who: string, options: { batchSize?: number; batchCount?: number }): BatchSpec => {
  const { batchSize, batchCount } = options
  if ((batchSize === undefined) === (batchCount === undefined)) {
    throw new ValueError(`${who}: give exactly one of batchSize (samples per batch) or batchCount (batches per epoch); got ${batchSize === undefined ? 'neither' : 'both'}.`)
  }
  return batchSize !== undefined ? { batchSize } : { batchCount: batchCount as number }
}

/**
 * Epoch `e`'s key: the e-th of the keys split from the run's key. Threefry splits in counter mode,
 * so it depends only on (key, e), never on how many epochs run: resuming at epoch e sees the
 * same key as an uninterrupted run.
 * @example
 * ```ts
 * const run = randomKey(0)
 * console.log(permutation(train.epochKey(run, 0), 5), permutation(train.epochKey(run, 1), 5)) // [4, 1, 3, 0, 2] [4, 0, 2, 1, 3]
 * console.log(permutation(train.epochKey(run, 1), 5)) // [4, 0, 2, 1, 3] again: epoch 1's key depends on nothing else
 * ```
 * @category training
 */
export const epochKey = (key: Key, epoch: number): Key => {
  if (!Number.isInteger(epoch) || epoch < 0) throw new ValueError(`epochKey: epoch must be a non-negative integer, got ${epoch}.`)
  return splitKey(key, epoch + 1)[epoch]
}

/** One epoch's plan: its batches (sample indices) and one key per batch for the losses. */
export interface EpochPlan {
  readonly batches: readonly (readonly number[])[]
  readonly keys: readonly Key[]
}

/**
 * Epoch `e`'s minibatches: a fresh permutation of the n samples drawn from `epochKey(key, e)` (or
 * the samples in order when `shuffle` is false), cut by `spec`, and one key per batch.
 * @example
 * ```ts
 * const plan = train.epochPlan(randomKey(0), 3, 7, { batchSize: 3 })
 * console.log(plan.batches, plan.keys.length) // [[0, 6, 5], [4, 1, 3], [2]] 3
 * console.log(train.epochPlan(randomKey(0), 3, 7, { batchSize: 3 }, { shuffle: false }).batches) // [[0, 1, 2], [3, 4, 5], [6]]
 * ```
 * @category training
 */
export const epochPlan = (key: Key, epoch: number, n: number, spec: BatchSpec, options: { shuffle?: boolean; who?: string } = {}): EpochPlan => {
  const [orderKey, stepsKey] = splitKey(epochKey(key, epoch))
  const order = options.shuffle === false ? Array.from({ length: n }, (_, i) => i) : permutation(orderKey, n)
  const batches = splitBatches(order, spec, options.who)
  return { batches, keys: splitKey(stepsKey, batches.length) }
}

/**
 * Gathers samples `indices` of every tensor of the dataset (along axis 0).
 * @example
 * ```ts
 * const dataset = { inputs: reshape(arange(12), [6, 2]), targets: arange(6) }
 * const batch = train.takeBatch(dataset, [4, 1])
 * console.log(batch.inputs.toArray(), batch.targets.toArray()) // [[8, 9], [2, 3]] [4, 1]
 * ```
 * @category training
 */
export const takeBatch = <D>(data: D, indices: readonly number[]): D => treeMap((x) => take(x, indices, 0), data) as D
