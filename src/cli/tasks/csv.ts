/**
 * @file The generic version of the weather task for any CSV: one numeric input column → one
 * numeric target column, windows of rows for training and validation (default: the last fifth
 * validates, the rows before it less one train), the training window cut into batched sequences of `--sequence-length` steps, an
 * Elman tanh network of 8 units with a per-step linear output (`--readout lastStep` forecasts each
 * row from a window of several input columns instead). Every cell of the two columns must
 * be a number unless `--missing drop|ffill` says otherwise.
 */
import { seriesCsvTask } from './series.js'

export const csv = seriesCsvTask({
  name: 'csv',
  title: 'Sequence regression on a CSV column',
  summary: 'any CSV: --input column(s) → --target column with a recurrent network; windows with --train-window/--validation-window',
  strict: true,
  defaults: {
    seed: 0, epochs: 30, learningRate: 1e-2, lambda: 1e-4, dtype: 'float64', backend: 'wasm',
    missing: 'error', trainWindow: null, validationWindow: null, extrapolate: 50, readout: 'perStep', sequenceLength: 50, batchSize: 4,
    cell: 'elman', hidden: 8, activation: 'tanh', schedule: 'constant', clip: 0,
  },
  required: {
    file: 'the CSV file, with a header line',
    input: 'the input column, e.g. --input tmax',
    target: 'the column to predict, e.g. --target tmax_tomorrow',
  },
})
