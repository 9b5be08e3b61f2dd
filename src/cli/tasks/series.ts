/**
 * @file Time-series regression from a CSV, shared by the `weather` task (the seed's experiment,
 * with its windows and settings as defaults, and a preset over years of data) and the generic
 * `csv` task. Two readouts:
 * - `perStep` (the seed's): one input column → the target column, min–max scaled on the training
 *   inputs, a recurrent network with an output at every step, MSE; plots of the fit, the
 *   validation fit, the extrapolation past the training window against the real values, the loss
 *   per epoch (log scale) and an animation of the fit epoch by epoch (this file).
 * - `lastStep`: each row forecast from the `--sequence-length` rows of one or more input columns
 *   ending at it (windowForecast.ts).
 * The weather task shows persistence and a linear model beside the model (forecastBaselines.ts).
 * Both windows `auto` split the rows chronologically: the last fifth validates, the rest trains,
 * less the row just before the validation rows, whose target (tomorrow's) is a validation day's.
 *
 * Missing cells (`--missing`): `drop` skips rows (windows then count the kept rows), `ffill`
 * repeats the value above. `error` (the default) differs between the two tasks: `csv` requires
 * every cell of the two columns to be a number, as `readCsv` does; `weather` requires it only in
 * the rows its windows use, because clean_weather.csv has a few empty cells far from the seed's
 * windows (days 0–149 and 1000–1069 are clean), and the seed's experiment should run on it as is.
 */
/// <reference types="node" />
import * as E from 'fp-ts/lib/Either.js'
import { reshape, slice } from '../../autodiff/ops/structural.js'
import { meanAbsoluteError } from '../../data/baselines.js'
import type { CsvCellProblem, CsvTable } from '../../data/node/csv.js'
import { readCsv } from '../../data/node/csv.js'
import { minMaxScaler } from '../../data/scaling.js'
import { type IndexRange, type SeriesSplit, chronologicalSplit, seriesTask } from '../../data/series.js'
import { ValueError } from '../../errors.js'
import { mse } from '../../losses/regression.js'
import type { Figure } from '../../report/types.js'
import { Tensor } from '../../tensor/Tensor.js'
import { evaluate, supervised } from '../../train/evaluate.js'
import { extrapolate } from '../../train/generate.js'
import type { SequenceFn } from '../../train/types.js'
import { type MissingChoice, type TaskName, type Window, withLegacy } from '../config.js'
import { CliError } from '../errors.js'
import { fmt, metricCurve, range, runOptimizer } from './common.js'
import { type BaselineColumns, type Baselines, LINEAR_LAGS, baselineErrors, baselineFigures, compareLine, forecastBaselines } from './forecastBaselines.js'
import { type SeriesData, describeSeriesModel, seriesModel } from './seriesModel.js'
import type { Experiment, Params, Task } from './types.js'
import { windowExperiment } from './windowForecast.js'

/** Outputs recorded per epoch for the animation are thinned to at most this many points. */
const MAX_ANIMATED_POINTS = 400

/**
 * Windows when the config says `auto`: both auto, the chronological split (the last fifth
 * validates, the rest less one row trains); one given, the other is the rows after the training
 * window or the first 80%.
 */
const autoWindows = (rows: number, train: Window | null, validation: Window | null): { train: Window; validation: Window | null } => {
  if (train === null && validation === null && rows >= 10) {
    const split = chronologicalSplit(rows)
    return { train: split.train, validation: split.test }
  }
  const trainWindow = train ?? ([0, Math.max(2, Math.floor(0.8 * rows))] as const)
  const validationWindow = validation ?? (trainWindow[1] < rows - 1 ? ([trainWindow[1], rows] as const) : null)
  return { train: trainWindow, validation: validationWindow }
}

const describeCell = (p: CsvCellProblem): string => `  line ${p.line}, column "${p.column}": ${p.value.trim() === '' ? 'empty' : `${JSON.stringify(p.value)} is not a number`}`

/** The filled cells of an ffill read that fall in rows the task uses, as an error listing them. */
const usedRowsError = (name: string, table: CsvTable, used: readonly IndexRange[]): CliError | null => {
  const inUse = (line: number): boolean => used.some(([a, b]) => line - 2 >= a && line - 2 < b)
  const bad = table.filled.filter((c) => inUse(c.line))
  if (bad.length === 0) return null
  const columns = [...new Set(bad.map((c) => `"${c.column}"`))].join(', ')
  return new CliError([
    `${name} ${table.source}: the rows the windows use must hold numbers; ${bad.length} bad cell${bad.length === 1 ? '' : 's'} (columns ${columns}):`,
    ...bad.slice(0, 8).map(describeCell),
    ...(bad.length > 8 ? [`  … and ${bad.length - 8} more`] : []),
    'Fix the file, move the windows (--train-window, --validation-window), or pass --missing ffill (repeat the value above) or --missing drop (skip those rows).',
  ].join('\n'))
}

