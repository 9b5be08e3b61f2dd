/**
 * @file The names task's model, apart from its data: no Node API, so the browser playground builds
 * the same model the command line trains.
 */
import type { Vocabulary } from '../../data/text.js'
import { linear } from '../../nn/dense.js'
import { sequenceModel } from '../../nn/networks.js'
import type { CellChoice } from '../config.js'
import { recurrentLayer } from './common.js'

/** The names model for a vocabulary: one-hot characters → recurrent layer → logits over the vocabulary at every step. */
export const namesModel = (cell: CellChoice, hidden: number, vocab: Vocabulary) =>
  sequenceModel({ recurrent: recurrentLayer(cell, { inputSize: vocab.tokens.length, hiddenSize: hidden, elmanActivation: 'tanh' }), output: linear({ inputSize: hidden, outputSize: vocab.tokens.length }), readout: 'perStep' })
