/**
 * @file Feed-forward layers: linear, dense (linear + activation; the seed's per-step output layer
 * and dense head) and embedding. Parameters are flat records; the row-vector convention holds
 * (`w` is `[in, out]`, unlike PyTorch's `[out, in]` Linear weight).
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { take } from '../autodiff/ops/structural.js'
import { Tensor } from '../tensor/Tensor.js'
import { type Activation, type ActivationName, resolveActivation } from './activations.js'
import { type Initializer, type ParamShapes, type Params, checkParams, init, initParams } from './init.js'
import type { Model } from './Model.js'
import { affine } from './project.js'

/** A feed-forward layer on the last axis: `[..., inputSize]` → `[..., outputSize]`. */
export interface DenseLayer extends Model<Params, Tensor, Tensor> {
  readonly inputSize: number
  readonly outputSize: number
}

export interface LinearOptions {
  readonly inputSize: number
  readonly outputSize: number
  /** Default true. */
  readonly bias?: boolean
  /** 'pytorch' (default): U(±1/√inputSize), as PyTorch's Linear; 'seed': N(0, 1) weights, 0.01·N(0, 1) biases. */
  readonly init?: 'seed' | 'pytorch' | Initializer
}

const positive = (who: string, what: string, n: unknown): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ValueError(`${who}: ${what} must be a positive integer, got ${String(n)}.`)
  return n
}

const resolveLinearInit = (who: string, choice: LinearOptions['init'], inputSize: number): Initializer => {
  if (choice === undefined || choice === 'pytorch') return init.uniform(1 / Math.sqrt(inputSize))
  if (choice === 'seed') return init.seed
  if (typeof choice === 'function') return choice
  throw new ValueError(`${who}: init must be 'seed', 'pytorch' or an initialiser function (see nn.init), got ${JSON.stringify(choice)}.`)
}

const checkFeatures = (who: string, x: unknown, inputSize: number): Tensor => {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}: the input must be a Tensor [..., ${inputSize}], got ${x === null ? 'null' : typeof x}.`)
  const seen = x.rank === 0 ? 0 : x.shape[x.rank - 1]
  if (x.rank === 0 || seen !== inputSize) {
    throw new ShapeError(
      `${who}: expects ${inputSize} input features on the last axis, but the input is ${showShape(x.shape)} (${seen} features). ` +
        `Pass [..., ${inputSize}], or build the layer with inputSize: ${seen}.`,
    )
  }
  return x
}

const denseLayer = (who: string, options: LinearOptions, activation: Activation): DenseLayer => {
  const inputSize = positive(who, 'inputSize', options.inputSize)
  const outputSize = positive(who, 'outputSize', options.outputSize)
  const shapes: ParamShapes = options.bias === false ? { w: [inputSize, outputSize] } : { w: [inputSize, outputSize], b: [outputSize] }
  const initializer = resolveLinearInit(who, options.init, inputSize)
  return {
    inputSize,
    outputSize,
    init: (key, initOptions = {}) => initParams(key, shapes, initializer, initOptions.dtype),
    apply: (params, x) => {
      const p = checkParams(who, params, shapes)
      return activation(affine(who, checkFeatures(who, x, inputSize), p.w, p.b))
    },
  }
}

/**
 * The affine map `y = x·w + b` on the last axis: `[..., in]` → `[..., out]`, parameters
 * `{ w [in, out], b [out] }`. Applied to `[batch, time, hidden]` it acts at every step at once.
 * @example
 * ```ts
 * const head = nn.linear({ inputSize: 3, outputSize: 1 })
 * const params = head.init(randomKey(0)) // { w: [3, 1], b: [1] }
 * console.log(head.apply(params, ones([2, 5, 3])).shape) // [2, 5, 1], every step at once
 * const fixed = { w: tensor([[1], [2], [3]]), b: tensor([0.5]) }
 * console.log(head.apply(fixed, tensor([[1, 1, 1]])).toArray()) // [[6.5]]
 * ```
 * @category layers
 */
export const linear = (options: LinearOptions): DenseLayer => denseLayer('nn.linear', options, (x) => x)

/**
 * `y = σ(x·w + b)` on the last axis. On `[batch, time, hidden]` it is the seed's per-step output
 * layer `ŷ_t = σ(h_t·W_out + b_out)`; on `nn.lastStep(outputs)` it is the seed's dense head
 * `ŷ = σ(h_T·W + b)`.
 * @example
 * ```ts
 * const head = nn.dense({ inputSize: 3, outputSize: 2, activation: 'softmax' })
 * const probs = head.apply(head.init(randomKey(0)), normal(randomKey(1), [4, 3]))
 * console.log(probs.shape, sum(probs, -1).toArray()) // [4, 2] [1, 1, 1, 1] (up to rounding)
 * const noBias = nn.dense({ inputSize: 3, outputSize: 2, bias: false, activation: 'relu' })
 * console.log(Object.keys(noBias.init(randomKey(0)))) // ['w']
 * ```
 * @category layers
 */
export const dense = (options: LinearOptions & { readonly activation?: ActivationName | Activation }): DenseLayer =>
  denseLayer('nn.dense', options, resolveActivation('nn.dense', options.activation ?? 'identity'))

export interface EmbeddingOptions {
  readonly numEmbeddings: number
  readonly embeddingDim: number
  /** Default N(0, 1), as PyTorch's Embedding. */
  readonly init?: Initializer
}

/** An embedding table: integer indices → rows. */
export interface EmbeddingLayer extends Model<Params, Tensor | readonly number[], Tensor> {
  readonly numEmbeddings: number
  readonly embeddingDim: number
}

/**
 * A lookup table `{ weight [numEmbeddings, embeddingDim] }`: indices of any shape → `[...shape,
 * embeddingDim]` (a gather; repeated indices add up in the gradient).
 * @example
 * ```ts
 * const vocab = data.vocabulary(['ab', 'ba'])
 * const table = nn.embedding({ numEmbeddings: vocab.tokens.length, embeddingDim: 16 })
 * const params = table.init(randomKey(0)) // { weight: [4, 16] }
 * const { inputs } = data.encodeBatch(vocab, ['ab', 'b']) // token indices [batch, time] = [2, 3]
 * console.log(table.apply(params, inputs).shape) // [2, 3, 16]
 * console.log(table.apply(params, [2, 3]).shape) // [2, 16]
 * ```
 * @category layers
 */
export const embedding = (options: EmbeddingOptions): EmbeddingLayer => {
  const who = 'nn.embedding'
  const numEmbeddings = positive(who, 'numEmbeddings', options.numEmbeddings)
  const embeddingDim = positive(who, 'embeddingDim', options.embeddingDim)
  const shapes = { weight: [numEmbeddings, embeddingDim] }
  const initializer = options.init ?? init.normal(1)
  return {
    numEmbeddings,
    embeddingDim,
    init: (key, initOptions = {}) => initParams(key, shapes, initializer, initOptions.dtype),
    apply: (params, indices) => {
      const values = indices instanceof Tensor ? indices.data : indices
      const bad = Array.prototype.findIndex.call(values, (v: number) => !(Number.isInteger(v) && v >= 0 && v < numEmbeddings))
      if (bad !== -1) {
        throw new ValueError(`${who}: indices must be integers in [0, ${numEmbeddings}); found ${values[bad]} at position ${bad}.`)
      }
      return take(checkParams(who, params, shapes).weight, indices, 0)
    },
  }
}
