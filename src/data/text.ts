/**
 * @file Character-level text for sequence models (the names task): a vocabulary built from the
 * data with start and end tokens, encoding of strings into padded index sequences with a mask,
 * and decoding back. Characters are Unicode code points. Browser-safe.
 */
import { ValueError } from '../errors.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'

/**
 * The start-of-sequence token: index 0 in every vocabulary.
 * @example
 * ```ts
 * console.log(data.vocabulary(['ab']).tokens[0] === data.START) // true
 * ```
 * @category text
 */
export const START = '<s>'
/**
 * The end-of-sequence token: index 1 in every vocabulary; also the padding value (masked out).
 * @example
 * ```ts
 * console.log(data.vocabulary(['ab']).tokens[1] === data.END) // true
 * ```
 * @category text
 */
export const END = '</s>'

/**
 * A character vocabulary: `tokens[0] = START`, `tokens[1] = END`, then the characters seen in the
 * data in code-point order. Plain data, so a checkpoint can store it.
 */
export interface Vocabulary {
  readonly tokens: readonly string[]
}

/**
 * Index of the start token.
 * @example
 * ```ts
 * const { inputs } = data.encodeBatch(data.vocabulary(['hi']), ['hi'])
 * console.log(inputs.data[0] === data.START_INDEX) // true, every row starts with START
 * ```
 * @category text
 */
export const START_INDEX = 0
/**
 * Index of the end token.
 * @example
 * ```ts
 * const vocab = data.vocabulary(['hi'])
 * console.log(data.decode(vocab, [3, 2, data.END_INDEX, 2])) // 'ih', decoding stops at END
 * ```
 * @category text
 */
export const END_INDEX = 1

/**
 * Builds the vocabulary of the characters in `texts`, sorted by code point, after START and END.
 * Multi-character token names cannot collide with the single characters of the data.
 *
 * @param texts the training strings.
 * @returns `{ tokens }` with `tokens.length = 2 + distinct characters`.
 * @example
 * ```ts
 * console.log(data.vocabulary(['ab', 'ba']).tokens) // ['<s>', '</s>', 'a', 'b']
 * ```
 * @category text
 */
export const vocabulary = (texts: readonly string[]): Vocabulary => {
  const chars = new Set<string>()
  for (const text of texts) for (const ch of text) chars.add(ch)
  const sorted = [...chars].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0))
  return { tokens: [START, END, ...sorted] }
}

const indexOf = (vocab: Vocabulary): Map<string, number> => new Map(vocab.tokens.map((t, i) => [t, i]))

const encodeWith = (who: string, index: Map<string, number>, text: string): number[] =>
  Array.from(text, (ch) => {
    const i = index.get(ch)
    if (i === undefined || i <= END_INDEX) {
      throw new ValueError(`${who}: character ${JSON.stringify(ch)} in ${JSON.stringify(text)} is not in the vocabulary; build it from data that includes it.`)
    }
    return i
  })

/**
 * The token indices of a string's characters, without start or end tokens.
 * @example
 * ```ts
 * console.log(data.encode(data.vocabulary(['ab']), 'ba')) // [3, 2]
 * ```
 * @category text
 */
export const encode = (vocab: Vocabulary, text: string): number[] => encodeWith('data.encode', indexOf(vocab), text)

/**
 * The string spelled by token indices: a START is skipped, and decoding stops at the first END
 * (so a padded or generated sequence decodes to its text).
 * @example
 * ```ts
 * const vocab = data.vocabulary(['ab'])
 * console.log(data.decode(vocab, [0, 3, 2, 1, 1])) // 'ba'
 * ```
 * @category text
 */
export const decode = (vocab: Vocabulary, indices: ArrayLike<number>): string => {
  let out = ''
  for (let i = 0; i < indices.length; i++) {
    const t = indices[i]
    if (!Number.isInteger(t) || t < 0 || t >= vocab.tokens.length) {
      throw new ValueError(`data.decode: index ${t} at position ${i} is outside the vocabulary [0, ${vocab.tokens.length}).`)
    }
    if (t === END_INDEX) break
    if (t !== START_INDEX) out += vocab.tokens[t]
  }
  return out
}

/** A batch of strings as next-token prediction data, each tensor `[batch, time]`. */
export interface EncodedBatch {
  /** `[START, c₁, …, c_L, END, END, …]` cut to `time` steps: what the model reads. */
  readonly inputs: Tensor
  /** `[c₁, …, c_L, END, END, …]`: the next token at each step. */
  readonly targets: Tensor
  /** 1 at the `L + 1` real steps of each string (its characters and its END), 0 on padding. */
  readonly mask: Tensor
  /** The number of characters L of each string. */
  readonly lengths: readonly number[]
}

/**
 * Encodes strings for next-character prediction: row b predicts `targets[b, t]` from
 * `inputs[b, ≤ t]`. With `time = max L + 1` (default), every string and its END fit; padding
 * holds END and has mask 0, so a masked mean of the per-step loss,
 * `Σ mask·loss / Σ mask`, is the loss per character (END included).
 * Indices are stored as whole numbers in float tensors, ready for `take` or `oneHot`.
 *
 * @param vocab the vocabulary (every character must be in it).
 * @param texts the strings (a batch of B).
 * @param options `time` steps (default: longest length + 1; must fit every string and its END),
 *   `dtype` (default float64).
 * @returns `{ inputs, targets, mask }`, each `[B, time]`, and `lengths`.
 * @example
 * ```ts
 * const vocab = data.vocabulary(['ab', 'b'])
 * const { inputs, targets, mask, lengths } = data.encodeBatch(vocab, ['ab', 'b'])
 * console.log(inputs.toArray()) // [[0, 2, 3], [0, 3, 1]]
 * console.log(targets.toArray()) // [[2, 3, 1], [3, 1, 1]]
 * console.log(mask.toArray(), lengths) // [[1, 1, 1], [1, 1, 0]] [2, 1]
 * ```
 * @category text
 */
export const encodeBatch = (vocab: Vocabulary, texts: readonly string[], options: { time?: number; dtype?: DType } = {}): EncodedBatch => {
  const who = 'data.encodeBatch'
  const index = indexOf(vocab)
  const encoded = texts.map((t) => encodeWith(who, index, t))
  const lengths = encoded.map((e) => e.length)
  const longest = Math.max(0, ...lengths)
  const time = options.time ?? longest + 1
  if (!Number.isInteger(time) || time < longest + 1) {
    throw new ValueError(`${who}: time must be a whole number ≥ ${longest + 1} (the longest string, ${longest} characters, plus END), got ${time}.`)
  }
  const dtype = options.dtype ?? 'float64'
  const size = texts.length * time
  const inputs = allocate(dtype, size).fill(END_INDEX)
  const targets = allocate(dtype, size).fill(END_INDEX)
  const mask = allocate(dtype, size)
  encoded.forEach((ids, b) => {
    const row = b * time
    inputs[row] = START_INDEX
    ids.forEach((id, t) => {
      inputs[row + t + 1] = id
      targets[row + t] = id
    })
    mask.fill(1, row, row + ids.length + 1)
  })
  const shape = [texts.length, time]
  return { inputs: new Tensor(inputs, shape), targets: new Tensor(targets, shape), mask: new Tensor(mask, shape), lengths }
}
