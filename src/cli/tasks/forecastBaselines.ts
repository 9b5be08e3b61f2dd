/**
 * @file The simpler forecasters a series model is shown beside (weather): persistence (tomorrow's
 * maximum = today's) and a least-squares linear model of the last 7 rows of the task's inputs plus
 * the day of the year as sine and cosine, fitted on the training window only, both scored on the
 * validation rows with the model. Their lines for the terminal, summary rows and a figure.
 */
import type { CsvTable } from '../../data/node/csv.js'
import { linearForecast, meanAbsoluteError, persistence, seasonColumns } from '../../data/baselines.js'
import type { IndexRange } from '../../data/series.js'
import type { Figure } from '../../report/types.js'
import { fmt, range } from './common.js'

/** Rows of history the linear baseline reads. */
export const LINEAR_LAGS = 7
/** Validation rows drawn in the comparison figure (the first ones). */
const SHOWN_ROWS = 60

/** Which columns the baselines read: the one that persists and the dates. */
export interface BaselineColumns {
  /** Its value on a row is the persistence forecast of that row's target (weather: tmax). */
  readonly persistence: string
  /** Dates written YYYY-MM-DD, for the season. */
  readonly date: string
}

/** Both baselines' forecasts of the validation rows and the real targets there. */
export interface Baselines {
  readonly rows: IndexRange
  readonly actual: Float64Array
  readonly persistence: Float64Array
  readonly linear: Float64Array
  /** The column that persists. */
  readonly persistenceColumn: string
  /** How the linear baseline was made, for people. */
  readonly linearName: string
}

/** The baselines for a task's windows. */
export const forecastBaselines = (
  table: CsvTable,
  columns: BaselineColumns,
  inputs: readonly string[],
  target: string,
  windows: { readonly train: IndexRange; readonly validation: IndexRange },
): Baselines => {
  const y = table.columns[target]
  const rows = windows.validation
  const linear = linearForecast(inputs.map((c) => table.columns[c]), y, { train: windows.train, test: rows }, {
    lags: LINEAR_LAGS, extra: seasonColumns(table.text[columns.date]),
  })
  return {
    rows,
    actual: y.slice(rows[0], rows[1]),
    persistence: persistence(table.columns[columns.persistence], rows),
    linear: linear.forecasts,
    persistenceColumn: columns.persistence,
    linearName: `least squares on ${LINEAR_LAGS} rows of ${inputs.join(', ')} + day of year (sin, cos), fitted on rows ${linear.fitted[0]}–${linear.fitted[1] - 1}`,
  }
}

/** The baselines' mean absolute errors, as metrics.json and the report keep them. */
export const baselineErrors = (b: Baselines): { readonly persistenceMae: number; readonly linearMae: number } => ({
  persistenceMae: meanAbsoluteError(b.persistence, b.actual),
  linearMae: meanAbsoluteError(b.linear, b.actual),
})

/** `model 3.32, persistence 3.59, linear 3.36 tmax_tomorrow`: the three side by side. */
export const compareLine = (modelMae: number, b: Baselines, target: string): string => {
  const e = baselineErrors(b)
  return `validation mean absolute error ${fmt(modelMae)} ${target} (persistence ${fmt(e.persistenceMae)}, linear ${fmt(e.linearMae)})`
}

/** The report's table of the three forecasters and a plot of their forecasts on the first validation rows. */
export const baselineFigures = (modelMae: number, model: readonly number[], b: Baselines, target: string): Figure[] => {
  const e = baselineErrors(b)
  const shown = Math.min(SHOWN_ROWS, b.actual.length)
  const x = range(shown, b.rows[0])
  const first = (values: ArrayLike<number>): number[] => Array.from({ length: shown }, (_, i) => values[i])
  return [
    { kind: 'text', title: `Mean absolute error on the ${b.actual.length} validation rows (${b.rows[0]}–${b.rows[1] - 1}), in ${target}`, lines: [
      `model        ${fmt(modelMae)}`,
      `persistence  ${fmt(e.persistenceMae)}   (${target} forecast by today's ${b.persistenceColumn})`,
      `linear       ${fmt(e.linearMae)}   (${b.linearName})`,
    ] },
    { kind: 'lines', title: `The three forecasts on the first ${shown} validation rows`, xLabel: 'row (day)', yLabel: target, series: [
      { name: `real ${target}`, x, y: first(b.actual) },
      { name: 'model', x, y: first(model) },
      { name: 'persistence', x, y: first(b.persistence) },
      { name: 'linear', x, y: first(b.linear) },
    ] },
  ]
}
