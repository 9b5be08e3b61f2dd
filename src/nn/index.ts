/**
 * @file The `nn` namespace: models as parameter records plus pure functions. Recurrent layers share
 * one contract, `apply(params, xs [batch, time, in], { initialState?, mask?, lengths? })` →
 * `{ outputs [batch, time, hidden × directions], state }` with `state` in PyTorch's
 * `[layers × directions, batch, hidden]` layout.
 */
export type { Model } from './Model.js'
export { activations, resolveActivation } from './activations.js'
export type { Activation, ActivationName } from './activations.js'
export { init, initParams, checkParams } from './init.js'
export type { Params, ParamShapes, Initializer, InitInfo, InitOptions } from './init.js'
export { recurrent, bidirectional, stacked, recurrentLayer, bindCell, cellOfBind, layerParamName } from './recurrent.js'
export type {
  Carry, Cell, CellSizes, BoundCell, CellSpec, RecurrentCore, RecurrentLayer, RecurrentOptions, RecurrentOutput,
  RecurrentState, RecurrentSizes, RunContext, RunResult, StateSlices, StackedOptions, StepInfo,
} from './recurrent.js'
export { cells, elmanSpec, rnnSpec, lstmSpec, gruSpec } from './cells.js'
export type { HiddenCarry, LstmCarry } from './cells.js'
export { elman, rnn, lstm, gru } from './layers.js'
export type { ElmanOptions, TorchRecurrentOptions, InitChoice, HiddenState, LstmState } from './layers.js'
export { minGru, minLstm, minGruSpec, minLstmSpec } from './minRnn.js'
export type { MinRecurrentOptions } from './minRnn.js'
export { lru } from './lru.js'
export type { LruOptions } from './lru.js'
export { linear, dense, embedding } from './dense.js'
export type { DenseLayer, LinearOptions, EmbeddingLayer, EmbeddingOptions } from './dense.js'
export { dropout } from './dropout.js'
export { maskFromLengths, lastStep } from './masks.js'
export type { SequenceMask } from './masks.js'
export { sequenceModel, seedNetwork } from './networks.js'
export type { Readout, SequenceModel, SequenceParams, SeedNetworkOptions } from './networks.js'

import { elmanSpec, gruSpec, lstmSpec, rnnSpec } from './cells.js'

/**
 * The built-in cell specs, to build layers with `nn.recurrent(spec, sizes)` or to read as
 * examples of the spec format: `elman(activation)`, `rnn(nonlinearity)`, `lstm`, `gru`.
 * @example
 * ```ts
 * const layer = nn.stacked([
 *   nn.recurrent(nn.cellSpecs.lstm, { inputSize: 2, hiddenSize: 4 }),
 *   nn.recurrent(nn.cellSpecs.lstm, { inputSize: 4, hiddenSize: 3 }), // layers may differ in size
 * ])
 * const { outputs, state } = layer.apply(layer.init(randomKey(0)), ones([2, 5, 2]))
 * console.log(outputs.shape, (state.c as Tensor[]).map((c) => c.shape)) // [2, 5, 3] [[2, 4], [2, 3]], one per layer
 * ```
 * @category cells
 */
export const cellSpecs = { elman: elmanSpec, rnn: rnnSpec, lstm: lstmSpec, gru: gruSpec } as const