/** Reads the input, target (and baseline) columns, applying the task's missing-cell policy (see the file comment). */
const readColumns = (name: TaskName, config: Record<string, unknown>, strict: boolean, inputs: readonly string[], date?: string): E.Either<CliError, CsvTable> => {
  const file = config.file as string
  const missing = config.missing as MissingChoice
  const columns = [...new Set([...inputs, config.target as string])]
  const lenient = !strict && missing === 'error'
  const table = readCsv(file, { columns, ...(date === undefined ? {} : { text: [date] }), missing: lenient ? 'ffill' : missing })
  if (E.isLeft(table)) {
    const hint = table.left.kind === 'read' ? ' (the path given to scangrad train --file, kept as "file" in the run folder\'s config.json)' : table.left.kind === 'columns' ? ' (check --input and --target)' : ''
    return E.left(new CliError(`${name}: ${table.left.message}${hint}`))
  }
  return E.right(table.right)
}

/** A series task's settings: which task it is, its defaults and how strict it is about missing cells. */
interface SeriesTaskSpec {
  readonly name: 'weather' | 'csv'
  readonly title: string
  readonly summary: string
  readonly defaults: Task['defaults']
  readonly presets?: Task['presets']
  readonly required?: Task['required']
  /** Every cell of the columns must be a number under `--missing error` (else only the used rows). */
  readonly strict: boolean
  /** The simpler forecasters shown beside the model on the validation rows (weather). */
  readonly baselines?: BaselineColumns
}

/** Builds the weather or csv task. */
export const seriesCsvTask = (spec: SeriesTaskSpec): Task => {
  const task: Task = {
    name: spec.name,
    title: spec.title,
    summary: spec.summary,
    fields: [
      ...(spec.presets === undefined ? [] : ['preset' as const]),
      'file', 'input', 'target', 'missing', 'trainWindow', 'validationWindow', 'extrapolate', 'readout', 'sequenceLength', 'batchSize',
      'cell', 'hidden', 'activation', 'schedule', 'clip',
    ],
    defaults: spec.defaults,
    ...(spec.presets === undefined ? {} : { presets: spec.presets }),
    // Run folders from before these fields were the seed's per-step Elman fit at a constant rate.
    legacy: { ...(spec.presets === undefined ? {} : { preset: 'seed' }), readout: 'perStep', cell: 'elman', schedule: 'constant', clip: 0 },
    required: spec.required,
    prepare: (stored) => {
      const config = withLegacy(task, stored)
      const inputs = (config.input as string).split(',').map((c) => c.trim())
      const target = config.target as string
      const lastStep = config.readout === 'lastStep'
      const steps = config.extrapolate as number
      const context = lastStep ? (config.sequenceLength as number) : 0
      const usage: string[] = []
      if (inputs.some((c) => c === '')) usage.push(`--input ${JSON.stringify(config.input)} names an empty column; separate column names by single commas`)
      if (!lastStep && inputs.length > 1) usage.push(`--readout perStep reads one --input column (got ${inputs.length}); pass --readout lastStep for several`)
      if (lastStep && steps > 0) usage.push(`--extrapolate feeds each output back as the next input, which --readout lastStep does not do; pass --extrapolate 0`)
      if (lastStep && context < 1) usage.push('--readout lastStep forecasts each row from the --sequence-length rows ending at it; give --sequence-length 1 or more')
      if (usage.length > 0) return E.left(new CliError(`${spec.name}: ${usage.join('; ')}.`, 2))
      const read = readColumns(spec.name, config, spec.strict, [...inputs, ...(spec.baselines === undefined ? [] : [spec.baselines.persistence])], spec.baselines?.date)
      if (E.isLeft(read)) return read
      const table = read.right
      const windows = autoWindows(table.rows, config.trainWindow as Window | null, config.validationWindow as Window | null)
      const problems: string[] = []
      if (windows.train[1] > table.rows) problems.push(`--train-window ${windows.train.join(':')} goes past the ${table.rows} rows of ${table.source}`)
      if (windows.validation !== null && windows.validation[1] > table.rows) problems.push(`--validation-window ${windows.validation.join(':')} goes past the ${table.rows} rows of ${table.source}`)
      if (windows.train[1] + steps > table.rows) problems.push(`--extrapolate ${steps} needs ${steps} real rows after the training window (row ${windows.train[1]}), but ${table.source} has ${table.rows} rows`)
      if (lastStep && windows.train[1] - windows.train[0] < context) problems.push(`the training window ${windows.train.join(':')} is shorter than one window of --sequence-length ${context} rows`)
      if (lastStep && windows.validation !== null && windows.validation[0] < context - 1) problems.push(`the validation rows start at ${windows.validation[0]}, but each is forecast from the ${context - 1} rows before it too`)
      if (spec.baselines !== undefined && windows.validation !== null && windows.validation[0] < LINEAR_LAGS - 1) {
        problems.push(`the validation rows start at ${windows.validation[0]}, but the linear baseline forecasts each from the ${LINEAR_LAGS - 1} rows before it too`)
      }
      if (problems.length > 0) return E.left(new CliError(`${spec.name}: ${problems.join('; ')}.`, 2))
      const used: IndexRange[] = [
        windows.train, [windows.train[1], windows.train[1] + steps],
        ...(windows.validation === null ? [] : [[windows.validation[0] - Math.max(context - 1, spec.baselines === undefined ? 0 : LINEAR_LAGS - 1), windows.validation[1]] as const]),
      ]
      if (!spec.strict && config.missing === 'error') {
        const error = usedRowsError(spec.name, table, used)
        if (error !== null) return E.left(error)
      }
      let baselines: Baselines | null = null
      if (spec.baselines !== undefined && windows.validation !== null) {
        try {
          baselines = forecastBaselines(table, spec.baselines, inputs, target, { train: windows.train, validation: windows.validation })
        } catch (e) {
          // Too short a training window for the linear fit, or bad dates: a usage problem of this run.
          if (e instanceof ValueError) return E.left(new CliError(`${spec.name}: the baselines cannot be computed: ${e.message}`, 2))
          throw e
        }
      }
      const data: SeriesData = { config, table, inputs, target, windows, baselines }
      return E.right(lastStep ? windowExperiment(data) : perStepExperiment(data, steps))
    },
  }
  return task
}

