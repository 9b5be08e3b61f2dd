/**
 * @file What the two readouts of the series tasks share: the data a run starts from and its model
 * (series.ts: per step; windowForecast.ts: on the last step of windows).
 */
import type { CsvTable } from '../../data/node/csv.js'
import { linear } from '../../nn/dense.js'
import { type Readout, type SequenceModel, seedNetwork, sequenceModel } from '../../nn/networks.js'
import type { ActivationChoice, CellChoice, CommonConfig, Window } from '../config.js'
import { recurrentLayer } from './common.js'
import type { Baselines } from './forecastBaselines.js'

/** What both kinds of series experiment start from: the resolved config, the table read and the rows used. */
export interface SeriesData {
  readonly config: CommonConfig & Record<string, unknown>
  readonly table: CsvTable
  readonly inputs: readonly string[]
  readonly target: string
  readonly windows: { readonly train: Window; readonly validation: Window | null }
  readonly baselines: Baselines | null
}

/**
 * The model of a series task: the seed's network (an Elman layer, then a linear output) for
 * `--cell elman`, else the cell's layer with a linear output; per step or on the last step.
 */
export const seriesModel = (config: Record<string, unknown>, inputSize: number): SequenceModel<unknown> => {
  const hidden = config.hidden as number
  const readout = config.readout as Readout
  const cell = config.cell as CellChoice
  return (cell === 'elman'
    ? seedNetwork({ inputSize, hidden: [hidden], activations: config.activation as ActivationChoice, output: { size: 1, readout } })
    : sequenceModel({ recurrent: recurrentLayer(cell, { inputSize, hiddenSize: hidden, elmanActivation: 'tanh' }), output: linear({ inputSize: hidden, outputSize: 1 }), readout })) as SequenceModel<unknown>
}

/** The model's description for the checkpoint. */
export const describeSeriesModel = (config: Record<string, unknown>, inputSize: number): Record<string, string | number | number[]> => ({
  kind: config.cell === 'elman' ? 'seedNetwork' : 'sequenceModel',
  cell: config.cell as string, inputSize, hidden: [config.hidden as number],
  ...(config.cell === 'elman' ? { activation: config.activation as string } : {}),
  output: 'linear 1', readout: config.readout as string, dtype: config.dtype as string,
})
