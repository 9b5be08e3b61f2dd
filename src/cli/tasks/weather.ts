/**
 * @file The weather task: tomorrow's maximum temperature from a CSV such as clean_weather.csv
 * (columns date, tmax, tmin, rain, tmax_tomorrow), shown beside persistence ("tomorrow's maximum =
 * today's") and a least-squares linear model on the validation rows. Two presets:
 * - `seed` (the default), the seed's experiment: tmax → tmax_tomorrow, days 0–99 for training and
 *   1000–1069 for validation, min–max scaling fitted on the training inputs, 1 → Elman (identity,
 *   1 unit) → per-step identity output, MSE, Adam η = 1e-3, λ = 1e-3, 50 epochs, then 50 days
 *   extrapolated past the training window. `--missing error` checks only the rows it uses.
 * - `years`: tmax, tmin and rain → tomorrow's tmax over the whole file, split chronologically (the
 *   last fifth of the rows validates, June 2015 to November 2022 in clean_weather.csv; the rest,
 *   less the day before, trains); each day forecast from the 30 days ending at it by a GRU of 32
 *   units read at its last step; Adam 3e-3, clipped to norm 1, cosine decay over 10 epochs, batches
 *   of 64; empty cells (281 in rain) take the value above. The numbers it reached are in
 *   measured.ts (`npm run measure-defaults`).
 */
import { seriesCsvTask } from './series.js'

export const weather = seriesCsvTask({
  name: 'weather',
  title: 'Weather: tomorrow’s maximum temperature',
  summary: 'tmax → tmax_tomorrow beside persistence and a linear model; needs --file',
  strict: false,
  baselines: { persistence: 'tmax', date: 'date' },
  defaults: { preset: 'seed', seed: 0, backend: 'wasm', target: 'tmax_tomorrow', activation: 'identity' },
  presets: {
    seed: {
      description: "the seed's fit: tmax, days 0–99 (validation 1000–1069), Elman identity 1 unit per step, 50 epochs, 50 days extrapolated",
      values: {
        input: 'tmax', missing: 'error', trainWindow: [0, 100], validationWindow: [1000, 1070], extrapolate: 50, readout: 'perStep', sequenceLength: 0,
        cell: 'elman', hidden: 1, batchSize: 1, epochs: 50, learningRate: 1e-3, lambda: 1e-3, schedule: 'constant', clip: 0, dtype: 'float64',
      },
    },
    years: {
      description: 'tmax, tmin, rain over all rows, tested on the last fifth (later years); GRU 32 on 30-day windows, 10 epochs',
      values: {
        input: 'tmax,tmin,rain', missing: 'ffill', trainWindow: null, validationWindow: null, extrapolate: 0, readout: 'lastStep', sequenceLength: 30,
        cell: 'gru', hidden: 32, batchSize: 64, epochs: 10, learningRate: 3e-3, lambda: 0, schedule: 'cosine', clip: 1, dtype: 'float32',
      },
    },
  },
  required: { file: 'the weather CSV, e.g. --file clean_weather.csv with columns date, tmax and tmax_tomorrow (and tmin, rain for --preset years)' },
})
