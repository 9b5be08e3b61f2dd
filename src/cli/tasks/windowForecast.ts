/**
 * @file The `lastStep` readout of the series tasks: each row's target forecast from the
 * `--sequence-length` rows of the input columns ending at it (`data.windowedForecastTask`: each
 * column min–max scaled on the training rows, the target like the first), a recurrent layer whose
 * last step a linear output reads, MSE on the scaled values, shuffled minibatches of windows. The
 * report puts the validation error beside the weather baselines and plots the forecasts.
 */
import { slice } from '../../autodiff/ops/structural.js'
import { meanAbsoluteError } from '../../data/baselines.js'
import { minMaxScaler } from '../../data/scaling.js'
import { windowedForecastTask } from '../../data/series.js'
import { mse } from '../../losses/regression.js'
import type { Tensor } from '../../tensor/Tensor.js'
import { evaluate, supervised } from '../../train/evaluate.js'
import { fmt, metricCurve, range, runOptimizer } from './common.js'
import { baselineErrors, baselineFigures, compareLine } from './forecastBaselines.js'
import { type SeriesData, describeSeriesModel, seriesModel } from './seriesModel.js'
import type { Experiment, Params } from './types.js'

/** Windows per forward pass when forecasting or evaluating (bounds memory, not results). */
const CHUNK = 2048
/** Training rows drawn in the report's fit (the last ones, the closest to the validation rows). */
const SHOWN_TRAINING_ROWS = 365

export const windowExperiment = ({ config, table, inputs, target, windows, baselines }: SeriesData): Experiment => {
  const dtype = config.dtype
  const length = config.sequenceLength as number
  const task = windowedForecastTask(inputs.map((c) => table.columns[c]), table.columns[target], {
    train: windows.train, ...(windows.validation === null ? {} : { test: windows.validation }),
  }, { length, dtype })
  const model = seriesModel(config, inputs.length)
  const loss = supervised(model.apply, (p, y) => mse(p, y))
  const unscale = (x: ArrayLike<number>): number[] => Array.from(minMaxScaler.inverse(task.scalers[0], x))
  const train = { inputs: task.train.xs, targets: task.train.ys }
  const validation = task.test === null ? undefined : { inputs: task.test.xs, targets: task.test.ys }
  const batchSize = config.batchSize as number

  /** The model's forecasts of every window of `xs`, in the target's units. */
  const forecast = (params: Params, xs: Tensor): number[] => {
    const out: number[] = []
    for (let start = 0; start < xs.shape[0]; start += CHUNK) {
      const end = Math.min(xs.shape[0], start + CHUNK)
      out.push(...unscale(model.apply(params, slice(xs, [[start, end], [0, length], [0, inputs.length]])).data))
    }
    return out
  }
  const numbers = (params: Params): Record<string, number> => {
    const out: Record<string, number> = { trainMse: evaluate(loss, params, train, { batchSize: CHUNK }).loss }
    if (validation !== undefined && task.test !== null) {
      out.validationMse = evaluate(loss, params, validation, { batchSize: CHUNK }).loss
      out.validationMae = meanAbsoluteError(forecast(params, task.test.xs), unscale(task.test.ys.data))
      out.validationFirstRow = task.test.range[0]
      out.validationLastRow = task.test.range[1] - 1
      if (baselines !== null) Object.assign(out, baselineErrors(baselines))
    }
    return out
  }
  const describe = (n: Record<string, number>): string =>
    [`train MSE ${fmt(n.trainMse)} (scaled)`,
      ...(n.validationMae === undefined ? [] : [baselines === null ? `validation mean absolute error ${fmt(n.validationMae)} ${target}` : compareLine(n.validationMae, baselines, target)])].join('; ')
  const rowsOf = (range_: readonly [number, number]): string => `rows ${range_[0]}–${range_[1] - 1}`

  return {
    network: model,
    model: describeSeriesModel(config, inputs.length),
    data: {
      source: table.source, rows: table.rows, inputs: [...inputs], target, missing: config.missing as string, readout: 'lastStep', sequenceLength: length,
      train: [...task.train.range], validation: task.test === null ? null : [...task.test.range],
      scalers: task.scalers.map((s) => ({ ...s })),
    },
    init: (key) => model.init(key, { dtype }),
    loss,
    optimizer: runOptimizer(config, Math.ceil(task.train.xs.shape[0] / batchSize)),
    train,
    validation,
    batch: { batchSize },
    validationBatchSize: CHUNK,
    sampleName: 'windows',
    finish: (params, run) => {
      const n = numbers(params)
      const shown = Math.min(SHOWN_TRAINING_ROWS, task.train.xs.shape[0])
      const recent = slice(task.train.xs, [[task.train.xs.shape[0] - shown, task.train.xs.shape[0]], [0, length], [0, inputs.length]])
      const trainDays = range(shown, task.train.range[1] - shown)
      const figures = [
        { kind: 'lines' as const, title: `Fit on the last ${shown} training rows (${rowsOf([task.train.range[1] - shown, task.train.range[1]])}), each from the ${length} rows before`, xLabel: 'row (day)', yLabel: target, series: [
          { name: `real ${target}`, x: trainDays, y: unscale(task.train.ys.data.subarray(task.train.xs.shape[0] - shown)) },
          { name: 'fitted', x: trainDays, y: forecast(params, recent) },
        ] },
        ...(task.test === null ? [] : baselines === null
          ? [{ kind: 'lines' as const, title: `Validation forecasts (${rowsOf(task.test.range)})`, xLabel: 'row (day)', yLabel: target, series: [
              { name: `real ${target}`, x: range(task.test.xs.shape[0], task.test.range[0]), y: unscale(task.test.ys.data) },
              { name: 'forecast', x: range(task.test.xs.shape[0], task.test.range[0]), y: forecast(params, task.test.xs) },
            ] }]
          : baselineFigures(n.validationMae, forecast(params, task.test.xs), baselines, target)),
        metricCurve(run.history, 'loss', { title: 'Error per epoch (MSE on scaled values)', yLabel: 'MSE', logY: true }),
      ]
      return { final: n, figures, lines: [`${config.task}: ${describe(n)}`] }
    },
    evaluate: (params) => {
      const n = numbers(params)
      return { lines: [`${config.task}: ${describe(n)}`], json: n }
    },
    predict: (params, { count }) => {
      if (task.test === null) return { lines: [`${config.task}: nothing to predict: the run has no validation rows.`], json: [] }
      const shown = Math.min(count, task.test.xs.shape[0])
      const predicted = forecast(params, slice(task.test.xs, [[0, shown], [0, length], [0, inputs.length]]))
      const real = unscale(task.test.ys.data.subarray(0, shown))
      const rows = range(shown).map((i) => ({
        row: task.test!.range[0] + i, predicted: predicted[i], real: real[i],
        ...(baselines === null ? {} : { persistence: baselines.persistence[i], linear: baselines.linear[i] }),
      }))
      const header = `row     model       ${baselines === null ? '' : 'persistence linear      '}real`
      return {
        lines: [`Forecasts of ${target} on the first validation rows, each from the ${length} rows before it:`, header,
          ...rows.map((r) => `${String(r.row).padEnd(8)}${fmt(r.predicted).padEnd(12)}${r.persistence === undefined ? '' : `${fmt(r.persistence).padEnd(12)}${fmt(r.linear!).padEnd(12)}`}${fmt(r.real)}`)],
        json: rows,
      }
    },
  }
}