/** The seed's experiment: one input column, an output at every step, extrapolation by feedback. */
const perStepExperiment = ({ config, table, inputs: [input], target, windows, baselines }: SeriesData, steps: number): Experiment => {
  const dtype = config.dtype
  const split: SeriesSplit = { train: windows.train, ...(windows.validation === null ? {} : { validation: windows.validation }), extrapolate: steps }
  const task = seriesTask(table.columns[input], table.columns[target], split, { dtype })
  const model = seriesModel(config, 1)
  const loss = supervised(model.apply, (p, y) => mse(p, y))
  const unscale = (x: Tensor | ArrayLike<number>): number[] => Array.from(minMaxScaler.inverse(task.scaler, x instanceof Tensor ? x.data : x))

  // Training data: the window as one sequence, or cut into sequences of `sequenceLength` steps.
  const length = config.sequenceLength as number
  const trainSteps = task.train.xs.shape[1]
  const cut = (x: Tensor): Tensor => {
    const count = Math.floor(trainSteps / length)
    return reshape(slice(x, [[0, 1], [0, count * length], [0, 1]]), [count, length, 1])
  }
  const windowed = length > 0 && length < trainSteps
  const train = windowed ? { inputs: cut(task.train.xs), targets: cut(task.train.ys) } : { inputs: task.train.xs, targets: task.train.ys }
  const validation = task.validation === null ? undefined : { inputs: task.validation.xs, targets: task.validation.ys }

  const fitted = (params: unknown, xs: Tensor): number[] => unscale(model.apply(params as never, xs))
  const stride = Math.max(1, Math.ceil(trainSteps / MAX_ANIMATED_POINTS))
  const thin = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => i % stride === 0)
  const days = (w: IndexRange): number[] => range(w[1] - w[0], w[0])
  const continuation = (params: unknown): number[] => {
    if (steps === 0) return []
    const { outputs } = extrapolate(model.applyWithState as SequenceFn<unknown, unknown>, params, task.train.xs, steps)
    return outputs === null ? [] : unscale(outputs)
  }
  const numbers = (params: Params) => {
    const trainMse = evaluate(loss, params, { inputs: task.train.xs, targets: task.train.ys }).loss
    const out: Record<string, number> = { trainMse }
    if (task.validation !== null) {
      out.validationMse = evaluate(loss, params, { inputs: task.validation.xs, targets: task.validation.ys }).loss
      out.validationMae = meanAbsoluteError(fitted(params, task.validation.xs), unscale(task.validation.ys))
      if (baselines !== null) Object.assign(out, baselineErrors(baselines))
    }
    if (task.extrapolation !== null) out.extrapolationMae = meanAbsoluteError(continuation(params), task.extrapolation.values)
    return out
  }
  const describe = (n: Record<string, number>): string =>
    [`train MSE ${fmt(n.trainMse)} (scaled)`,
      ...(n.validationMse === undefined ? [] : [`validation MSE ${fmt(n.validationMse)} (scaled), ${baselines === null ? `mean absolute error ${fmt(n.validationMae)} ${target}` : compareLine(n.validationMae, baselines, target)}`]),
      ...(n.extrapolationMae === undefined ? [] : [`${steps}-step extrapolation mean absolute error ${fmt(n.extrapolationMae)} ${target}`])].join('; ')

  return {
    network: model,
    model: describeSeriesModel(config, 1),
    data: {
      source: table.source, rows: table.rows, input, target, missing: config.missing as string,
      train: [...windows.train], validation: windows.validation === null ? null : [...windows.validation], extrapolate: steps,
      sequenceLength: windowed ? length : 0, scaler: { ...task.scaler },
    },
    init: (key) => model.init(key, { dtype }),
    loss,
    optimizer: runOptimizer(config, windowed ? Math.ceil(train.inputs.shape[0] / (config.batchSize as number)) : 1),
    train,
    validation,
    batch: { batchSize: windowed ? (config.batchSize as number) : 1 },
    sampleName: 'sequences',
    recordOutputs: (params) => thin(fitted(params, task.train.xs)),
    finish: (params, run) => {
      const n = numbers(params)
      const trainDays = days(windows.train)
      const figures: Figure[] = [
        { kind: 'lines', title: `Fit on the training window (rows ${windows.train[0]}–${windows.train[1] - 1})`, xLabel: 'row (day)', yLabel: target, series: [
          { name: `real ${target}`, x: trainDays, y: unscale(task.train.ys) },
          { name: 'fitted', x: trainDays, y: fitted(params, task.train.xs) },
        ] },
      ]
      if (task.validation !== null && windows.validation !== null) {
        const validationDays = days(windows.validation)
        const predicted = fitted(params, task.validation.xs)
        figures.push({ kind: 'lines', title: `Validation fit (rows ${windows.validation[0]}–${windows.validation[1] - 1})`, xLabel: 'row (day)', yLabel: target, series: [
          { name: `real ${target}`, x: validationDays, y: unscale(task.validation.ys) },
          { name: 'predicted', x: validationDays, y: predicted },
        ] })
        if (baselines !== null) figures.push(...baselineFigures(n.validationMae, predicted, baselines, target))
      }
      if (task.extrapolation !== null) {
        const ahead = days(task.extrapolation.range)
        const context = trainDays.slice(-Math.min(trainDays.length, 2 * steps))
        figures.push({ kind: 'lines', title: `Extrapolation: ${steps} steps past the training window, each output fed back as the next input`, xLabel: 'row (day)', yLabel: target, series: [
          { name: 'real (training window)', x: context, y: unscale(task.train.ys).slice(-context.length) },
          { name: 'real (after the window)', x: ahead, y: Array.from(task.extrapolation.values) },
          { name: 'extrapolated', x: ahead, y: continuation(params) },
        ] })
      }
      figures.push(metricCurve(run.history, 'loss', { title: 'Error per epoch (MSE on scaled values)', yLabel: 'MSE', logY: true }))
      if (run.outputs.length > 0) {
        figures.push({ kind: 'animation', title: 'The fit improving epoch by epoch', xLabel: 'row (day)', yLabel: target,
          x: thin(trainDays), truth: thin(unscale(task.train.ys)), frames: run.outputs, frameLabel: 'epoch ' })
      }
      return { final: n, figures, lines: [`${config.task}: ${describe(n)}`] }
    },
    evaluate: (params) => {
      const n = numbers(params)
      return { lines: [`${config.task}: ${describe(n)}`], json: n }
    },
    predict: (params, { count }) => {
      if (task.extrapolation === null) return { lines: [`${config.task}: nothing to predict: the run was trained with --extrapolate 0.`], json: [] }
      const predicted = continuation(params)
      const rows = range(Math.min(count, steps)).map((i) => ({ row: task.extrapolation!.range[0] + i, predicted: predicted[i], real: task.extrapolation!.values[i] }))
      return {
        lines: [`Extrapolation of ${target} past the training window (each output fed back as the next input):`, 'row     predicted   real', ...rows.map((r) => `${String(r.row).padEnd(8)}${fmt(r.predicted).padEnd(12)}${fmt(r.real)}`)],
        json: rows,
      }
    },
  }
}

