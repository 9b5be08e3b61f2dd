/**
 * @file The ready-made recurrent layers: the seed's Elman layer and PyTorch-compatible rnn, lstm
 * and gru (stacked, bidirectional), all built from the shared machinery in recurrent.ts.
 */
import { ValueError } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { Activation, ActivationName } from './activations.js'
import { type HiddenCarry, type LstmCarry, elmanSpec, gruSpec, lstmSpec, rnnSpec } from './cells.js'
import { type Initializer, init } from './init.js'
import {
  type Carry, type CellSpec, type RecurrentCore, type RecurrentLayer, type RecurrentSizes, bidirectional, checkSize, recurrent, stacked,
} from './recurrent.js'

/** A named initialisation or an initialiser function. */
export type InitChoice = 'seed' | 'pytorch' | Initializer

/** The initialiser for a choice; 'pytorch' is U(±1/√hidden), PyTorch's recurrent default. */
export const resolveInit = (who: string, choice: InitChoice | undefined, hiddenSize: number): Initializer | undefined => {
  if (choice === undefined || typeof choice === 'function') return choice
  if (choice === 'seed') return init.seed
  if (choice === 'pytorch') return init.uniform(1 / Math.sqrt(hiddenSize))
  throw new ValueError(`${who}: init must be 'seed', 'pytorch' or an initialiser function (see nn.init), got ${JSON.stringify(choice)}.`)
}

/** Sizes are checked before anything uses them: a bad hiddenSize would otherwise surface as a bound of the initialiser. */
const checkSizes = (who: string, options: { readonly inputSize: number; readonly hiddenSize: number }): void => {
  checkSize(who, 'inputSize', options.inputSize)
  checkSize(who, 'hiddenSize', options.hiddenSize)
}

/** `{ h }`: `[layers × directions, batch, hidden]`. */
export type HiddenState = { readonly h: Tensor }
/** `{ h, c }`: each `[layers × directions, batch, hidden]`. */
export type LstmState = { readonly h: Tensor; readonly c: Tensor }

export interface ElmanOptions {
  readonly inputSize: number
  readonly hiddenSize: number
  /** A name ('identity', 'tanh', 'relu', 'leakyRelu', 'sigmoid', 'softmax') or any function. Default 'tanh'. */
  readonly activation?: ActivationName | Activation
  /** Default 'seed': weights ~ N(0, 1), biases ~ 0.01·N(0, 1). */
  readonly init?: InitChoice
}

/**
 * The seed's recurrent layer, exactly: `h_t = σ(x_t·wLayer + bLayer + [t > 1]·(h_{t−1}·wTime + bTime))`
 * with parameters `{ wLayer [in, hidden], bLayer [hidden], wTime [hidden, hidden], bTime [hidden] }`
 * (row-vector convention) and no time term — not even `bTime` — at a sequence's first step.
 * Stack several with `nn.stacked` (parameters become `wLayer_l0`, ...).
 * @example
 * ```ts
 * const layer = nn.elman({ inputSize: 1, hiddenSize: 3, activation: 'tanh' })
 * const { xs } = data.nextStepTask(data.oscillator({ tEnd: 2 }).x) // [1, 19, 1]
 * const { outputs, state } = layer.apply(layer.init(randomKey(0)), xs)
 * console.log(outputs.shape, state.h.shape) // [1, 19, 3] [1, 1, 3]
 * ```
 * @category layers
 */
export const elman = (options: ElmanOptions): RecurrentLayer<HiddenState> => {
  checkSizes('nn.elman', options)
  return recurrent<HiddenCarry, HiddenState>(elmanSpec(options.activation ?? 'tanh'), {
    inputSize: options.inputSize,
    hiddenSize: options.hiddenSize,
    init: resolveInit('nn.elman', options.init ?? 'seed', options.hiddenSize),
  })
}

export interface TorchRecurrentOptions {
  readonly inputSize: number
  readonly hiddenSize: number
  /** Default 1. */
  readonly numLayers?: number
  /** Default false. */
  readonly bidirectional?: boolean
  /** Dropout rate between layers, applied when `apply` gets a key (PyTorch's `dropout`). Default 0. */
  readonly dropout?: number
  /** Default 'pytorch': U(±1/√hidden). */
  readonly init?: InitChoice
}

/**
 * PyTorch's layout of a recurrent layer: `numLayers` layers of one cell, each in one direction or
 * both, stacked. `core` makes one layer in one direction from its sizes (default: the cell run by
 * `recurrent`; a layer with a faster form of its own passes it).
 */
