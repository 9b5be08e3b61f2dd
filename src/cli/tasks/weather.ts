/**
 * @file The seed's weather experiment as a CLI task: tmax → tmax_tomorrow from a CSV such as
 * clean_weather.csv, days 0–99 for training and 1000–1069 for validation, min–max scaling fitted
 * on the training inputs, 1 → Elman (identity, 1 unit) → per-step identity output, MSE, Adam
 * η = 1e-3, λ = 1e-3, 50 epochs, then 50 days extrapolated past the training window. `--missing
 * error` (the default) checks only the rows these windows use; see series.ts.
 */
import { seriesCsvTask } from './series.js'

export const weather = seriesCsvTask({
  name: 'weather',
  title: 'Weather: tomorrow’s maximum temperature',
  summary: "the seed's weather fit: tmax → tmax_tomorrow, days 0–99 (validation 1000–1069), Elman identity 1 unit, 50 epochs; needs --file",
  strict: false,
  defaults: {
    seed: 0, epochs: 50, learningRate: 1e-3, lambda: 1e-3, dtype: 'float64', backend: 'wasm',
    input: 'tmax', target: 'tmax_tomorrow', missing: 'error', trainWindow: [0, 100], validationWindow: [1000, 1070], extrapolate: 50,
    sequenceLength: 0, batchSize: 1, hidden: 1, activation: 'identity',
  },
  required: { file: 'the weather CSV, e.g. --file clean_weather.csv with columns tmax and tmax_tomorrow' },
})
