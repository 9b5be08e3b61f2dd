/**
 * @file Whole sequence networks: a recurrent body with an output layer read at every step or at
 * each sequence's last step, and the seed's network (input → L Elman layers → output) built from it.
 */
import { ShapeError, ValueError } from '../errors.js'
import { splitKey } from '../random/random.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { Activation, ActivationName } from './activations.js'
import { type DenseLayer, dense } from './dense.js'
import type { Initializer, Params } from './init.js'
import { type InitChoice, elman } from './layers.js'
import { lastStep } from './masks.js'
import type { Model } from './Model.js'
import { type RecurrentLayer, type RecurrentOptions, type RecurrentState, stacked } from './recurrent.js'

/** Where the output layer reads the recurrent outputs: every step, or each sequence's last real step. */
export type Readout = 'perStep' | 'lastStep'

/** The parameters of a sequence network: `{ recurrent: {...}, output: { w, b } }`. */
export type SequenceParams = { readonly recurrent: Params; readonly output: Params }

/** A recurrent body plus an output layer. */
export interface SequenceModel<S = RecurrentState> extends Model<SequenceParams, Tensor, Tensor, RecurrentOptions<S>> {
  readonly recurrent: RecurrentLayer<S>
  readonly output: DenseLayer
  readonly readout: Readout
  /**
   * `apply` plus what a training loop may need: the recurrent outputs and the final state (pass it
   * back as `initialState` to continue the sequences, e.g. for truncated BPTT).
   */
  applyWithState(params: SequenceParams, xs: Tensor, options?: RecurrentOptions<S>): {
    readonly predictions: Tensor
    readonly outputs: Tensor
    readonly state: S
  }
}

/**
 * A recurrent body with an output layer: `perStep` gives `ŷ_t = output(h_t)` for every step,
 * `[batch, time, out]`; `lastStep` gives `ŷ = output(h_T)` from each sequence's last real step,
 * `[batch, out]`. Options (mask, lengths, initialState, key) go to the body. With a mask, per-step
 * predictions at padded steps are `output(0)`: mask them in the loss.
 * @example
 * ```ts
 * const model = nn.sequenceModel({
 *   recurrent: nn.lstm({ inputSize: 4, hiddenSize: 8 }),
 *   output: nn.dense({ inputSize: 8, outputSize: 3, activation: 'softmax' }),
 *   readout: 'lastStep', // one prediction per sequence
 * })
 * const params = model.init(randomKey(0)) // { recurrent: { weight_ih_l0, … }, output: { w, b } }
 * const xs = normal(randomKey(1), [2, 5, 4])
 * console.log(model.apply(params, xs, { lengths: [5, 2] }).shape) // [2, 3], read at each sequence's last real step
 * const { predictions, state } = model.applyWithState(params, xs) // and the LSTM's final { h, c }
 * console.log(predictions.shape, state.c.shape) // [2, 3] [1, 2, 8]
 * ```
 * @category model
 */
export const sequenceModel = <S = RecurrentState>(options: {
  readonly recurrent: RecurrentLayer<S>
  readonly output: DenseLayer
  readonly readout?: Readout
}): SequenceModel<S> => {
  const { recurrent, output } = options
  const readout = options.readout ?? 'perStep'
  if (readout !== 'perStep' && readout !== 'lastStep') {
    throw new ValueError(`nn.sequenceModel: readout must be 'perStep' or 'lastStep', got ${JSON.stringify(readout)}.`)
  }
  if (output.inputSize !== recurrent.outputSize) {
    throw new ShapeError(
      `nn.sequenceModel: the output layer expects ${output.inputSize} features but ${recurrent.name} outputs ${recurrent.outputSize}. ` +
        `Build the output layer with inputSize: ${recurrent.outputSize}.`,
    )
  }
  const applyWithState: SequenceModel<S>['applyWithState'] = (params, xs, runOptions = {}) => {
    const { outputs, state } = recurrent.apply(params.recurrent, xs, runOptions)
    const features = readout === 'perStep' ? outputs : lastStep(outputs, runOptions)
    return { predictions: output.apply(params.output, features), outputs, state }
  }
  return {
    recurrent,
    output,
    readout,
    init: (key, initOptions) => {
      const [recurrentKey, outputKey] = splitKey(key)
      return { recurrent: recurrent.init(recurrentKey, initOptions), output: output.init(outputKey, initOptions) }
    },
    // A last-step readout reads nothing else, so the layer need not hand the other steps' outputs out.
    apply: (params, xs, runOptions = {}) => readout === 'lastStep'
      ? output.apply(params.output, recurrent.apply(params.recurrent, xs, { ...runOptions, outputs: 'lastStep' }).outputs)
      : applyWithState(params, xs, runOptions).predictions,
    applyWithState,
  }
}