export const torchLayers = <C extends Carry, S>(
  spec: CellSpec<C>, options: TorchRecurrentOptions, core: (sizes: RecurrentSizes) => RecurrentCore = (sizes) => recurrent(spec, sizes),
): RecurrentLayer<S> => {
  const who = spec.name
  checkSizes(who, options)
  const numLayers = checkSize(who, 'numLayers', options.numLayers ?? 1)
  const directions = options.bidirectional ? 2 : 1
  const initializer = resolveInit(who, options.init ?? 'pytorch', options.hiddenSize)
  const layers = Array.from({ length: numLayers }, (_, k) => {
    const inputSize = k === 0 ? options.inputSize : options.hiddenSize * directions
    const layer = core({ inputSize, hiddenSize: options.hiddenSize, init: initializer })
    return options.bidirectional ? bidirectional(layer, { name: who }) : layer
  })
  return stacked(layers, { dropout: options.dropout, name: who })
}

/**
 * PyTorch's `nn.RNN` (batch first): `h_t = σ(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)`, σ = tanh
 * (default) or relu. Parameters are PyTorch's: `weight_ih_l{k}[_reverse]` `[hidden, in_k]`,
 * `weight_hh_l{k}` `[hidden, hidden]`, `bias_ih_l{k}`, `bias_hh_l{k}` `[hidden]`, so a PyTorch
 * state dict loads by name. State `{ h: [layers × directions, batch, hidden] }`.
 * @example
 * ```ts
 * const rnn = nn.rnn({ inputSize: 3, hiddenSize: 4, numLayers: 2, nonlinearity: 'relu' })
 * const params = rnn.init(randomKey(0)) // weight_ih_l0 [4, 3], weight_hh_l0 [4, 4], bias_ih_l0, bias_hh_l0, …_l1
 * const { outputs, state } = rnn.apply(params, normal(randomKey(1), [2, 7, 3]))
 * console.log(outputs.shape, state.h.shape) // [2, 7, 4] [2, 2, 4]
 * const h0 = zeros([2, 2, 4]) // or the state of an earlier piece of the same sequences
 * console.log(rnn.apply(params, normal(randomKey(2), [2, 3, 3]), { initialState: { h: h0 } }).outputs.shape) // [2, 3, 4]
 * ```
 * @category layers
 */
export const rnn = (options: TorchRecurrentOptions & { readonly nonlinearity?: 'tanh' | 'relu' }): RecurrentLayer<HiddenState> =>
  torchLayers<HiddenCarry, HiddenState>(rnnSpec(options.nonlinearity ?? 'tanh'), options)

/**
 * PyTorch's `nn.LSTM` (batch first), gates i, f, g, o (equations on `lstmSpec`); parameters
 * `weight_ih_l{k}[_reverse]` `[4·hidden, in_k]`, `weight_hh_l{k}` `[4·hidden, hidden]`, biases
 * `[4·hidden]`. State `{ h, c }`, each `[layers × directions, batch, hidden]`.
 * @example
 * ```ts
 * const lstm = nn.lstm({ inputSize: 2, hiddenSize: 4, numLayers: 2 })
 * const params = lstm.init(randomKey(0)) // weight_ih_l0, …, bias_hh_l1
 * const xs = normal(randomKey(1), [2, 5, 2]) // [batch, time, features]
 * const { outputs, state: { h, c } } = lstm.apply(params, xs, { lengths: [5, 3] })
 * console.log(outputs.shape, h.shape, c.shape) // [2, 5, 4] [2, 2, 4] [2, 2, 4]
 * ```
 * @category layers
 */
export const lstm = (options: TorchRecurrentOptions): RecurrentLayer<LstmState> => torchLayers<LstmCarry, LstmState>(lstmSpec, options)

/**
 * PyTorch's `nn.GRU` (batch first), gates r, z, n with `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`
 * (equations on `gruSpec`); parameters `weight_ih_l{k}[_reverse]` `[3·hidden, in_k]`, `weight_hh_l{k}`
 * `[3·hidden, hidden]`, biases `[3·hidden]`. State `{ h: [layers × directions, batch, hidden] }`.
 * @example
 * ```ts
 * const gru = nn.gru({ inputSize: 2, hiddenSize: 4, bidirectional: true })
 * const params = gru.init(randomKey(0))
 * const xs = normal(randomKey(1), [3, 6, 2])
 * const { outputs, state } = gru.apply(params, xs)
 * console.log(outputs.shape, state.h.shape) // [3, 6, 8] [2, 3, 4]
 * console.log(gru.apply(params, xs, { outputs: 'lastStep' }).outputs.shape) // [3, 8]
 * ```
 * @category layers
 */
export const gru = (options: TorchRecurrentOptions): RecurrentLayer<HiddenState> => torchLayers<HiddenCarry, HiddenState>(gruSpec, options)