export interface SeedNetworkOptions {
  readonly inputSize: number
  /** The hidden size of each recurrent layer, input side first (the seed's "L hidden layers"). */
  readonly hidden: readonly number[]
  /** One activation for every recurrent layer, or one per layer. Default 'tanh'. */
  readonly activations?: ActivationName | Activation | readonly (ActivationName | Activation)[]
  readonly output: {
    readonly size: number
    /** Default 'identity'. */
    readonly activation?: ActivationName | Activation
    /** 'perStep' (the seed's output layer, default) or 'lastStep' (the seed's dense head). */
    readonly readout?: Readout
  }
  /** Default 'seed' (weights ~ N(0, 1), biases ~ 0.01·N(0, 1)) for every layer. */
  readonly init?: 'seed' | Initializer
  /** Dropout rate between recurrent layers, applied when `apply` gets a key. Default 0. */
  readonly dropout?: number
}

/**
 * The seed's network: an input layer (checks the feature count), L Elman layers
 * (`z_t = h^{l−1}_t·wLayer + bLayer + [t > 1](h^l_{t−1}·wTime + bTime)`, each with its own size
 * and activation) and an output layer, per step (`ŷ_t = σ(h_t·W_out + b_out)`) or on the last step
 * (`ŷ = σ(h_T·W + b)`). Parameters: `{ recurrent: { wLayer_l0, bLayer_l0, wTime_l0, bTime_l0,
 * wLayer_l1, ... }, output: { w, b } }`.
 * @example
 * ```ts
 * const net = nn.seedNetwork({ inputSize: 1, hidden: [3], activations: 'tanh', output: { size: 1 } })
 * const params = net.init(randomKey(0)) // { recurrent: { wLayer_l0, bLayer_l0, wTime_l0, bTime_l0 }, output: { w, b } }
 * const { xs, ys } = data.nextStepTask(data.oscillator({ tEnd: 2 }).x) // [1, 19, 1] each
 * const predictions = net.apply(params, xs)
 * console.log(predictions.shape, losses.mse(predictions, ys).item() >= 0) // [1, 19, 1] true
 * const classifier = nn.seedNetwork({ inputSize: 28, hidden: [16, 16], output: { size: 10, activation: 'softmax', readout: 'lastStep' } })
 * console.log(classifier.apply(classifier.init(randomKey(1)), zeros([2, 28, 28])).shape) // [2, 10]
 * ```
 * @category model
 */
export const seedNetwork = (options: SeedNetworkOptions): SequenceModel<RecurrentState> => {
  const who = 'nn.seedNetwork'
  if (!Array.isArray(options.hidden) || options.hidden.length === 0) {
    throw new ValueError(`${who}: hidden must list at least one layer size, e.g. hidden: [3], got ${JSON.stringify(options.hidden)}.`)
  }
  const perLayer = Array.isArray(options.activations) ? options.activations : options.hidden.map(() => options.activations ?? 'tanh')
  if (perLayer.length !== options.hidden.length) {
    throw new ValueError(`${who}: got ${perLayer.length} activations for ${options.hidden.length} recurrent layers; give one, or one per layer.`)
  }
  const init: InitChoice = options.init ?? 'seed'
  const layers = options.hidden.map((hiddenSize, k) =>
    elman({ inputSize: k === 0 ? options.inputSize : options.hidden[k - 1], hiddenSize, activation: perLayer[k], init }))
  return sequenceModel({
    recurrent: stacked(layers, { name: who, dropout: options.dropout }),
    output: dense({
      inputSize: options.hidden[options.hidden.length - 1],
      outputSize: options.output.size,
      activation: options.output.activation ?? 'identity',
      init,
    }),
    readout: options.output.readout ?? 'perStep',
  })
}
